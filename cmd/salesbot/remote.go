package main

import (
	"context"
	"errors"
	"strings"

	"github.com/salesbot/salesbot/adapters/app/system"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/cli/remote"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// live is what a command run for a client inside `run` works on: run's
// open log and read models, its tokens, and who asked.
type live struct {
	store eventstore.Log
	sink  projections.Sink
	sys   *system.System
	tg    tgConfig // run's: what accounts add signs in with
	who   domain.Principal
}

// throughServer runs the command at path on the running server, if one
// runs on the data dir or --server names one: ran says it did (err is
// then its exit). Inside the server it checks the client's scope.
func (a *app) throughServer(ctx context.Context, path string, need domain.Scope) (ran bool, err error) {
	if a.live != nil {
		if need == "" {
			return true, usagef("'%s' runs on the server's machine only", path)
		}
		if !a.live.who.Scope.Allows(need) {
			return true, &domain.ScopeError{Token: a.live.who.Prefix, Need: need, Have: a.live.who.Scope}
		}
		return false, nil
	}
	t, ok, err := a.cfg.Target(path, need != "")
	if !ok {
		return err != nil, err
	}
	c, err := remote.Dial(ctx, t)
	if errors.Is(err, remote.ErrNoServer) {
		return false, nil // nothing runs on the data dir: the command opens it
	}
	if err != nil {
		return true, err
	}
	code, err := c.Run(ctx, a.args, remote.Host{Stdout: a.stdout, Stderr: a.stderr, Getenv: a.getenv, Ask: cli.NewPrompter(a.stdin, a.stderr)})
	if err == nil && code != exitOK {
		err = cli.ExitCode(code)
	}
	return true, err
}

// serveCLI runs clients' command lines inside run (system.Config.CLI):
// each in an app of its own whose streams, environment, files and
// terminal are the client's, on run's log.
func (a *app) serveCLI(lv *live) func(domain.Principal) remote.Exec {
	return func(p domain.Principal) remote.Exec {
		return func(ctx context.Context, s *remote.Session, args []string) int {
			c := newApp(nil, s.Stdout(), s.Stderr(), func(k string) string {
				if strings.Contains(k, "POSTGRES") || strings.Contains(k, "MASTER_KEY") || k == "SALESBOT_TOKEN" {
					return "" // run's own, not the client's
				}
				return s.Getenv(k)
			})
			c.telegram, c.files, c.ask = a.telegram, s.ReadFile, s
			c.live = &live{store: lv.store, sink: lv.sink, sys: lv.sys, tg: lv.tg, who: p}
			return c.main(ctx, args)
		}
	}
}

func (a *app) prompter() cli.Asker {
	if a.ask != nil {
		return a.ask
	}
	return cli.NewPrompter(a.stdin, a.stderr)
}
