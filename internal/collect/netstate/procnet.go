package netstate

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ProcNetEntry is one line of proc/net/{tcp,tcp6,udp,udp6}.
type ProcNetEntry struct {
	Local  netip.AddrPort
	Remote netip.AddrPort
	State  uint8
	UID    int
	Inode  uint64
	Line   int
}

// TCP states of include/net/tcp_states.h the collector looks at.
const (
	StateEstablished = 0x01
	StateClose       = 0x07 // an unconnected UDP socket
	StateListen      = 0x0A
)

// MaxProcNetLines caps the lines read from one proc/net file.
const MaxProcNetLines = 1 << 20

// ParseProcNet reads a proc/net/tcp, tcp6, udp or udp6 file (the format
// of the kernel's tcp4_seq_show / udp4_format_sock and their IPv6 forms):
// a header line, then one socket a line,
//
//	sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
//
// Addresses are hexadecimal: an IPv4 address is one 32-bit word and an
// IPv6 address four, each printed with %08X from the kernel's memory, so
// the bytes of each word appear in the host's byte order (reversed on a
// little-endian machine: 127.0.0.1 is "0100007F"); the port is printed as
// a number (%04X). Lines that do not parse are returned as errors (with
// their line number) and skipped; the parser never panics on any input.
func ParseProcNet(b []byte) ([]ProcNetEntry, []error) {
	return parseProcNet(b, binary.NativeEndian)
}

// parseProcNet is ParseProcNet with the byte order of the machine that
// wrote the file.
func parseProcNet(b []byte, order binary.ByteOrder) ([]ProcNetEntry, []error) {
	var out []ProcNetEntry
	var errs []error
	lines := strings.Split(string(b), "\n")
	for i, line := range lines {
		if i >= MaxProcNetLines {
			errs = append(errs, fmt.Errorf("more than %d lines, the rest are skipped", MaxProcNetLines))
			break
		}
		f := strings.Fields(line)
		if len(f) == 0 || (i == 0 && f[0] == "sl") {
			continue
		}
		e, err := parseEntry(f, order)
		if err != nil {
			if len(errs) < 20 {
				errs = append(errs, fmt.Errorf("line %d: %w", i+1, err))
			}
			continue
		}
		e.Line = i + 1
		out = append(out, e)
	}
	return out, errs
}

func parseEntry(f []string, order binary.ByteOrder) (ProcNetEntry, error) {
	var e ProcNetEntry
	if len(f) < 10 || !strings.HasSuffix(f[0], ":") {
		return e, fmt.Errorf("want at least 10 fields after a slot number, got %q", strings.Join(f, " "))
	}
	var err error
	if e.Local, err = parseAddrPort(f[1], order); err != nil {
		return e, fmt.Errorf("local address: %w", err)
	}
	if e.Remote, err = parseAddrPort(f[2], order); err != nil {
		return e, fmt.Errorf("remote address: %w", err)
	}
	st, err := strconv.ParseUint(f[3], 16, 8)
	if err != nil {
		return e, fmt.Errorf("state %q: %w", f[3], err)
	}
	e.State = uint8(st)
	uid, err := strconv.ParseUint(f[7], 10, 32)
	if err != nil {
		return e, fmt.Errorf("uid %q: %w", f[7], err)
	}
	e.UID = int(uid)
	if e.Inode, err = strconv.ParseUint(f[9], 10, 64); err != nil {
		return e, fmt.Errorf("inode %q: %w", f[9], err)
	}
	return e, nil
}

// parseAddrPort reads "0100007F:0019" (IPv4) or a 32-hex-digit IPv6
// address and its port.
func parseAddrPort(s string, order binary.ByteOrder) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok || len(p) != 4 {
		return netip.AddrPort{}, fmt.Errorf("%q is not ADDRESS:PORT", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port %q: %w", p, err)
	}
	if len(a) != 8 && len(a) != 32 {
		return netip.AddrPort{}, fmt.Errorf("address %q: want 8 or 32 hex digits", a)
	}
	raw, err := hex.DecodeString(a)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: %w", a, err)
	}
	// Each 32-bit word was printed as a number: turn it back into the
	// bytes it was in memory (network order).
	mem := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		order.PutUint32(mem[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(mem)
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// Listening reports whether an entry of a TCP file (tcp true) or a UDP
// file is a socket that accepts traffic from the network: a TCP socket in
// LISTEN state, or a UDP socket with a local port and no peer.
func (e ProcNetEntry) Listening(tcp bool) bool {
	if tcp {
		return e.State == StateListen
	}
	return e.Local.Port() != 0 && e.Remote.Port() == 0 && e.State == StateClose
}
