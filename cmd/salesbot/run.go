package main

import (
	"context"
	"errors"
	"flag"
	"time"

	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/app/system"
	"github.com/salesbot/salesbot/adapters/app/system/runflags"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

func runCommand() *command {
	var (
		tg    tgConfig
		bot   runflags.Bot
		eng   runflags.Engine
		web   runflags.HTTP
		sbox  bool
		leads int
		dur   time.Duration
		log   string
	)
	return &command{
		name:    "run",
		summary: "run the accounts and the read models until SIGINT or SIGTERM",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			tg.register(fs, a)
			datadir.LogFlag(fs, &log, a.getenv)
			bot.Register(fs, a.getenv)
			eng.Register(fs, a.getenv)
			web.Register(fs, a.getenv)
			fs.BoolVar(&sbox, "sandbox", false, "run against an in-process sandbox Telegram")
			fs.IntVar(&leads, "sandbox-leads", 6, "scripted leads in the sandbox (`n`)")
			fs.DurationVar(&dur, "for", 0, "stop after this `duration` (0 = run until SIGINT or SIGTERM)")
			return func() error {
				if dur < 0 {
					return usagef("--for must not be negative")
				}
				if leads < 0 || leads > 1000 {
					return usagef("--sandbox-leads must be 0..1000")
				}
				if err := bot.Check(); err != nil {
					return err
				}
				if err := eng.Check(); err != nil {
					return err
				}
				if err := web.Check(); err != nil {
					return err
				}
				if log != "" && a.cfg.PostgresDSN == "" {
					return usagef("--log: the nodes of a log on JetStream share their read models: give --postgres (SALESBOT_POSTGRES_DSN)")
				}
				if sbox {
					return nil // the sandbox may keep its key in the data dir
				}
				if err := a.cfg.CheckKeyOutside(); err != nil {
					return err
				}
				return tg.check(a)
			}
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			if dur > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, dur)
				defer cancel()
			}
			return a.run(ctx, tg, bot, eng, web, sbox, leads, log)
		},
	}
}

func (a *app) run(ctx context.Context, tg tgConfig, botCfg runflags.Bot, eng runflags.Engine, web runflags.HTTP, sbox bool, leads int, logURL string) error {
	var st eventstore.Log
	var err error
	if logURL != "" { // a node of several on a log on JetStream
		st, err = a.cfg.OpenLog(ctx, logURL, datadir.Create, eventstore.Options{Logger: a.log}, a.stderr)
	} else {
		st, err = a.openDir(ctx, datadir.Create)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	sink, closeSink, err := a.openSink(ctx)
	if err != nil {
		return err
	}
	defer closeSink()
	// Before anything starts or writes: never serve another log's rows.
	if _, err := (projections.Runner{Store: st, Sink: sink}).Bind(ctx); err != nil {
		return err
	}
	var world *demo.Sandbox
	if sbox {
		world, err = demo.StartSandbox(ctx, st, a.log, leads, a.onSandbox)
		if errors.Is(err, demo.ErrNotFresh) {
			return usagef("--sandbox: %s already holds accounts, and the sandbox Telegram is new at every start; use a fresh --data-dir", a.cfg.DataDir)
		}
		if err != nil {
			return err
		}
		defer world.Close()
		opts := world.ClientOptions()
		a.telegram = &opts
	}
	cfg := system.Config{Engine: eng.System(), Bot: botCfg.System(), HTTP: web.System(), Webhooks: web.Webhooks(), CRM: web.CRM(), Cluster: system.NodeOf(logURL)}
	if sbox { // the sandbox's leads answer in a second: quicker typing and replies keep it lively
		cfg.Typing = demo.Typing
		if eng.DebounceDefault() {
			cfg.Engine.Debounce = 2 * time.Second
		}
	}
	lv := live{store: st, sink: sink, tg: tg}
	cfg.CLI = a.serveCLI(&lv)
	sys, err := a.newSystem(ctx, st, sink, tg, cfg)
	if err != nil {
		return err
	}
	lv.sys = sys
	a.log.Info("salesbot: scenario", "name", eng.Scenario().Name, "version", eng.Scenario().Version, "sandbox", sbox)
	var play []func(context.Context)
	if world != nil {
		play = append(play, func(ctx context.Context) { world.Play(ctx, sys.Accounts()) })
	}
	return sys.Run(ctx, play...)
}

// newSystem builds the running system of cfg on st and sink, its
// accounts on Telegram as tg says, naming the flag at fault when a part
// refuses its configuration.
func (a *app) newSystem(ctx context.Context, st eventstore.Log, sink projections.Sink, tg tgConfig, cfg system.Config) (*system.System, error) {
	cfg.Store, cfg.ReadModels, cfg.Telegram, cfg.Log, cfg.DataDir = st, sink, a.dialer(tg, st), a.log, a.cfg.DataDir
	sys, err := system.New(ctx, cfg)
	var ce *system.ConfigError
	switch {
	case errors.As(err, &ce) && (ce.Part == system.PartModel || ce.Part == system.PartCRM):
		return nil, usagef("%v", ce.Err)
	case errors.As(err, &ce) && ce.Part == system.PartBot:
		return nil, usagef("--bot-token (SALESBOT_BOT_TOKEN): %v", ce.Err)
	}
	return sys, err
}
