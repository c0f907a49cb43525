package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/salesbot/salesbot/adapters/app/pipebench"
)

func benchPipelineCommand() *command {
	var (
		c    pipebench.Config
		p    benchParams
		must bool
	)
	return &command{
		name:    "pipeline",
		summary: "send lead messages at a steady rate and measure inbound → reply planned (offline engine, debounce excluded)",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.BoolVar(&p.asJSON, "json", false, "print one JSON line")
			fs.StringVar(&p.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
			c.Flags(fs)
			fs.BoolVar(&must, "target", false, "fail (exit 1) unless p99 ≤ 20 ms at the rate with every message answered")
			return nil
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			stop, err := p.profile()
			if err != nil {
				return err
			}
			c.Log = a.log
			res, err := pipebench.Run(ctx, c)
			stop()
			if err != nil {
				return err
			}
			printBench(a, res, p.asJSON)
			if must && !res.Meets {
				return fmt.Errorf("missed the target: p99 %.1f ms, %.0f messages/s, %d without a reply", res.P99ms, res.Achieved, res.Errors)
			}
			return nil
		},
	}
}
