// Package pipebench measures the path of a lead's message through the
// dialog engine ('salesbot bench pipeline'): the inbound message recorded
// on the log, the reply turn taken with the offline scenario engine (the
// dialog loaded, the model, every guard, the turn appended, synced) until
// the reply is planned. The debounce that waits for a burst of messages
// to end is not counted: it is a setting, not work.
//
// Two paths: by default each message goes through engine.Core's turn
// directly (what the engine's workers run); with Live the whole engine
// runs (engine.Engine following the log) and a message is appended as
// the Telegram adapter appends it, and the latency is from the append to
// the planned reply's event on the log, less the debounce.
//
// The load is open-loop: message i is due at start + i/rate whatever
// happened before it, and its latency counts from then, so a slow turn
// delays the messages behind it and they show it. Each of Dialogs lanes
// is one dialog with at most one message waiting for its reply (a lead
// waits for the answer); a dialog that ends or is Exchanges messages
// long gives way to a new one.
package pipebench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/offline"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/storebench"
)

// TargetP99 is the budget for a message: reply planned within
// 20 ms at the 99th percentile, at 200 messages a second.
const TargetP99 = 20 * time.Millisecond

// Config configures a run; zero fields take their defaults.
type Config struct {
	Rate     int           // inbound messages a second (default 200)
	Duration time.Duration // measured (default 10 s)
	// Warmup runs the same load, not measured, before Duration (default
	// 2 s, or Duration/5 if that is shorter; negative: none).
	Warmup    time.Duration
	Dialogs   int // dialogs in flight at once (default 64)
	Exchanges int // messages of the lead per dialog before a new one (default 10)
	// Live runs the whole engine on the log instead of calling its turn.
	Live bool
	// Debounce is the live engine's debounce, subtracted from each
	// latency (default 1 ms); Tick how often it looks for due turns
	// (default 1 ms). Live only.
	Debounce, Tick time.Duration
	// Scenario is the scenario talked through (default the shipped one).
	Scenario *scenario.Scenario
	// Log hears of the engine's failures (warnings and errors only: not
	// a line per turn); nil: nothing is logged.
	Log *slog.Logger
}

func (c *Config) defaults() error {
	if c.Rate <= 0 {
		c.Rate = 200
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Warmup == 0 {
		c.Warmup = min(2*time.Second, c.Duration/5)
	}
	if c.Dialogs <= 0 {
		c.Dialogs = 64
	}
	if c.Exchanges <= 0 {
		c.Exchanges = 10
	}
	if c.Debounce <= 0 {
		c.Debounce = time.Millisecond
	}
	if c.Tick <= 0 {
		c.Tick = time.Millisecond
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	c.Log = slog.New(atLeast{c.Log.Handler(), slog.LevelWarn})
	if c.Scenario == nil {
		sc, err := scenario.Default()
		if err != nil {
			return err
		}
		c.Scenario = sc
	}
	return nil
}

// Result is what a run measured. Latencies are in milliseconds, from
// when a message was due to when its reply was planned (durable on the
// log), the debounce excluded.
type Result struct {
	Mode        string  `json:"mode"` // "core" or "live"
	Rate        int     `json:"rate"`
	Dialogs     int     `json:"dialogs"`         // lanes: dialogs in flight at once
	Started     int     `json:"dialogs_started"` // dialogs the run started in all
	Messages    int     `json:"messages"`        // measured
	Errors      int     `json:"errors"`          // measured messages with no reply planned
	FirstError  string  `json:"first_error,omitempty"`
	Seconds     float64 `json:"seconds"`
	Achieved    float64 `json:"messages_per_second"`
	P50ms       float64 `json:"p50_ms"`
	P95ms       float64 `json:"p95_ms"`
	P99ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	DebounceMs  float64 `json:"debounce_ms,omitempty"` // subtracted (live)
	TargetP99ms float64 `json:"target_p99_ms"`
	Meets       bool    `json:"meets"`
	CPUs        int     `json:"cpus"`
	LoadAverage float64 `json:"load_average"` // of the machine at the end (1 minute; Linux)
}

// meets: every message answered, the rate kept (within 5%), p99 within
// the target.
func (r Result) meets() bool {
	return r.Messages > 0 && r.Errors == 0 && r.Achieved >= 0.95*float64(r.Rate) && r.P99ms <= r.TargetP99ms
}

// String is the result as a few lines of text with the verdict.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pipeline (%s): %d messages at %d/s over %d dialogs in flight (%d started), %.0f messages/s achieved, %d without a reply\n",
		r.Mode, r.Messages, r.Rate, r.Dialogs, r.Started, r.Achieved, r.Errors)
	fmt.Fprintf(&b, "inbound → reply planned: p50 %.2fms  p95 %.2fms  p99 %.2fms  max %.2fms", r.P50ms, r.P95ms, r.P99ms, r.MaxMs)
	if r.DebounceMs > 0 {
		fmt.Fprintf(&b, "  (debounce %.0fms excluded)", r.DebounceMs)
	}
	verdict := "meets"
	if !r.Meets {
		verdict = "MISSES"
	}
	fmt.Fprintf(&b, "\n%s the target: p99 ≤ %.0f ms at %d messages/s (%d CPUs, load average %.2f)", verdict, r.TargetP99ms, r.Rate, r.CPUs, r.LoadAverage)
	if r.FirstError != "" {
		fmt.Fprintf(&b, "\nfirst error: %s", r.FirstError)
	}
	return b.String()
}

// Run measures; it opens a log in a temporary directory and removes it
// at the end. Its errors are the log's and the setup's; a message that
// got no reply is counted in Result.Errors.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	if err := cfg.defaults(); err != nil {
		return Result{}, fmt.Errorf("pipebench: %w", err)
	}
	store, done, err := storebench.OpenTemp(cfg.Log)
	if err != nil {
		return Result{}, fmt.Errorf("pipebench: open a log: %w", err)
	}
	defer func() { err = errors.Join(err, done()) }()
	return run(ctx, cfg, store)
}

// run measures on store, which it leaves open.
func run(ctx context.Context, cfg Config, store eventstore.Store) (Result, error) {
	res := Result{Mode: "core", Rate: cfg.Rate, Dialogs: cfg.Dialogs, TargetP99ms: storebench.Ms(TargetP99), CPUs: runtime.GOMAXPROCS(0)}
	elog := eventlog.New(store)
	h := domain.Handlers{Log: elog, Index: domain.NewIndexKey(store.IndexKey()), Now: time.Now, Cache: domain.NewStateCache(0)}
	core := &engine.Core{H: h, Model: offline.New(), Scenario: cfg.Scenario, Log: cfg.Log}
	var reply replier = coreReplier{core}
	if cfg.Live {
		res.Mode, res.DebounceMs = "live", storebench.Ms(cfg.Debounce)
		lr, stop, err := startLive(ctx, cfg, core, store, elog.Decode)
		if err != nil {
			return res, fmt.Errorf("pipebench: %w", err)
		}
		defer stop()
		reply = lr
	}
	lanes := make([]*lane, cfg.Dialogs)
	for i := range lanes {
		lanes[i] = &lane{core: core, reply: reply, exchanges: cfg.Exchanges, seq: i}
		if err := lanes[i].start(ctx); err != nil {
			return res, fmt.Errorf("pipebench: %w", err)
		}
	}
	warm := int(max(cfg.Warmup, 0).Seconds() * float64(cfg.Rate))
	measured := max(1, int(cfg.Duration.Seconds()*float64(cfg.Rate)))
	samples, took, err := drive(ctx, lanes, cfg.Rate, warm, measured)
	if err != nil {
		return res, fmt.Errorf("pipebench: %w", err)
	}
	for _, l := range lanes {
		res.Started += l.started
	}
	res.summarise(samples, took)
	res.LoadAverage = storebench.LoadAverage()
	return res, nil
}

// sample is one measured message.
type sample struct {
	latency time.Duration
	err     error
}

// drive sends warm+measured messages at rate, open-loop, each to a free
// lane, and returns the samples of the last measured ones and how long
// those took (from the first one's due time to the last reply).
func drive(ctx context.Context, lanes []*lane, rate, warm, measured int) ([]sample, time.Duration, error) {
	free := make(chan *lane, len(lanes))
	for _, l := range lanes {
		free <- l
	}
	var (
		mu      sync.Mutex
		samples = make([]sample, 0, measured)
		last    time.Time
		wg      sync.WaitGroup
	)
	start := time.Now()
	every := time.Second / time.Duration(rate)
	var first time.Time
	for i := range warm + measured {
		due := start.Add(time.Duration(i) * every)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
				wg.Wait()
				return nil, 0, ctx.Err()
			case <-time.After(wait):
			}
		}
		if i == warm {
			first = due
		}
		var l *lane
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil, 0, ctx.Err()
		case l = <-free: // all busy: the message waits, and its latency shows it
		}
		wg.Add(1)
		go func(keep bool) {
			defer wg.Done()
			lat, err := l.message(ctx, due)
			if keep {
				mu.Lock()
				samples = append(samples, sample{lat, err})
				if now := time.Now(); now.After(last) {
					last = now
				}
				mu.Unlock()
			}
			if err == nil {
				err = l.next(ctx)
			}
			if err != nil && ctx.Err() == nil {
				l.broken = err // the lane starts afresh with its next message
			}
			free <- l
		}(i >= warm)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	return samples, last.Sub(first), nil
}

// summarise fills r from the samples, answered in took.
func (r *Result) summarise(samples []sample, took time.Duration) {
	r.Messages, r.Seconds = len(samples), took.Seconds()
	if took > 0 {
		r.Achieved = float64(len(samples)) / took.Seconds()
	}
	lat := make([]time.Duration, 0, len(samples))
	for _, s := range samples {
		if s.err != nil {
			r.Errors++
			if r.FirstError == "" {
				r.FirstError = s.err.Error()
			}
			continue
		}
		lat = append(lat, s.latency)
	}
	p := storebench.QuantilesMs(lat, 0.5, 0.95, 0.99, 1)
	r.P50ms, r.P95ms, r.P99ms, r.MaxMs = p[0], p[1], p[2], p[3]
	r.Meets = r.meets()
}

// atLeast passes on the records of level min and above.
type atLeast struct {
	slog.Handler
	min slog.Level
}

func (h atLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h atLeast) WithAttrs(as []slog.Attr) slog.Handler {
	return atLeast{h.Handler.WithAttrs(as), h.min}
}
func (h atLeast) WithGroup(name string) slog.Handler {
	return atLeast{h.Handler.WithGroup(name), h.min}
}

// messages are what the leads write, in turn (EN and RU, as leads do).
var messages = []string{
	"Hi, we build our pipeline reports by hand every week",
	"How much does it cost?",
	"Our budget is about $2,000 a month",
	"Are you a bot?",
	"We want to start in March",
	"What integrations do you have?",
	"Сколько это стоит для команды из 10 человек?",
	"Решение принимаю я вместе с директором",
	"Can you send me more details?",
	"Мы хотим начать в следующем квартале",
}

// replier takes the reply to the message just recorded in a dialog and
// returns the random ids of the messages it planned.
type replier interface {
	reply(ctx context.Context, l *lane, due time.Time) (time.Duration, []int64, error)
}

// lane is one dialog at a time with one message in flight at most.
type lane struct {
	core      *engine.Core
	reply     replier
	exchanges int
	seq       int

	id, contact uuid.UUID
	n           int64 // the dialog's number
	said        int   // messages of the lead in this dialog
	msgID       int64 // the last Telegram message id used
	ended       bool  // the dialog closed or went to a person
	started     int
	broken      error
	wait        chan turnSeen // live: where the message's turn comes
}

// start begins a new dialog the lead starts (an inbound one).
func (l *lane) start(ctx context.Context) error {
	var c *engine.Conversation
	var err error
	for try := 0; ; try++ { // dialog numbers are one stream: busy starts may collide
		c, _, err = engine.StartConversation(ctx, l.core, engine.ConversationOptions{Username: fmt.Sprintf("pipebench%d", l.seq)})
		if err == nil || !errors.Is(err, domain.ErrConflict) || try == 10 {
			break
		}
	}
	if err != nil {
		return err
	}
	l.id, l.contact, l.n, l.said, l.msgID, l.ended, l.broken = c.ID, c.Contact, c.N, 0, 0, false, nil
	l.started++
	return nil
}

// next makes the lane ready for its next message: the replies sent (as
// the outbox would), a new dialog once this one ended or is long.
func (l *lane) next(ctx context.Context) error {
	if l.ended || l.said >= l.exchanges {
		return l.start(ctx)
	}
	return nil
}

// message records the lead's next message and waits for its reply;
// the latency counts from due. The planned replies are then marked
// sent (not counted).
func (l *lane) message(ctx context.Context, due time.Time) (time.Duration, error) {
	if l.broken != nil {
		if err := l.start(ctx); err != nil {
			return 0, err
		}
	}
	h := l.core.H
	l.msgID++
	text := messages[(l.seq+l.said)%len(messages)]
	if lr, ok := l.reply.(*liveReplier); ok {
		l.wait = lr.expect(l.id) // before the message: the engine may answer at once
	}
	if _, err := h.Dialog(ctx, l.id, l.contact, domain.RecordInbound{TelegramMessageID: l.msgID, Text: text, At: h.Now()}); err != nil {
		return 0, fmt.Errorf("record the message in dialog %d: %w", l.n, err)
	}
	l.said++
	lat, planned, err := l.reply.reply(ctx, l, due)
	if err != nil {
		return 0, err
	}
	for _, id := range planned {
		l.msgID++
		if _, err := h.Dialog(ctx, l.id, l.contact, domain.MarkSent{RandomID: id, TelegramMessageID: l.msgID}); err != nil {
			return lat, fmt.Errorf("mark the reply sent in dialog %d: %w", l.n, err)
		}
	}
	return lat, nil
}

// coreReplier takes the reply turn itself, as an engine worker does.
type coreReplier struct{ core *engine.Core }

func (c coreReplier) reply(ctx context.Context, l *lane, due time.Time) (time.Duration, []int64, error) {
	out, err := c.core.Turn(ctx, l.id, domain.TurnReply, c.core.H.Now())
	lat := time.Since(due)
	if err != nil {
		return 0, nil, fmt.Errorf("reply turn in dialog %d: %w", l.n, err)
	}
	if out.Failure != nil {
		return 0, nil, fmt.Errorf("reply turn in dialog %d: %w", l.n, out.Failure)
	}
	planned, ended := outcome(out.Events)
	l.ended = ended || out.Dialog.Stage == domain.StageClosed || out.Dialog.AISilent()
	if len(planned) == 0 && !l.ended {
		return 0, nil, fmt.Errorf("dialog %d: no reply planned", l.n)
	}
	return lat, planned, nil
}

// outcome is what a turn's events planned and whether the dialog ended
// for the AI (closed, opted out, handed to a person).
func outcome(evs []domain.Event) (planned []int64, ended bool) {
	for _, e := range evs {
		switch e := e.(type) {
		case domain.OutboundPlanned:
			planned = append(planned, e.RandomID)
		case domain.HandoffRequested, domain.DialogClosed, domain.DialogOptedOut:
			ended = true
		}
	}
	return planned, ended
}
