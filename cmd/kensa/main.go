// Command kensa assesses the security of Linux hosts. See `kensa --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kensa-dev/kensa/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default handling: a second
	// Ctrl-C ends the process even if a collector is stuck in a read.
	context.AfterFunc(ctx, stop)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
