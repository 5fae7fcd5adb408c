package netlink_test

import (
	"context"
	"testing"

	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/observe/netlink"
	"github.com/kensa-dev/kensa/internal/observe/observetest"
)

// Measurements for bench/README.md, not assertions: run with
// KENSA_OBSERVE_MEASURE=1 or KENSA_OBSERVE_IDLE=30s.

func startnetlink(sink observe.Sink) (observetest.Observer, error) {
	return netlink.Start(context.Background(), sink, netlink.Options{})
}

func TestMeasureLoopback10k(t *testing.T) { observetest.MeasureLoopback10k(t, "netlink", startnetlink) }

func TestMeasureIdle(t *testing.T) { observetest.MeasureIdle(t, startnetlink) }
