// Package startbench measures how fast `salesbot run` becomes ready on a
// long log, and how much memory it takes ('salesbot bench start').
//
// A run generates a log of about Config.Events events (accounts without
// Telegram sessions, which run only warns about, and realistic dialogs
// spread over them: projectionsbench.GenerateDialogs), rebuilds the
// PostgreSQL read models from it in a schema of its own, and then starts
// the real binary on it twice:
//
//   - cold: no snapshots yet, so the accounts service, the dialog engine
//     and the campaign scheduler fold the whole log; on the way out they
//     save their snapshots (eventstore.Snapshots);
//   - warm: a restart, which reads the snapshots and folds only the tail.
//
// Each start is timed from exec to the first 200 from GET /readyz (the
// log open, the read models caught up, the accounts service through the
// log), with the resident set (VmRSS) at that moment, and the peak
// (VmHWM) after it ran for Config.Settle, in which the engine takes the
// turns that are due on the generated dialogs (follow-ups of open
// dialogs): real work, which grows the log, so each start reports the
// head it left.
package startbench

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// The budget for a restart on a log of a million events with
// PostgreSQL read models: ready within ReadyBudget, resident set at most
// RSSBudget.
const (
	ReadyBudget = 10 * time.Second
	RSSBudget   = 600_000_000 // 600 MB (572 MiB)
)

// Config configures a run. Binary and Postgres are required; zero fields
// take their defaults.
type Config struct {
	// Binary is the salesbot binary to start (the command passes its own,
	// os.Executable).
	Binary string
	// DataDir is where the generated log goes; it must not exist or be
	// empty. "": a directory of the run's own, removed at the end unless
	// Keep. A DataDir of your own stays.
	DataDir string
	// KeyFile is the log's master key, created if absent; it must be
	// outside the data dir (run refuses it inside), and anchor.json lands
	// next to it. "": master.key in the run's own directory, removed at
	// the end unless Keep (give one with a DataDir you mean to reuse).
	KeyFile string
	// Postgres is the PostgreSQL server of the read models (a URL or
	// key=value pairs). The run creates a schema of its own there and
	// drops it at the end unless Keep.
	Postgres string
	// Events is about how many events to generate (default 1 000 000).
	Events int
	// Accounts is how many accounts the dialogs spread over (default 100).
	Accounts int
	// Concurrency is how many writers generate the dialogs (default 64).
	Concurrency int
	// Settle is how long each start runs after it became ready before its
	// peak memory is read and it is stopped (default 10 s).
	Settle time.Duration
	// Timeout bounds how long a start may take to become ready (default
	// 10 min: a cold start on a long log folds all of it).
	Timeout time.Duration
	// StopTimeout bounds how long a start may take to stop after SIGTERM,
	// saving its snapshots (default 2 min); then it is killed and the run
	// fails.
	StopTimeout time.Duration
	// LogLevel is the starts' --log-level (default info, run's own
	// default): at info the result can say which followers had no
	// snapshot (Start.FromBeginning) and the head at ready.
	LogLevel string
	// Keep keeps the data dir, the key, the starts' logs and the schema;
	// Result names them.
	Keep bool
	// Log hears what the run does; nil: nothing is logged.
	Log *slog.Logger
	// Progress, if set, is told how far each stage is: "generate"
	// (dialogs), "rebuild" (events), "cold" and "warm" (0 of 1 at the
	// exec, 1 of 1 once stopped).
	Progress func(stage string, done, total int)
}

func (c Config) progress(stage string, done, total int) {
	if c.Progress != nil {
		c.Progress(stage, done, total)
	}
}

// Start is what one start of `salesbot run` measured. Ready says when
// the API can answer; the dialog engine may still be folding the log
// then (it is not part of readiness), which shows as CPU after ready
// and in Stop: a stop waits for every follower to finish its batch and
// save its snapshot.
type Start struct {
	Name string // cold or warm
	// Ready is the time from the exec to the first 200 from /readyz.
	Ready time.Duration
	// RSSReady is the resident set (VmRSS) when it became ready, RSSPeak
	// the process's peak (VmHWM) after Settle; bytes, 0 where the system
	// has no /proc.
	RSSReady, RSSPeak uint64
	// Stop is the time from SIGTERM to its exit (snapshots saved).
	Stop time.Duration
	// HeadReady is the head "salesbot: ready" logged (0 below info);
	// Head the log's head once it stopped: the engine's turns grow it.
	HeadReady, Head uint64
	// FromBeginning are the followers that had no snapshot to start
	// from and folded the whole log (sorted; known at info level only).
	FromBeginning []string
}

// Result is what a run measured.
type Result struct {
	Events   uint64 // generated: the log's head before the first start
	Dialogs  int
	Accounts int
	// Generate is the time to write the log, Rebuild the time to project
	// it into the read models.
	Generate, Rebuild time.Duration
	Cold, Warm        Start
	// Schema, DataDir and KeyFile are what a run with Keep left behind.
	Schema, DataDir, KeyFile string
}

// Meets says whether the warm start (a restart: the usual start of a
// running installation) was within the budget: ready within
// ReadyBudget and a peak resident set of at most RSSBudget.
func (r Result) Meets() bool {
	return r.Warm.Ready > 0 && r.Warm.Ready <= ReadyBudget && r.Warm.RSSPeak <= RSSBudget
}

// Text is the result for people: the log, then a line per start (no
// newline after the last).
func (r Result) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "log: %d events, %d dialogs over %d accounts; generated in %s, read models (PostgreSQL) rebuilt in %s\n",
		r.Events, r.Dialogs, r.Accounts, secs(r.Generate), secs(r.Rebuild))
	fmt.Fprintf(&b, "%-5s %9s %13s %10s %8s %10s  %s", "start", "ready", "RSS at ready", "peak RSS", "stop", "head", "without snapshot")
	for _, s := range []Start{r.Cold, r.Warm} {
		none := "-"
		if len(s.FromBeginning) > 0 {
			none = strings.Join(s.FromBeginning, ", ")
		}
		fmt.Fprintf(&b, "\n%-5s %9s %9.0f MiB %6.0f MiB %8s %10d  %s", s.Name, secs(s.Ready), mib(s.RSSReady), mib(s.RSSPeak), secs(s.Stop), s.Head, none)
	}
	fmt.Fprintf(&b, "\nbudget (warm): ready ≤ %s, peak RSS ≤ %d MB: ", secs(ReadyBudget), RSSBudget/1_000_000)
	if r.Meets() {
		b.WriteString("met")
	} else {
		b.WriteString("NOT met")
	}
	for _, kept := range []struct{ what, v string }{{"schema", r.Schema}, {"data dir", r.DataDir}, {"master key", r.KeyFile}} {
		if kept.v != "" {
			fmt.Fprintf(&b, "\nkept %s %s", kept.what, kept.v)
		}
	}
	return b.String()
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
func mib(n uint64) float64        { return float64(n) / (1 << 20) }

// startJSON is a Start's JSON: times in seconds, memory in bytes.
type startJSON struct {
	Name          string   `json:"name"`
	ReadySeconds  float64  `json:"ready_seconds"`
	RSSReady      uint64   `json:"rss_ready_bytes"`
	RSSPeak       uint64   `json:"rss_peak_bytes"`
	StopSeconds   float64  `json:"stop_seconds"`
	HeadReady     uint64   `json:"head_ready,omitempty"`
	Head          uint64   `json:"head"`
	FromBeginning []string `json:"from_beginning,omitempty"`
}

// MarshalJSON writes times in seconds (ready_seconds, ...) and memory in
// bytes (rss_ready_bytes, rss_peak_bytes).
func (s Start) MarshalJSON() ([]byte, error) {
	return json.Marshal(startJSON{Name: s.Name, ReadySeconds: s.Ready.Seconds(), RSSReady: s.RSSReady, RSSPeak: s.RSSPeak,
		StopSeconds: s.Stop.Seconds(), HeadReady: s.HeadReady, Head: s.Head, FromBeginning: s.FromBeginning})
}

// MarshalJSON writes times in seconds (generate_seconds, ...).
func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Events          uint64  `json:"events"`
		Dialogs         int     `json:"dialogs"`
		Accounts        int     `json:"accounts"`
		GenerateSeconds float64 `json:"generate_seconds"`
		RebuildSeconds  float64 `json:"rebuild_seconds"`
		Cold            Start   `json:"cold"`
		Warm            Start   `json:"warm"`
		Meets           bool    `json:"meets_budget"`
		Schema          string  `json:"schema,omitempty"`
		DataDir         string  `json:"data_dir,omitempty"`
		KeyFile         string  `json:"master_key_file,omitempty"`
	}{r.Events, r.Dialogs, r.Accounts, r.Generate.Seconds(), r.Rebuild.Seconds(), r.Cold, r.Warm, r.Meets(), r.Schema, r.DataDir, r.KeyFile})
}

// Run generates the log, rebuilds the read models and starts salesbot
// on them twice (see the package doc). What it made is removed when it
// returns unless cfg.Keep (a DataDir of the caller's stays). A start
// that fails is an error quoting the end of its log.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	if cfg.Binary == "" {
		return res, errors.New("startbench: the salesbot binary to start is required")
	}
	if cfg.Postgres == "" {
		return res, errors.New("startbench: a PostgreSQL DSN is required: the read models live there")
	}
	if err := projections.CheckDSN(cfg.Postgres); err != nil {
		return res, fmt.Errorf("startbench: postgres DSN: %w", err)
	}
	cfg.Events = cmp.Or(cfg.Events, 1_000_000)
	cfg.Accounts = cmp.Or(cfg.Accounts, 100)
	cfg.Concurrency = cmp.Or(cfg.Concurrency, 64)
	cfg.Settle = cmp.Or(cfg.Settle, 10*time.Second)
	cfg.Timeout = cmp.Or(cfg.Timeout, 10*time.Minute)
	cfg.StopTimeout = cmp.Or(cfg.StopTimeout, 2*time.Minute)
	cfg.LogLevel = cmp.Or(cfg.LogLevel, "info")
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Events < 1 || cfg.Accounts < 1 || cfg.Concurrency < 1 || cfg.Settle < 0 || cfg.Timeout < 0 || cfg.StopTimeout < 0 {
		return res, errors.New("startbench: events, accounts, concurrency and the durations must be positive")
	}
	res.Accounts = cfg.Accounts

	work, err := os.MkdirTemp("", "salesbot-startbench-")
	if err != nil {
		return res, fmt.Errorf("startbench: %w", err)
	}
	if !cfg.Keep {
		defer func() {
			if rerr := os.RemoveAll(work); rerr != nil {
				err = errors.Join(err, fmt.Errorf("startbench: remove %s: %w", work, rerr))
			}
		}()
	}
	e := env{cfg: cfg, dataDir: cmp.Or(cfg.DataDir, filepath.Join(work, "data")),
		keyFile: cmp.Or(cfg.KeyFile, filepath.Join(work, "master.key")), work: work}
	if err := emptyOrAbsent(e.dataDir); err != nil {
		return res, err
	}
	if cfg.Keep {
		res.DataDir, res.KeyFile = e.dataDir, e.keyFile
	}

	schema, dsn, err := projections.NewSchema(ctx, cfg.Postgres, "salesbot_startbench")
	if err != nil {
		return res, fmt.Errorf("startbench: %w", err)
	}
	if cfg.Keep {
		res.Schema = schema
	} else {
		defer func() {
			if derr := projections.DropSchema(context.WithoutCancel(ctx), cfg.Postgres, schema); derr != nil {
				err = errors.Join(err, fmt.Errorf("startbench: %w", derr))
			}
		}()
	}
	e.dsn, e.dsnFile = dsn, filepath.Join(work, "postgres.dsn")
	if err := os.WriteFile(e.dsnFile, []byte(dsn), 0o600); err != nil {
		return res, fmt.Errorf("startbench: %w", err)
	}

	if err := e.prepare(ctx, &res); err != nil {
		return res, fmt.Errorf("startbench: %w", err)
	}
	for _, s := range []*Start{&res.Cold, &res.Warm} {
		name := "cold"
		if s == &res.Warm {
			name = "warm"
		}
		if *s, err = e.start(ctx, name); err != nil {
			return res, fmt.Errorf("startbench: %w", err)
		}
		if s.Head, err = e.head(ctx); err != nil {
			return res, fmt.Errorf("startbench: after the %s start: %w", name, err)
		}
		cfg.Log.Info("startbench: stopped", "start", name, "ready", s.Ready, "rss_ready", s.RSSReady, "rss_peak", s.RSSPeak, "head", s.Head)
	}
	return res, nil
}

// prepare generates the log and rebuilds the read models from it.
func (e env) prepare(ctx context.Context, res *Result) (err error) {
	t0 := time.Now()
	s, err := eventstore.OpenDir(ctx, e.dataDir, eventstore.DirOptions{KeyFile: e.keyFile, Create: true})
	if err != nil {
		return fmt.Errorf("open the log to generate: %w", err)
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close the generated log: %w", cerr))
		}
	}()
	e.cfg.Log.Info("startbench: generating", "events", e.cfg.Events, "accounts", e.cfg.Accounts, "data_dir", e.dataDir)
	if res.Dialogs, err = generate(ctx, s, e.cfg); err != nil {
		return err
	}
	res.Events, res.Generate = s.Head(), time.Since(t0)
	e.cfg.Log.Info("startbench: generated", "events", res.Events, "dialogs", res.Dialogs, "took", res.Generate)
	t1 := time.Now()
	if err := rebuild(ctx, s, e.dsn, e.cfg); err != nil {
		return err
	}
	res.Rebuild = time.Since(t1)
	e.cfg.Log.Info("startbench: read models rebuilt", "took", res.Rebuild)
	return nil
}

// head opens the log read-only and returns its head.
func (e env) head(ctx context.Context) (uint64, error) {
	s, err := eventstore.OpenDir(ctx, e.dataDir, eventstore.DirOptions{KeyFile: e.keyFile, Options: eventstore.Options{ReadOnly: true}})
	if err != nil {
		return 0, fmt.Errorf("open the log: %w", err)
	}
	head := s.Head()
	return head, s.Close()
}

// emptyOrAbsent: a data dir for a new log.
func emptyOrAbsent(dir string) error {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("startbench: data dir: %w", err)
	case len(ents) > 0:
		return fmt.Errorf("startbench: data dir %s is not empty: the bench writes a new log", dir)
	}
	return nil
}
