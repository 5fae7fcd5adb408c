package cli

import (
	"context"
	"sync"
)

// Interrupts turns the first Ctrl-C of a scan whose runtime window is open
// into "stop and evaluate", as Inspector's console offered: the window
// ends, and what it saw is still judged and reported. Any other interrupt
// cancels the command. cmd/kensa gives each signal to Interrupt.
type Interrupts struct {
	mu   sync.Mutex
	stop chan struct{} // the open window's; nil when none is open
}

// Interrupt ends the open window and returns true, or returns false when
// no window is open (the caller then cancels the run).
func (i *Interrupts) Interrupt() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.stop == nil {
		return false
	}
	close(i.stop)
	i.stop = nil
	return true
}

// openWindow returns the channel closed by the next Interrupt, and the
// function to call when the window is over.
func (i *Interrupts) openWindow() (stop <-chan struct{}, done func()) {
	i.mu.Lock()
	defer i.mu.Unlock()
	ch := make(chan struct{})
	i.stop = ch
	return ch, func() {
		i.mu.Lock()
		defer i.mu.Unlock()
		if i.stop == ch {
			i.stop = nil
		}
	}
}

type interruptsKey struct{}

// WithInterrupts returns ctx carrying i, for Main.
func WithInterrupts(ctx context.Context, i *Interrupts) context.Context {
	return context.WithValue(ctx, interruptsKey{}, i)
}

// interruptsFrom returns the Interrupts ctx carries, or a fresh one that
// nothing interrupts (a test calling Main without signals).
func interruptsFrom(ctx context.Context) *Interrupts {
	if i, ok := ctx.Value(interruptsKey{}).(*Interrupts); ok && i != nil {
		return i
	}
	return &Interrupts{}
}
