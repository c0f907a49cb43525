package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/eventstore"
)

// Checkpoint is where a read model stands in the log it is built from.
type Checkpoint struct {
	// LogID is the log's id (eventstore.Store.LogID); zero while the read
	// model is bound to no log: empty, or made before checkpoints recorded
	// their log (the runner binds it on first use).
	LogID uuid.UUID
	// Position is the position of the last event applied (0: none).
	Position uint64
	// Hash is the chain hash of the event at Position
	// (eventstore.Store.HashAt); zero when Position is 0 or LogID is zero.
	Hash [32]byte
}

// Bound says whether the checkpoint records its log.
func (c Checkpoint) Bound() bool { return c.LogID != uuid.Nil }

// Errors of a read model that does not belong to the log it is pointed at.
// The runner returns them as a *LogMismatchError, which matches
// ErrLogMismatch and the one that says why.
var (
	// ErrLogMismatch: the read models do not belong to this log; the
	// error matches one of the three below as well.
	ErrLogMismatch = errors.New("projections: the read models do not match the event log")
	// ErrOtherLog: the read models were built from another log (another
	// data dir, or a log created anew).
	ErrOtherLog = errors.New("projections: the read models were built from another event log")
	// ErrAheadOfLog: the read models applied events past the log's head:
	// the log is older than they are (an older backup of the data dir was
	// restored, or its newest events were cut off).
	ErrAheadOfLog = errors.New("projections: the read models are ahead of the event log")
	// ErrLogRewritten: the event at the checkpoint is not the one the read
	// models applied: the log was rewritten.
	ErrLogRewritten = errors.New("projections: the event log was rewritten under the read models")
)

// LogMismatchError says why a read model does not belong to the log it is
// pointed at, in words for the operator, with what to do.
type LogMismatchError struct {
	Reason     error      // ErrOtherLog, ErrAheadOfLog or ErrLogRewritten
	Checkpoint Checkpoint // the read model's
	LogID      uuid.UUID  // the log's id
	Head       uint64     // the log's durable head
	LogHash    [32]byte   // the log's hash at Checkpoint.Position (ErrLogRewritten)
}

func (e *LogMismatchError) Error() string {
	const rebuild = "run `salesbot projections rebuild` to rebuild them from this log"
	switch e.Reason {
	case ErrOtherLog:
		return fmt.Sprintf("projections: the read models were built from another event log (log %s, up to position %d), not from this one (log %s, head %d); "+
			"they would show that log's rows: point salesbot at the right data dir or read models, or %s",
			e.Checkpoint.LogID, e.Checkpoint.Position, e.LogID, e.Head, rebuild)
	case ErrAheadOfLog:
		return fmt.Sprintf("projections: the read models have applied events up to position %d, but this event log (log %s) ends at position %d: "+
			"the log is older than the read models (an older backup of the data dir restored?) and its newest %d events are missing; "+
			"if this is not the newest copy of the data dir, use that one, else %s",
			e.Checkpoint.Position, e.LogID, e.Head, e.Checkpoint.Position-e.Head, rebuild)
	case ErrLogRewritten:
		return fmt.Sprintf("projections: the event at position %d of this log (log %s) is not the one the read models applied (hash %x… in the read models, %x… in the log): "+
			"the log was rewritten; run `salesbot verify`, then `salesbot projections rebuild`",
			e.Checkpoint.Position, e.LogID, e.Checkpoint.Hash[:8], e.LogHash[:8])
	}
	return fmt.Sprintf("projections: the read models do not match the event log (log %s, head %d): %v; %s", e.LogID, e.Head, e.Reason, rebuild)
}

// Is makes errors.Is(err, ErrLogMismatch) true.
func (e *LogMismatchError) Is(target error) bool { return target == ErrLogMismatch }

// Unwrap returns the reason: ErrOtherLog, ErrAheadOfLog or ErrLogRewritten.
func (e *LogMismatchError) Unwrap() error { return e.Reason }

// Check compares the sink's checkpoint with the log and returns it,
// changing nothing. A read model built from another log, a checkpoint past
// the log's head or one whose hash is not the log's gives a
// *LogMismatchError (errors.Is(err, ErrLogMismatch)). A checkpoint bound
// to no log yet is not an error: Bind binds it.
func (r Runner) Check(ctx context.Context) (Checkpoint, error) {
	cp, err := r.Sink.Checkpoint(ctx)
	if err != nil {
		return cp, fmt.Errorf("projections: read checkpoint: %w", err)
	}
	id, head := r.Store.LogID(), r.Store.Head()
	mismatch := func(reason error) *LogMismatchError {
		return &LogMismatchError{Reason: reason, Checkpoint: cp, LogID: id, Head: head}
	}
	if cp.Bound() && cp.LogID != id {
		return cp, mismatch(ErrOtherLog)
	}
	if cp.Position > head {
		return cp, mismatch(ErrAheadOfLog)
	}
	if !cp.Bound() || cp.Position == 0 {
		return cp, nil
	}
	h, err := r.Store.HashAt(ctx, cp.Position)
	if err != nil {
		return cp, fmt.Errorf("projections: the log's hash at the checkpoint (position %d): %w", cp.Position, err)
	}
	if h != cp.Hash {
		e := mismatch(ErrLogRewritten)
		e.LogHash = h
		return cp, e
	}
	return cp, nil
}

// Bind checks the sink's checkpoint as Check does, and binds a checkpoint
// that records no log to this one (with the log's hash at its position),
// so that from now on another log is refused. It returns the checkpoint.
// CatchUp and Run bind first; `salesbot run` binds before it starts
// anything, so it refuses another log's read models at once.
func (r Runner) Bind(ctx context.Context) (Checkpoint, error) {
	cp, err := r.Check(ctx)
	if err != nil || cp.Bound() {
		return cp, err
	}
	bound := Checkpoint{LogID: r.Store.LogID(), Position: cp.Position}
	if cp.Position > 0 {
		if bound.Hash, err = r.Store.HashAt(ctx, cp.Position); err != nil {
			return cp, fmt.Errorf("projections: the log's hash at the checkpoint (position %d): %w", cp.Position, err)
		}
	}
	if err := r.Sink.Bind(ctx, bound); err != nil {
		return cp, fmt.Errorf("projections: bind the read models to log %s: %w", bound.LogID, err)
	}
	return bound, nil
}

// follows checks that a batch or a binding for log may go onto the
// checkpoint cur: the sinks' common rule.
func follows(cur Checkpoint, log uuid.UUID) error {
	if cur.Bound() && cur.LogID != log {
		return fmt.Errorf("%w (log %s), not this one (log %s)", ErrOtherLog, cur.LogID, log)
	}
	return nil
}

// bind is the checkpoint that binding cp onto cur gives: the sinks'
// common rule for Sink.Bind.
func bind(cur, cp Checkpoint) (Checkpoint, error) {
	switch {
	case cur.Position != cp.Position:
		return cur, fmt.Errorf("%w: binding at position %d, the checkpoint is at %d", ErrCheckpoint, cp.Position, cur.Position)
	case !cp.Bound():
		return cur, fmt.Errorf("projections: bind to no log (a zero log id)")
	}
	if err := follows(cur, cp.LogID); err != nil {
		return cur, err
	}
	if cur.Bound() && cur.Hash != cp.Hash {
		return cur, fmt.Errorf("%w: the hash at position %d is %x…, the read models have %x…", ErrLogRewritten, cp.Position, cp.Hash[:8], cur.Hash[:8])
	}
	return cp, nil
}

// hashAt is Store.HashAt for the runner's batches.
func hashAt(ctx context.Context, st eventstore.Store, pos uint64) ([32]byte, error) {
	h, err := st.HashAt(ctx, pos)
	if err != nil {
		return h, fmt.Errorf("projections: the log's hash at position %d: %w", pos, err)
	}
	return h, nil
}
