package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"

	"github.com/salesbot/salesbot/adapters/app/startbench"
	"github.com/salesbot/salesbot/adapters/cli"
)

func benchStartCommand() *command {
	var (
		c            startbench.Config
		asJSON, must bool
	)
	return &command{
		name:    "start",
		summary: "generate a log, then time how fast run becomes ready on it and measure its memory, without and with snapshots",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			cli.IntRange(fs, &c.Events, "events", 1_000_000, 1000, math.MaxInt32, "events to generate, about (`n`)")
			cli.IntRange(fs, &c.Accounts, "accounts", 100, 1, 10000, "accounts the dialogs spread over (`n`)")
			cli.IntRange(fs, &c.Concurrency, "concurrency", 64, 1, 1024, "goroutines writing the log (`n`)")
			fs.DurationVar(&c.Settle, "settle", 0, "how long each start runs after ready before its peak memory is read (`duration`, default 10s)")
			fs.BoolVar(&c.Keep, "keep", false, "keep the log, its key and the schema (their names are printed)")
			fs.BoolVar(&asJSON, "json", false, "print one JSON line")
			fs.BoolVar(&must, "budget", false, "fail (exit 1) if the restart is not ready within 10 s or its peak RSS is above 600 MB")
			return nil
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			if a.cfg.PostgresDSN == "" {
				return usagef("needs --postgres (SALESBOT_POSTGRES_DSN): run's read models live there, in a schema of its own")
			}
			bin, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the salesbot binary to start: %w", err)
			}
			c.Binary, c.Postgres, c.Log = bin, a.cfg.PostgresDSN, a.log
			if a.cfg.Set["data-dir"] { // the log goes there (it must be new or empty)
				c.DataDir, c.KeyFile = a.cfg.DataDir, a.cfg.MasterKeyFile
			}
			last := -1
			c.Progress = func(stage string, done, total int) { // at most once a percent
				if pct := done * 100 / max(total, 1); pct != last || done == total {
					last = pct
					fmt.Fprintf(a.stderr, "\r%s: %d/%d\x1b[K", stage, done, total)
				}
			}
			res, err := startbench.Run(ctx, c)
			fmt.Fprintln(a.stderr)
			if err != nil {
				return err
			}
			if asJSON {
				b, _ := json.Marshal(res)
				fmt.Fprintln(a.stdout, string(b))
			} else {
				fmt.Fprintln(a.stdout, res.Text())
			}
			if must && !res.Meets() {
				return errors.New("the restart missed the budget: ready within 10 s, peak RSS at most 600 MB")
			}
			return nil
		},
	}
}
