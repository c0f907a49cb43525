package main

import (
	"context"
	"flag"

	"github.com/salesbot/salesbot/adapters/app/accounts/accountsbench"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
)

func benchAccountsCommand() *command {
	var (
		c      accountsbench.Config
		asJSON bool
		prof   benchParams
	)
	return &command{
		name:    "accounts",
		summary: "connect N sandbox accounts, exchange messages, report throughput, latency and memory",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			c.Flags(fs)
			fs.BoolVar(&asJSON, "json", false, "print one JSON line")
			fs.StringVar(&prof.cpuProfile, "cpuprofile", "", "write a CPU profile of the message exchange to this `file` (go tool pprof)")
			return nil
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			st, err := a.openPebble(ctx, datadir.Create)
			if err != nil {
				return err
			}
			defer st.Close()
			c.Store, c.Dir, c.Log, c.Profile = st, a.cfg.DataDir, a.log, prof.profile
			res, err := accountsbench.Run(ctx, c)
			if err != nil {
				return err
			}
			printBench(a, res, asJSON)
			return nil
		},
	}
}
