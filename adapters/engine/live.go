package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// Config configures an Engine.
type Config struct {
	Core   *Core
	Store  eventstore.Store
	Decode func(*eventstore.RecordedEvent) (domain.Event, error)
	Now    func() time.Time // default time.Now
	Log    *slog.Logger
	// Debounce: a reply waits until the lead has been quiet this long, so
	// a burst of messages gets one answer (default 15 s).
	Debounce time.Duration
	// Tick is how often due turns are looked for (default 1 s).
	Tick time.Duration
	// Workers bounds the turns taken at once (default 4).
	Workers int
	// RetryMin and RetryMax bound the wait before a turn whose model was
	// unreachable is tried again (default 30 s doubling to 15 min).
	RetryMin, RetryMax time.Duration
	// Hours returns t if it is within the working hours of the account,
	// else when they next begin; follow-ups are planned only inside them.
	// nil = any time.
	Hours func(ctx context.Context, account uuid.UUID, t time.Time) (time.Time, error)
	// Notify tells admins something (the model failing and recovering);
	// it must not block for long. dialog is 0 when none.
	Notify func(kind string, dialog int64, text string)
}

// Engine follows the log and takes each dialog's turns when they are due.
type Engine struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	dialogs map[uuid.UUID]*track
	caught  bool // the log was read to its head once
	failing bool // the model failed its last call
	told    time.Time
	waiting map[uuid.UUID]bool // dialogs waiting for the model
}

// track is what the scheduler knows of one open dialog.
type track struct {
	id, account uuid.UUID
	n           int64
	lastIn      time.Time // when the lead last wrote
	lastOut     time.Time // when salesbot last sent or planned a message
	retryAt     time.Time // a failed turn is tried again then
	seq         uint64    // bumped by every event of the dialog
	checked     uint64    // seq at the last look that found nothing due
	next        time.Time // look again then even without events (zero = never)
	busy        bool
	failures    int
}

// New returns an engine; Run starts it.
func New(cfg Config) (*Engine, error) {
	if cfg.Core == nil || cfg.Store == nil || cfg.Decode == nil {
		return nil, errors.New("engine: Config.Core, Store and Decode are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = 15 * time.Second
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = 30 * time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 15 * time.Minute
	}
	if cfg.Core.Log == nil {
		cfg.Core.Log = cfg.Log
	}
	return &Engine{cfg: cfg, log: cfg.Log, dialogs: map[uuid.UUID]*track{}, waiting: map[uuid.UUID]bool{}}, nil
}

// Run follows the log and takes turns until ctx ends. Everything it needs
// is in the log, so a restart picks up where it stopped: unanswered
// messages are answered, openings and follow-ups that were due are taken.
func (e *Engine) Run(ctx context.Context) error {
	sub := eventstore.Subscribe(e.cfg.Store, 1, 1024)
	head := e.cfg.Store.Head()
	for sub.Position() <= head {
		if err := e.follow(ctx, sub); err != nil {
			return err
		}
	}
	e.mu.Lock()
	e.caught = true
	e.mu.Unlock()
	var wg sync.WaitGroup
	defer wg.Wait()
	errs := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if err := e.follow(ctx, sub); err != nil {
				if ctx.Err() == nil {
					errs <- err
				}
				return
			}
		}
	}()
	slots := make(chan struct{}, e.cfg.Workers)
	t := time.NewTicker(e.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			return err
		case <-t.C:
		}
		for _, tr := range e.due() {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				e.release(tr, tr.seq, time.Time{})
				return nil
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				e.look(ctx, tr)
			}()
		}
	}
}

// follow applies the next batch of events.
func (e *Engine) follow(ctx context.Context, sub *eventstore.Subscription) error {
	recs, err := sub.Next(ctx)
	if err != nil {
		return fmt.Errorf("engine: follow the log: %w", err)
	}
	var optedOut []domain.Event
	var streams []uuid.UUID
	e.mu.Lock()
	for i := range recs {
		r := &recs[i]
		if !relevant[r.Type] {
			continue
		}
		ev, err := e.cfg.Decode(r)
		if err != nil {
			e.mu.Unlock()
			return fmt.Errorf("engine: %w", err)
		}
		id, err := uuid.Parse(r.Stream[len("dialog-"):])
		if err != nil {
			continue
		}
		if _, ok := ev.(domain.DialogOptedOut); ok {
			optedOut, streams = append(optedOut, ev), append(streams, id)
		}
		e.apply(id, r.RecordedAt, ev)
	}
	e.mu.Unlock()
	for i := range optedOut {
		e.repairOptOut(ctx, streams[i], optedOut[i].(domain.DialogOptedOut))
	}
	return nil
}

var relevant = map[string]bool{}

func init() {
	for _, ev := range []domain.Event{
		domain.DialogStarted{}, domain.InboundReceived{}, domain.OutboundPlanned{}, domain.OutboundSent{}, domain.OutboundFailed{},
		domain.TurnTaken{}, domain.TurnFailed{}, domain.HandoffRequested{}, domain.DialogTakenOver{}, domain.DialogReleased{},
		domain.DialogOptedOut{}, domain.DialogClosed{},
	} {
		relevant[ev.EventType()] = true
	}
}

// apply folds an event in; the caller holds e.mu.
func (e *Engine) apply(id uuid.UUID, at time.Time, ev domain.Event) {
	if s, ok := ev.(domain.DialogStarted); ok {
		e.dialogs[id] = &track{id: id, account: s.AccountID, n: s.N, lastOut: at, seq: 1} // new: look at it
		return
	}
	tr := e.dialogs[id]
	if tr == nil {
		return
	}
	tr.seq++
	switch ev := ev.(type) {
	case domain.InboundReceived:
		tr.lastIn = at
	case domain.OutboundPlanned, domain.OutboundSent:
		tr.lastOut = at
	case domain.TurnFailed:
		if ev.RetryAt.After(tr.retryAt) {
			tr.retryAt = ev.RetryAt
		}
	case domain.DialogClosed:
		delete(e.dialogs, id)
		delete(e.waiting, id)
	}
}

// repairOptOut puts the contact of an opted-out dialog on the
// do-not-contact list if a crash came between the two appends.
func (e *Engine) repairOptOut(ctx context.Context, dialog uuid.UUID, o domain.DialogOptedOut) {
	h := e.cfg.Core.H
	d, err := h.LoadDialog(ctx, dialog)
	if err != nil || !d.Exists {
		return
	}
	c, err := h.LoadContact(ctx, d.ContactID)
	if err != nil || !c.Exists || c.OptedOut || c.Forgotten {
		return
	}
	if _, err := h.Contact(ctx, d.ContactID, domain.OptOutContact{Reason: o.Reason, By: "lead"}); err != nil {
		e.log.Error("engine: put an opted-out contact on the do-not-contact list", "dialog", d.N, "err", err)
	}
}

// due returns the dialogs to look at now and marks them busy.
func (e *Engine) due() []*track {
	now := e.cfg.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*track
	for _, tr := range e.dialogs {
		if tr.busy {
			continue
		}
		if tr.seq == tr.checked && (tr.next.IsZero() || now.Before(tr.next)) {
			continue
		}
		tr.busy = true
		out = append(out, tr)
	}
	return out
}

// release ends a look at a dialog: if no event came meanwhile, the next
// look is at next (zero: only when an event comes).
func (e *Engine) release(tr *track, seq uint64, next time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	tr.busy = false
	tr.checked, tr.next = seq, next
}

// look decides what is due in one dialog and takes that turn.
func (e *Engine) look(ctx context.Context, tr *track) {
	e.mu.Lock()
	seq, lastIn, lastOut, retryAt := tr.seq, tr.lastIn, tr.lastOut, tr.retryAt
	e.mu.Unlock()
	now := e.cfg.Now()
	d, err := e.cfg.Core.H.LoadDialog(ctx, tr.id)
	if err != nil {
		e.log.Error("engine: load dialog", "dialog", tr.n, "err", err)
		e.release(tr, seq, now.Add(e.cfg.RetryMin))
		return
	}
	if !d.Exists || d.Stage == domain.StageClosed || d.AISilent() {
		e.release(tr, seq, time.Time{})
		return
	}
	kind, at := e.dueKind(ctx, d, tr, lastIn, lastOut, retryAt, now)
	if kind == "" || now.Before(at) {
		e.release(tr, seq, at)
		return
	}
	e.mu.Lock()
	retry := now.Add(e.backoff(tr.failures + 1))
	e.mu.Unlock()
	out, err := e.cfg.Core.Turn(ctx, d.ID, kind, retry)
	switch {
	case ctx.Err() != nil:
		e.release(tr, seq, time.Time{})
		return
	case err != nil:
		e.log.Error("engine: turn failed", "dialog", d.N, "kind", kind, "err", err)
		e.release(tr, seq, now.Add(e.cfg.RetryMin))
		return
	case out.Failure != nil:
		e.modelFailed(tr, d.N, out.Failure)
		e.mu.Lock()
		wait := e.backoff(tr.failures)
		tr.retryAt = now.Add(wait)
		e.mu.Unlock()
		e.release(tr, seq, now.Add(wait))
		return
	}
	if kind == domain.TurnReply {
		e.modelAnswered(tr)
	}
	if len(out.Events) > 0 {
		e.log.Info("engine: turn taken", "dialog", d.N, "kind", kind, "stage", out.Dialog.Stage, "events", len(out.Events))
	}
	// Look again soon: the events of this turn (or a follow-up timer)
	// decide what comes next.
	e.release(tr, seq, now)
}

// dueKind says which turn a dialog needs and from when: a reply once the
// lead is quiet for the debounce window (and a failed model call's wait
// is over), an opening for a dialog salesbot started, a follow-up after
// silence inside working hours. An empty kind with a time means "look
// again then"; with a zero time, "only when something happens".
func (e *Engine) dueKind(ctx context.Context, d domain.Dialog, tr *track, lastIn, lastOut, retryAt time.Time, now time.Time) (domain.TurnKind, time.Time) {
	sc := e.cfg.Core.Scenario
	switch {
	case d.Inbound > d.Answered:
		at := lastIn.Add(e.cfg.Debounce)
		if d.Waiting && retryAt.After(at) {
			at = retryAt
		}
		return domain.TurnReply, at
	case d.NeedsOpening():
		return domain.TurnOpening, now
	case len(d.Pending) > 0:
		return "", time.Time{} // the outbox is sending; its events bring us back
	case d.Outbound > 0 && d.FollowUps < sc.FollowUps.Max && sc.FollowUps.After > 0 && !lastOut.IsZero():
		at := lastOut.Add(sc.FollowUps.After)
		if e.cfg.Hours != nil && !now.Before(at) {
			open, err := e.cfg.Hours(ctx, d.AccountID, now)
			if err != nil {
				return "", now.Add(e.cfg.RetryMin)
			}
			if open.After(now) {
				return domain.TurnFollowUp, open
			}
		}
		return domain.TurnFollowUp, at
	}
	return "", time.Time{}
}

// backoff is the wait after the nth failure in a row: RetryMin doubling
// up to RetryMax.
func (e *Engine) backoff(n int) time.Duration {
	return min(e.cfg.RetryMin<<min(max(n-1, 0), 10), e.cfg.RetryMax)
}

// modelFailed tells admins once while the model keeps failing (again
// every 10 minutes, with how many dialogs wait).
func (e *Engine) modelFailed(tr *track, n int64, cause error) {
	e.mu.Lock()
	tr.failures++
	e.waiting[tr.id] = true
	now := e.cfg.Now()
	tell := !e.failing || now.Sub(e.told) >= 10*time.Minute
	e.failing = true
	waiting := len(e.waiting)
	if tell {
		e.told = now
	}
	e.mu.Unlock()
	e.log.Warn("engine: the model could not answer; the dialog waits", "dialog", n, "err", cause)
	if tell && e.cfg.Notify != nil {
		e.cfg.Notify("llm-failing", n, fmt.Sprintf("The language model does not answer (%v). %d dialog(s) wait; nothing is sent or dropped, and each is tried again with backoff.", cause, waiting))
	}
}

func (e *Engine) modelAnswered(tr *track) {
	e.mu.Lock()
	tr.failures = 0
	delete(e.waiting, tr.id)
	recovered := e.failing && len(e.waiting) == 0
	if recovered {
		e.failing = false
	}
	e.mu.Unlock()
	if recovered && e.cfg.Notify != nil {
		e.cfg.Notify("llm-recovered", 0, "The language model answers again; the waiting dialogs are being answered.")
	}
}
