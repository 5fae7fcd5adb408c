package procpoll_test

import (
	"context"
	"testing"

	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/observe/observetest"
	"github.com/kensa-dev/kensa/internal/observe/procpoll"
)

// Measurements for bench/README.md, not assertions: run with
// KENSA_OBSERVE_MEASURE=1 or KENSA_OBSERVE_IDLE=30s.

func startprocpoll(sink observe.Sink) (observetest.Observer, error) {
	return procpoll.Start(context.Background(), sink, procpoll.Options{})
}

func TestMeasureLoopback10k(t *testing.T) {
	observetest.MeasureLoopback10k(t, "procpoll", startprocpoll)
}

func TestMeasureIdle(t *testing.T) { observetest.MeasureIdle(t, startprocpoll) }
