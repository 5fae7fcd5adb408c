package netlink_test

import (
	"context"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/observe/netlink"
)

// TestMeasureLoopback10k measures what the netlink method captures of 10,000
// short-lived loopback connections (bench/README.md). It only runs with
// KENSA_OBSERVE_MEASURE=1: it is a measurement, not an assertion.
func TestMeasureLoopback10k(t *testing.T) {
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
	o, err := netlink.Start(context.Background(), rec, netlink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	start := time.Now()
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	elapsed := time.Since(start)
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
	t.Logf("%d connections in %v: netlink saw %d inbound (%.2f%%), %d outbound (%.2f%%)", n, elapsed, in, 100*float64(in)/n, out, 100*float64(out)/n)
}

// TestMeasureIdle measures the observer's own CPU and memory over a window
// (KENSA_OBSERVE_IDLE=30s, say): a measurement, not an assertion.
func TestMeasureIdle(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("KENSA_OBSERVE_IDLE"))
	if err != nil {
		t.Skip("set KENSA_OBSERVE_IDLE=<duration> to measure")
	}
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	rec := observe.NewRecorder(observe.ExeFromProc)
	o, err := netlink.Start(context.Background(), rec, netlink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	o.Close()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	t.Logf("%v window: %v CPU (%.2f%% of one core), max RSS %d MB, %d events", d, cpu, 100*cpu.Seconds()/d.Seconds(), after.Maxrss/1024, o.Stats().Events)
}
