package eventstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/salesbot/salesbot/eventstore"
)

// A snapshot is not used when it does not fit: another format, or a log
// that no longer holds its event (restored from an older backup,
// rewritten).
func TestSnapshotThatDoesNotFit(t *testing.T) {
	ctx := context.Background()
	st, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	snaps := eventstore.Snapshots{Store: st, Secrets: st}
	if _, err := snaps.Load(ctx, "x", 1); !errors.Is(err, eventstore.ErrNoSnapshot) {
		t.Fatalf("no snapshot yet: %v", err)
	}
	for range 3 {
		if _, err := st.Append(ctx, "s-1", eventstore.Any, eventstore.Event{Type: "T", Payload: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := snaps.Save(ctx, "x", 1, eventstore.Snapshot{Position: 2, State: []byte("state")}); err != nil {
		t.Fatal(err)
	}
	got, err := snaps.Load(ctx, "x", 1)
	if err != nil || got.Position != 2 || string(got.State) != "state" {
		t.Fatalf("Load = %d %q %v", got.Position, got.State, err)
	}
	if _, err := snaps.Load(ctx, "x", 2); !errors.Is(err, eventstore.ErrNoSnapshot) {
		t.Fatalf("another format: %v", err)
	}
	// The same snapshot in another log (a copy of the secrets on a log
	// whose event 2 differs) is refused.
	other, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := other.Append(ctx, "s-1", eventstore.Any, eventstore.Event{Type: "U", Payload: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	sealed, err := st.Secret(ctx, "snapshot/x")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.PutSecret(ctx, "snapshot/x", sealed); err != nil {
		t.Fatal(err)
	}
	if _, err := (eventstore.Snapshots{Store: other, Secrets: other}).Load(ctx, "x", 1); !errors.Is(err, eventstore.ErrNoSnapshot) {
		t.Fatalf("another log's snapshot: %v", err)
	}
}

// A Snapshotter saves when a snapshot is due (Every events, Interval),
// skips on ErrSnapshotLater, saves no more after Hold, and starts a
// follower after its snapshot or from the beginning.
func TestSnapshotter(t *testing.T) {
	ctx := context.Background()
	st, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := st.Append(ctx, "s-1", eventstore.Any, eventstore.Event{Type: "T", Payload: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	snaps := &eventstore.Snapshots{Store: st, Secrets: st, Every: 4, Interval: time.Minute}
	w := &eventstore.Snapshotter{Snapshots: snaps, Name: "f", Version: 1, Now: func() time.Time { return now }}
	if from := w.Start(ctx, func([]byte) error { t.Fatal("restored a snapshot that does not exist"); return nil }); from != 1 {
		t.Fatalf("Start without a snapshot = %d", from)
	}
	saves := 0
	state := func() ([]byte, error) { saves++; return []byte{byte(saves)}, nil }
	w.Save(ctx, 3, false, state) // 3 events: not due
	w.Save(ctx, 4, false, state) // 4: due
	w.Save(ctx, 5, false, state) // 1 since: not due
	now = now.Add(time.Minute)
	w.Save(ctx, 6, false, state) // a minute later: due
	if saves != 2 {
		t.Fatalf("%d saves, want 2 (at 4 and at 6)", saves)
	}
	w.Save(ctx, 9, true, func() ([]byte, error) { return nil, eventstore.ErrSnapshotLater })
	if got, err := snaps.Load(ctx, "f", 1); err != nil || got.Position != 6 {
		t.Fatalf("after a skipped save: at %d, %v; want 6", got.Position, err)
	}
	w.Hold()
	w.Save(ctx, 10, true, state)
	if got, _ := snaps.Load(ctx, "f", 1); got.Position != 6 || saves != 2 {
		t.Fatalf("a held follower saved: at %d, %d saves", got.Position, saves)
	}
	var restored []byte
	w2 := &eventstore.Snapshotter{Snapshots: snaps, Name: "f", Version: 1}
	if from := w2.Start(ctx, func(b []byte) error { restored = b; return nil }); from != 7 || len(restored) != 1 || restored[0] != 2 {
		t.Fatalf("Start = %d with %v; want 7 with the second state", from, restored)
	}
	// A follower that cannot use its snapshot (restore fails) starts from
	// the beginning.
	w3 := &eventstore.Snapshotter{Snapshots: snaps, Name: "f", Version: 1}
	if from := w3.Start(ctx, func([]byte) error { return errors.New("bad state") }); from != 1 {
		t.Fatalf("Start after a refused state = %d", from)
	}
	var none *eventstore.Snapshotter
	if none.Start(ctx, nil) != 1 || none.Due(100) {
		t.Fatal("a nil Snapshotter starts at 1 and is never due")
	}
	none.Save(ctx, 5, true, state)
	none.Hold()
}
