// Command salesbot is the AI sales assistant for Telegram: one binary with
// subcommands. Run `salesbot help` for the list.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(withSignals(func(ctx context.Context) int {
		return Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	}))
}

// withSignals runs main under a context that the first SIGINT or SIGTERM
// ends, for a clean stop; a second one exits at once (the signal's
// default action), however long the clean stop would take.
func withSignals(main func(ctx context.Context) int) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	return main(ctx)
}
