package ebpf

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/observe"
)

// Measurements for bench/README.md, not assertions: run with
//
//	KENSA_OBSERVE_MEASURE=1 go test -run TestMeasure -v ./internal/observe/ebpf/
//
// The connections are made by a child process (this test binary re-run with
// KENSA_OBSERVE_LOADGEN), so the getrusage delta of this process is the
// observer's own cost.

func TestMain(m *testing.M) {
	if n, _ := strconv.Atoi(os.Getenv("KENSA_OBSERVE_LOADGEN")); n > 0 {
		loadgen(n)
		return
	}
	os.Exit(m.Run())
}

// loadgen listens on 127.0.0.1, makes n short connections to itself, prints
// the listener port and exits.
func loadgen(n int) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			panic(err)
		}
		c.Close()
	}
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func statusKB(field string) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kb
		}
	}
	return 0
}

func TestMeasureLoopback10k(t *testing.T) {
	if os.Getenv("KENSA_OBSERVE_MEASURE") == "" {
		t.Skip("measurement: set KENSA_OBSERVE_MEASURE=1")
	}
	const n = 10_000
	rec := observe.NewRecorder(observe.ExeFromProc)
	cpu0, wall0 := cpuTime(), time.Now()
	o := startOrSkip(t, context.Background(), rec)
	startCPU, startWall := cpuTime()-cpu0, time.Since(wall0)

	cpu1, wall1 := cpuTime(), time.Now()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "KENSA_OBSERVE_LOADGEN="+strconv.Itoa(n))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	loadWall := time.Since(wall1)
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	cpu, wall := cpuTime()-cpu1, time.Since(wall1)
	port, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	child := cmd.Process.Pid

	var outbound, inbound int
	for _, c := range rec.Connections() {
		if c.PID != child || c.Remote.Port() != uint16(port) && c.Local.Port() != uint16(port) {
			continue
		}
		switch c.Direction {
		case observe.Outbound:
			outbound += c.Count
		case observe.Inbound:
			inbound += c.Count
		}
	}
	st := o.Stats()
	t.Logf("start: %v wall, %v CPU", startWall.Round(time.Millisecond), startCPU.Round(time.Millisecond))
	t.Logf("%d connections by pid %d in %v (%.0f conn/s)", n, child, loadWall.Round(time.Millisecond), n/loadWall.Seconds())
	t.Logf("captured outbound %d/%d (%.2f%%), inbound %d/%d (%.2f%%)", outbound, n, 100*float64(outbound)/n, inbound, n, 100*float64(inbound)/n)
	t.Logf("events delivered %d (all processes) = %.0f events/s; lost %d; skipped runs %d; unattributed %d", st.Events, float64(st.Events)/wall.Seconds(), st.Lost, st.Skipped, st.Unattributed)
	t.Logf("observer CPU %v over %v wall = %.1f%% of one core; %.1f µs/event", cpu.Round(time.Millisecond), wall.Round(time.Millisecond),
		100*cpu.Seconds()/wall.Seconds(), float64(cpu.Microseconds())/float64(max(st.Events, 1)))
	t.Logf("RSS %d kB now, peak %d kB (test binary incl. the Go test runtime)", statusKB("VmRSS"), statusKB("VmHWM"))
}

func TestMeasureIdle(t *testing.T) {
	d, _ := time.ParseDuration(os.Getenv("KENSA_OBSERVE_IDLE"))
	if d == 0 {
		t.Skip("measurement: set KENSA_OBSERVE_IDLE=60s")
	}
	rec := observe.NewRecorder(observe.ExeFromProc)
	o := startOrSkip(t, context.Background(), rec)
	cpu0, wall0 := cpuTime(), time.Now()
	time.Sleep(d)
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	o.Close()
	t.Logf("idle %v: observer CPU %v = %.3f%% of one core; events %d; RSS %d kB, peak %d kB", wall.Round(time.Second),
		cpu.Round(time.Millisecond), 100*cpu.Seconds()/wall.Seconds(), o.Stats().Events, statusKB("VmRSS"), statusKB("VmHWM"))
}
