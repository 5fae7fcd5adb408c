// Command kensa assesses the security of Linux hosts. See `kensa --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/kensa-dev/kensa/internal/cli"
)

// memoryLimit is the default soft memory limit of the Go runtime. The
// inventory of a typical server needs about 20 MB live; without a limit the
// garbage collector lets the heap double before collecting. An agent on a
// busy host should stay small, so the runtime collects harder near this
// size instead (it is a target, not a cap: nothing fails above it).
// GOMEMLIMIT overrides it.
const memoryLimit = 32 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default handling: a second
	// Ctrl-C ends the process even if a collector is stuck in a read.
	context.AfterFunc(ctx, stop)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
