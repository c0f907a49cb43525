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
		details: `
Runs a sandbox Telegram in this process and connects N company accounts to
it through the real MTProto client, as 'salesbot run' does. Leads write to
the accounts (inbound message → stored event latency), then every dialog
gets one reply through the outbox (planned → sent).

A new auth key costs about 0.6 s of CPU, so the first run signs the
accounts in once and keeps their sessions (and the sandbox's users and
keys, in sandbox.json) in --data-dir; later runs with the same --data-dir
reconnect with them. Resident memory per account is measured across
connecting them, the sandbox server's share included.`,
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
