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
	ctx, cancel := context.WithCancel(context.Background())
	intr := &cli.Interrupts{}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range sigs {
			if s == os.Interrupt && intr.Interrupt() {
				continue // a runtime window ends early; the scan goes on
			}
			cancel()
			// Restore the default handling: another signal ends the
			// process even if a collector is stuck in a read.
			signal.Stop(sigs)
			return
		}
	}()
	code := cli.Main(cli.WithInterrupts(ctx, intr), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}
