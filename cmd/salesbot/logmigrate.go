package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/salesbot/salesbot/adapters/app/logmigrate"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
	"github.com/salesbot/salesbot/eventstore"
)

func logCommand() *command {
	var o logmigrate.Options
	return &command{name: "log", summary: "move the event log to another store", sub: []*command{{
		name: "migrate", noArgs: true,
		summary: "copy the Pebble log of a data dir into a new log on NATS JetStream and prove the copy (stop run first)",
		flags:   func(fs *flag.FlagSet, a *app) func() error { o.Flags(fs); return o.Check },
		run: func(ctx context.Context, a *app, _ []string) error {
			a.cfg.DataDir = o.From
			rep, err := logmigrate.Migrate(ctx, o.From, a.cfg.Options(datadir.Read, a.log, a.stderr), func(now func() time.Time) (logmigrate.Log, error) {
				return a.cfg.OpenLog(ctx, o.To, datadir.Create, eventstore.Options{Logger: a.log, Now: now}, a.stderr)
			}, a.stderr)
			if err != nil {
				return a.cfg.Explain(err)
			}
			fmt.Fprintln(a.stdout, rep)
			return nil
		},
	}}}
}
