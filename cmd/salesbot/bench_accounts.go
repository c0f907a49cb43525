package main

import (
	"context"
	"flag"
	"math"
	"runtime"

	"github.com/salesbot/salesbot/adapters/app/accounts/accountsbench"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
)

func benchAccountsCommand() *command {
	var (
		n, messages, parallel int
		rate                  float64
		asJSON                bool
		prof                  benchParams
	)
	return &command{
		name:    "accounts",
		summary: "connect N sandbox accounts, exchange messages, report throughput, latency and memory",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			cli.IntRange(fs, &n, "accounts", 100, 1, 100000, "connected accounts (`n`)")
			cli.IntRange(fs, &messages, "messages", 0, 0, math.MaxInt, "inbound messages to exchange (`n`; default 5 per account)")
			cli.IntRange(fs, &parallel, "parallel", 2*runtime.GOMAXPROCS(0), 1, math.MaxInt, "sign-ins and senders at once (`n`)")
			fs.Float64Var(&rate, "rate", 200, "inbound messages per second across all accounts (`n`); 0 = as fast as possible")
			fs.BoolVar(&asJSON, "json", false, "print one JSON line")
			fs.StringVar(&prof.cpuProfile, "cpuprofile", "", "write a CPU profile of the message exchange to this `file` (go tool pprof)")
			return nil
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			st, err := a.openStore(ctx, datadir.Create)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := accountsbench.Run(ctx, accountsbench.Config{Store: st, Dir: a.cfg.DataDir, Log: a.log,
				Accounts: n, Messages: messages, Parallel: parallel, Rate: rate, Profile: prof.profile})
			if err != nil {
				return err
			}
			printBench(a, res, asJSON)
			return nil
		},
	}
}
