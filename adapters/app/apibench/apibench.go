// Package apibench measures the HTTP API's dialog list on PostgreSQL
// ('salesbot bench api'): it seeds the read models with N dialogs in a
// schema of its own, serves the real API (httpapi) over them on a
// loopback port, with a real token and rate limiter, and drives
// GET /api/v1/dialogs at a fixed rate: first pages, filtered pages
// (status, stage, account, campaign, since) and pages that follow
// next_cursor. The load is open-loop: request i is due at start + i/rate
// whatever happened before it, and its latency is counted from then, so
// a slow answer delays the requests queued behind it and they show it.
//
// The dialogs are written with COPY, not through the event log (100 000
// dialogs are about 1.4 M events): their rows are what projections would
// have made of realistic dialogs (see dialog in seed.go).
package apibench

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/app/dialogs"
	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/storebench"
	"github.com/salesbot/salesbot/projections"
)

// Config configures a run. DSN is required; zero fields take their
// defaults.
type Config struct {
	// DSN is the PostgreSQL server (a URL or key=value pairs). The run
	// creates a schema of its own there and drops it at the end unless
	// Keep.
	DSN      string
	Dialogs  int           // seeded (default 100 000)
	Rate     int           // requests a second (default 200)
	Duration time.Duration // measured (default 30 s)
	// Warmup runs the same load, not measured, before Duration (default
	// 2 s, or Duration/5 if that is shorter; negative: none).
	Warmup      time.Duration
	Concurrency int    // connections and workers at most (default 32)
	Seed        uint64 // the data and the requests drawn (default 1)
	Keep        bool   // keep the schema (Result.Schema names it)
	// Log hears of the API's failures; nil: nothing is logged.
	Log *slog.Logger
	// Progress, if set, is told what the run is doing, a line at a time.
	Progress io.Writer
}

// Result is what a run measured ('salesbot bench api' prints it).
type Result struct {
	Dialogs     int     `json:"dialogs"`
	SeedSeconds float64 `json:"seed_seconds"`
	Rate        int     `json:"rate"` // offered, requests a second
	Seconds     float64 `json:"seconds"`
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	// Errors are the answers other than 200 and the requests that got no
	// answer; FirstError says what the first of them was.
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Achieved   float64 `json:"achieved_rate"` // answered requests a second
	P50ms      float64 `json:"p50_ms"`
	P90ms      float64 `json:"p90_ms"`
	P99ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	Kinds      []Kind  `json:"kinds"` // by the mix's order
	// LoadAverage is the machine's 1-minute load average at the end (0
	// where the system does not tell): the bench shares the machine.
	LoadAverage float64 `json:"load_average"`
	Schema      string  `json:"schema,omitempty"` // the kept schema
}

// Kind is the part of a result of one kind of request (KindFirst, ...).
type Kind struct {
	Kind     string  `json:"kind"`
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
}

// Meets says whether the run answered every request and its p99 was at
// most p99.
func (r Result) Meets(p99 time.Duration) bool {
	return r.Requests > 0 && r.Errors == 0 && r.P99ms <= storebench.Ms(p99)
}

// String is the result for people: a summary line, then a line per
// kind of request (no newline after the last).
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET /api/v1/dialogs over %d dialogs (seeded in %.1fs): %d requests at %d/s offered for %.0fs, c=%d: %.1f/s answered, %d errors\n",
		r.Dialogs, r.SeedSeconds, r.Requests, r.Rate, r.Seconds, r.Concurrency, r.Achieved, r.Errors)
	fmt.Fprintf(&b, "latency p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms  (load average %.2f)", r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.LoadAverage)
	if r.FirstError != "" {
		fmt.Fprintf(&b, "\nfirst error: %s", r.FirstError)
	}
	fmt.Fprintf(&b, "\n%-15s %8s %6s %8s %8s %8s", "kind", "requests", "errors", "p50 ms", "p99 ms", "max ms")
	for _, k := range r.Kinds {
		fmt.Fprintf(&b, "\n%-15s %8d %6d %8.2f %8.2f %8.2f", k.Kind, k.Requests, k.Errors, k.P50ms, k.P99ms, k.MaxMs)
	}
	if r.Schema != "" {
		fmt.Fprintf(&b, "\nkept schema %s", r.Schema)
	}
	return b.String()
}

// Run seeds the read models, serves the API over them and measures the
// dialog list; see the package doc. The schema it made is dropped when
// it returns, unless cfg.Keep.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	if cfg.DSN == "" {
		return res, errors.New("apibench: a PostgreSQL DSN is required")
	}
	if err := projections.CheckDSN(cfg.DSN); err != nil {
		return res, fmt.Errorf("apibench: postgres DSN: %w", err)
	}
	cfg.Dialogs = cmp.Or(cfg.Dialogs, 100_000)
	cfg.Rate = cmp.Or(cfg.Rate, 200)
	cfg.Duration = cmp.Or(cfg.Duration, 30*time.Second)
	cfg.Concurrency = cmp.Or(cfg.Concurrency, 32)
	cfg.Seed = cmp.Or(cfg.Seed, 1)
	if cfg.Warmup == 0 {
		cfg.Warmup = min(2*time.Second, cfg.Duration/5)
	}
	if cfg.Dialogs < 1 || cfg.Rate < 1 || cfg.Duration <= 0 || cfg.Concurrency < 1 {
		return res, errors.New("apibench: dialogs, rate, duration and concurrency must be positive")
	}
	progress := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", args...)
		}
	}
	res = Result{Dialogs: cfg.Dialogs, Rate: cfg.Rate, Concurrency: cfg.Concurrency}

	schema, dsn, err := projections.NewSchema(ctx, cfg.DSN, "salesbot_apibench")
	if err != nil {
		return res, fmt.Errorf("apibench: %w", err)
	}
	if cfg.Keep {
		res.Schema = schema
	} else {
		defer func() {
			if derr := projections.DropSchema(context.WithoutCancel(ctx), cfg.DSN, schema); derr != nil {
				err = errors.Join(err, fmt.Errorf("apibench: %w", derr))
			}
		}()
	}
	sink, err := projections.OpenPostgres(ctx, dsn)
	if err != nil {
		return res, fmt.Errorf("apibench: %w", err)
	}
	defer sink.Close()
	w := &world{schema: schema, dsn: dsn, now: time.Now().UTC().Truncate(time.Second)}
	progress("seeding %d dialogs in schema %s", cfg.Dialogs, schema)
	t0 := time.Now()
	if err := seed(ctx, sink, w, cfg.Dialogs, cfg.Seed); err != nil {
		return res, fmt.Errorf("apibench: %w", err)
	}
	res.SeedSeconds = time.Since(t0).Seconds()
	progress("seeded in %.1fs", res.SeedSeconds)

	api, bearer, err := newAPI(ctx, sink, cfg)
	if err != nil {
		return res, fmt.Errorf("apibench: %w", err)
	}
	ln, err := httpapi.Listen("127.0.0.1:0")
	if err != nil {
		return res, fmt.Errorf("apibench: %w", err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- httpapi.Server{Listener: ln, Handler: api, Logger: cfg.Log}.Serve(sctx) }()
	defer func() {
		stop()
		if serr := <-served; serr != nil {
			err = errors.Join(err, fmt.Errorf("apibench: serve the API: %w", serr))
		}
	}()

	transport := &http.Transport{MaxIdleConns: cfg.Concurrency, MaxIdleConnsPerHost: cfg.Concurrency, IdleConnTimeout: time.Minute}
	defer transport.CloseIdleConnections()
	d := &driver{client: &http.Client{Transport: transport, Timeout: 30 * time.Second},
		base: "http://" + ln.Addr().String() + "/api/v1/dialogs", auth: bearer, w: w}
	warm := int(max(cfg.Warmup, 0).Seconds() * float64(cfg.Rate))
	measured := max(1, int(cfg.Duration.Seconds()*float64(cfg.Rate)))
	progress("warming up for %v, then measuring %v at %d requests/s", max(cfg.Warmup, 0), cfg.Duration, cfg.Rate)
	samples, took, err := d.run(ctx, cfg.Rate, warm+measured, warm, cfg.Concurrency, cfg.Seed)
	if err != nil {
		return res, fmt.Errorf("apibench: %w", err)
	}
	res.summarise(samples, took)
	res.LoadAverage = storebench.LoadAverage()
	return res, nil
}

// newAPI is the real API over sink: a token service on a log in memory
// with one read token (returned as an Authorization header's value), a
// limiter ten times above the bench's rate, and stand-ins for the ports
// the list does not use.
func newAPI(ctx context.Context, sink projections.Sink, cfg Config) (*httpapi.API, string, error) {
	key := make([]byte, eventstore.MasterKeySize)
	rand.Read(key)
	store, err := eventstore.NewMemory(eventstore.Options{MasterKey: key})
	if err != nil {
		return nil, "", err
	}
	ts, err := tokens.New(ctx, tokens.Config{Log: eventlog.New(store), Now: time.Now})
	if err != nil {
		return nil, "", err
	}
	tok, err := ts.Create(ctx, "apibench", domain.ScopeRead, "bench")
	if err != nil {
		return nil, "", err
	}
	limit := tokens.Rate{PerSecond: 10 * float64(cfg.Rate), Burst: 10 * cfg.Rate}
	api, err := httpapi.New(httpapi.Config{ReadModels: sink, Tokens: ts, Limiter: tokens.NewLimiter(limit, time.Now),
		Dialogs:   dialogs.Service{H: domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: time.Now}},
		Campaigns: noCampaigns{}, Opener: noOpener{}, Transcripts: noTranscripts{}, Logger: cfg.Log})
	if err != nil {
		return nil, "", err
	}
	return api, "Bearer " + tok.Token.Reveal(), nil
}

// summarise fills r from the measured samples, answered in took.
func (r *Result) summarise(samples []sample, took time.Duration) {
	r.Requests, r.Seconds = len(samples), took.Seconds()
	if took > 0 {
		r.Achieved = float64(len(samples)) / took.Seconds()
	}
	byKind := map[string][]time.Duration{}
	errs := map[string]int{}
	all := make([]time.Duration, 0, len(samples))
	for _, s := range samples {
		all = append(all, s.latency)
		byKind[s.kind] = append(byKind[s.kind], s.latency)
		if s.err != "" {
			r.Errors++
			errs[s.kind]++
			if r.FirstError == "" {
				r.FirstError = s.err
			}
		}
	}
	p := storebench.QuantilesMs(all, 0.5, 0.9, 0.99, 1)
	r.P50ms, r.P90ms, r.P99ms, r.MaxMs = p[0], p[1], p[2], p[3]
	names := []string{}
	for _, k := range kinds {
		names = append(names, k.name)
	}
	r.Kinds = nil
	for _, name := range append(names, KindCursor) {
		lat := byKind[name]
		if len(lat) == 0 {
			continue
		}
		p := storebench.QuantilesMs(lat, 0.5, 0.99, 1)
		r.Kinds = append(r.Kinds, Kind{Kind: name, Requests: len(lat), Errors: errs[name], P50ms: p[0], P99ms: p[1], MaxMs: p[2]})
	}
}
