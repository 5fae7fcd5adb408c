package procpoll_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/observe/procpoll"
)

// Connections that live longer than a poll are seen in both directions
// with this process as their owner; a process started in the window is
// seen; what existed before Start is the baseline, not an event.
func TestPollerSeesConnectionsAndProcesses(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skipf("no /proc/net/tcp here: %v", err)
	}
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
	<-accepted

	rec := observe.NewRecorder(observe.ExeFromProc)
	o, err := procpoll.Start(context.Background(), rec, procpoll.Options{Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
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
	// Keep the process and the connections alive until a poll has seen
	// them (at most 10 s: polls are late on a loaded machine), so the test
	// does not depend on timing.
	seenSleep := func(p observe.ProcessStart) bool { return p.PID == sleepPID && p.Filename == sleepExe }
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		starts, _ := rec.ProcessStarts()
		if slices.ContainsFunc(starts, seenSleep) && len(rec.Connections()) >= 2 {
			break
		}
	}
	time.Sleep(100 * time.Millisecond) // a few more polls: connections already seen must not count again
	for _, c := range clients {
		c.Close()
	}
	o.Close()
	if err := o.Err(); err != nil {
		t.Errorf("poll error: %v", err)
	}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	var in, out int
	for _, c := range rec.Connections() {
		switch {
		case c.Direction == observe.Inbound && c.Local.Port() == port:
			in += c.Count
			if c.PID != os.Getpid() {
				t.Errorf("inbound owner pid %d, want %d", c.PID, os.Getpid())
			}
		case c.Direction == observe.Outbound && c.Remote.Port() == port:
			out += c.Count
		}
	}
	if in != n || out != n {
		t.Errorf("inbound %d, outbound %d, want %d each (the pre-window connection must not count): %+v", in, out, n, rec.Connections())
	}
	starts, _ := rec.ProcessStarts()
	// Seen by pid with its executable: a poll between fork and exec
	// reports the child twice, the exec as a second start.
	if !slices.ContainsFunc(starts, seenSleep) {
		t.Errorf("the sleep process (pid %d) was not seen: %+v", sleepPID, starts)
	}
	if s := o.Stats(); s.Events == 0 {
		t.Errorf("stats %+v", s)
	}
}

// A missing proc root is an error at Start, not an empty window.
func TestStartWithoutProc(t *testing.T) {
	if _, err := procpoll.Start(context.Background(), observe.NewRecorder(nil), procpoll.Options{ProcRoot: t.TempDir()}); err == nil {
		t.Error("no error for a proc root without socket tables")
	}
}

// A process that was running before the window and becomes a zombie in it
// (its executable can no longer be read) has not started again.
func TestZombieIsNotAStart(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skipf("no /proc/net/tcp here: %v", err)
	}
	cmd := exec.Command("/bin/sleep", "0.3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // running: part of the baseline
	rec := observe.NewRecorder(nil)
	o, err := procpoll.Start(context.Background(), rec, procpoll.Options{Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // it exits and stays a zombie: not waited for yet
	o.Close()
	cmd.Wait()
	starts, _ := rec.ProcessStarts()
	for _, s := range starts {
		if s.PID == cmd.Process.Pid {
			t.Errorf("a start reported for the pre-window process %d: %+v", s.PID, s)
		}
	}
}
