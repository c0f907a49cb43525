package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"time"

	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/projections/projectionsbench"
)

func benchRebuildCommand() *command {
	var p benchParams
	var keep bool
	return &command{
		name:    "rebuild",
		summary: "generate a realistic log and time a full rebuild of the read models",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			p.register(fs, 32)
			cli.IntRange(fs, &p.events, "events", 100000, 1, math.MaxInt, "events to generate (rounded to whole dialogs)")
			cli.IntRange(fs, &p.batch, "batch", 5000, 1, math.MaxInt, "events per read-model transaction")
			fs.BoolVar(&keep, "keep", false, "with --postgres: keep the rebuilt rows (default: truncate them after)")
			return nil
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			return benchRebuild(ctx, a, p, keep)
		},
	}
}

func benchRebuild(ctx context.Context, a *app, p benchParams, keep bool) error {
	s, done, err := a.benchStore(ctx, "rebuild")
	if err != nil {
		return err
	}
	defer done()
	t0 := time.Now()
	dialogs, err := projectionsbench.Fill(ctx, s, p.events, p.concurrency)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "generated %d dialogs, %d events in %.1fs\n", dialogs, s.Head(), time.Since(t0).Seconds())
	sink, closeSink, err := a.openSink(ctx)
	if err != nil {
		return err
	}
	defer closeSink()
	name := "memory"
	if a.cfg.PostgresDSN != "" {
		name = "postgres"
	}
	res, err := projectionsbench.Measure(ctx, s, sink, name, p.batch, keep)
	if err != nil {
		return err
	}
	printBench(a, res, p.asJSON)
	return nil
}
