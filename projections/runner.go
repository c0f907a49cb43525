package projections

import (
	"context"
	"fmt"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// Runner feeds a sink from the event log: it reads from the sink's
// checkpoint on, projects each event and applies every batch together with
// its last position.
type Runner struct {
	Store  eventstore.Store
	Decode func(*eventstore.RecordedEvent) (domain.Event, error)
	Sink   Sink
	Batch  int // events per transaction (default 1000)
	// Progress, if set, is called after each batch with the position
	// applied and the log's head.
	Progress func(done, head uint64)
}

// CatchUp applies every event up to the log's current head and returns the
// position applied.
func (r Runner) CatchUp(ctx context.Context) (uint64, error) {
	head := r.Store.Head()
	for {
		pos, err := r.Sink.Checkpoint(ctx)
		if err != nil {
			return 0, fmt.Errorf("projections: read checkpoint: %w", err)
		}
		if pos >= head {
			return pos, nil
		}
		if _, err := r.step(ctx, pos); err != nil {
			return pos, err
		}
	}
}

// Run applies events as they become durable until ctx ends.
func (r Runner) Run(ctx context.Context) error {
	for {
		pos, err := r.Sink.Checkpoint(ctx)
		if err != nil {
			return fmt.Errorf("projections: read checkpoint: %w", err)
		}
		if _, err := r.Store.WaitHead(ctx, pos); err != nil {
			return err
		}
		if _, err := r.step(ctx, pos); err != nil {
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
	if err := r.Sink.Apply(ctx, changes, pos+1, last); err != nil {
		return pos, fmt.Errorf("projections: apply positions %d..%d: %w", pos+1, last, err)
	}
	if r.Progress != nil {
		r.Progress(last, r.Store.Head())
	}
	return last, nil
}
