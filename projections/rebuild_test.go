package projections_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
	"github.com/salesbot/salesbot/projections/projectionsbench"
)

// failingReset is a memory sink that cannot drop its rows.
type failingReset struct{ *projections.Memory }

var errNoReset = errors.New("no reset")

func (failingReset) Reset(context.Context) error { return errNoReset }

// generated is a memory log of n generated dialogs.
func generated(t *testing.T, n int) *eventstore.MemoryStore {
	t.Helper()
	s, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := projectionsbench.GenerateDialogs(t.Context(), s, 1, n, 2, 1); err != nil {
		t.Fatal(err)
	}
	return s
}

// Rebuild drops what the read models held, projects the whole log and
// binds them to it; progress hears the first and the last batch at
// least, in order. A sink that cannot be reset gives ErrReset, wrapping
// the sink's error, and projects nothing.
func TestRebuild(t *testing.T) {
	ctx := t.Context()
	s := generated(t, 6)
	sink := projections.NewMemory()
	other := generated(t, 2)
	if _, err := (projections.Runner{Store: other, Decode: eventlog.New(other).Decode, Sink: sink}).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}

	var seen []projections.Progress
	r := projections.Runner{Store: s, Decode: eventlog.New(s).Decode, Sink: sink, Batch: 10}
	p, err := projections.Rebuild(ctx, r, time.Hour, func(p projections.Progress) { seen = append(seen, p) })
	if err != nil || p.Done != s.Head() || p.Head != s.Head() || p.Took <= 0 {
		t.Fatalf("rebuild: %+v %v", p, err)
	}
	// An hour between reports: the first batch and the last one only.
	if len(seen) != 2 || seen[0].Done != 10 || seen[1].Done != s.Head() || seen[1].Head != s.Head() {
		t.Fatalf("progress reports %+v, want batch 10 and the head %d", seen, s.Head())
	}
	cp, err := sink.Checkpoint(ctx)
	if err != nil || cp.LogID != s.LogID() || cp.Position != s.Head() {
		t.Fatalf("checkpoint after the rebuild: %+v %v, want log %s at %d", cp, err, s.LogID(), s.Head())
	}
	ds, err := sink.ListDialogs(ctx, projections.DialogFilter{Limit: 100})
	if err != nil || len(ds) != 6 {
		t.Fatalf("%d dialogs after the rebuild, want 6 (the other log's gone): %v", len(ds), err)
	}

	bad := failingReset{projections.NewMemory()}
	called := false
	_, err = projections.Rebuild(ctx, projections.Runner{Store: s, Decode: eventlog.New(s).Decode, Sink: bad}, 0, func(projections.Progress) { called = true })
	if !errors.Is(err, projections.ErrReset) || !errors.Is(err, errNoReset) || called {
		t.Fatalf("rebuild on a sink that cannot reset: %v (progress called: %v)", err, called)
	}
	if cp, err := bad.Checkpoint(ctx); err != nil || cp.Position != 0 {
		t.Fatalf("checkpoint after a failed reset: %+v %v", cp, err)
	}
}

// Progress reads as position / head, percentage, rate and the time left.
func TestProgressString(t *testing.T) {
	for _, c := range []struct {
		p    projections.Progress
		want string
	}{
		{projections.Progress{Done: 2500, Head: 10000, Took: time.Second}, "2500/10000 events (25.0%), 2500 events/s, ETA 3s"},
		{projections.Progress{Done: 10000, Head: 10000, Took: 4 * time.Second}, "10000/10000 events (100.0%), 2500 events/s, ETA 0s"},
		{projections.Progress{}, "0/0 events (100.0%), 0 events/s, ETA 0s"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
}
