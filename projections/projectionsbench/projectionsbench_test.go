package projectionsbench_test

import (
	"context"
	"testing"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
	"github.com/salesbot/salesbot/projections/projectionsbench"
)

// Generated dialogs are numbered as asked, found by number, about
// EventsPerDialog events each, and project into the read models.
func TestGenerateAndRebuild(t *testing.T) {
	ctx := context.Background()
	s, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 40
	if err := projectionsbench.GenerateDialogs(ctx, s, 3, n, 4, 1); err != nil {
		t.Fatal(err)
	}
	if per := float64(s.Head()) / n; per < projectionsbench.EventsPerDialog-2 || per > projectionsbench.EventsPerDialog+2 {
		t.Errorf("%.1f events per dialog, EventsPerDialog says %d", per, projectionsbench.EventsPerDialog)
	}
	h := domain.Handlers{Log: eventlog.New(s)}
	for _, num := range []int64{3, 3 + n - 1} {
		id, found, err := h.DialogOfNumber(ctx, num)
		if err != nil || !found {
			t.Fatalf("dialog %d: %v %v", num, found, err)
		}
		if d, err := h.LoadDialog(ctx, id); err != nil || d.N != num {
			t.Fatalf("dialog %d: %+v %v", num, d, err)
		}
	}
	sink := projections.NewMemory()
	events, took, lat, err := projectionsbench.Rebuild(ctx, s, sink, 100)
	if err != nil || events != s.Head() || took <= 0 || len(lat) == 0 {
		t.Fatalf("rebuild: %d events in %v (%d batches): %v", events, took, len(lat), err)
	}
	ds, err := sink.ListDialogs(ctx, projections.DialogFilter{Limit: 1000})
	if err != nil || len(ds) != n {
		t.Fatalf("%d dialogs in the read models, want %d: %v", len(ds), n, err)
	}
}

// Fill writes whole dialogs, about as many events as asked; Measure
// rebuilds all of them and, unless asked to keep them, drops the rows
// again.
func TestFillAndMeasure(t *testing.T) {
	ctx := t.Context()
	s, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dialogs, err := projectionsbench.Fill(ctx, s, 10*projectionsbench.EventsPerDialog, 3)
	if err != nil || dialogs != 10 {
		t.Fatalf("fill: %d dialogs, %v", dialogs, err)
	}
	for _, keep := range []bool{false, true} {
		sink := projections.NewMemory()
		r, err := projectionsbench.Measure(ctx, s, sink, "memory", 50, keep)
		if err != nil || r.Store != "memory" || r.Events != int(s.Head()) || r.Batch != 50 || r.Concurrency != 1 || r.Payload != 0 || r.EventsPerSec <= 0 {
			t.Fatalf("measure (keep %v): %+v %v", keep, r, err)
		}
		ds, err := sink.ListDialogs(ctx, projections.DialogFilter{Limit: 100})
		if want := map[bool]int{false: 0, true: dialogs}[keep]; err != nil || len(ds) != want {
			t.Fatalf("keep %v: %d dialogs left in the read models, want %d: %v", keep, len(ds), want, err)
		}
	}
}
