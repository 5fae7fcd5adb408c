package netstate

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// Lines captured from /proc/net/* of a Debian 12 x86_64 host with
// listeners on 127.0.0.1:2525, 0.0.0.0:2222, [::]:2222, [::1]:2525,
// [::ffff:127.0.0.1]:2527 (with one connection to it), udp 127.0.0.1:3323,
// [::1]:3323 and [::]:5353.
const (
	capturedTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     
   0: 0100007F:09DD 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 667785 1 0000000052384a90 100 0 0 10 0                    
   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1589 1 0000000085af7258 100 0 0 10 0                      
   2: 00000000:08AE 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 667784 1 00000000dfc3b430 100 0 0 10 0                    
`
	capturedTCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:08AE 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 667786 1 00000000527fa46f 100 0 0 10 0
   1: 00000000000000000000000001000000:09DD 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 667787 1 00000000ff5ba6db 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:09DF 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 666757 1 00000000b0c52ba1 100 0 0 10 0
   3: 0000000000000000FFFF00000100007F:C724 0000000000000000FFFF00000100007F:09DF 01 00000000:00000000 00:00000000 00000000     0        0 666758 2 0000000007f72a5e 20 0 0 10 -1
`
	capturedUDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            
 2441: 0100007F:0CFB 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 667788 2 000000006ac9a094 0        
`
	capturedUDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 2441: 00000000000000000000000001000000:0CFB 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 667789 2 00000000accbd463 0
 4471: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 667790 2 00000000989b51d2 0
`
)

type want struct {
	local  string
	state  uint8
	inode  uint64
	line   int
	listen bool
}

func check(t *testing.T, name, text string, tcp bool, wants []want) {
	t.Helper()
	got, errs := parseProcNet([]byte(text), binary.LittleEndian)
	if len(errs) > 0 {
		t.Fatalf("%s: errors %v", name, errs)
	}
	if len(got) != len(wants) {
		t.Fatalf("%s: %d entries, want %d: %+v", name, len(got), len(wants), got)
	}
	for i, w := range wants {
		g := got[i]
		if g.Local.String() != w.local || g.State != w.state || g.Inode != w.inode || g.Line != w.line || g.Listening(tcp) != w.listen {
			t.Errorf("%s[%d] = %s state %02X inode %d line %d listening %v; want %+v", name, i, g.Local, g.State, g.Inode, g.Line, g.Listening(tcp), w)
		}
	}
}

func TestParseProcNetCaptured(t *testing.T) {
	check(t, "tcp", capturedTCP, true, []want{
		{"127.0.0.1:2525", 0x0A, 667785, 2, true},
		{"0.0.0.0:2024", 0x0A, 1589, 3, true},
		{"0.0.0.0:2222", 0x0A, 667784, 4, true},
	})
	check(t, "tcp6", capturedTCP6, true, []want{
		{"[::]:2222", 0x0A, 667786, 2, true},
		{"[::1]:2525", 0x0A, 667787, 3, true},
		{"[::ffff:127.0.0.1]:2527", 0x0A, 666757, 4, true},
		// The client end of a connection does not listen.
		{"[::ffff:127.0.0.1]:50980", 0x01, 666758, 5, false},
	})
	check(t, "udp", capturedUDP, false, []want{{"127.0.0.1:3323", 0x07, 667788, 2, true}})
	check(t, "udp6", capturedUDP6, false, []want{
		{"[::1]:3323", 0x07, 667789, 2, true},
		{"[::]:5353", 0x07, 667790, 3, true},
	})
}

// A big-endian machine prints the words in network order.
func TestParseProcNetBigEndian(t *testing.T) {
	line := "  0: 7F000001:0019 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1\n"
	got, errs := parseProcNet([]byte(line), binary.BigEndian)
	if len(errs) > 0 || len(got) != 1 || got[0].Local.String() != "127.0.0.1:25" {
		t.Fatalf("got %+v %v", got, errs)
	}
	six := "  0: 20010DB8000000000000000000000001:0016 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 9 1\n"
	got, errs = parseProcNet([]byte(six), binary.BigEndian)
	if len(errs) > 0 || len(got) != 1 || got[0].Local.String() != "[2001:db8::1]:22" {
		t.Fatalf("got %+v %v", got, errs)
	}
	// The same address as a little-endian kernel prints it.
	six = "  0: B80D0120000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 0:0 0:0 0 0 0 9 1\n"
	got, _ = parseProcNet([]byte(six), binary.LittleEndian)
	if len(got) != 1 || got[0].Local.String() != "[2001:db8::1]:22" {
		t.Fatalf("got %+v", got)
	}
}

func TestParseProcNetBadLines(t *testing.T) {
	for _, line := range []string{
		"  0: 0100007F:0019 00000000:0000 0A",                                    // short
		"  0: 0100007G:0019 00000000:0000 0A 0:0 0:0 0 0 0 1 1",                  // bad hex
		"  0: 0100007F:19 00000000:0000 0A 0:0 0:0 0 0 0 1 1",                    // port width
		"  0: 0100007F00:0019 00000000:0000 0A 0:0 0:0 0 0 0 1 1",                // address width
		"  0: 0100007F:0019 00000000:0000 XY 0:0 0:0 0 0 0 1 1",                  // state
		"  0: 0100007F:0019 00000000:0000 0A 0:0 0:0 0 -1 0 1 1",                 // uid
		"  0: 0100007F:0019 00000000:0000 0A 0:0 0:0 0 0 0 18446744073709551616", // inode
		"0100007F:0019 00000000:0000 0A 0:0 0:0 0 0 0 1 1 x",                     // no slot
	} {
		got, errs := ParseProcNet([]byte("  sl  local_address rem_address st\n" + line + "\n"))
		if len(got) != 0 || len(errs) != 1 {
			t.Errorf("%q: got %+v, errors %v; want one error", line, got, errs)
		}
	}
}

func FuzzParseProcNet(f *testing.F) {
	for _, s := range []string{capturedTCP, capturedTCP6, capturedUDP, capturedUDP6, "", "sl\n", "  0: :\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, _ := ParseProcNet(b)
		lines := bytes.Count(b, []byte("\n")) + 1
		for _, e := range got {
			if !e.Local.IsValid() || !e.Remote.IsValid() || e.Line < 1 || e.Line > lines {
				t.Fatalf("invalid entry %+v", e)
			}
		}
	})
}
