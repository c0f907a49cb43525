package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/salesbot/salesbot/adapters/app/apibench"
)

func benchAPICommand() *command {
	var (
		c      apibench.Config
		asJSON bool
		p99    time.Duration
	)
	return &command{
		name:    "api",
		summary: "seed N dialogs in PostgreSQL and measure GET /api/v1/dialogs under a steady request rate",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			c.Flags(fs)
			fs.BoolVar(&asJSON, "json", false, "print one JSON line")
			fs.DurationVar(&p99, "p99", 0, "fail (exit 1) if a request failed or the 99th percentile is above this `duration`, e.g. 20ms")
			return nil
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			if a.cfg.PostgresDSN == "" {
				return usagef("needs --postgres (SALESBOT_POSTGRES_DSN): the dialogs are seeded in a schema of its own there")
			}
			c.DSN, c.Log, c.Progress = a.cfg.PostgresDSN, a.log, a.stderr
			res, err := apibench.Run(ctx, c)
			if err != nil {
				return err
			}
			printBench(a, res, asJSON)
			if p99 > 0 && !res.Meets(p99) {
				return fmt.Errorf("missed --p99 %s: p99 %.1f ms, %d of %d requests failed", p99, res.P99ms, res.Errors, res.Requests)
			}
			return nil
		},
	}
}
