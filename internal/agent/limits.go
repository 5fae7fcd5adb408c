package agent

import (
	"fmt"
	"math"
	"runtime"
	"strings"
)

// Limits bound what the agent takes from the host it assesses: it runs
// beside the host's real work, which must not notice it.
//
//   - Nice lowers the CPU scheduling priority of every thread of the
//     process (setpriority(2) on each: on Linux niceness is per thread;
//     threads made later inherit it from the thread that makes them).
//     The agent then gets CPU time the host's own processes leave.
//   - IOClass sets the I/O scheduling class of every thread
//     (ioprio_set(2)): "idle" reads the disk only when no other process
//     does (a host whose disk is always busy may then starve the agent
//     past a run's deadline); "best-effort" is the normal class at its
//     lowest priority (7). The I/O schedulers that honour classes (BFQ,
//     CFQ) apply it; others ignore it.
//   - CPULimit caps how many threads run Go code at once to a fraction
//     of the cores (GOMAXPROCS = max(1, floor(cores × limit))): a bound
//     on parallelism in whole cores, not a quota (on one core the agent
//     may still use all of it when the host is idle, at its lower
//     priority). The hard quota is the systemd unit's CPUQuota=.
type Limits struct {
	Nice     int     // 1 to 19; 0 leaves the niceness as it is
	IOClass  string  // "idle", "best-effort", or "" to leave it
	CPULimit float64 // 0 < limit <= 1; 0 leaves GOMAXPROCS as it is
}

// I/O classes of Limits.IOClass.
const (
	IOClassIdle       = "idle"
	IOClassBestEffort = "best-effort"
)

// Check reports the first limit out of range.
func (l Limits) Check() error {
	switch {
	case l.Nice < 0 || l.Nice > 19:
		return fmt.Errorf("nice %d: want 0 (unchanged) to 19", l.Nice)
	case l.IOClass != "" && l.IOClass != IOClassIdle && l.IOClass != IOClassBestEffort:
		return fmt.Errorf("I/O class %q: want idle or best-effort", l.IOClass)
	case math.IsNaN(l.CPULimit) || l.CPULimit < 0 || l.CPULimit > 1:
		return fmt.Errorf("CPU limit %v: want a fraction of the cores, above 0 and at most 1 (0: no limit)", l.CPULimit)
	}
	return nil
}

// procsFor is GOMAXPROCS for a CPU limit on a host with cores cores.
func procsFor(cores int, limit float64) int {
	return max(1, int(math.Floor(float64(cores)*limit)))
}

// ApplyLimits applies l to the whole process and says what it did. Call
// it early, before the process has many threads.
func ApplyLimits(l Limits) (string, error) {
	if err := l.Check(); err != nil {
		return "", err
	}
	var did []string
	if l.CPULimit > 0 {
		n := min(procsFor(runtime.NumCPU(), l.CPULimit), runtime.GOMAXPROCS(0))
		runtime.GOMAXPROCS(n)
		did = append(did, fmt.Sprintf("GOMAXPROCS %d", n))
	}
	if l.Nice > 0 {
		if err := setNice(l.Nice); err != nil {
			return "", fmt.Errorf("nice %d: %w", l.Nice, err)
		}
		did = append(did, fmt.Sprintf("nice %d", l.Nice))
	}
	if l.IOClass != "" {
		if err := setIOClass(l.IOClass); err != nil {
			return "", fmt.Errorf("I/O class %s: %w", l.IOClass, err)
		}
		did = append(did, "I/O class "+l.IOClass)
	}
	if len(did) == 0 {
		return "none", nil
	}
	return strings.Join(did, ", "), nil
}
