// Package logmigrate copies an event log into another store, such as a
// Pebble data dir into a log on NATS JetStream, and proves the copy: every
// event read back from the target equals the source's, and both logs
// verify. It is the home of 'salesbot log migrate'.
package logmigrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/salesbot/salesbot/eventstore"
)

// Log is what a migration reads and writes: a store with its secrets.
type Log interface {
	eventstore.Store
	eventstore.Secrets
}

// ErrTargetNotEmpty: the target log holds events already.
var ErrTargetNotEmpty = errors.New("logmigrate: the target log is not empty")

// ErrMismatch: an event read back from the target differs from the
// source's. The error names the position.
var ErrMismatch = errors.New("logmigrate: the copy differs from the source")

// Report says what was copied and what the two verifies found.
type Report struct {
	Events, Secrets uint64
	// Forgotten is how many subjects were erased in the source: their
	// events are copied without their personal fields (which the source
	// can no longer read) and the subjects are forgotten in the target.
	Forgotten      uint64
	Source, Target eventstore.VerifyReport
	Took           time.Duration
}

// maxRunBytes caps one append of the copy: well under NATS's default
// max_payload of 1 MiB.
const maxRunBytes = 256 << 10

// Copy copies every event of from into to, which must hold none, in
// order, so that each keeps its id, stream, version, position and time;
// then every secret; then it reads the target back against the source
// and verifies both. setNow sets the clock the target stamps events with
// (its Options.Now): Copy appends one append at a time and sets it to the
// source event's time before each. Events of one stream that follow each
// other with one time are appended together. progress (optional) is told
// the events copied so far.
func Copy(ctx context.Context, from, to Log, setNow func(time.Time), progress func(done, total uint64)) (Report, error) {
	start := time.Now()
	var rep Report
	if h := to.Head(); h > 0 {
		return rep, fmt.Errorf("%w (%d events)", ErrTargetNotEmpty, h)
	}
	head := from.Head()
	forgotten := map[string]bool{}
	var run []eventstore.Event
	var runStream string
	var runAt time.Time
	var runVersion uint64
	var runSize int
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		setNow(runAt)
		if _, err := to.Append(ctx, runStream, eventstore.Exact(runVersion), run...); err != nil {
			return fmt.Errorf("logmigrate: copy stream %q version %d: %w", runStream, runVersion+1, err)
		}
		rep.Events += uint64(len(run))
		run = run[:0]
		if progress != nil {
			progress(rep.Events, head)
		}
		return nil
	}
	for pos := uint64(1); pos <= head; {
		evs, err := from.ReadAll(ctx, pos, 1024)
		if err != nil {
			return rep, fmt.Errorf("logmigrate: read the source at position %d: %w", pos, err)
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			size := len(e.Payload) + 256
			for k, v := range e.Personal {
				size += len(k) + len(v)
			}
			if len(run) > 0 && (e.Stream != runStream || !e.RecordedAt.Equal(runAt) || len(run) == eventstore.MaxAppendEvents ||
				runSize+size > maxRunBytes || e.Metadata[eventstore.MetaErases] != "") {
				if err := flush(); err != nil {
					return rep, err
				}
			}
			if len(run) == 0 {
				runStream, runAt, runVersion, runSize = e.Stream, e.RecordedAt, e.Version-1, 0
			}
			runSize += size
			ev := e.Event
			if e.Forgotten {
				forgotten[e.Subject] = true
				ev.Personal = nil
			}
			run = append(run, ev)
			if ev.Metadata[eventstore.MetaErases] != "" { // an erasure ends its append, as the engine writes them
				if err := flush(); err != nil {
					return rep, err
				}
			}
		}
		pos = evs[len(evs)-1].Position + 1
	}
	if err := flush(); err != nil {
		return rep, err
	}
	for _, subject := range slices.Sorted(maps.Keys(forgotten)) {
		if err := to.Forget(ctx, subject); err != nil {
			return rep, fmt.Errorf("logmigrate: forget subject %q in the target: %w", subject, err)
		}
	}
	rep.Forgotten = uint64(len(forgotten))
	names, err := from.SecretNames(ctx, "")
	if err != nil {
		return rep, fmt.Errorf("logmigrate: list the source's secrets: %w", err)
	}
	for _, name := range names {
		v, err := from.Secret(ctx, name)
		if err != nil {
			return rep, fmt.Errorf("logmigrate: read secret %q: %w", name, err)
		}
		if err := to.PutSecret(ctx, name, v); err != nil {
			return rep, fmt.Errorf("logmigrate: copy secret %q: %w", name, err)
		}
		rep.Secrets++
	}
	if err := Compare(ctx, from, to); err != nil {
		return rep, err
	}
	if rep.Source, err = from.Verify(ctx, nil); err != nil {
		return rep, fmt.Errorf("logmigrate: verify the source: %w", err)
	}
	if rep.Target, err = to.Verify(ctx, nil); err != nil {
		return rep, fmt.Errorf("logmigrate: verify the copy: %w", err)
	}
	if rep.Target.Events != rep.Source.Events || rep.Target.Streams != rep.Source.Streams {
		return rep, fmt.Errorf("%w: the source verifies %d events in %d streams, the copy %d in %d",
			ErrMismatch, rep.Source.Events, rep.Source.Streams, rep.Target.Events, rep.Target.Streams)
	}
	rep.Took = time.Since(start)
	return rep, nil
}

// Compare reads both logs in order and returns an error matching
// ErrMismatch at the first event that differs (personal fields of
// forgotten source events are not compared).
func Compare(ctx context.Context, from, to eventstore.Store) error {
	if from.Head() != to.Head() {
		return fmt.Errorf("%w: the source has %d events, the copy %d", ErrMismatch, from.Head(), to.Head())
	}
	for pos := uint64(1); pos <= from.Head(); {
		a, err := from.ReadAll(ctx, pos, 1024)
		if err != nil {
			return fmt.Errorf("logmigrate: read the source at position %d: %w", pos, err)
		}
		b, err := to.ReadAll(ctx, pos, len(a))
		if err != nil {
			return fmt.Errorf("logmigrate: read the copy at position %d: %w", pos, err)
		}
		if len(a) == 0 || len(b) != len(a) {
			return fmt.Errorf("%w: at position %d the source reads %d events, the copy %d", ErrMismatch, pos, len(a), len(b))
		}
		for i := range a {
			if why := differ(a[i], b[i]); why != "" {
				return fmt.Errorf("%w: position %d: %s", ErrMismatch, a[i].Position, why)
			}
		}
		pos += uint64(len(a))
	}
	return nil
}

func differ(a, b eventstore.RecordedEvent) string {
	switch {
	case a.ID != b.ID || a.Position != b.Position:
		return fmt.Sprintf("event %s at %d, the copy has %s at %d", a.ID, a.Position, b.ID, b.Position)
	case a.Stream != b.Stream || a.Version != b.Version:
		return fmt.Sprintf("stream %q version %d, the copy %q version %d", a.Stream, a.Version, b.Stream, b.Version)
	case a.Type != b.Type || a.SchemaVersion != b.SchemaVersion || !bytes.Equal(a.Payload, b.Payload):
		return "type, schema version or payload differ"
	case a.CausationID != b.CausationID || a.CorrelationID != b.CorrelationID || !maps.Equal(a.Metadata, b.Metadata):
		return "causation, correlation or metadata differ"
	case !a.RecordedAt.Equal(b.RecordedAt):
		return fmt.Sprintf("recorded at %s, the copy %s", a.RecordedAt, b.RecordedAt)
	case a.Subject != b.Subject || (!a.Forgotten && !maps.Equal(a.Personal, b.Personal)):
		return "subject or personal fields differ"
	}
	return ""
}
