package ebpf

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/kensa-dev/kensa/internal/observe"
)

// TestDecodeRecords feeds hand-made ring buffer records through dispatch,
// so the record layout and listener attribution are checked without root.
func TestDecodeRecords(t *testing.T) {
	col := &collector{}
	o := &Observer{sink: col, procRoot: t.TempDir(), listeners: map[listenKey]owner{}}
	rec := func(v any) []byte {
		b, err := binary.Append(nil, binary.NativeEndian, v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	lo := [16]byte{127, 0, 0, 1}
	comm := [16]uint8{'n', 'g', 'i', 'n', 'x'}
	o.dispatch(rec(observerConnEvent{Kind: kindListen, Family: 2, Newstate: 10, Sport: 8080, Saddr: lo,
		Owner: observerOwner{Tgid: 42, Uid: 33, Comm: comm}}))
	o.dispatch(rec(observerConnEvent{Kind: kindAccept, Family: 2, Oldstate: 3, Newstate: 1, Sport: 8080, Dport: 50000, Saddr: lo, Daddr: lo}))
	v6 := [16]byte{15: 1}
	o.dispatch(rec(observerConnEvent{Kind: kindConnect, Family: 10, Oldstate: 2, Newstate: 7, Sport: 50001, Dport: 443,
		Saddr: v6, Daddr: v6, Owner: observerOwner{Tgid: 43, Comm: [16]uint8{'c', 'u', 'r', 'l'}}}))
	o.dispatch(rec(observerExecEvent{Kind: kindExec, Ppid: 1, Owner: observerOwner{Tgid: 44, Comm: [16]uint8{'s', 'h'}},
		Filename: [256]uint8{'/', 'b', 'i', 'n', '/', 's', 'h'}}))
	o.dispatch([]byte{kindConnect, 2}) // truncated: ignored

	conns, execs := col.snapshot()
	want := []observe.ConnectionEvent{
		{PID: 42, UID: 33, Comm: "nginx", Local: netip.MustParseAddrPort("127.0.0.1:8080"),
			Remote: netip.MustParseAddrPort("127.0.0.1:50000"), Direction: observe.Inbound},
		{PID: 43, Comm: "curl", Local: netip.MustParseAddrPort("[::1]:50001"),
			Remote: netip.MustParseAddrPort("[::1]:443"), Direction: observe.Outbound, Failed: true},
	}
	if len(conns) != len(want) {
		t.Fatalf("got %d connection events, want %d: %+v", len(conns), len(want), conns)
	}
	for i := range want {
		conns[i].Time = want[i].Time
		if conns[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, conns[i], want[i])
		}
	}
	if len(execs) != 1 || execs[0].PID != 44 || execs[0].PPID != 1 || execs[0].Filename != "/bin/sh" || execs[0].Comm != "sh" {
		t.Errorf("execs = %+v", execs)
	}
	if o.events.Load() != 3 {
		t.Errorf("events = %d, want 3", o.events.Load())
	}
}

// TestListenerKeyedByNetns: the same port listening in two network
// namespaces keeps two owners.
func TestListenerKeyedByNetns(t *testing.T) {
	col := &collector{}
	o := &Observer{sink: col, procRoot: t.TempDir(), listeners: map[listenKey]owner{}}
	rec := func(v any) []byte {
		b, err := binary.Append(nil, binary.NativeEndian, v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	lo := [16]byte{127, 0, 0, 1}
	o.dispatch(rec(observerConnEvent{Kind: kindListen, Family: 2, Sport: 80, Saddr: lo, Netns: 1, Owner: observerOwner{Tgid: 10}}))
	o.dispatch(rec(observerConnEvent{Kind: kindListen, Family: 2, Sport: 80, Saddr: lo, Netns: 2, Owner: observerOwner{Tgid: 20}}))
	o.dispatch(rec(observerConnEvent{Kind: kindAccept, Family: 2, Sport: 80, Dport: 1, Saddr: lo, Daddr: lo, Netns: 2}))
	o.dispatch(rec(observerConnEvent{Kind: kindAccept, Family: 2, Sport: 80, Dport: 2, Saddr: lo, Daddr: lo, Netns: 1}))
	conns, _ := col.snapshot()
	if len(conns) != 2 || conns[0].PID != 20 || conns[1].PID != 10 {
		t.Errorf("conns = %+v, want pids 20 then 10", conns)
	}
}

// TestListenerOwnerInOwnNetns looks a listener up by this process's own
// network namespace inode.
func TestListenerOwnerInOwnNetns(t *testing.T) {
	l, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Skip(err)
	}
	var ns uint32
	if _, err := fmt.Sscanf(l, "net:[%d]", &ns); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	if pid, _, _ := observe.ListenerOwnerInNetns("/proc", ns, port); pid != os.Getpid() {
		t.Errorf("ListenerOwnerInNetns(%d, %d) = pid %d, want %d", ns, port, pid, os.Getpid())
	}
	if pid, _, _ := observe.ListenerOwnerInNetns("/proc", ns+1, port); pid != 0 {
		t.Errorf("ListenerOwnerInNetns in an unknown namespace = pid %d, want 0", pid)
	}
}
