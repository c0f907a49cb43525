package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
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
	// Snapshots, if set, keep what the engine folded from the log, so a
	// restart follows only the events after the last snapshot; nil =
	// the whole log is followed at every start.
	Snapshots *eventstore.Snapshots
	// Owns, if set, says whether this node takes the turns of account's
	// dialogs and tells the admins of a message into one that ended
	// (several nodes on one log: the node that holds the account's
	// lease); nil = all of them.
	Owns func(account uuid.UUID) bool
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
	// byContact are the open dialogs of each contact (an opt-out from
	// the do-not-contact list ends them without a walk over every one).
	byContact map[uuid.UUID][]*track
	closed    map[uuid.UUID]closedDialog // dialogs that ended, for messages that still come
	caught    bool                       // the log was read to its head once
	failing   bool                       // the model failed its last call
	told      time.Time
	waiting   map[uuid.UUID]bool      // dialogs waiting for the model
	snaps     *eventstore.Snapshotter // Run's; used by the goroutine that follows the log
}

// track is what the scheduler knows of one open dialog.
type track struct {
	id, account uuid.UUID
	contact     uuid.UUID
	optOut      string // the lead's opt-out message, not acted on yet
	contactOut  bool   // the contact went on the do-not-contact list (elsewhere)
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

// closedDialog is what the engine keeps of a dialog that ended.
type closedDialog struct {
	n       int64
	account uuid.UUID
	outcome domain.Outcome
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
	return &Engine{cfg: cfg, log: cfg.Log, dialogs: map[uuid.UUID]*track{}, byContact: map[uuid.UUID][]*track{}, closed: map[uuid.UUID]closedDialog{}, waiting: map[uuid.UUID]bool{}}, nil
}

// Run follows the log and takes turns until ctx ends. Everything it needs
// is in the log, so a restart picks up where it stopped: unanswered
// messages are answered, openings and follow-ups that were due are taken.
func (e *Engine) Run(ctx context.Context) error {
	sub, err := e.catchUp(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	e.mu.Lock()
	e.caught = true
	e.mu.Unlock()
	// Following the log and taking turns run until ctx ends or following
	// fails; that stops the turns too, and Run returns the failure.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer e.snapshot(context.WithoutCancel(ctx), sub, true)
		for gctx.Err() == nil {
			if err := e.follow(gctx, sub); err != nil {
				if gctx.Err() != nil {
					return nil
				}
				return err
			}
			e.snapshot(gctx, sub, false)
		}
		return nil
	})
	g.Go(func() error {
		e.takeTurns(gctx)
		return nil
	})
	return g.Wait()
}

// Caught says whether Run has read the log up to its head once (it takes
// turns from then on): part of the running system's readiness.
func (e *Engine) Caught() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.caught
}

// catchUp folds the log up to its head, from the engine's snapshot if it
// has one, and returns the subscription to follow it on with.
func (e *Engine) catchUp(ctx context.Context) (*eventstore.Subscription, error) {
	e.snaps = e.cfg.Snapshots.For(snapshotName, snapshotVersion, e.cfg.Now, e.log)
	from := e.snaps.Start(ctx, func(state []byte) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.unfold(state)
	})
	sub := eventstore.Subscribe(e.cfg.Store, from, 1024)
	head := e.cfg.Store.Head()
	for sub.Position() <= head {
		if err := ctx.Err(); err != nil { // stopped while catching up: keep the way made
			e.snapshot(context.WithoutCancel(ctx), sub, true)
			return nil, err
		}
		if err := e.follow(ctx, sub); err != nil {
			return nil, err
		}
		e.snapshot(ctx, sub, false)
	}
	return sub, nil
}

// takeTurns looks at the due dialogs every tick, at most Workers at once,
// until ctx ends; it returns when every look has.
func (e *Engine) takeTurns(ctx context.Context) {
	var looks errgroup.Group
	looks.SetLimit(e.cfg.Workers)
	defer looks.Wait()
	t := time.NewTicker(e.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, tr := range e.due() {
			looks.Go(func() error { // waits for a free worker
				if ctx.Err() == nil { // the engine stops; nothing more is looked at
					e.look(ctx, tr)
				}
				return nil
			})
			if ctx.Err() != nil {
				return
			}
		}
	}
}

// follow applies the next batch of events.
func (e *Engine) follow(ctx context.Context, sub *eventstore.Subscription) error {
	recs, err := sub.Next(ctx)
	if err != nil {
		return fmt.Errorf("engine: follow the log: %w", err)
	}
	var later []func(context.Context) // work that appends: not under e.mu
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
		if id, ok := domain.AggregateContact.ID(r.Stream); ok {
			if _, out := ev.(domain.ContactOptedOut); out {
				e.contactOptedOut(id)
			}
			continue
		}
		id, ok := domain.AggregateDialog.ID(r.Stream)
		if !ok {
			continue
		}
		if o, ok := ev.(domain.DialogOptedOut); ok {
			later = append(later, func(ctx context.Context) { e.repairOptOut(ctx, id, o) })
		}
		if f := e.apply(id, r.RecordedAt, ev); f != nil {
			later = append(later, f)
		}
	}
	e.mu.Unlock()
	for _, f := range later {
		f(ctx)
	}
	return nil
}

// contactOptedOut marks the contact's open dialogs to be ended; the
// caller holds e.mu.
func (e *Engine) contactOptedOut(contact uuid.UUID) {
	for _, tr := range e.byContact[contact] {
		tr.contactOut = true
		tr.seq++
	}
}

// track adds an open dialog; the caller holds e.mu.
func (e *Engine) track(tr *track) {
	e.dialogs[tr.id] = tr
	e.byContact[tr.contact] = append(e.byContact[tr.contact], tr)
}

// untrack removes an open dialog; the caller holds e.mu.
func (e *Engine) untrack(tr *track) {
	delete(e.dialogs, tr.id)
	rest := slices.DeleteFunc(e.byContact[tr.contact], func(x *track) bool { return x == tr })
	if len(rest) == 0 {
		delete(e.byContact, tr.contact)
	} else {
		e.byContact[tr.contact] = rest
	}
}

var relevant = map[string]bool{}

func init() {
	for _, ev := range []domain.Event{
		domain.DialogStarted{}, domain.InboundReceived{}, domain.OutboundPlanned{}, domain.OutboundSent{}, domain.OutboundFailed{},
		domain.TurnTaken{}, domain.TurnFailed{}, domain.HandoffRequested{}, domain.DialogTakenOver{}, domain.DialogReleased{},
		domain.DialogOptedOut{}, domain.DialogClosed{}, domain.ContactOptedOut{},
	} {
		relevant[ev.EventType()] = true
	}
}

// apply folds an event in; the caller holds e.mu. It may return work to
// do once the lock is released.
func (e *Engine) apply(id uuid.UUID, at time.Time, ev domain.Event) func(context.Context) {
	if s, ok := ev.(domain.DialogStarted); ok {
		if old := e.dialogs[id]; old != nil { // started twice: the log's last word counts
			e.untrack(old)
		}
		e.track(&track{id: id, account: s.AccountID, contact: s.ContactID, n: s.N, lastOut: at, seq: 1}) // new: look at it
		return nil
	}
	tr := e.dialogs[id]
	if tr == nil {
		if m, ok := ev.(domain.InboundReceived); ok {
			return e.wroteAfterClose(id, m)
		}
		return nil
	}
	tr.seq++
	switch ev := ev.(type) {
	case domain.InboundReceived:
		tr.lastIn = at
		if said := ev.Said(); domain.IsOptOut(said) && tr.optOut == "" {
			tr.optOut = said // acted on at once, whatever the dialog's state (a transcript too)
		}
	case domain.OutboundPlanned, domain.OutboundSent:
		tr.lastOut = at
	case domain.TurnFailed:
		if ev.RetryAt.After(tr.retryAt) {
			tr.retryAt = ev.RetryAt
		}
	case domain.HandoffRequested, domain.DialogTakenOver:
		delete(e.waiting, id) // a person answers it now
	case domain.DialogClosed:
		e.untrack(tr)
		delete(e.waiting, id)
		e.closed[id] = closedDialog{n: tr.n, account: tr.account, outcome: ev.Outcome}
	}
	return nil
}

// wroteAfterClose handles a lead's message in a dialog that ended: an
// opt-out still puts the person on the do-not-contact list; anything else
// is told to the admins (seen live), so it is never silently dropped,
// by the node that holds the account. The caller holds e.mu.
func (e *Engine) wroteAfterClose(id uuid.UUID, m domain.InboundReceived) func(context.Context) {
	c, ok := e.closed[id]
	if !ok {
		return nil
	}
	if said := m.Said(); domain.IsOptOut(said) {
		return func(ctx context.Context) {
			if _, err := e.cfg.Core.OptOut(ctx, id, said); err != nil {
				e.snaps.Hold() // the next start follows this event again and retries
				if ctx.Err() != nil {
					return
				}
				e.log.Error("engine: record an opt-out in a closed dialog", "dialog", c.n, "err", err)
			}
		}
	}
	if !e.caught || c.outcome == domain.OutcomeOptedOut || e.cfg.Notify == nil {
		return nil
	}
	if e.cfg.Owns != nil && !e.cfg.Owns(c.account) {
		return nil // the node that holds the account tells the admins, once
	}
	return func(context.Context) {
		e.cfg.Notify("wrote-after-close", c.n, fmt.Sprintf("dialog %d is closed (%s) and the lead wrote again; the assistant does not answer a closed dialog — /view %d", c.n, c.outcome, c.n))
	}
}

// repairOptOut puts the contact of a dialog the lead opted out of, and
// the person's other contacts, on the do-not-contact list if a crash came
// between the appends.
func (e *Engine) repairOptOut(ctx context.Context, dialog uuid.UUID, o domain.DialogOptedOut) {
	if !o.ByLead() {
		return // a manager's, an erasure's, the list's: the contact was opted out first
	}
	h := e.cfg.Core.H
	d, err := h.LoadDialog(ctx, dialog)
	if err != nil {
		e.snaps.Hold() // the next start follows this event again and retries
		if ctx.Err() == nil {
			e.log.Error("engine: load an opted-out dialog", "dialog", dialog, "err", err)
		}
		return
	}
	if !d.Exists {
		return
	}
	if err := e.cfg.Core.optOutContact(ctx, d, o.Reason); err != nil {
		e.snaps.Hold() // the next start follows this event again and retries
		if ctx.Err() == nil {
			e.log.Error("engine: put an opted-out contact on the do-not-contact list", "dialog", d.N, "err", err)
		}
	}
}

// due returns the dialogs to look at now and marks them busy.
func (e *Engine) due() []*track {
	now := e.cfg.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*track
	for _, tr := range e.dialogs {
		if tr.busy || (e.cfg.Owns != nil && !e.cfg.Owns(tr.account)) {
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
	optOut, contactOut := tr.optOut, tr.contactOut
	e.mu.Unlock()
	now := e.cfg.Now()
	if optOut != "" || contactOut {
		// An opt-out is acted on at once, in any state: the model down, a
		// manager in the dialog, a burst still coming.
		var err error
		if optOut != "" {
			_, err = e.cfg.Core.OptOut(ctx, tr.id, optOut)
		} else {
			_, err = e.cfg.Core.H.Dialog(ctx, tr.id, tr.contact, domain.OptOutDialog{Reason: "the contact is on the do-not-contact list", By: "do-not-contact"})
		}
		if err != nil && ctx.Err() == nil {
			e.log.Error("engine: end an opted-out dialog", "dialog", tr.n, "err", err)
			e.release(tr, seq, now.Add(e.cfg.RetryMin))
			return
		}
		e.mu.Lock()
		tr.optOut, tr.contactOut = "", false
		e.mu.Unlock()
		e.release(tr, seq, now)
		return
	}
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
	case d.Outbound > 0 && !lastOut.IsZero() && followUpAfter(e.cfg.Core.Scenario, d) > 0:
		at := lastOut.Add(followUpAfter(e.cfg.Core.Scenario, d))
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

// followUpAfter is how long after our last message the dialog's next
// follow-up is due, 0 for none: the scenario's follow-ups, or in a nurture
// stage its one follow-up after the stage's wait.
func followUpAfter(sc *scenario.Scenario, d domain.Dialog) time.Duration {
	if st, ok := nurturing(sc, d); ok {
		if d.FollowUps >= 1 {
			return 0
		}
		return st.After
	}
	if d.FollowUps >= sc.FollowUps.Max {
		return 0
	}
	return sc.FollowUps.After
}
