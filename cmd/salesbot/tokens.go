package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/salesbot/salesbot/adapters/app/system/runflags"
	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/app/webhooks"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
)

func tokensCommand() *command {
	return &command{
		name:    "tokens",
		summary: "create, list and revoke the HTTP API's tokens",
		sub:     []*command{tokensCreateCommand(), tokensListCommand(), tokensRevokeCommand()},
	}
}

// withTokens runs fn with the tokens of the log in the data dir.
func (a *app) withTokens(ctx context.Context, fn func(*tokens.Service) error) error {
	if a.live != nil {
		return fn(a.live.sys.Tokens()) // the tokens' one writer while run runs
	}
	st, err := a.openStore(ctx, datadir.Existing)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := tokens.New(ctx, tokens.Config{Log: eventlog.New(st), Now: time.Now, Logger: a.log})
	if err != nil {
		return err
	}
	return fn(svc)
}

func tokensCreateCommand() *command {
	var name, scopeText string
	var scope domain.Scope
	var asJSON bool
	return &command{
		name:    "create",
		remote:  domain.ScopeAdmin,
		summary: "create an API token and print it once",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.StringVar(&name, "name", "", "the token's `name`: what uses it, e.g. crm (required, unique among live tokens)")
			fs.StringVar(&scopeText, "scope", "", "what the token may do: `read`, manage or admin (required)")
			fs.BoolVar(&asJSON, "json", false, "print JSON")
			return func() error {
				if name == "" {
					return usagef("--name is required")
				}
				var err error
				if scope, err = domain.ParseScope(scopeText); err != nil {
					return usagef("--scope: %v", err)
				}
				return nil
			}
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			return a.withTokens(ctx, func(svc *tokens.Service) error {
				c, err := svc.Create(ctx, name, scope, "cli")
				if domain.ErrorCode(err) == domain.EINVALID {
					return usagef("--%s: %v", domain.ErrorField(err), err)
				} else if err != nil {
					return err
				}
				fmt.Fprintf(a.stderr, "created token %s %q (scope %s); it is shown only now: keep it in a secret store\n", c.Prefix, c.Name, c.Scope)
				if asJSON {
					return cli.WriteJSON(a.stdout, c.JSON())
				}
				_, err = fmt.Fprintln(a.stdout, c.Token.Reveal())
				return err
			})
		},
	}
}

func tokensListCommand() *command {
	var asJSON bool
	return &command{
		name:    "list",
		remote:  domain.ScopeAdmin,
		summary: "list the API tokens: prefix, name, scope, created, revoked",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.BoolVar(&asJSON, "json", false, "print JSON")
			return nil
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			return a.withTokens(ctx, func(svc *tokens.Service) error {
				items, err := svc.List(ctx)
				if err != nil || !asJSON {
					return errors.Join(err, tokens.WriteList(a.stdout, items))
				}
				return cli.WriteJSON(a.stdout, tokens.ListJSON(items))
			})
		},
	}
}

func tokensRevokeCommand() *command {
	var reason string
	return &command{
		name:    "revoke",
		remote:  domain.ScopeAdmin,
		summary: "revoke an API token: it is refused from now on",
		usage:   " PREFIX|ID|NAME",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.StringVar(&reason, "reason", "", "why, recorded with the revocation (`text`)")
			return nil
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) != 1 {
				return usagef("give one token: its prefix (sb_...), id or name (see 'salesbot tokens list')")
			}
			return a.withTokens(ctx, func(svc *tokens.Service) error {
				info, now, err := svc.Revoke(ctx, args[0], "cli", reason)
				if err == nil && !now {
					fmt.Fprintf(a.stdout, "token %s %q was revoked already (%s)\n", info.Prefix, info.Name, info.Revoked.UTC().Format(time.RFC3339))
				} else if err == nil {
					fmt.Fprintf(a.stdout, "revoked token %s %q\n", info.Prefix, info.Name)
				}
				return err
			})
		},
	}
}

func webhooksCommand() *command {
	var sub []*command
	for _, c := range webhooks.Commands() {
		sub = append(sub, &command{name: c.Name, summary: c.Summary, usage: c.Usage, remote: domain.ScopeAdmin,
			flags: func(fs *flag.FlagSet, _ *app) func() error { return c.Flags(fs) },
			run: func(ctx context.Context, a *app, args []string) error {
				if a.live != nil { // the subscriptions' one writer while run runs
					return c.Run(ctx, a.live.sys.Webhooks(), args, a.stdout, a.stderr, "cli")
				}
				st, err := a.openStore(ctx, datadir.Existing)
				if err != nil {
					return err
				}
				defer st.Close()
				svc, err := webhooks.New(ctx, webhooks.Config{Store: st, Now: time.Now, Logger: a.log, AllowPrivate: runflags.AllowPrivateWebhooks(a.getenv)})
				if err != nil {
					return err
				}
				return c.Run(ctx, svc, args, a.stdout, a.stderr, "cli")
			}})
	}
	return &command{name: "webhooks", summary: "subscribe URLs to events, signed per Standard Webhooks: add, list, remove, replay", sub: sub}
}
