package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/projections"
)

// newTestSystem is a system on a new log in a temp dir, offline, without
// a bot.
func newTestSystem(t *testing.T) (*system, *app) {
	t.Helper()
	a := newApp(strings.NewReader(""), io.Discard, io.Discard, func(string) string { return "" })
	a.cfg.DataDir = t.TempDir()
	st := openLog(t, a.cfg.DataDir)
	t.Cleanup(func() { st.Close() })
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.newSystem(t.Context(), st, projections.NewMemory(), systemOptions{eng: engineConfig{sc: sc, debounce: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return s, a
}

// A part that fails stops every other part (they see their context end)
// and run returns its error, once all of them have returned.
func TestSystemStopsOnAFailure(t *testing.T) {
	s, a := newTestSystem(t)
	boom := errors.New("boom")
	var stopped atomic.Int32
	waitThenStop := func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // a slow stop is waited for
		stopped.Add(1)
		return ctx.Err() // an error after the stop is not a failure
	}
	s.services = []func(context.Context) error{
		waitThenStop,
		func(context.Context) error { time.Sleep(20 * time.Millisecond); return boom },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.run(ctx, a, func(ctx context.Context) { _ = waitThenStop(ctx) })
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "service 2: boom") {
		t.Fatalf("run = %v, want service 2's failure", err)
	}
	if ctx.Err() != nil {
		t.Fatal("run waited for the test's deadline, not for the failure")
	}
	if n := stopped.Load(); n != 2 {
		t.Fatalf("run returned with %d of 2 parts still running", 2-n)
	}
}

// Without a failure run returns nil when its context ends, after every
// part has stopped.
func TestSystemStopsWithItsContext(t *testing.T) {
	s, a := newTestSystem(t)
	var stopped atomic.Bool
	s.services = []func(context.Context) error{func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond)
		stopped.Store(true)
		return nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	if err := s.run(ctx, a); err != nil {
		t.Fatalf("run = %v", err)
	}
	if !stopped.Load() {
		t.Fatal("run returned before a part stopped")
	}
}
