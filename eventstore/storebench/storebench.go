// Package storebench measures the event log on this machine: appends
// (durable on return) and reads, with the raw-Pebble ceiling to compare
// with. 'salesbot bench append' and 'bench read' print what it measures;
// the other benchmarks share its workers and percentiles.
package storebench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/salesbot/salesbot/eventstore"
)

// Result is one measurement, as the bench commands print it.
type Result struct {
	Store        string  `json:"store"`
	Concurrency  int     `json:"concurrency"`
	Events       int     `json:"events"`
	Batch        int     `json:"batch"`
	Payload      int     `json:"payload"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
	P50us        float64 `json:"p50_us"`
	P99us        float64 `json:"p99_us"`
}

// String is the result on one line, as the bench commands print it.
func (r Result) String() string {
	return fmt.Sprintf("%-10s c=%-4d events=%-8d batch=%-3d payload=%-5d %8.3fs %10.0f events/s  p50 %7.0fµs  p99 %7.0fµs",
		r.Store, r.Concurrency, r.Events, r.Batch, r.Payload, r.Seconds, r.EventsPerSec, r.P50us, r.P99us)
}

// OpenTemp opens a new log in a temporary directory, with a random
// master key, for a bench whose log is not kept; log receives Pebble's
// lines (nil discards). done closes the log and removes the directory.
func OpenTemp(log *slog.Logger) (s *eventstore.PebbleStore, done func() error, err error) {
	dir, err := os.MkdirTemp("", "salesbot-bench-")
	if err != nil {
		return nil, nil, err
	}
	key := make([]byte, eventstore.MasterKeySize)
	rand.Read(key)
	s, err = eventstore.Open(dir, eventstore.Options{MasterKey: key, Logger: log})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return s, func() error { defer os.RemoveAll(dir); return s.Close() }, nil
}

// CPUProfile starts a CPU profile of this process written to the file at
// path (go tool pprof); stop ends it and closes the file. An empty path
// profiles nothing.
func CPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// Params say what to measure: Concurrency goroutines, Events in all,
// Payload bytes each, Batch events per call (Read: per page).
type Params struct {
	Concurrency, Events, Payload, Batch int
}

// Result summarises a run of events events that took took, with the
// latency of each call.
func (p Params) Result(store string, events int, took time.Duration, lat []time.Duration) Result {
	p50, p99 := Percentiles(lat)
	return Result{
		Store: store, Concurrency: p.Concurrency, Events: events, Batch: p.Batch, Payload: p.Payload,
		Seconds: took.Seconds(), EventsPerSec: float64(events) / took.Seconds(), P50us: p50, P99us: p99,
	}
}

// Percentiles are the median and the 99th percentile of d, in
// microseconds (d is sorted in place).
func Percentiles(d []time.Duration) (p50, p99 float64) {
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		return float64(d[min(len(d)-1, int(q*float64(len(d))))].Nanoseconds()) / 1e3
	}
	return at(0.50), at(0.99)
}

// QuantilesMs are the qs-quantiles of d (nearest rank) in milliseconds
// (d is sorted in place): the load benches' latencies.
func QuantilesMs(d []time.Duration, qs ...float64) []float64 {
	out := make([]float64, len(qs))
	if len(d) == 0 {
		return out
	}
	slices.Sort(d)
	for i, q := range qs {
		rank := int(math.Ceil(q*float64(len(d)))) - 1
		out[i] = Ms(d[min(max(rank, 0), len(d)-1)])
	}
	return out
}

// Ms is d in milliseconds, to the microsecond.
func Ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

// LoadAverage is the machine's 1-minute load average (Linux), 0 if
// unknown: a bench reports it, since other work on the machine shows in
// its latencies.
func LoadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return 0
	}
	return v
}

// Workers runs work(w) on n goroutines at once and returns the wall
// time, every latency the workers recorded and their errors joined.
func Workers(n int, work func(w int) ([]time.Duration, error)) (time.Duration, []time.Duration, error) {
	lat := make([][]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range n {
		wg.Go(func() { lat[w], errs[w] = work(w) })
	}
	wg.Wait()
	return time.Since(start), slices.Concat(lat...), errors.Join(errs...)
}

// share is worker w's part of n units split among c workers.
func share(n, c, w int) int {
	s := n / c
	if w < n%c {
		s++
	}
	return s
}

// Append appends p.Events events of p.Payload random bytes, p.Batch per
// Append call with an exact expected version, from p.Concurrency
// goroutines that each own their streams (a new one after about 10
// events). Every append is durable before it returns; latency is per
// call.
func Append(ctx context.Context, s eventstore.Store, p Params) (Result, error) {
	payload := make([]byte, p.Payload)
	rand.Read(payload)
	took, lat, err := Workers(p.Concurrency, func(w int) ([]time.Duration, error) {
		n := share(p.Events, p.Concurrency, w)
		lat := make([]time.Duration, 0, n/p.Batch+1)
		evs := make([]eventstore.Event, p.Batch)
		stream, streams, version := "", 0, uint64(0)
		for done := 0; done < n; {
			if stream == "" || version >= 10 {
				streams++
				stream, version = fmt.Sprintf("bench-%d-%d", w, streams), 0
			}
			k := min(p.Batch, n-done)
			for i := range k {
				evs[i] = eventstore.Event{Type: "BenchEvent", Payload: payload}
			}
			t0 := time.Now()
			r, err := s.Append(ctx, stream, eventstore.Exact(version), evs[:k]...)
			if err != nil {
				return nil, fmt.Errorf("append to %s: %w", stream, err)
			}
			lat = append(lat, time.Since(t0))
			version = r.Version
			done += k
		}
		return lat, nil
	})
	if err != nil {
		return Result{}, err
	}
	return p.Result("salesbot", p.Events, took, lat), nil
}

// ErrNotEmpty: AppendNew was given a log that holds events.
var ErrNotEmpty = errors.New("the log holds events already; the bench needs a new one")

// AppendNew runs Append on s, which must hold no events yet, and names
// the result store (such as "jetstream", beside Append's "salesbot").
func AppendNew(ctx context.Context, s eventstore.Store, store string, p Params) (Result, error) {
	if h := s.Head(); h > 0 {
		return Result{}, fmt.Errorf("%w (%d events)", ErrNotEmpty, h)
	}
	r, err := Append(ctx, s, p)
	r.Store = store
	return r, err
}

// RawPebble measures the same writes with plain synced Pebble batches
// (eventstore.BaselineSyncedWrites): the ceiling to compare Append with.
func RawPebble(p Params) (Result, error) {
	took, lat, err := eventstore.BaselineSyncedWrites(p.Concurrency, p.Events, p.Batch, p.Payload+100) // about the size of an envelope
	if err != nil {
		return Result{}, err
	}
	return p.Result("pebble-raw", p.Events, took, lat), nil
}

// ErrEmpty: the log holds no events to read.
var ErrEmpty = errors.New("the log is empty: run 'salesbot bench append --data-dir DIR' first")

// Read reads every durable event of the log in order with Scan, in pages
// of p.Batch, the positions split among p.Concurrency goroutines;
// latency is per page, Payload the mean payload size.
func Read(ctx context.Context, s eventstore.Store, p Params) (Result, error) {
	head := s.Head()
	if head == 0 {
		return Result{}, ErrEmpty
	}
	counts := make([]int, p.Concurrency)
	bytes := make([]int, p.Concurrency)
	per := (head + uint64(p.Concurrency) - 1) / uint64(p.Concurrency)
	took, lat, err := Workers(p.Concurrency, func(w int) ([]time.Duration, error) {
		var lat []time.Duration
		from, to := uint64(w)*per+1, min(head, uint64(w+1)*per)
		for pos := from; pos <= to; {
			t0 := time.Now()
			page := pos
			err := s.Scan(ctx, pos, int(min(uint64(p.Batch), to-pos+1)), func(e *eventstore.RecordedEvent) error {
				if e.Position != pos {
					return fmt.Errorf("read position %d, want %d", e.Position, pos)
				}
				bytes[w] += len(e.Payload)
				pos++
				return nil
			})
			if err == nil && pos == page {
				err = fmt.Errorf("no event at position %d", pos)
			}
			if err != nil {
				return nil, err
			}
			lat = append(lat, time.Since(t0))
			counts[w] += int(pos - page)
		}
		return lat, nil
	})
	if err != nil {
		return Result{}, err
	}
	var n, total int
	for w := range counts {
		n += counts[w]
		total += bytes[w]
	}
	res := p.Result("salesbot", n, took, lat)
	res.Payload = total / max(n, 1)
	return res, nil
}
