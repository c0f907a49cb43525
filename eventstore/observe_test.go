package eventstore

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// An append observer hears of every queued append once it is answered:
// its stream, its events and their types, the size of its group commit, and its error.
func TestObserveAppends(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mu sync.Mutex
	var got []AppendStat
	s.ObserveAppends(func(a AppendStat) {
		mu.Lock()
		got = append(got, a)
		mu.Unlock()
	})
	ctx := context.Background()
	if _, err := s.Append(ctx, "a", NoStream, Event{Type: "X", Payload: []byte("{}")}, Event{Type: "Y", Payload: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "a", NoStream, Event{Type: "X", Payload: []byte("{}")}); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("second append to a new stream: %v, want a conflict", err)
	}
	s.ObserveAppends(nil)
	if _, err := s.Append(ctx, "b", NoStream, Event{Type: "Z", Payload: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("observed %d appends, want 2 (none after the observer was removed)", len(got))
	}
	if a := got[0]; len(a.Types) != 2 || a.Types[0] != "X" || a.Types[1] != "Y" || a.Stream != "a" ||
		len(a.Events) != 2 || a.Events[1].Type != "Y" || a.Group < 2 || a.Err != nil || a.Latency <= 0 {
		t.Errorf("first append observed as %+v", a)
	}
	if a := got[1]; !errors.Is(a.Err, ErrVersionConflict) || a.Group < 1 {
		t.Errorf("conflicting append observed as %+v", a)
	}
}
