package main

import (
	"context"
	"flag"
	"strconv"
	"strings"

	"github.com/salesbot/salesbot/adapters/app/audit"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
	"github.com/salesbot/salesbot/domain"
)

func replayCommand() *command {
	var asJSON bool
	return &command{
		name:    "replay",
		remote:  domain.ScopeRead,
		summary: "print a dialog's full history from the event log",
		usage:   " dialog N",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.BoolVar(&asJSON, "json", false, "one JSON object per event")
			return nil
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) != 2 || args[0] != "dialog" {
				return usagef("want 'replay dialog N', got %q", strings.Join(args, " "))
			}
			n, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || n <= 0 {
				return usagef("dialog number %q is not a positive integer", args[1])
			}
			s, err := a.openStore(ctx, datadir.Read)
			if err != nil {
				return err
			}
			defer s.Close()
			h, err := audit.Dialog(ctx, s, n)
			switch {
			case err != nil:
				return err
			case asJSON:
				return h.WriteJSON(a.stdout)
			}
			return h.WriteText(a.stdout)
		},
	}
}
