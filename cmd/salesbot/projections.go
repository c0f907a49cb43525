package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/projections"
)

func projectionsCommand() *command {
	return &command{
		name:    "projections",
		summary: "rebuild the read models from the log, or show how far they are",
		sub: []*command{
			{
				name:    "rebuild",
				summary: "drop the read models and rebuild them from the event log",
				details: `
With --postgres, truncates the read-model tables (contacts, dialogs,
messages) and projects the whole log into them, with a progress line on
standard error, and binds them to this log (its id and the hash of the
last event applied): read models of another log, or of an older or
rewritten copy of it, are then refused by run and reported by status. Without it, rebuilds the embedded in-memory read models,
which only checks that the log projects cleanly and how fast (they are
rebuilt at every start anyway).`,
				noArgs: true,
				run: func(ctx context.Context, a *app, _ []string) error {
					return rebuildProjections(ctx, a)
				},
			},
			{
				name:    "status",
				summary: "show the read models' log, checkpoint and lag behind the log",
				details: `
Says which event log the read models were built from (its id), how far
(the checkpoint's position) and how far behind the log's head they are.
Read models built from another log, ahead of the log (an older backup of
the data dir restored) or from a log that was rewritten are reported with
what to do, and the command exits 1; 'salesbot run' refuses to start on
them.`,
				noArgs: true,
				run: func(ctx context.Context, a *app, _ []string) error {
					return projectionsStatus(ctx, a)
				},
			},
		},
	}
}

// openSink opens the PostgreSQL sink if configured, else a memory one.
func (a *app) openSink(ctx context.Context) (projections.Sink, func(), error) {
	if a.cfg.PostgresDSN == "" {
		return projections.NewMemory(), func() {}, nil
	}
	pg, err := projections.OpenPostgres(ctx, a.cfg.PostgresDSN)
	if err != nil {
		// pgx masks the password it can find; an unparsable DSN may
		// still show in its errors.
		return nil, nil, redact.Error(err, redact.DSNSecrets(a.cfg.PostgresDSN)...)
	}
	return pg, pg.Close, nil
}

func rebuildProjections(ctx context.Context, a *app) error {
	s, err := a.openStore(ctx, existingLog)
	if err != nil {
		return err
	}
	defer s.Close()
	sink, closeSink, err := a.openSink(ctx)
	if err != nil {
		return err
	}
	defer closeSink()
	r := projections.Runner{Store: s, Decode: eventlog.New(s).Decode, Sink: sink, Batch: 5000}
	p, err := projections.Rebuild(ctx, r, 500*time.Millisecond, func(p projections.Progress) {
		fmt.Fprintf(a.stderr, "\rrebuild: %s\033[K", p)
	})
	if !errors.Is(err, projections.ErrReset) {
		fmt.Fprintln(a.stderr) // ends the progress line, begun once the read models were dropped
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "rebuilt read models from %d events of log %s in %.2fs (%.0f events/s)\n", p.Done, s.LogID(), p.Took.Seconds(), p.Rate())
	return nil
}

func projectionsStatus(ctx context.Context, a *app) error {
	s, err := a.openStore(ctx, existingLog)
	if err != nil {
		return err
	}
	defer s.Close()
	sink, closeSink, err := a.openSink(ctx)
	if err != nil {
		return err
	}
	defer closeSink()
	st, err := projections.ReadStatus(ctx, s, sink)
	if err != nil {
		return err
	}
	if err := projections.WriteStatus(a.stdout, st); err != nil {
		return err
	}
	return st.Err() // says why and what to do
}
