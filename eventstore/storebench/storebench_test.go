package storebench_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
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

// A result prints on one line, its columns aligned as 'bench append'
// has always printed them.
func TestResultString(t *testing.T) {
	r := storebench.Result{Store: "salesbot", Concurrency: 64, Events: 200000, Batch: 1, Payload: 200,
		Seconds: 1.5, EventsPerSec: 133333.3, P50us: 410.4, P99us: 2210.6}
	want := "salesbot   c=64   events=200000   batch=1   payload=200      1.500s     133333 events/s  p50     410µs  p99    2211µs"
	if got := r.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// OpenTemp's log is a fresh, writable log; done closes it and removes
// its directory.
func TestOpenTemp(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s, done, err := storebench.OpenTemp(nil)
	if err != nil {
		t.Fatal(err)
	}
	if dirs, err := os.ReadDir(tmp); err != nil || len(dirs) != 1 {
		t.Fatalf("OpenTemp made %d directories in TMPDIR: %v", len(dirs), err)
	}
	if _, err := s.Append(t.Context(), "s", eventstore.Exact(0), eventstore.Event{Type: "BenchEvent"}); err != nil || s.Head() != 1 {
		t.Fatalf("append to the temporary log: %v (head %d)", err, s.Head())
	}
	if err := done(); err != nil {
		t.Fatal(err)
	}
	if dirs, err := os.ReadDir(tmp); err != nil || len(dirs) != 0 {
		t.Fatalf("%d directories left in TMPDIR after done: %v", len(dirs), err)
	}
}

// CPUProfile writes a profile to the file it is given, and profiles
// nothing without one; a file it cannot create is an error.
func TestCPUProfile(t *testing.T) {
	stop, err := storebench.CPUProfile("")
	if err != nil {
		t.Fatal(err)
	}
	stop()
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	if stop, err = storebench.CPUProfile(path); err != nil {
		t.Fatal(err)
	}
	stop()
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("profile %s: %v", path, err)
	}
	if _, err := storebench.CPUProfile(filepath.Join(t.TempDir(), "no", "such", "dir", "cpu.pprof")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a profile in a missing directory: %v", err)
	}
}
