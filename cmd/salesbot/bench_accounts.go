package main

import (
	"context"
	"flag"
	"runtime"

	"github.com/salesbot/salesbot/adapters/app/accounts/accountsbench"
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
			fs.IntVar(&n, "accounts", 100, "connected accounts (`n`)")
			fs.IntVar(&messages, "messages", 0, "inbound messages to exchange (`n`; default 5 per account)")
			fs.IntVar(&parallel, "parallel", 2*runtime.GOMAXPROCS(0), "sign-ins and senders at once (`n`)")
			fs.Float64Var(&rate, "rate", 200, "inbound messages per second across all accounts (`n`); 0 = as fast as possible")
			fs.BoolVar(&asJSON, "json", false, "print one JSON line")
			fs.StringVar(&prof.cpuProfile, "cpuprofile", "", "write a CPU profile of the message exchange to this `file` (go tool pprof)")
			return func() error {
				if n <= 0 || n > 100000 {
					return usagef("--accounts must be 1..100000")
				}
				if messages < 0 || parallel <= 0 {
					return usagef("--messages must be ≥ 0 and --parallel > 0")
				}
				return nil
			}
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			st, err := a.openStore(ctx, createLog)
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
