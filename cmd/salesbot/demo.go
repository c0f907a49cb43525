package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"time"

	"github.com/gotd/td/telegram"

	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/app/system"
	"github.com/salesbot/salesbot/adapters/app/system/runflags"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
)

type demoOptions struct {
	eng    runflags.Engine
	bot    runflags.Bot
	limit  time.Duration // the demo stops after this at the latest
	window time.Duration // the campaign's window: openings spread over it
	keep   bool
}

func demoCommand() *command {
	var o demoOptions
	return &command{
		name:    "demo",
		summary: "the whole system on this machine: sandbox Telegram, about 30 leads, a campaign with two variants",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			o.eng.Register(fs, a.getenv)
			o.bot.Register(fs, a.getenv)
			fs.DurationVar(&o.limit, "for", 3*time.Minute, "stop after this `duration` at the latest")
			fs.DurationVar(&o.window, "window", 30*time.Second, "the campaign's `window`: its openings are spread over it")
			fs.BoolVar(&o.keep, "keep", false, "keep the system and the sandbox running after the summary, until Ctrl-C")
			return func() error {
				if o.limit <= 0 || o.window <= 0 {
					return usagef("--for and --window must be positive")
				}
				if err := o.bot.Check(); err != nil {
					return err
				}
				return o.eng.Check()
			}
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			_, err := a.demo(ctx, o)
			return err
		},
	}
}

func (a *app) demo(ctx context.Context, o demoOptions) (*demo.Report, error) {
	if entries, err := os.ReadDir(a.cfg.DataDir); err == nil && len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(a.cfg.DataDir, "CURRENT")); err == nil {
			return nil, usagef("--data-dir (SALESBOT_DATA_DIR): %s already holds a log, and the demo's sandbox Telegram is new at every start; use a new directory (make demo removes data/demo first)", a.cfg.DataDir)
		}
	}
	st, err := a.openPebble(ctx, datadir.Create)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	closeSink := func() {}
	defer func() { closeSink() }()
	r, err := demo.Run(ctx, demo.Config{Store: st, DataDir: a.cfg.DataDir, Out: a.stdout, Terminal: cli.IsTerminal(a.stdout), Log: a.log,
		Scenario: o.eng.Scenario(), Window: o.window, Limit: o.limit, Keep: o.keep, DSNGiven: a.cfg.PostgresDSN != "", OnSandbox: a.onSandbox,
		Start: func(ctx context.Context, tg telegram.Options) (demo.System, error) {
			a.telegram = &tg
			sink, done, err := a.openSink(ctx)
			if err != nil {
				return nil, err
			}
			closeSink = done
			cfg := system.Config{Engine: o.eng.System(), Bot: o.bot.System(), Typing: demo.Typing}
			if o.eng.DebounceDefault() {
				cfg.Engine.Debounce = 1500 * time.Millisecond // the personas answer in a second
			}
			sys, err := a.newSystem(ctx, st, sink, tgConfig{}, cfg)
			if err != nil {
				return nil, err // not a nil *system.System in a demo.System
			}
			return sys, nil
		}})
	if err == nil && !o.keep && ctx.Err() == nil && a.onDemo != nil {
		a.onDemo(r)
	}
	return r, err
}
