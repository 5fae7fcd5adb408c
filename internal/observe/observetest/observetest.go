// Package observetest holds the measurements the observer methods share
// (bench/README.md): what a method captures of 10,000 short loopback
// connections made in its own process, and its own CPU and memory over an
// idle window. They are measurements, not assertions, and run only when
// asked for through the environment.
package observetest

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/observe"
)

// Observer is what the methods have in common.
type Observer interface {
	Stats() observe.Stats
	Close() error
}

// Start starts a method feeding sink.
type Start func(sink observe.Sink) (Observer, error)

// MeasureLoopback10k makes 10,000 short connections to a listener of its
// own while the method runs and logs how many it saw each way. It runs
// only with KENSA_OBSERVE_MEASURE=1.
func MeasureLoopback10k(t *testing.T, method string, start Start) {
	t.Helper()
	if os.Getenv("KENSA_OBSERVE_MEASURE") != "1" {
		t.Skip("set KENSA_OBSERVE_MEASURE=1 to measure")
	}
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
	rec := observe.NewRecorder(observe.ExeFromProc)
	o, err := start(rec)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	begin := time.Now()
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	elapsed := time.Since(begin)
	o.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	var in, out int
	for _, c := range rec.Connections() {
		if c.Direction == observe.Inbound && c.Local.Port() == port {
			in += c.Count
		}
		if c.Direction == observe.Outbound && c.Remote.Port() == port {
			out += c.Count
		}
	}
	t.Logf("stats %+v", o.Stats())
	t.Logf("%d connections in %v: %s saw %d inbound (%.2f%%), %d outbound (%.2f%%)", n, elapsed, method, in, 100*float64(in)/n, out, 100*float64(out)/n)
}

// MeasureIdle logs the method's own CPU and memory over a window of
// KENSA_OBSERVE_IDLE (30s, say).
func MeasureIdle(t *testing.T, start Start) {
	t.Helper()
	d, err := time.ParseDuration(os.Getenv("KENSA_OBSERVE_IDLE"))
	if err != nil {
		t.Skip("set KENSA_OBSERVE_IDLE=<duration> to measure")
	}
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	o, err := start(observe.NewRecorder(observe.ExeFromProc))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	o.Close()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	t.Logf("%v window: %v CPU (%.2f%% of one core), max RSS %d MB, %d events", d, cpu, 100*cpu.Seconds()/d.Seconds(), after.Maxrss/1024, o.Stats().Events)
}
