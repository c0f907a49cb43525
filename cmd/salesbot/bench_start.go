package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/salesbot/salesbot/adapters/app/startbench"
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
			c.Flags(fs)
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
			c.Binary, c.Postgres, c.Log, c.Progress = bin, a.cfg.PostgresDSN, a.log, startbench.LineProgress(a.stderr)
			if a.cfg.Set["data-dir"] { // the log goes there (it must be new or empty)
				c.DataDir, c.KeyFile = a.cfg.DataDir, a.cfg.MasterKeyFile
			}
			res, err := startbench.Run(ctx, c)
			fmt.Fprintln(a.stderr)
			if err != nil {
				return err
			}
			printBench(a, res, asJSON)
			if must && !res.Meets() {
				return errors.New("the restart missed the budget: ready within 10 s, peak RSS at most 600 MB")
			}
			return nil
		},
	}
}
