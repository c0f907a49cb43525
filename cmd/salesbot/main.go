// Command salesbot is the AI sales assistant for Telegram: one binary with
// subcommands. Run `salesbot help` for the list.
package main

import (
	"context"
	"fmt"
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
// ends, for a clean stop; a second one exits at once with 128 + the
// signal's number, however long the clean stop would take.
func withSignals(main func(ctx context.Context) int) int {
	sigs := make(chan os.Signal, 2) // the second is kept even while the first is handled
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
			return
		}
		cancel()
		s := <-sigs
		fmt.Fprintf(os.Stderr, "salesbot: %v again: exiting at once\n", s)
		code := 1
		if n, ok := s.(syscall.Signal); ok {
			code = 128 + int(n)
		}
		os.Exit(code)
	}()
	return main(ctx)
}
