package sinktest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// testCheckpointLog: the checkpoint records the log it was built from and
// the hash at its position, in the same transaction as the rows; the
// runner refuses read models of another log, ahead of the log or of a
// rewritten log, binds a checkpoint that records no log on first use, and
// a reset unbinds.
func testCheckpointLog(t *testing.T, newSink Factory) {
	ctx := t.Context()
	a := newWorld(t)
	a.script(t)
	sink := newSink(t)
	if cp, err := sink.Checkpoint(ctx); err != nil || cp != (projections.Checkpoint{}) {
		t.Fatalf("a new sink's checkpoint: %+v %v", cp, err)
	}
	head := catchUp(t, a.runner(sink))
	want := checkpointAt(t, a, head)
	if cp, err := sink.Checkpoint(ctx); err != nil || cp != want {
		t.Fatalf("checkpoint after catching up: %+v %v, want %+v", cp, err, want)
	}
	rows := snapshot(t, sink, a)

	// Another log: every way in refuses, and nothing of it is applied.
	b := newWorld(t)
	b.addDialog(t, 1, "zoe")
	b.addDialog(t, 2, "yann")
	_, err := b.runner(sink).CatchUp(ctx)
	mustMismatch(t, "CatchUp on another log", err, projections.ErrOtherLog, b.store)
	_, err = b.runner(sink).Check(ctx)
	mustMismatch(t, "Check on another log", err, projections.ErrOtherLog, b.store)
	rctx, stop := context.WithTimeout(ctx, 10*time.Second)
	err = b.runner(sink).Run(rctx)
	stop()
	mustMismatch(t, "Run on another log", err, projections.ErrOtherLog, b.store)
	if err := sink.Apply(ctx, nil, head+1, projections.Checkpoint{LogID: b.store.LogID(), Position: head + 1}); !errors.Is(err, projections.ErrOtherLog) {
		t.Fatalf("the sink applied a batch of another log: %v", err)
	}
	if err := sink.Bind(ctx, projections.Checkpoint{LogID: b.store.LogID(), Position: head}); !errors.Is(err, projections.ErrOtherLog) {
		t.Fatalf("the sink was bound to another log: %v", err)
	}
	// Binding again to the same log is a no-op; to the same log with
	// another hash, or at another position, fails.
	if err := sink.Bind(ctx, want); err != nil {
		t.Fatalf("binding again to the same log: %v", err)
	}
	other := want
	other.Hash[0] ^= 1
	if err := sink.Bind(ctx, other); !errors.Is(err, projections.ErrLogRewritten) {
		t.Fatalf("bound with another hash: %v", err)
	}
	other = want
	other.Position--
	if err := sink.Bind(ctx, other); !errors.Is(err, projections.ErrCheckpoint) {
		t.Fatalf("bound at another position: %v", err)
	}
	if cp, err := sink.Checkpoint(ctx); err != nil || cp != want {
		t.Fatalf("checkpoint after the refusals: %+v %v, want %+v", cp, err, want)
	}
	if got := snapshot(t, sink, a); !reflect.DeepEqual(got, rows) {
		t.Fatal("another log's events reached the rows")
	}

	// A rebuild (reset, then catch up) binds the read model to the new log.
	if err := sink.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	bHead := catchUp(t, b.runner(sink))
	if cp, err := sink.Checkpoint(ctx); err != nil || cp != checkpointAt(t, b, bHead) {
		t.Fatalf("checkpoint after a rebuild from another log: %+v %v", cp, err)
	}
	_, err = a.runner(sink).CatchUp(ctx)
	mustMismatch(t, "the first log after a rebuild from the second", err, projections.ErrOtherLog, a.store)

	// Checkpoints made up on a second sink: ahead of the log, a rewritten
	// log, and one of before checkpoints recorded their log.
	x := newSink(t)
	set := func(changes []projections.Change, cp projections.Checkpoint) {
		t.Helper()
		if err := x.Reset(ctx); err != nil {
			t.Fatal(err)
		}
		if err := x.Apply(ctx, changes, 1, cp); err != nil {
			t.Fatal(err)
		}
	}
	set(nil, projections.Checkpoint{LogID: a.store.LogID(), Position: head + 7, Hash: want.Hash})
	_, err = a.runner(x).CatchUp(ctx)
	mustMismatch(t, "a checkpoint past the head", err, projections.ErrAheadOfLog, a.store)
	set(nil, projections.Checkpoint{Position: head + 7}) // and one that records no log
	_, err = a.runner(x).CatchUp(ctx)
	mustMismatch(t, "an unbound checkpoint past the head", err, projections.ErrAheadOfLog, a.store)
	rewritten := checkpointAt(t, a, 3)
	rewritten.Hash[31] ^= 0xff
	set(nil, rewritten)
	_, err = a.runner(x).CatchUp(ctx)
	mustMismatch(t, "a rewritten log", err, projections.ErrLogRewritten, a.store)
	if cp, err := x.Checkpoint(ctx); err != nil || cp != rewritten {
		t.Fatalf("a refused checkpoint changed: %+v %v", cp, err)
	}

	// Made before checkpoints recorded their log: rows of events 1..3 and
	// a checkpoint at 3 with no log. Check accepts it; the first catch-up
	// binds it and goes on; another log is refused from then on.
	set(project(t, a, 1, 3), projections.Checkpoint{Position: 3})
	if cp, err := a.runner(x).Check(ctx); err != nil || cp != (projections.Checkpoint{Position: 3}) {
		t.Fatalf("Check of an unbound checkpoint: %+v %v", cp, err)
	}
	if cp, err := a.runner(x).Bind(ctx); err != nil || cp != checkpointAt(t, a, 3) {
		t.Fatalf("Bind of an unbound checkpoint: %+v %v", cp, err)
	}
	catchUp(t, a.runner(x))
	if cp, err := x.Checkpoint(ctx); err != nil || cp != want {
		t.Fatalf("an unbound checkpoint after the first catch-up: %+v %v, want %+v", cp, err, want)
	}
	if got := snapshot(t, x, a); !reflect.DeepEqual(got, rows) {
		t.Fatal("rows after binding an old read model differ from a fresh build")
	}
	_, err = b.runner(x).CatchUp(ctx)
	mustMismatch(t, "another log after binding", err, projections.ErrOtherLog, b.store)

	// An empty read model is bound too: a read model of an empty log is
	// that log's.
	e := newWorld(t)
	if err := x.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	catchUp(t, e.runner(x))
	if cp, err := x.Checkpoint(ctx); err != nil || cp != (projections.Checkpoint{LogID: e.store.LogID()}) {
		t.Fatalf("the checkpoint of an empty log: %+v %v", cp, err)
	}
	_, err = a.runner(x).CatchUp(ctx)
	mustMismatch(t, "an empty log's read model on another log", err, projections.ErrOtherLog, a.store)
}

// checkpointAt is the checkpoint at position pos of w's log.
func checkpointAt(t *testing.T, w *world, pos uint64) projections.Checkpoint {
	t.Helper()
	h, err := w.store.HashAt(t.Context(), pos)
	if err != nil {
		t.Fatal(err)
	}
	return projections.Checkpoint{LogID: w.store.LogID(), Position: pos, Hash: h}
}

// project is the row changes of the events at positions from..to.
func project(t *testing.T, w *world, from, to uint64) []projections.Change {
	t.Helper()
	recs, err := w.store.ReadAll(t.Context(), from, int(to-from+1))
	if err != nil {
		t.Fatal(err)
	}
	var changes []projections.Change
	for i := range recs {
		e, err := w.log.Decode(&recs[i])
		if err != nil {
			t.Fatal(err)
		}
		changes = append(changes, projections.Project(projections.Placed{Stream: recs[i].Stream, Position: recs[i].Position, At: recs[i].RecordedAt}, e)...)
	}
	return changes
}

// mustMismatch fails unless err is a *LogMismatchError for reason that
// names the log the runner read (st: its id and head) and the read
// models' checkpoint, as a user needs them to tell the two apart.
func mustMismatch(t *testing.T, what string, err, reason error, st eventstore.Store) {
	t.Helper()
	var me *projections.LogMismatchError
	if !errors.Is(err, reason) || !errors.Is(err, projections.ErrLogMismatch) || !errors.As(err, &me) {
		t.Fatalf("%s: got %v, want %v", what, err, reason)
	}
	if me.Reason != reason || me.LogID != st.LogID() || me.Head != st.Head() {
		t.Fatalf("%s: the error names reason %v, log %s head %d; want %v, log %s head %d", what, me.Reason, me.LogID, me.Head, reason, st.LogID(), st.Head())
	}
	switch reason {
	case projections.ErrOtherLog:
		if me.Checkpoint.LogID == st.LogID() {
			t.Fatalf("%s: another log's checkpoint names this log: %+v", what, me.Checkpoint)
		}
	case projections.ErrAheadOfLog:
		if me.Checkpoint.Position <= me.Head {
			t.Fatalf("%s: the checkpoint %d is not past the head %d", what, me.Checkpoint.Position, me.Head)
		}
	case projections.ErrLogRewritten:
		if me.LogHash == me.Checkpoint.Hash {
			t.Fatalf("%s: the hashes do not differ", what)
		}
	}
}
