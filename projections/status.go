package projections

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/eventstore"
)

// Status is where the read models stand against the log, as `salesbot
// projections status` shows it (WriteStatus).
type Status struct {
	// Embedded: the read models live in memory and are rebuilt from the
	// log at every start; they have no checkpoint to compare. Else they
	// are in PostgreSQL.
	Embedded bool
	LogID    uuid.UUID // the log's id
	Head     uint64    // the log's durable head
	// Checkpoint is the read models' (not Embedded).
	Checkpoint Checkpoint
	// Mismatch, if set, says why the read models do not belong to this
	// log (Runner.Check).
	Mismatch *LogMismatchError
}

// Lag is how many events the read models are behind the log's head.
func (s Status) Lag() uint64 {
	if s.Checkpoint.Position >= s.Head {
		return 0
	}
	return s.Head - s.Checkpoint.Position
}

// Err is s.Mismatch as an error, or nil when the read models belong to
// the log.
func (s Status) Err() error {
	if s.Mismatch == nil {
		return nil
	}
	return s.Mismatch
}

// ReadStatus compares the checkpoint of the read models in sink with the
// log st, changing nothing (Runner.Check). Read models in memory (a
// *Memory sink) are Embedded: rebuilt at every start, they are not
// compared. Read models that do not belong to the log are not an error
// here: Status.Mismatch says why. The error is one reading the checkpoint
// or the log's hash.
func ReadStatus(ctx context.Context, st eventstore.Store, sink Sink) (Status, error) {
	s := Status{LogID: st.LogID(), Head: st.Head()}
	if _, s.Embedded = sink.(*Memory); s.Embedded {
		return s, nil
	}
	cp, err := Runner{Store: st, Sink: sink}.Check(ctx)
	s.Checkpoint = cp
	if errors.As(err, &s.Mismatch) {
		return s, nil
	}
	return s, err
}

// WriteStatus writes s as one line for the operator: where the read models
// live, their log, checkpoint and lag, or that they do not match the log
// (s.Err then says why and what to do).
func WriteStatus(w io.Writer, s Status) error {
	var err error
	switch {
	case s.Embedded:
		_, err = fmt.Fprintf(w, "read models: embedded in memory, rebuilt from the log at start (log %s, head %d)\n", s.LogID, s.Head)
	case s.Mismatch != nil:
		of := "no log recorded"
		if s.Checkpoint.Bound() {
			of = "log " + s.Checkpoint.LogID.String()
		}
		_, err = fmt.Fprintf(w, "read models: postgres, checkpoint %d (%s); this log: %s, head %d — they do not match:\n", s.Checkpoint.Position, of, s.LogID, s.Head)
	case !s.Checkpoint.Bound():
		_, err = fmt.Fprintf(w, "read models: postgres, checkpoint %d, log head %d, lag %d events; not bound to a log yet (run or rebuild binds them to log %s)\n",
			s.Checkpoint.Position, s.Head, s.Lag(), s.LogID)
	default:
		_, err = fmt.Fprintf(w, "read models: postgres, log %s, checkpoint %d, log head %d, lag %d events\n", s.Checkpoint.LogID, s.Checkpoint.Position, s.Head, s.Lag())
	}
	return err
}
