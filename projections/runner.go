package projections

import (
	"context"
	"fmt"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// Runner feeds a sink from the event log: it reads from the sink's
// checkpoint on, projects each event and applies every batch together with
// its last position, the log's id and the hash at that position. It
// refuses, with a *LogMismatchError, read models of another log, ahead of
// the log or made from a rewritten one (see Check).
type Runner struct {
	Store  eventstore.Store
	Decode func(*eventstore.RecordedEvent) (domain.Event, error)
	Sink   Sink
	Batch  int // events per transaction (default 1000)
	// Progress, if set, is called after each batch with the position
	// applied and the log's head.
	Progress func(done, head uint64)
}

// CatchUp binds the read models to the log (Bind), then applies every
// event up to the log's current head and returns the position applied.
func (r Runner) CatchUp(ctx context.Context) (uint64, error) {
	cp, err := r.Bind(ctx)
	if err != nil {
		return cp.Position, err
	}
	head := r.Store.Head()
	for {
		cp, err := r.Sink.Checkpoint(ctx)
		if err != nil {
			return 0, fmt.Errorf("projections: read checkpoint: %w", err)
		}
		if cp.Position >= head {
			return cp.Position, nil
		}
		if _, err := r.step(ctx, cp.Position); err != nil {
			return cp.Position, err
		}
	}
}

// Run binds the read models to the log (Bind), then applies events as
// they become durable until ctx ends.
func (r Runner) Run(ctx context.Context) error {
	if _, err := r.Bind(ctx); err != nil {
		return err
	}
	for {
		cp, err := r.Sink.Checkpoint(ctx)
		if err != nil {
			return fmt.Errorf("projections: read checkpoint: %w", err)
		}
		if _, err := r.Store.WaitHead(ctx, cp.Position); err != nil {
			return err
		}
		if _, err := r.step(ctx, cp.Position); err != nil {
			return err
		}
	}
}

// step applies the batch after position pos.
func (r Runner) step(ctx context.Context, pos uint64) (uint64, error) {
	batch := r.Batch
	if batch <= 0 {
		batch = 1000
	}
	var changes []Change
	last := pos
	err := r.Store.Scan(ctx, pos+1, batch, func(e *eventstore.RecordedEvent) error {
		de, err := r.Decode(e)
		if err != nil {
			return fmt.Errorf("projections: event at position %d: %w", e.Position, err)
		}
		changes = append(changes, Project(Placed{Stream: e.Stream, Position: e.Position, At: e.RecordedAt}, de)...)
		last = e.Position
		return nil
	})
	if err != nil {
		return pos, err
	}
	if last == pos {
		return pos, nil
	}
	hash, err := hashAt(ctx, r.Store, last)
	if err != nil {
		return pos, err
	}
	to := Checkpoint{LogID: r.Store.LogID(), Position: last, Hash: hash}
	if err := r.Sink.Apply(ctx, changes, pos+1, to); err != nil {
		return pos, fmt.Errorf("projections: apply positions %d..%d: %w", pos+1, last, err)
	}
	if r.Progress != nil {
		r.Progress(last, r.Store.Head())
	}
	return last, nil
}
