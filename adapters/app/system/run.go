package system

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/salesbot/salesbot/adapters/cli/remote"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// Run runs every part until ctx ends or one fails, then stops them all
// and returns the first failure; extra run next to them (the sandbox's
// play) until ctx ends. A failed log (a full disk, a failed write) stops
// everything and is returned by itself, as "event log: ..." (a full disk
// as its *eventstore.DiskFullError).
func (s *System) Run(ctx context.Context, extra ...func(ctx context.Context)) error {
	st := s.cfg.Store
	if s.node != nil { // last: after every part, the balancer's releases included
		defer s.node.close()
	}
	// The HTTP address is taken first: if it is in use, nothing starts.
	var web *httpapi.Server
	if s.api != nil {
		ln, err := httpapi.Listen(s.cfg.HTTP.Listen)
		if err != nil {
			return err
		}
		web = &httpapi.Server{Listener: ln, Handler: s.httpHandler(), TLS: s.cfg.HTTP.TLS, Logger: s.log}
	}
	// The CLI's socket: while the system runs, commands on its data dir
	// run here (adapters/cli/remote).
	var sock *httpapi.Server
	if s.cfg.CLI != nil {
		path := remote.Socket(s.cfg.DataDir)
		if ln, err := remote.Listen(path); err != nil {
			s.log.Warn("salesbot: no CLI socket: commands on the data dir cannot run while this runs", "path", path, "err", err)
		} else {
			sock = &httpapi.Server{Listener: ln, Handler: s.socketHandler(), Logger: s.log}
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	s.cli.mu.Lock()
	s.cli.stop = ctx
	s.cli.mu.Unlock()
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
		case <-st.Failed():
			return st.Err()
		}
	})
	// The parts that must run once: on a node of several, while it holds
	// the leader lease (cluster.go).
	once := map[string]func(context.Context) error{
		"read models": projections.Runner{Store: st, Decode: eventlog.New(st).Decode, Sink: s.cfg.ReadModels, Batch: 1000}.Run,
		"insights":    s.insight.Run,
		"webhooks":    s.hooks.Run,
	}
	for _, c := range s.crms {
		once["crm "+c.follow.CRM.Name()] = c.follow.Run
	}
	serve("accounts", s.svc.Run)
	serve("dialog engine", s.dialogs.Run)
	serve("campaign scheduler", s.sched.Run) // each node opens its own accounts' dialogs
	serve("readiness", s.logReady)
	if web != nil {
		serve("http", web.Serve)
	}
	if sock != nil {
		serve("cli socket", sock.Serve)
	}
	for i, f := range s.services {
		serve(fmt.Sprintf("service %d", i+1), f)
	}
	if s.bot != nil {
		run := s.bot.Run
		if b := s.cfg.Bot; b.WebhookURL != "" {
			run = func(ctx context.Context) error { return s.bot.RunWebhook(ctx, b.Listen, b.WebhookURL) }
		}
		once["admin bot"] = run
	}
	if s.node == nil {
		for name, f := range once {
			serve(name, f)
		}
	} else {
		serve("leader", func(ctx context.Context) error { return s.leader(ctx, named(once)) })
		serve("account leases", s.balance)
		serve("registries", s.refresh)
		if s.bot != nil { // every node's accounts tell the admins
			serve("admin bot notices", s.bot.RunNotices)
		}
	}
	for _, f := range extra {
		g.Go(func() error {
			f(ctx)
			return nil
		})
	}
	s.log.Info("salesbot: running", "data_dir", s.cfg.DataDir, "admin_bot", s.bot != nil, "model", s.model)
	<-ctx.Done()
	s.log.Info("salesbot: stopping")
	err := g.Wait() // the first part that failed, if one did
	s.cli.mu.Lock() // no session starts after this: ctx has ended
	s.cli.mu.Unlock()
	s.cli.wg.Wait()
	if err := st.Err(); err != nil {
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
