package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/salesbot/salesbot/adapters/cli/datadir"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
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
				noArgs:  true,
				run: func(ctx context.Context, a *app, _ []string) error {
					return rebuildProjections(ctx, a)
				},
			},
			{
				name:    "status",
				remote:  domain.ScopeRead,
				summary: "show the read models' log, checkpoint and lag behind the log",
				noArgs:  true,
				run: func(ctx context.Context, a *app, _ []string) error {
					return projectionsStatus(ctx, a)
				},
			},
		},
	}
}

// openSink opens the PostgreSQL sink if configured, else a memory one.
func (a *app) openSink(ctx context.Context) (projections.Sink, func(), error) {
	if a.live != nil {
		return a.live.sink, func() {}, nil
	}
	return a.cfg.OpenSink(ctx)
}

func rebuildProjections(ctx context.Context, a *app) error {
	s, err := a.openStore(ctx, datadir.Existing)
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
	s, err := a.openStore(ctx, datadir.Existing)
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
