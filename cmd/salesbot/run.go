package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/accounts"
	"github.com/salesbot/salesbot/adapters/adminbot"
	"github.com/salesbot/salesbot/adapters/engine"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/projections"
)

func runCommand() *command {
	var (
		tg    tgConfig
		bot   botConfig
		eng   engineConfig
		sbox  bool
		leads int
		dur   time.Duration
	)
	return &command{
		name:    "run",
		summary: "run the accounts and the read models until SIGINT or SIGTERM",
		details: `
Connects every registered account (one Telegram client each, reconnecting
with backoff), records incoming private messages as dialog events, sends
planned messages through the outbox, and keeps the read models (in memory,
or PostgreSQL with --postgres) up to date. Messages that arrived while
salesbot was down are fetched on start. SIGINT or SIGTERM stops it cleanly:
messages not yet sent stay planned in the log and go out on the next start,
with the same random_id, so nobody gets a message twice.

The dialog engine answers the leads: it writes the openings of dialogs
salesbot starts, answers once a burst of a lead's messages has settled
(--debounce), sends follow-ups after silence, qualifies the lead and hands
hot leads to a manager, following the scenario (--scenario, docs/scenario.md)
through the LLM when configured (docs/llm.md) or the offline engine.

With --bot-token and --admin-ids it also serves the admin bot (see
docs/admin-bot.md) and sends it the notices about accounts and dialogs.

--sandbox runs against an in-process Telegram instead (no network): it
signs in three sandbox accounts, writes to a few scripted leads and lets
strangers write in. The sandbox is new at every start, so use a fresh
--data-dir for it.`,
		flags: func(fs *flag.FlagSet, a *app) func() error {
			tg.register(fs, a)
			bot.register(fs, a)
			eng.register(fs, a)
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
				if err := bot.check(); err != nil {
					return err
				}
				if err := eng.check(); err != nil {
					return err
				}
				if sbox {
					return nil
				}
				return tg.check(a)
			}
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) > 0 {
				return usagef("takes no arguments, got %q", args)
			}
			if dur > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, dur)
				defer cancel()
			}
			return a.run(ctx, tg, bot, eng, sbox, leads)
		},
	}
}

func (a *app) run(ctx context.Context, tg tgConfig, botCfg botConfig, eng engineConfig, sbox bool, leads int) error {
	st, err := a.openStore(createLog)
	if err != nil {
		return err
	}
	defer st.Close()
	var world *sandboxWorld
	if sbox {
		if world, err = startSandbox(ctx, a, st, leads); err != nil {
			return err
		}
		defer world.sb.Close()
	}
	sink, closeSink, err := a.openSink(ctx)
	if err != nil {
		return err
	}
	defer closeSink()

	var svc *accounts.Service
	onInbound := func(dialog uuid.UUID, _ telegram.Message) {
		if d, err := svc.Handlers().LoadDialog(ctx, dialog); err == nil {
			a.log.Info("salesbot: message received", "dialog", d.N, "messages_in", d.Inbound)
		}
	}
	var bot *adminbot.Bot
	notify := func(n accounts.Notice) {
		if bot != nil {
			bot.Notify(n)
		}
	}
	dialer := a.dialer(tg, st)
	cfg := accounts.Config{Store: st, Runner: dialer, LogOut: dialer.LogOut, Login: dialer.LoginPhone, Log: a.log, OnInbound: onInbound, Notify: notify}
	if sbox { // quicker typing, so the sandbox shows a conversation within seconds
		cfg.TypingDelay = func(text string) time.Duration {
			return min(max(time.Duration(len([]rune(text)))*10*time.Millisecond, 300*time.Millisecond), 1500*time.Millisecond)
		}
	}
	svc, err = accounts.New(cfg)
	if err != nil {
		return err
	}
	h := svc.Handlers()
	core, modelName, err := eng.core(a, h)
	if err != nil {
		return err
	}
	engCfg := engine.Config{Core: core, Store: st, Decode: eventlog.New(st).Decode, Log: a.log, Debounce: eng.debounce,
		Hours: func(ctx context.Context, account uuid.UUID, t time.Time) (time.Time, error) {
			acc, err := h.AccountNow(ctx, account, time.UTC)
			if err != nil {
				return t, err
			}
			return acc.Limits.NextOpen(t), nil
		},
		Notify: func(kind string, dialog int64, text string) {
			notify(accounts.Notice{Kind: kind, Dialog: dialog, Text: text})
		},
	}
	if sbox && eng.debounceText == "15s" { // the sandbox's leads answer in a second: keep the demo lively
		engCfg.Debounce = 2 * time.Second
	}
	dialogs, err := engine.New(engCfg)
	if err != nil {
		return err
	}
	if botCfg.token != "" {
		bot, err = adminbot.New(adminbot.Config{Token: botCfg.token, APIURL: botCfg.apiURL, Admins: botCfg.ids,
			Sink: sink, Domain: svc.Handlers(), Start: svc, Log: a.log})
		if err != nil {
			return usagef("--bot-token (SALESBOT_BOT_TOKEN): %v", err)
		}
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	wg.Add(2)
	go func() {
		defer wg.Done()
		r := projections.Runner{Store: st, Decode: eventlog.New(st).Decode, Sink: sink, Batch: 1000}
		if err := r.Run(ctx); err != nil && ctx.Err() == nil {
			errs <- fmt.Errorf("read models: %w", err)
			stop()
		}
	}()
	go func() {
		defer wg.Done()
		if err := svc.Run(ctx); err != nil {
			errs <- err
			stop()
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := dialogs.Run(ctx); err != nil && ctx.Err() == nil {
			errs <- fmt.Errorf("dialog engine: %w", err)
			stop()
		}
	}()
	if bot != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run := bot.Run
			if botCfg.webhookURL != "" {
				run = func(ctx context.Context) error { return bot.RunWebhook(ctx, botCfg.listen, botCfg.webhookURL) }
			}
			if err := run(ctx); err != nil && ctx.Err() == nil {
				errs <- err
				stop()
			}
		}()
	}
	a.log.Info("salesbot: running", "data_dir", a.cfg.DataDir, "sandbox", sbox, "admin_bot", bot != nil,
		"scenario", eng.sc.Name, "scenario_version", eng.sc.Version, "model", modelName)
	if world != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			world.play(ctx, a, svc)
		}()
	}
	<-ctx.Done()
	a.log.Info("salesbot: stopping")
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// waitConnected waits until n accounts are connected or ctx ends.
func waitConnected(ctx context.Context, svc *accounts.Service, n int) bool {
	for ctx.Err() == nil {
		c := 0
		for _, s := range svc.Accounts() {
			if s.Connected {
				c++
			}
		}
		if c >= n {
			return true
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	return false
}
