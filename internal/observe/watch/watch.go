// Package watch runs one observation window on the live host and returns
// what it saw as observe.Observations: the connections an observer method
// delivered, the listening sockets and processes of snapshots taken at the
// window's start, during it and at its end, and the hardening and
// permissions of every binary those processes ran.
//
// It picks the method: eBPF when the kernel and privileges allow, else
// netlink, else /proc polling, recording why each better one could not run
// (observe.Fallback). A method can be forced; then it runs or Run fails.
package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/observe/ebpf"
	"github.com/kensa-dev/kensa/internal/observe/netlink"
	"github.com/kensa-dev/kensa/internal/observe/procpoll"
)

// Bounds of a window; kensa scan --duration enforces them.
const (
	MinDuration = 10 * time.Second
	MaxDuration = 24 * time.Hour
)

// listenerEvery is how often the listening sockets are listed during the
// window (they are also listed at its start and end). A listener that
// opens and closes between two lists is not seen: a blind spot of every
// method, stated in the report.
const listenerEvery = 10 * time.Second

// Options configure a window.
type Options struct {
	// Duration of the window (> 0).
	Duration time.Duration
	// Method forces an observer method; "" picks the best available.
	Method observe.Method
	// ProcRoot is the proc file system ("/proc" when empty).
	ProcRoot string
	// Stop, when closed, ends the window before Duration: what was seen
	// so far is still returned ("stop and evaluate").
	Stop <-chan struct{}
	// Display shows the window's progress; nil for none.
	Display Display
	// Self is a process whose own connections and children are left out
	// (Kensa itself: its downloads and the commands it runs are not the
	// host's behaviour). 0 for none.
	Self   int
	Logger *slog.Logger
}

// Display shows a window's progress. Its methods are called from Run's
// goroutine, in order: Started once the method runs and the first snapshot
// is taken (with the better methods that could not run, and the time the
// window will end), Tick about every second, Ended once the method has
// stopped (before the binaries are analysed), and Closed when Run returns,
// whatever happened (the window may never have started): from then on
// nothing can end it early.
type Display interface {
	Started(m observe.Method, fallbacks []observe.Fallback, end time.Time)
	Tick(Progress)
	Ended(stoppedEarly bool, stats observe.Stats)
	Closed()
}

// Progress is the state of a running window.
type Progress struct {
	Method  observe.Method
	Elapsed time.Duration
	Left    time.Duration
	Events  uint64
	Lost    uint64
}

// observer is what the three methods have in common.
type observer interface {
	Stats() observe.Stats
	Close() error
}

// Methods lists the observer methods, best first: the order of fallback.
func Methods() []observe.Method {
	return []observe.Method{observe.MethodEBPF, observe.MethodNetlink, observe.MethodProc}
}

// ParseMethod checks a method name given by a user.
func ParseMethod(s string) (observe.Method, error) {
	for _, m := range Methods() {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown observer method %q (want ebpf, netlink or proc)", s)
}

// Run observes the live host for opts.Duration, or until opts.Stop is
// closed or ctx ends (then the error is ctx's, and no observations are
// returned).
func Run(ctx context.Context, opts Options) (*observe.Observations, error) {
	if opts.Duration <= 0 {
		return nil, errors.New("watch: the window needs a positive duration")
	}
	if opts.ProcRoot == "" {
		opts.ProcRoot = "/proc"
	}
	if opts.Display != nil {
		defer opts.Display.Closed()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rec := observe.NewRecorder(func(pid int) string { return observe.ExeIn(opts.ProcRoot, pid) })
	procs := newProcessSet(opts.ProcRoot, opts.Self)
	sink := &tee{rec: rec, procs: procs}

	// The first snapshot before the method starts: a process or listener
	// already there is "alive at the start" whatever the method.
	ls := newListenerSet(opts.ProcRoot)
	procs.snapshot(false)
	if err := ls.snapshot(time.Now()); err != nil {
		return nil, fmt.Errorf("watch: listing listening sockets: %w", err)
	}

	obsv, method, fallbacks, err := start(ctx, sink, opts)
	if err != nil {
		return nil, err
	}
	begin := time.Now()
	end := begin.Add(opts.Duration)
	log.Debug("runtime window started", "method", method, "end", end)
	if opts.Display != nil {
		opts.Display.Started(method, fallbacks, end)
	}

	timer := time.NewTimer(opts.Duration)
	defer timer.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastList := begin
	stoppedEarly := false
loop:
	for {
		select {
		case <-ctx.Done():
			obsv.Close()
			return nil, ctx.Err()
		case <-opts.Stop:
			stoppedEarly = true
			break loop
		case <-timer.C:
			break loop
		case now := <-tick.C:
			procs.describeStarted()
			if now.Sub(lastList) >= listenerEvery {
				lastList = now
				if err := ls.snapshot(now); err != nil {
					log.Debug("listing listening sockets", "error", err)
				}
			}
			if opts.Display != nil {
				st := obsv.Stats()
				opts.Display.Tick(Progress{Method: method, Elapsed: now.Sub(begin), Left: max(0, end.Sub(now)), Events: st.Events, Lost: st.Lost})
			}
		}
	}
	// Close first: it delivers what the method still holds.
	obsv.Close()
	stats := obsv.Stats()
	if opts.Display != nil {
		opts.Display.Ended(stoppedEarly, stats)
	}
	finished := time.Now()
	if err := ls.snapshot(finished); err != nil {
		log.Debug("listing listening sockets", "error", err)
	}
	procs.describeStarted()
	procs.snapshot(true)

	obs := &observe.Observations{
		Method:     method,
		Fallbacks:  fallbacks,
		BlindSpots: observe.BlindSpots(method),
		Window:     observe.Window{Requested: opts.Duration, Start: begin.UTC(), End: finished.UTC(), StoppedEarly: stoppedEarly},
		Stats:      stats,
	}
	var selfConns int
	for _, c := range rec.Connections() {
		if procs.isKensa(c.PID) {
			selfConns += c.Count + c.Failed
			continue
		}
		obs.Connections = append(obs.Connections, c)
	}
	// Leaving Kensa out is by design, not a gap: logged, not noted (a
	// note makes the coverage partial).
	log.Debug("Kensa's own activity left out", "connections", selfConns, "commands", procs.kensaSkipped)
	if n := rec.ConnectionsDropped(); n > 0 {
		obs.Notes = append(obs.Notes, fmt.Sprintf("more than %d distinct connections: %d connection events were not recorded", observe.MaxConnections, n))
	}
	obs.Listeners = ls.result(obs.Connections)
	if n := ls.note(); n != "" {
		obs.Notes = append(obs.Notes, n)
	}
	obs.Processes, obs.Notes = procs.result(obs.Notes)
	obs.Binaries, obs.Notes = analyzeBinaries(ctx, opts.ProcRoot, obs.Processes, obs.Notes)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if obs.Connections == nil {
		obs.Connections = []observe.Connection{}
	}
	return obs, nil
}

// start starts the forced method, or the best one that runs.
func start(ctx context.Context, sink observe.Sink, opts Options) (observer, observe.Method, []observe.Fallback, error) {
	methods := Methods()
	if opts.Method != "" {
		methods = []observe.Method{opts.Method}
	}
	var fallbacks []observe.Fallback
	for _, m := range methods {
		o, err := startMethod(ctx, m, sink, opts.ProcRoot)
		if err == nil {
			return o, m, fallbacks, nil
		}
		if opts.Method != "" {
			return nil, "", nil, fmt.Errorf("observer %s cannot run here: %w", m, err)
		}
		fallbacks = append(fallbacks, observe.Fallback{Method: m, Reason: err.Error()})
	}
	reasons := make([]string, len(fallbacks))
	for i, f := range fallbacks {
		reasons[i] = string(f.Method) + ": " + f.Reason
	}
	return nil, "", nil, fmt.Errorf("no observer method can run here (%s)", strings.Join(reasons, "; "))
}

func startMethod(ctx context.Context, m observe.Method, sink observe.Sink, procRoot string) (observer, error) {
	switch m {
	case observe.MethodEBPF:
		return ebpf.Start(ctx, sink, ebpf.Options{ProcRoot: procRoot})
	case observe.MethodNetlink:
		return netlink.Start(ctx, sink, netlink.Options{ProcRoot: procRoot})
	case observe.MethodProc:
		return procpoll.Start(ctx, sink, procpoll.Options{ProcRoot: procRoot})
	}
	return nil, fmt.Errorf("unknown observer method %q", m)
}

// tee gives every event to the Recorder and each exec to the process set.
// The methods call it from one goroutine and it must not block: both only
// take a short lock.
type tee struct {
	rec   *observe.Recorder
	procs *processSet
}

func (t *tee) Connection(ev observe.ConnectionEvent) { t.rec.Connection(ev) }

func (t *tee) ProcessStart(p observe.ProcessStart) {
	t.rec.ProcessStart(p)
	t.procs.started(p)
}
