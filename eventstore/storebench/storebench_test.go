package storebench_test

import (
	"errors"
	"testing"
	"time"

	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/storebench"
)

// The harnesses do what they say: Append writes every event, Read reads
// each back once, the raw baseline commits them all.
func TestAppendReadBaseline(t *testing.T) {
	s, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := storebench.Read(t.Context(), s, storebench.Params{Concurrency: 2, Batch: 10}); !errors.Is(err, storebench.ErrEmpty) {
		t.Fatalf("read of an empty log: %v", err)
	}
	p := storebench.Params{Concurrency: 3, Events: 101, Payload: 16, Batch: 4}
	r, err := storebench.Append(t.Context(), s, p)
	if err != nil || r.Events != 101 || s.Head() != 101 || r.EventsPerSec <= 0 || r.P99us < r.P50us {
		t.Fatalf("append: %+v %v (head %d)", r, err, s.Head())
	}
	r, err = storebench.Read(t.Context(), s, storebench.Params{Concurrency: 4, Batch: 7})
	if err != nil || r.Events != 101 || r.Payload != 16 {
		t.Fatalf("read: %+v %v", r, err)
	}
	r, err = storebench.RawPebble(storebench.Params{Concurrency: 2, Events: 9, Payload: 16, Batch: 2})
	if err != nil || r.Store != "pebble-raw" || r.Events != 9 {
		t.Fatalf("baseline: %+v %v", r, err)
	}
	took, lat, err := eventstore.BaselineSyncedWrites(3, 10, 3, 8)
	if err != nil || took <= 0 || len(lat) != 4 { // 4, 3 and 3 values: 2 + 1 + 1 commits
		t.Fatalf("BaselineSyncedWrites: %v %d commits %v", took, len(lat), err)
	}
	if p50, p99 := storebench.Percentiles([]time.Duration{3 * time.Microsecond, time.Microsecond, 2 * time.Microsecond}); p50 != 2 || p99 != 3 {
		t.Fatalf("percentiles %v %v", p50, p99)
	}
}
