package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/salesbot/salesbot/domain"
)

func webCommand() *command {
	var (
		role, base string
		asJSON     bool
	)
	return &command{
		name:    "web",
		summary: "the web console",
		sub: []*command{{
			name:    "link",
			remote:  domain.ScopeRead,
			summary: "print a one-time sign-in link to the web console of the running server",
			flags: func(fs *flag.FlagSet, a *app) func() error {
				fs.StringVar(&role, "role", "", "`role` of the session: owner, manager or analyst (default: your own; never above it)")
				base = a.getenv("SALESBOT_WEB_URL")
				fs.StringVar(&base, "base-url", base, "the console's public `URL` (behind a reverse proxy); default: the server's --http-listen [SALESBOT_WEB_URL]")
				fs.BoolVar(&asJSON, "json", false, "print one JSON line")
				return nil
			},
			noArgs: true,
			run: func(ctx context.Context, a *app, _ []string) error {
				if a.live == nil {
					return fmt.Errorf("no salesbot runs on %s: the link opens the web console of 'salesbot run' (start it, or give --server)", a.cfg.DataDir)
				}
				if base == "" {
					if base = a.live.sys.WebURL(); base == "" {
						return usagef("the server serves no HTTP (--http-listen off): there is no web console")
					}
				}
				l, err := a.live.sys.WebSessions().IssueLinkFor(ctx, a.live.who, role, a.live.who.Actor())
				if err != nil {
					return err
				}
				if asJSON {
					b, _ := json.Marshal(l.JSON(base))
					fmt.Fprintln(a.stdout, string(b))
					return nil
				}
				fmt.Fprintf(a.stdout, "%s\n(%s, usable once until %s)\n", l.URL(base), l.Role, l.Expires.Format("15:04 MST"))
				return nil
			},
		}},
	}
}
