package engine_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections/projectionsbench"
)

// The engine started from the snapshot it saved when it stopped, plus
// what the log got since, knows what an engine that read the whole log
// knows: open dialogs with their times, and the dialogs that ended.
func TestSnapshotFoldsLikeTheLog(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if err := projectionsbench.GenerateDialogs(ctx, w.store, 1, 40, 2, 3); err != nil {
		t.Fatal(err)
	}
	// An engine reads the log, takes the turns that are due, then stops
	// and saves its snapshot.
	e, err := engine.New(engine.Config{Core: &engine.Core{H: w.h, Model: w.model, Scenario: w.sc}, Store: w.store,
		Decode: eventlog.New(w.store).Decode, Now: w.clock.Now, Tick: time.Millisecond, Snapshots: w.snapshots()})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Run(runCtx) }()
	for !e.Caught() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	snap, err := w.snapshots().Load(ctx, "engine", 2)
	if err != nil {
		t.Fatalf("no snapshot when the engine stopped: %v", err)
	}
	// While it is down: more dialogs, a lead writes, another opts out.
	if err := projectionsbench.GenerateDialogs(ctx, w.store, 100, 40, 2, 4); err != nil {
		t.Fatal(err)
	}
	did, cid := w.dialog("admin:1")
	w.say(did, cid, "Tell me more")
	did2, cid2 := w.dialog("admin:1")
	if _, err := w.h.Contact(ctx, cid2, domain.OptOutContact{Reason: "list", By: "admin:1"}); err != nil {
		t.Fatal(err)
	}
	_ = did2
	if w.store.Head() <= snap.Position {
		t.Fatal("nothing after the snapshot")
	}

	fold := func(snaps *eventstore.Snapshots) []byte {
		e, err := engine.New(engine.Config{Core: &engine.Core{H: w.h, Model: w.model, Scenario: w.sc}, Store: w.store,
			Decode: eventlog.New(w.store).Decode, Now: w.clock.Now, Snapshots: snaps})
		if err != nil {
			t.Fatal(err)
		}
		b, err := engine.Fold(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// The generated opt-outs left their contacts off the do-not-contact
	// list: the first fold repairs that (appends), then the log holds
	// still.
	fold(nil)
	head := w.store.Head()
	full, resumed := fold(nil), fold(w.snapshots())
	if w.store.Head() != head {
		t.Fatalf("folding appended %d events", w.store.Head()-head)
	}
	if !bytes.Equal(full, resumed) {
		t.Fatalf("an engine from the snapshot at %d of %d knows other things than one that read the whole log: %s", snap.Position, head, engine.FoldDiff(full, resumed))
	}
}
