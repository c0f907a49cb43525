package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/salesbot/salesbot/adapters/adminbot"
	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// system is salesbot at work on one log: the accounts (clients, inbound
// router, outbox), the dialog engine, the read models and, with a token,
// the admin bot. `run` and `demo` both start one.
type system struct {
	st      *eventstore.PebbleStore
	sink    projections.Sink
	svc     *accounts.Service
	dialogs *engine.Engine
	sched   *campaigns.Scheduler
	bot     *adminbot.Bot
	botCfg  botConfig
	h       domain.Handlers
	model   string // which model answers, for the log
	// services are run next to the others until ctx ends; an error from
	// one stops the system.
	services []func(ctx context.Context) error
}

// systemOptions configure a system.
type systemOptions struct {
	tg  tgConfig
	bot botConfig
	eng engineConfig
	// typing overrides how long "typing…" shows; debounce overrides
	// --debounce (0 = as configured).
	typing   func(text string) time.Duration
	debounce time.Duration
}

func (a *app) newSystem(ctx context.Context, st *eventstore.PebbleStore, sink projections.Sink, o systemOptions) (*system, error) {
	s := &system{st: st, sink: sink, botCfg: o.bot}
	// The read models must be this log's before the bot serves them.
	if _, err := (projections.Runner{Store: st, Sink: sink}).Bind(ctx); err != nil {
		return nil, err
	}
	// Contacts recorded before the username and phone indexes existed are
	// linked now, so an import or a person writing in finds them.
	if n, err := contacts.Reindex(ctx, st, domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: time.Now}); err != nil {
		return nil, err
	} else if n > 0 {
		a.log.Info("salesbot: contacts indexed", "contacts", n)
	}
	// Erasures a crash interrupted (recorded, the key not yet deleted)
	// are completed before anything reads the log.
	if n, err := contacts.RepairErasures(ctx, st); err != nil {
		return nil, err
	} else if n > 0 {
		a.log.Info("salesbot: interrupted erasures completed", "contacts", n)
	}
	onInbound := func(dialog uuid.UUID, _ telegram.Message) {
		if d, err := s.h.LoadDialog(ctx, dialog); err == nil {
			a.log.Info("salesbot: message received", "dialog", d.N, "messages_in", d.Inbound)
		}
	}
	dialer := a.dialer(o.tg, st)
	cfg := accounts.Config{Store: st, Runner: dialer, LogOut: dialer.LogOut, Login: dialer.LoginPhone, Log: a.log,
		OnInbound: onInbound, Notify: s.notify, TypingDelay: o.typing}
	svc, err := accounts.New(cfg)
	if err != nil {
		return nil, err
	}
	s.svc, s.h = svc, svc.Handlers()
	core, modelName, err := o.eng.core(a, s.h)
	if err != nil {
		return nil, err
	}
	s.model = modelName
	debounce := o.eng.debounce
	if o.debounce > 0 {
		debounce = o.debounce
	}
	s.dialogs, err = engine.New(engine.Config{Core: core, Store: st, Decode: eventlog.New(st).Decode, Log: a.log, Debounce: debounce,
		Hours: func(ctx context.Context, account uuid.UUID, t time.Time) (time.Time, error) {
			acc, err := s.h.AccountNow(ctx, account, time.UTC)
			if err != nil {
				return t, err
			}
			return acc.Limits.NextOpen(t), nil
		},
		Notify: func(kind string, dialog int64, text string) {
			s.notify(accounts.Notice{Kind: kind, Dialog: dialog, Text: text})
		},
	})
	if err != nil {
		return nil, err
	}
	// The campaign scheduler opens campaigns' dialogs through the accounts,
	// each on its contact's own account.
	s.sched, err = campaigns.New(campaigns.Config{Store: st, Decode: eventlog.New(st).Decode, H: s.h, Opener: svc.CampaignOpener(), Log: a.log,
		Notify: func(kind, text string) { s.notify(accounts.Notice{Kind: kind, Text: text}) }})
	if err != nil {
		return nil, err
	}
	if o.bot.token != "" {
		s.bot, err = adminbot.New(adminbot.Config{Token: o.bot.token, APIURL: o.bot.apiURL, Admins: o.bot.ids,
			Sink: sink, Domain: s.h, Accounts: botAccounts{svc}, Import: botImporter{s.h}, Log: a.log})
		if err != nil {
			return nil, usagef("--bot-token (SALESBOT_BOT_TOKEN): %v", err)
		}
	}
	return s, nil
}

// notify hands a notice to the admin bot, if there is one.
func (s *system) notify(n accounts.Notice) {
	if s.bot != nil {
		s.bot.Notify(botNotice(n))
	}
}

// run runs every part until ctx ends or one fails, then stops them all and
// returns the first failure. extra run next to them (the sandbox's play).
func (s *system) run(ctx context.Context, a *app, extra ...func(ctx context.Context)) error {
	g, ctx := errgroup.WithContext(ctx)
	serve := func(name string, f func(context.Context) error) {
		g.Go(func() error {
			if err := f(ctx); err != nil && ctx.Err() == nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		})
	}
	// The log stops taking appends when its disk is full or a write
	// failed: stop everything, naming why.
	serve("event log", func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return nil
		case <-s.st.Failed():
			return s.st.Err()
		}
	})
	serve("read models", projections.Runner{Store: s.st, Decode: eventlog.New(s.st).Decode, Sink: s.sink, Batch: 1000}.Run)
	serve("accounts", s.svc.Run)
	serve("dialog engine", s.dialogs.Run)
	serve("campaign scheduler", s.sched.Run)
	for i, f := range s.services {
		serve(fmt.Sprintf("service %d", i+1), f)
	}
	if s.bot != nil {
		run := s.bot.Run
		if s.botCfg.webhookURL != "" {
			run = func(ctx context.Context) error { return s.bot.RunWebhook(ctx, s.botCfg.listen, s.botCfg.webhookURL) }
		}
		serve("admin bot", run)
	}
	for _, f := range extra {
		g.Go(func() error {
			f(ctx)
			return nil
		})
	}
	a.log.Info("salesbot: running", "data_dir", a.cfg.DataDir, "admin_bot", s.bot != nil, "model", s.model)
	<-ctx.Done()
	a.log.Info("salesbot: stopping")
	err := g.Wait() // the first part that failed, if one did
	if err := s.st.Err(); err != nil {
		// Every part that writes failed with it: report it once, and a
		// full disk by itself (it names the directory and the free space).
		var de *eventstore.DiskFullError
		if errors.As(err, &de) {
			err = de
		}
		return fmt.Errorf("event log: %w", err)
	}
	return err
}
