package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/salesbot/salesbot/eventstore"
)

// benchResult is the one JSON line a bench prints.
type benchResult struct {
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

func (r benchResult) print(a *app, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintln(a.stdout, string(b))
		return
	}
	fmt.Fprintf(a.stdout, "%-10s c=%-4d events=%-8d batch=%-3d payload=%-5d %8.3fs %10.0f events/s  p50 %7.0fµs  p99 %7.0fµs\n",
		r.Store, r.Concurrency, r.Events, r.Batch, r.Payload, r.Seconds, r.EventsPerSec, r.P50us, r.P99us)
}

// latencies turns per-call durations into percentiles.
func percentiles(d []time.Duration) (p50, p99 float64) {
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		return float64(d[min(len(d)-1, int(q*float64(len(d))))].Nanoseconds()) / 1e3
	}
	return at(0.50), at(0.99)
}

// runWorkers runs work(w) on n goroutines at once and returns the wall
// time, every latency the workers recorded and the first error.
func runWorkers(n int, work func(w int) ([]time.Duration, error)) (time.Duration, []time.Duration, error) {
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

// result summarises a run of events events.
func (p benchParams) result(store string, events int, took time.Duration, lat []time.Duration) benchResult {
	p50, p99 := percentiles(lat)
	return benchResult{
		Store: store, Concurrency: p.concurrency, Events: events, Batch: p.batch, Payload: p.payload,
		Seconds: took.Seconds(), EventsPerSec: float64(events) / took.Seconds(), P50us: p50, P99us: p99,
	}
}

type benchParams struct {
	concurrency, events, payload, batch int
	asJSON, baseline                    bool
	cpuProfile                          string
}

func (p *benchParams) register(fs *flag.FlagSet, defConcurrency int) {
	fs.IntVar(&p.concurrency, "concurrency", defConcurrency, "goroutines working at once")
	fs.BoolVar(&p.asJSON, "json", false, "print one JSON line per result")
	fs.StringVar(&p.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
}

// profile starts the CPU profile if asked; the returned func stops it.
func (p *benchParams) profile() (func(), error) {
	if p.cpuProfile == "" {
		return func() {}, nil
	}
	f, err := os.Create(p.cpuProfile)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func (p *benchParams) check() error {
	if p.concurrency < 1 || p.concurrency > 10000 {
		return usagef("--concurrency must be 1..10000, got %d", p.concurrency)
	}
	return nil
}

func benchAppendCommand() *command {
	var p benchParams
	return &command{
		name:    "append",
		summary: "append events as fast as possible, durable on return, and report throughput and latency",
		details: `
Each goroutine owns its streams: it appends batches of --batch events with
an exact expected version, and moves to a new stream after about 10 events.
Every append is synced to disk before it returns. Latency is per Append call.

With --data-dir the log is left there (so 'salesbot verify' can check it);
the directory must hold no events yet. Without it a temporary directory is
used and removed. --baseline also measures raw concurrent synced Pebble
writes of the same size on this machine, the ceiling to compare with.`,
		flags: func(fs *flag.FlagSet, a *app) func() error {
			p.register(fs, 64)
			fs.IntVar(&p.events, "events", 200000, "events to append in all")
			fs.IntVar(&p.payload, "payload", 200, "payload bytes per event")
			fs.IntVar(&p.batch, "batch", 1, "events per Append call")
			fs.BoolVar(&p.baseline, "baseline", false, "also measure raw synced Pebble writes")
			return func() error {
				if err := p.check(); err != nil {
					return err
				}
				switch {
				case p.events < 1:
					return usagef("--events must be at least 1, got %d", p.events)
				case p.payload < 0 || p.payload > 1<<20:
					return usagef("--payload must be 0..1048576 bytes, got %d", p.payload)
				case p.batch < 1 || p.batch > 10000:
					return usagef("--batch must be 1..10000, got %d", p.batch)
				}
				return nil
			}
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) > 0 {
				return usagef("takes no arguments, got %q", args)
			}
			var s *eventstore.PebbleStore
			var err error
			cleanup := func() {}
			if a.cfg.set["data-dir"] {
				s, err = a.openStore(ctx, createLog)
				if err == nil && s.Head() > 0 {
					s.Close()
					return usagef("--data-dir %s already holds %d events; bench append needs an empty directory", a.cfg.DataDir, s.Head())
				}
			} else {
				s, cleanup, err = openScratch(a)
			}
			if err != nil {
				return err
			}
			stop, err := p.profile()
			if err != nil {
				return err
			}
			res, err := benchAppend(ctx, s, p)
			stop()
			if cerr := s.Close(); err == nil {
				err = cerr
			}
			cleanup()
			if err != nil {
				return err
			}
			res.print(a, p.asJSON)
			if p.baseline {
				raw, err := benchRawPebble(p)
				if err != nil {
					return fmt.Errorf("raw pebble baseline: %w", err)
				}
				raw.print(a, p.asJSON)
			}
			return nil
		},
	}
}

// openScratch opens a store in a temporary directory; cleanup removes it
// after the store is closed.
func openScratch(a *app) (*eventstore.PebbleStore, func(), error) {
	dir, err := os.MkdirTemp("", "salesbot-bench-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	key := make([]byte, eventstore.MasterKeySize)
	rand.Read(key)
	s, err := eventstore.Open(dir, eventstore.Options{MasterKey: key, Logger: a.log})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return s, cleanup, nil
}

// split divides n units among c workers.
func split(n, c, w int) int {
	share := n / c
	if w < n%c {
		share++
	}
	return share
}

func benchAppend(ctx context.Context, s eventstore.Store, p benchParams) (benchResult, error) {
	payload := make([]byte, p.payload)
	rand.Read(payload)
	took, lat, err := runWorkers(p.concurrency, func(w int) ([]time.Duration, error) {
		n := split(p.events, p.concurrency, w)
		lat := make([]time.Duration, 0, n/p.batch+1)
		evs := make([]eventstore.Event, p.batch)
		stream, streams, version := "", 0, uint64(0)
		for done := 0; done < n; {
			if stream == "" || version >= 10 {
				streams++
				stream, version = fmt.Sprintf("bench-%d-%d", w, streams), 0
			}
			k := min(p.batch, n-done)
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
		return benchResult{}, err
	}
	return p.result("salesbot", p.events, took, lat), nil
}

// benchRawPebble writes the same number and size of values with plain
// concurrent synced Pebble batches: no ordering, hashing or versions.
func benchRawPebble(p benchParams) (benchResult, error) {
	dir, err := os.MkdirTemp("", "salesbot-bench-raw-")
	if err != nil {
		return benchResult{}, err
	}
	defer os.RemoveAll(dir)
	db, err := pebble.Open(dir, &pebble.Options{MemTableSize: 64 << 20, Logger: pebbleQuiet{}})
	if err != nil {
		return benchResult{}, err
	}
	defer db.Close()
	value := make([]byte, p.payload+100) // about the size of an envelope
	rand.Read(value)
	took, lat, err := runWorkers(p.concurrency, func(w int) ([]time.Duration, error) {
		n := split(p.events, p.concurrency, w)
		var lat []time.Duration
		key := make([]byte, 12)
		binary.BigEndian.PutUint32(key, uint32(w))
		for done := 0; done < n; {
			k := min(p.batch, n-done)
			b := db.NewBatch()
			for range k {
				binary.BigEndian.PutUint64(key[4:], uint64(done))
				b.Set(key, value, nil)
				done++
			}
			t0 := time.Now()
			if err := b.Commit(pebble.Sync); err != nil {
				return nil, err
			}
			lat = append(lat, time.Since(t0))
			b.Close()
		}
		return lat, nil
	})
	if err != nil {
		return benchResult{}, err
	}
	return p.result("pebble-raw", p.events, took, lat), nil
}

type pebbleQuiet struct{}

func (pebbleQuiet) Infof(string, ...any)         {}
func (pebbleQuiet) Errorf(string, ...any)        {}
func (pebbleQuiet) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }

func benchReadCommand() *command {
	var p benchParams
	return &command{
		name:    "read",
		summary: "read the whole log back, decoded, and report throughput",
		details: `
Reads every durable event of the log in --data-dir in order with Scan, in
pages of --page events, fully decoded (upcast, personal fields decrypted). Latency is per page. With
--concurrency above 1 the position range is split among goroutines.`,
		flags: func(fs *flag.FlagSet, a *app) func() error {
			p.register(fs, runtime.GOMAXPROCS(0))
			fs.IntVar(&p.batch, "page", 4096, "events per Scan call")
			return func() error {
				if p.batch < 1 || p.batch > 1<<20 {
					return usagef("--page must be 1..1048576, got %d", p.batch)
				}
				return p.check()
			}
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) > 0 {
				return usagef("takes no arguments, got %q", args)
			}
			s, err := a.openStore(ctx, existingLog)
			if err != nil {
				return err
			}
			defer s.Close()
			stop, err := p.profile()
			if err != nil {
				return err
			}
			res, err := benchRead(ctx, s, p)
			stop()
			if err != nil {
				return err
			}
			res.print(a, p.asJSON)
			return nil
		},
	}
}

func benchRead(ctx context.Context, s eventstore.Store, p benchParams) (benchResult, error) {
	head := s.Head()
	if head == 0 {
		return benchResult{}, fmt.Errorf("the log is empty: run 'salesbot bench append --data-dir DIR' first")
	}
	counts := make([]int, p.concurrency)
	bytes := make([]int, p.concurrency)
	per := (head + uint64(p.concurrency) - 1) / uint64(p.concurrency)
	took, lat, err := runWorkers(p.concurrency, func(w int) ([]time.Duration, error) {
		var lat []time.Duration
		from, to := uint64(w)*per+1, min(head, uint64(w+1)*per)
		for pos := from; pos <= to; {
			t0 := time.Now()
			page := pos
			err := s.Scan(ctx, pos, int(min(uint64(p.batch), to-pos+1)), func(e *eventstore.RecordedEvent) error {
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
		return benchResult{}, err
	}
	var n, total int
	for w := range counts {
		n += counts[w]
		total += bytes[w]
	}
	res := p.result("salesbot", n, took, lat)
	res.Payload = total / max(n, 1)
	return res, nil
}
