package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/eventstore"
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
				run: func(ctx context.Context, a *app, args []string) error {
					if len(args) > 0 {
						return usagef("takes no arguments, got %q", args)
					}
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
				run: func(ctx context.Context, a *app, args []string) error {
					if len(args) > 0 {
						return usagef("takes no arguments, got %q", args)
					}
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
	if err := sink.Reset(ctx); err != nil {
		return fmt.Errorf("reset read models: %w", err)
	}
	start, last := time.Now(), time.Time{}
	r := projections.Runner{Store: s, Decode: eventlog.New(s).Decode, Sink: sink, Batch: 5000,
		Progress: func(done, head uint64) {
			if time.Since(last) < 500*time.Millisecond && done < head {
				return
			}
			last = time.Now()
			fmt.Fprintf(a.stderr, "\rrebuild: %s\033[K", progressLine(done, head, time.Since(start)))
		}}
	pos, err := r.CatchUp(ctx)
	fmt.Fprintln(a.stderr)
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(a.stdout, "rebuilt read models from %d events of log %s in %.2fs (%.0f events/s)\n", pos, s.LogID(), took.Seconds(), float64(pos)/max(took.Seconds(), 1e-9))
	return nil
}

// progressLine: position / total, percentage, rate, ETA.
func progressLine(done, total uint64, took time.Duration) string {
	rate := float64(done) / max(took.Seconds(), 1e-9)
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	eta := time.Duration(0)
	if rate > 0 && total > done {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second))
	}
	return fmt.Sprintf("%d/%d events (%.1f%%), %.0f events/s, ETA %s", done, total, pct, rate, eta.Round(time.Second))
}

func projectionsStatus(ctx context.Context, a *app) error {
	s, err := a.openStore(ctx, existingLog)
	if err != nil {
		return err
	}
	defer s.Close()
	head := s.Head()
	if a.cfg.PostgresDSN == "" {
		fmt.Fprintf(a.stdout, "read models: embedded in memory, rebuilt from the log at start (log %s, head %d)\n", s.LogID(), head)
		return nil
	}
	sink, closeSink, err := a.openSink(ctx)
	if err != nil {
		return err
	}
	defer closeSink()
	cp, err := projections.Runner{Store: s, Sink: sink}.Check(ctx)
	var mismatch *projections.LogMismatchError
	switch {
	case errors.As(err, &mismatch):
		of := "no log recorded"
		if cp.Bound() {
			of = "log " + cp.LogID.String()
		}
		fmt.Fprintf(a.stdout, "read models: postgres, checkpoint %d (%s); this log: %s, head %d — they do not match:\n", cp.Position, of, s.LogID(), head)
		return err // says why and what to do
	case err != nil:
		return err
	case !cp.Bound():
		fmt.Fprintf(a.stdout, "read models: postgres, checkpoint %d, log head %d, lag %d events; not bound to a log yet (run or rebuild binds them to log %s)\n",
			cp.Position, head, head-cp.Position, s.LogID())
		return nil
	}
	fmt.Fprintf(a.stdout, "read models: postgres, log %s, checkpoint %d, log head %d, lag %d events\n", cp.LogID, cp.Position, head, head-cp.Position)
	return nil
}

// bindReadModels ties the read models to the log before anything serves
// them (projections.Runner.Bind): read models built from another log,
// ahead of it or from a rewritten log stop the command with the runner's
// explanation of what to do.
func bindReadModels(ctx context.Context, st eventstore.Store, sink projections.Sink) error {
	_, err := projections.Runner{Store: st, Sink: sink}.Bind(ctx)
	return err
}
