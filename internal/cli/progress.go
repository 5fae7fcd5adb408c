package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

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
