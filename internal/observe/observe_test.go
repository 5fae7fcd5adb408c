package observe

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

func TestRecorderAggregates(t *testing.T) {
	exeCalls := 0
	r := NewRecorder(func(pid int) string { exeCalls++; return "/usr/bin/curl" })
	t0 := time.Unix(100, 0)
	srv := netip.MustParseAddrPort("10.0.0.1:443")
	for i := range 3 {
		r.Connection(ConnectionEvent{Time: t0.Add(time.Duration(i) * time.Second), PID: 7, Comm: "curl",
			Local: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), uint16(40000+i)), Remote: srv, Direction: Outbound})
	}
	r.Connection(ConnectionEvent{Time: t0, PID: 7, Comm: "curl", Local: netip.MustParseAddrPort("10.0.0.2:40009"),
		Remote: srv, Direction: Outbound, Failed: true})
	r.Connection(ConnectionEvent{Time: t0, PID: 9, Comm: "sshd", Local: netip.MustParseAddrPort("10.0.0.2:22"),
		Remote: netip.MustParseAddrPort("10.0.0.5:51000"), Direction: Inbound})
	r.ProcessStart(ProcessStart{PID: 7, Filename: "/bin/sh"})

	got := r.Connections()
	if len(got) != 2 {
		t.Fatalf("got %d connections, want 2: %+v", len(got), got)
	}
	in, out := got[0], got[1]
	if in.Direction != Inbound || in.Local.Port() != 22 || in.Remote.Port() != 0 || in.Count != 1 {
		t.Errorf("inbound = %+v", in)
	}
	if out.Local.Port() != 0 || out.Remote != srv || out.Count != 3 || out.Failed != 1 ||
		out.Exe != "/usr/bin/curl" || !out.First.Equal(t0) || !out.Last.Equal(t0) {
		t.Errorf("outbound = %+v", out)
	}
	if exeCalls != 2 {
		t.Errorf("exe resolved %d times, want once per pid (2)", exeCalls)
	}
	if ps, dropped := r.ProcessStarts(); len(ps) != 1 || dropped != 0 {
		t.Errorf("ProcessStarts = %v, %d", ps, dropped)
	}
	// after an exec the pid's executable is the exec'd file
	r.Connection(ConnectionEvent{PID: 7, Remote: netip.MustParseAddrPort("10.0.0.9:80"), Direction: Outbound})
	for _, c := range r.Connections() {
		if c.Remote.Port() == 80 && c.Exe != "/bin/sh" {
			t.Errorf("exe after exec = %q, want /bin/sh", c.Exe)
		}
	}
}

func TestListenerOwner(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	pid, uid, comm := ListenerOwner("/proc", port)
	if pid != os.Getpid() || uid != uint32(os.Getuid()) || comm == "" {
		t.Errorf("ListenerOwner(%d) = %d, %d, %q; want %d, %d", port, pid, uid, comm, os.Getpid(), os.Getuid())
	}
	ln.Close()
	if pid, _, _ := ListenerOwner("/proc", port); pid != 0 {
		t.Errorf("closed port %d still owned by %d", port, pid)
	}
}

func TestBlindSpots(t *testing.T) {
	if len(BlindSpots(MethodEBPF)) == 0 {
		t.Error("ebpf method states no blind spots")
	}
}

// A user spraying connections to distinct endpoints cannot grow the
// Recorder past MaxConnections: the rest are counted.
func TestRecorderBoundsConnections(t *testing.T) {
	r := NewRecorder(nil)
	base := netip.MustParseAddr("127.0.0.1")
	for i := range MaxConnections + 5 {
		r.Connection(ConnectionEvent{PID: 1, Direction: Outbound, Local: netip.AddrPortFrom(base, 40000),
			Remote: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, byte(i >> 16), byte(i >> 8), byte(i)}), 80)})
	}
	if n, d := len(r.Connections()), r.ConnectionsDropped(); n != MaxConnections || d != 5 {
		t.Errorf("kept %d, dropped %d; want %d and 5", n, d, MaxConnections)
	}
}
