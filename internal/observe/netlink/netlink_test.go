package netlink_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/observe/netlink"
)

// start starts an observer, skipping when not root: the proc connector
// needs CAP_NET_ADMIN. As root, an unavailable method is a failure.
func start(t *testing.T, sink observe.Sink, opts netlink.Options) *netlink.Observer {
	t.Helper()
	o, err := netlink.Start(context.Background(), sink, opts)
	var unavailable *netlink.UnavailableError
	if errors.As(err, &unavailable) && os.Geteuid() != 0 {
		t.Skipf("not root (euid %d): %v", os.Geteuid(), err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// Connections in both directions are seen with this process as their
// owner; an exec in the window is seen with its pid and executable; what
// existed before Start is the baseline, not an event.
func TestObserverSeesConnectionsAndExecs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	// One connection before the window: baseline.
	before, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	defer (<-accepted).Close()

	rec := observe.NewRecorder(observe.ExeFromProc)
	o := start(t, rec, netlink.Options{Interval: 20 * time.Millisecond})
	defer o.Close()
	const n = 5
	var clients []net.Conn
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		defer (<-accepted).Close()
	}
	sleep := exec.Command("/bin/sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleep.Wait()
	defer sleep.Process.Kill()
	sleepPID := sleep.Process.Pid
	sleepExe, err := filepath.EvalSymlinks("/bin/sleep")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	count := func() (in, out int) {
		for _, c := range rec.Connections() {
			switch {
			case c.Direction == observe.Inbound && c.Local.Port() == port:
				in += c.Count
			case c.Direction == observe.Outbound && c.Remote.Port() == port:
				out += c.Count
			}
		}
		return in, out
	}
	// Keep the process and the connections alive until they have been
	// seen (at most 20 s: polls are late on a loaded machine), so the test
	// does not depend on timing.
	seenSleep := func(p observe.ProcessStart) bool { return p.PID == sleepPID && p.Filename == sleepExe }
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		starts, _ := rec.ProcessStarts()
		if in, out := count(); slices.ContainsFunc(starts, seenSleep) && in >= n && out >= n {
			break
		}
	}
	time.Sleep(100 * time.Millisecond) // a few more polls: connections already seen must not count again
	for _, c := range clients {
		c.Close()
	}
	o.Close()
	if err := o.Err(); err != nil {
		t.Errorf("observer error: %v", err)
	}
	for _, c := range rec.Connections() {
		if (c.Direction == observe.Inbound && c.Local.Port() == port) || (c.Direction == observe.Outbound && c.Remote.Port() == port) {
			if c.PID != os.Getpid() {
				t.Errorf("%s connection owner pid %d, want %d: %+v", c.Direction, c.PID, os.Getpid(), c)
			}
		}
	}
	if in, out := count(); in != n || out != n {
		t.Errorf("inbound %d, outbound %d, want %d each (the pre-window connection must not count): %+v", in, out, n, rec.Connections())
	}
	starts, _ := rec.ProcessStarts()
	if !slices.ContainsFunc(starts, seenSleep) {
		t.Errorf("the exec of %s (pid %d) was not seen: %+v", sleepExe, sleepPID, starts)
	}
	for _, s := range starts {
		if s.PID == sleepPID && (s.PPID != os.Getpid() || s.UID != uint32(os.Getuid()) || s.Comm != "sleep") {
			t.Errorf("exec of pid %d: %+v, want parent %d, uid %d, comm sleep", sleepPID, s, os.Getpid(), os.Getuid())
		}
	}
	if s := o.Stats(); s.Events == 0 {
		t.Errorf("stats %+v", s)
	}
}

// Connections that open and close with no poll in between are seen from
// the kernel's destroy messages, each exactly once, inbound ones with the
// listener's owner.
func TestShortConnectionsCountedOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	rec := observe.NewRecorder(nil)
	o := start(t, rec, netlink.Options{Interval: 5 * time.Millisecond})
	defer o.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	count := func() (in, out int) {
		for _, c := range rec.Connections() {
			switch {
			case c.Direction == observe.Inbound && c.Local.Port() == port:
				in += c.Count
				if c.PID != os.Getpid() {
					t.Errorf("inbound pid %d, want the listener's owner %d", c.PID, os.Getpid())
				}
			case c.Direction == observe.Outbound && c.Remote.Port() == port:
				out += c.Count
			}
		}
		return in, out
	}
	const n = 200
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if in, out := count(); in >= n && out >= n {
			break
		}
	}
	time.Sleep(100 * time.Millisecond) // more polls: nothing may count twice
	o.Close()
	if in, out := count(); in != n || out != n {
		t.Errorf("inbound %d, outbound %d, want %d each (stats %+v)", in, out, n, o.Stats())
	}
}

// Close may be called more than once and concurrently, also after the
// context ended; no event is delivered after it returns.
func TestCloseSemantics(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sink := &afterClose{}
	o := start(t, sink, netlink.Options{Interval: time.Millisecond})
	done := make(chan struct{})
	go func() { // events keep coming while Close runs
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-time.After(time.Millisecond):
			case <-ctx.Done():
				return
			}
			exec.Command("/bin/true").Run()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- o.Close() }()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	sink.closed.Store(true)
	<-done
	exec.Command("/bin/true").Run()
	time.Sleep(50 * time.Millisecond)
	if err := o.Close(); err != nil {
		t.Error(err)
	}
	if sink.late.Load() {
		t.Error("an event was delivered after Close returned")
	}
}

type afterClose struct{ closed, late atomic.Bool }

func (s *afterClose) Connection(observe.ConnectionEvent) {
	if s.closed.Load() {
		s.late.Store(true)
	}
}
func (s *afterClose) ProcessStart(observe.ProcessStart) {
	if s.closed.Load() {
		s.late.Store(true)
	}
}

// A server that starts listening during the window and serves short
// connections before any poll has listed it: its accepted sockets are
// inbound, not outbound to the clients' ports (the listeners are listed
// again when neither end of a freed socket is known to listen).
func TestNewListenerBetweenPolls(t *testing.T) {
	rec := observe.NewRecorder(observe.ExeFromProc)
	// A long interval: no poll runs while the connections come and go.
	o := start(t, rec, netlink.Options{Interval: time.Hour})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	const n = 50
	clientPorts := map[uint16]bool{}
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		clientPorts[uint16(c.LocalAddr().(*net.TCPAddr).Port)] = true
		c.Close()
	}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	count := func() (in, out, wrong int) {
		for _, c := range rec.Connections() {
			switch {
			case c.Direction == observe.Inbound && c.Local.Port() == port:
				in += c.Count
			case c.Direction == observe.Outbound && c.Remote.Port() == port:
				out += c.Count
			case c.Direction == observe.Outbound && clientPorts[c.Remote.Port()]:
				wrong += c.Count // an accepted socket taken for a client (other tests' connections do not count)
			}
		}
		return
	}
	// Destroy messages come from a workqueue: wait until all are in.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if in, out, _ := count(); in >= n && out >= n {
			break
		}
	}
	o.Close()
	in, out, wrong := count()
	if in != n || out != n || wrong != 0 {
		t.Errorf("inbound %d, outbound %d, outbound to our clients' ports %d; want %d, %d, 0", in, out, wrong, n, n)
	}
}
