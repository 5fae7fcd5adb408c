package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/observe/watch"
	"golang.org/x/term"
)

// progress shows which collector is running, on stderr, once work has taken
// longer than delay, and only on a terminal: logs and pipes stay clean.
type progress struct {
	w     io.Writer
	delay time.Duration
	start time.Time

	mu           sync.Mutex
	shown        bool
	name         string
	index, total int
	timer        *time.Timer
	closed       bool
}

// newProgress returns nil (no progress) unless w is a terminal.
func newProgress(w io.Writer, quiet bool) *progress {
	f, ok := w.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	p := &progress{w: w, delay: time.Second, start: time.Now()}
	p.timer = time.AfterFunc(p.delay, p.tick)
	return p
}

func (p *progress) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.shown = true
	const width = 20
	filled := 0
	if p.total > 0 {
		filled = width * p.index / p.total
	}
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	fmt.Fprintf(p.w, "\r\033[K[%s] %d/%d collecting %s (%.0fs)", bar, p.index+1, p.total, p.name, time.Since(p.start).Seconds())
	p.timer.Reset(250 * time.Millisecond)
}

// Start implements collect.Progress.
func (p *progress) Start(name string, index, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.name, p.index, p.total = name, index, total
}

// Done implements collect.Progress.
func (p *progress) Done(name string, index, total int) {}

// Close stops the display and clears its line.
func (p *progress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.timer.Stop()
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// windowProgress shows a runtime window: on a terminal, a bar with the
// time left and the events seen, redrawn every second; elsewhere one line
// when it starts and one when it ends (scripts and CI logs see when to
// act, and nothing else). Nothing with --quiet.
type windowProgress struct {
	w     io.Writer
	tty   bool
	quiet bool
	// over tells the Interrupts that the window is over, so the next
	// Ctrl-C cancels instead of ending a window that no longer runs.
	over func()

	mu    sync.Mutex
	drawn bool
	total time.Duration
}

func newWindowProgress(w io.Writer, quiet bool, total time.Duration, over func()) *windowProgress {
	f, ok := w.(*os.File)
	return &windowProgress{w: w, quiet: quiet, total: total, over: over, tty: ok && term.IsTerminal(int(f.Fd()))}
}

// Closed implements watch.Display.
func (p *windowProgress) Closed() { p.over() }

// Started announces the window (watch.Display); it names the method, the
// better methods that could not run and why, and how to end it early.
func (p *windowProgress) Started(m observe.Method, fallbacks []observe.Fallback, end time.Time) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range fallbacks {
		fmt.Fprintf(p.w, "kensa: observer %s cannot run here (%s)\n", f.Method, f.Reason)
	}
	fmt.Fprintf(p.w, "kensa: observing with %s for %s, until %s (Ctrl-C ends the window early and evaluates what was seen)\n",
		m, p.total, end.Local().Format("15:04:05"))
}

// Tick redraws the bar.
func (p *windowProgress) Tick(s watch.Progress) {
	if p.quiet || !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	const width = 20
	filled := width
	if p.total > 0 {
		filled = min(width, int(int64(width)*int64(s.Elapsed)/int64(p.total)))
	}
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	lost := ""
	if s.Lost > 0 {
		lost = fmt.Sprintf(", %d lost", s.Lost)
	}
	fmt.Fprintf(p.w, "\r\033[K[%s] %s left, %d events%s (Ctrl-C: stop and evaluate)", bar, s.Left.Round(time.Second), s.Events, lost)
	p.drawn = true
}

// Ended clears the bar and says how the window ended.
func (p *windowProgress) Ended(stoppedEarly bool, stats observe.Stats) {
	p.over()
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
	how := "window over"
	if stoppedEarly {
		how = "window ended early (Ctrl-C)"
	}
	lost := ""
	if stats.Lost > 0 {
		lost = fmt.Sprintf(", %d lost", stats.Lost)
	}
	fmt.Fprintf(p.w, "kensa: %s: %d events%s; evaluating\n", how, stats.Events, lost)
}
