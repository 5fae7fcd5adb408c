package agent

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Default retry delays: the first retry after about a second, doubling to
// at most five minutes, so a fleet whose server comes back after an
// outage neither waits long nor arrives all at once.
const (
	defaultBackoffBase = time.Second
	defaultBackoffMax  = 5 * time.Minute
)

// backoff is a capped exponential delay with jitter: each delay is drawn
// from the upper half of the current step, so agents that failed
// together spread out when they retry.
type backoff struct {
	base, max, cur time.Duration
}

func (a *Agent) newBackoff() *backoff {
	return &backoff{base: a.cfg.backoffBase, max: a.cfg.backoffMax}
}

func (b *backoff) next() time.Duration {
	switch {
	case b.cur == 0:
		b.cur = b.base
	case b.cur < b.max:
		b.cur *= 2
	}
	if b.cur > b.max {
		b.cur = b.max
	}
	half := b.cur / 2
	return half + rand.N(half+1)
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits d, or until ctx ends (then false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// withGrace is a context that ends grace after ctx does: the upload in
// flight when the agent is told to stop gets that long to finish (it is
// in the spool either way).
func withGrace(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	inner, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var mu sync.Mutex
	var timer *time.Timer
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		timer = time.AfterFunc(grace, cancel)
		mu.Unlock()
	})
	return inner, func() {
		stop()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}
