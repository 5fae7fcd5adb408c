package agent

import (
	"context"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestProcsFor(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cores int
		limit float64
		want  int
	}{{1, 0.5, 1}, {2, 0.5, 1}, {4, 0.5, 2}, {8, 0.25, 2}, {7, 0.5, 3}, {16, 1, 16}, {3, 0.01, 1}} {
		if got := procsFor(c.cores, c.limit); got != c.want {
			t.Errorf("procsFor(%d, %v) = %d, want %d", c.cores, c.limit, got, c.want)
		}
	}
	for _, l := range []Limits{{Nice: -1}, {Nice: 20}, {IOClass: "realtime"}, {CPULimit: 1.5}, {CPULimit: -0.1}, {CPULimit: math.NaN()}} {
		if l.Check() == nil {
			t.Errorf("%+v accepted", l)
		}
	}
}

// ApplyLimits, in a child process (the limits are the process's): every
// thread ends with the niceness and I/O class asked for, and GOMAXPROCS
// is the limit's share of the cores.
func TestApplyLimits(t *testing.T) {
	if os.Getenv("KENSA_AGENT_LIMITS_CHILD") != "" {
		limitsChild(t)
		return
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestApplyLimits$", "-test.v")
	cmd.Env = append(os.Environ(), "KENSA_AGENT_LIMITS_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "--- PASS: TestApplyLimits") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func limitsChild(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	did, err := ApplyLimits(Limits{Nice: 7, IOClass: IOClassIdle, CPULimit: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(did)
	if want := min(before, procsFor(runtime.NumCPU(), 0.5)); runtime.GOMAXPROCS(0) != want {
		t.Errorf("GOMAXPROCS %d, want %d", runtime.GOMAXPROCS(0), want)
	}
	des, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		tid, _ := strconv.Atoi(de.Name())
		stat, err := os.ReadFile("/proc/self/task/" + de.Name() + "/stat")
		if err != nil {
			continue // the thread ended
		}
		// Fields after the command (in parentheses): nice is the 19th
		// field of the line, the 17th after ")".
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if nice := fields[16]; nice != "7" {
			t.Errorf("thread %d: nice %s, want 7", tid, nice)
		}
		prio, _, errno := unix.Syscall(unix.SYS_IOPRIO_GET, ioprioWhoProcess, uintptr(tid), 0)
		if errno == 0 && int(prio) != ioprioValue(IOClassIdle) {
			t.Errorf("thread %d: I/O priority %#x, want %#x", tid, prio, ioprioValue(IOClassIdle))
		}
	}
}
