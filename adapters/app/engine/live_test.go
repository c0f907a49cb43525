package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
)

// clock is a fake clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// scripted is a Model test double: it answers "reply N" or fails as told,
// and records what it was asked; it writes openings apart ("Hello
// <first name>"), recorded in openings, neither failing nor counted.
type scripted struct {
	mu       sync.Mutex
	calls    []domain.TurnInput
	openings []domain.TurnInput
	fail     int // fail this many calls first
}

func (m *scripted) Turn(ctx context.Context, in domain.TurnInput) (domain.TurnOutput, domain.Usage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if in.Kind == domain.TurnOpening {
		m.openings = append(m.openings, in)
		return domain.TurnOutput{Reply: strings.TrimSpace("Hello " + in.Lead.FirstName)}, domain.Usage{Engine: "llm", Model: "fake", Attempts: 1}, nil
	}
	m.calls = append(m.calls, in)
	if m.fail > 0 {
		m.fail--
		return domain.TurnOutput{}, domain.Usage{Engine: "llm", Attempts: 5}, fmt.Errorf("%w: 503 after 5 attempts", domain.ErrModelUnavailable)
	}
	return domain.TurnOutput{Reply: fmt.Sprintf("reply %d", len(m.calls)), NextStage: domain.StageDiscovery, Score: 10}, domain.Usage{Engine: "llm", Model: "fake", Attempts: 1}, nil
}

func (m *scripted) inputs() []domain.TurnInput {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]domain.TurnInput(nil), m.calls...)
}

type world struct {
	t       *testing.T
	store   eventstore.Store
	h       domain.Handlers
	clock   *clock
	model   *scripted
	sc      *scenario.Scenario
	mu      sync.Mutex
	notices []string
	hours   func(time.Time) time.Time
	owns    func(account uuid.UUID) bool // nil: this node holds every account
}

func newWorld(t *testing.T) *world {
	t.Helper()
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	store, err := eventstore.NewMemory(eventstore.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, store: store, clock: c, model: &scripted{}, sc: sc, h: domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: c.Now}}
}

// run starts an engine until the returned stop is called.
func (w *world) run() (stop func()) {
	core := &engine.Core{H: w.h, Model: w.model, Scenario: w.sc}
	e, err := engine.New(engine.Config{Core: core, Store: w.store, Decode: eventlog.New(w.store).Decode, Now: w.clock.Now,
		Tick: 2 * time.Millisecond, Debounce: 15 * time.Second, RetryMin: time.Minute, RetryMax: 10 * time.Minute,
		Snapshots: w.snapshots(), // saved when Run returns: a restart starts from it
		Owns:      w.owns,
		Hours: func(_ context.Context, _ uuid.UUID, t time.Time) (time.Time, error) {
			if w.hours != nil {
				return w.hours(t), nil
			}
			return t, nil
		},
		Notify: func(kind string, _ int64, text string) {
			w.mu.Lock()
			w.notices = append(w.notices, kind+": "+text)
			w.mu.Unlock()
		}})
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			w.t.Errorf("engine: %v", err)
		}
	}
}

// snapshots are the engines' snapshots on the world's log.
func (w *world) snapshots() *eventstore.Snapshots {
	return &eventstore.Snapshots{Store: w.store, Secrets: w.store.(eventstore.Secrets)}
}

// dialog starts a dialog (by "inbound": the lead writes first, or by
// "admin:1": salesbot opens).
func (w *world) dialog(by string) (uuid.UUID, uuid.UUID) {
	ctx := context.Background()
	cid, did := uuid.New(), uuid.New()
	if _, err := w.h.Contact(ctx, cid, domain.AddContact{ContactID: cid, Source: domain.SourceManual, Basis: domain.BasisConsent, Username: "lead"}); err != nil {
		w.t.Fatal(err)
	}
	c, _ := w.h.LoadContact(ctx, cid)
	n, err := w.h.NextDialogNumber(ctx, did)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.h.Dialog(ctx, did, cid, domain.StartDialog{DialogID: did, N: n, Contact: c, AccountID: uuid.New(), By: by}); err != nil {
		w.t.Fatal(err)
	}
	return did, cid
}

var msgID int64

func (w *world) say(did, cid uuid.UUID, text string) {
	msgID++
	if _, err := w.h.Dialog(context.Background(), did, cid, domain.RecordInbound{TelegramMessageID: msgID, Text: text, At: w.clock.Now()}); err != nil {
		w.t.Fatal(err)
	}
}

// sendAll plays the outbox: every pending message is sent.
func (w *world) sendAll(did, cid uuid.UUID) int {
	d, err := w.h.LoadDialog(context.Background(), did)
	if err != nil {
		w.t.Fatal(err)
	}
	for id := range d.Pending {
		msgID++
		if _, err := w.h.Dialog(context.Background(), did, cid, domain.MarkSent{RandomID: id, TelegramMessageID: msgID}); err != nil {
			w.t.Fatal(err)
		}
	}
	return len(d.Pending)
}

// turns lists the dialog's TurnTaken events.
func (w *world) turns(did uuid.UUID) []domain.TurnTaken {
	evs, _, err := w.h.Log.Load(context.Background(), domain.DialogStream(did))
	if err != nil {
		w.t.Fatal(err)
	}
	var out []domain.TurnTaken
	for _, e := range evs {
		if t, ok := e.(domain.TurnTaken); ok {
			out = append(out, t)
		}
	}
	return out
}

func (w *world) count(did uuid.UUID, typ string) int {
	evs, _, _ := w.h.Log.Load(context.Background(), domain.DialogStream(did))
	n := 0
	for _, e := range evs {
		if e.EventType() == typ {
			n++
		}
	}
	return n
}

// eventually waits (real time) until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// settle gives the engine some real time to do what it would wrongly do.
func settle() { time.Sleep(60 * time.Millisecond) }

func TestBurstGetsOneReplyAfterTheDebounceWindow(t *testing.T) {
	w := newWorld(t)
	did, cid := w.dialog("inbound")
	stop := w.run()
	defer stop()
	for i := 1; i <= 5; i++ {
		w.say(did, cid, fmt.Sprintf("message %d", i))
		w.clock.Add(3 * time.Second)
		settle()
		if n := len(w.model.inputs()); n != 0 {
			t.Fatalf("the model was asked after message %d, inside the debounce window", i)
		}
	}
	w.clock.Add(12 * time.Second) // 15 s after the last message
	eventually(t, "one reply turn", func() bool { return len(w.turns(did)) == 1 })
	settle()
	in := w.model.inputs()
	if len(in) != 1 || len(in[0].New) != 5 || in[0].New[0] != "message 1" || in[0].New[4] != "message 5" {
		t.Fatalf("model inputs: %+v", in)
	}
	if got := w.turns(did); len(got) != 1 || got[0].Answered != 5 {
		t.Fatalf("turns: %+v", got)
	}
	if n := w.count(did, "OutboundPlanned"); n != 1 {
		t.Fatalf("%d replies planned for a burst, want 1", n)
	}
}

func TestOpeningAndFollowUpsInsideWorkingHours(t *testing.T) {
	w := newWorld(t)
	// Working hours 9:00–18:00 UTC.
	w.hours = func(t time.Time) time.Time {
		if t.Hour() >= 9 && t.Hour() < 18 {
			return t
		}
		next := time.Date(t.Year(), t.Month(), t.Day(), 9, 0, 0, 0, time.UTC)
		if !next.After(t) {
			next = next.AddDate(0, 0, 1)
		}
		return next
	}
	did, cid := w.dialog("admin:1")
	stop := w.run()
	defer stop()
	eventually(t, "the opening", func() bool { return w.count(did, "OutboundPlanned") == 1 })
	w.sendAll(did, cid)
	open := w.turns(did)[0]
	if open.Kind != domain.TurnOpening || len(w.model.inputs()) != 0 || len(w.model.openings) != 1 {
		t.Fatalf("opening turn %+v (model asked %d times for a reply, %d for an opening)", open, len(w.model.inputs()), len(w.model.openings))
	}
	// 24 h later it is 10:00 the next day: the first follow-up.
	w.clock.Add(24 * time.Hour)
	eventually(t, "the first follow-up", func() bool { return w.count(did, "OutboundPlanned") == 2 })
	w.sendAll(did, cid)
	// 24 h + 9 h later it is 19:00: outside working hours, nothing.
	w.clock.Add(33 * time.Hour)
	settle()
	if n := w.count(did, "OutboundPlanned"); n != 2 {
		t.Fatalf("a follow-up outside working hours (%d messages)", n)
	}
	w.clock.Add(14 * time.Hour) // 9:00
	eventually(t, "the second follow-up", func() bool { return w.count(did, "OutboundPlanned") == 3 })
	w.sendAll(did, cid)
	w.clock.Add(72 * time.Hour)
	settle()
	if n := w.count(did, "OutboundPlanned"); n != 3 {
		t.Fatalf("%d messages: more follow-ups than the scenario's %d", n, w.sc.FollowUps.Max)
	}
	var kinds []string
	for _, tt := range w.turns(did) {
		kinds = append(kinds, string(tt.Kind))
	}
	if strings.Join(kinds, ",") != "opening,follow-up,follow-up" {
		t.Fatalf("turns %v", kinds)
	}
}

func TestNoFollowUpAfterOptOut(t *testing.T) {
	w := newWorld(t)
	did, cid := w.dialog("admin:1")
	stop := w.run()
	defer stop()
	eventually(t, "the opening", func() bool { return w.count(did, "OutboundPlanned") == 1 })
	w.sendAll(did, cid)
	w.say(did, cid, "не пишите мне больше")
	// At once: no debounce window, no model.
	eventually(t, "the opt-out", func() bool { return w.count(did, "DialogOptedOut") == 1 })
	eventually(t, "the contact on the do-not-contact list", func() bool {
		c, _ := w.h.LoadContact(context.Background(), cid)
		return c.OptedOut
	})
	w.sendAll(did, cid)
	w.clock.Add(100 * time.Hour)
	settle()
	if n := w.count(did, "OutboundPlanned"); n != 2 { // the opening and the one confirmation
		t.Fatalf("%d messages planned; after an opt-out only the confirmation may go", n)
	}
	if len(w.model.inputs()) != 0 {
		t.Fatalf("the model was asked %d times; an opt-out is the code's decision", len(w.model.inputs()))
	}
}

func TestOptOutInAnyState(t *testing.T) {
	for _, state := range []string{"manager", "model down"} {
		t.Run(state, func(t *testing.T) {
			w := newWorld(t)
			did, cid := w.dialog("inbound")
			stop := w.run()
			defer stop()
			if state == "manager" {
				if _, err := w.h.Dialog(context.Background(), did, cid, domain.TakeOver{By: "admin:1"}); err != nil {
					t.Fatal(err)
				}
			} else {
				w.model.fail = 100
				w.say(did, cid, "hello?")
				w.clock.Add(16 * time.Second)
				eventually(t, "the model failing", func() bool { return w.count(did, "TurnFailed") >= 1 })
			}
			w.say(did, cid, "Stop. Do not write to me again.")
			eventually(t, "the opt-out", func() bool { return w.count(did, "DialogOptedOut") == 1 })
			eventually(t, "the contact on the list", func() bool {
				c, _ := w.h.LoadContact(context.Background(), cid)
				return c.OptedOut
			})
			d, _ := w.h.LoadDialog(context.Background(), did)
			if d.Outcome != domain.OutcomeOptedOut || !d.Confirmed {
				t.Fatalf("dialog %+v: want closed as opted out with its one confirmation", d)
			}
		})
	}
}

func TestAContactOptedOutElsewhereEndsItsOpenDialogs(t *testing.T) {
	w := newWorld(t)
	d1, cid := w.dialog("inbound")
	stop := w.run()
	defer stop()
	ctx := context.Background()
	c, _ := w.h.LoadContact(ctx, cid)
	d2 := uuid.New()
	n, _ := w.h.NextDialogNumber(ctx, d2)
	if _, err := w.h.Dialog(ctx, d2, cid, domain.StartDialog{DialogID: d2, N: n, Contact: c, AccountID: uuid.New(), By: "admin:1"}); err != nil {
		t.Fatal(err)
	}
	w.say(d1, cid, "please unsubscribe me")
	eventually(t, "both dialogs ended", func() bool {
		a, _ := w.h.LoadDialog(ctx, d1)
		b, _ := w.h.LoadDialog(ctx, d2)
		return a.Outcome == domain.OutcomeOptedOut && b.Outcome == domain.OutcomeOptedOut
	})
	settle()
	if n := w.count(d2, "OutboundPlanned"); n > 1 {
		t.Fatalf("%d messages planned in the other dialog", n)
	}
	evs, _, _ := w.h.Log.Load(ctx, domain.DialogStream(d2))
	for _, e := range evs {
		if c, ok := e.(domain.DialogClosed); ok && c.By != "do-not-contact" {
			t.Fatalf("the other dialog was closed by %q; only the first was the lead's own opt-out", c.By)
		}
	}
}

// One Telegram user can be two contacts: an import lists them once by user
// id and once by username, and cannot know they are one person; a start
// with the username's contact then found its user id linked to the other.
// The do-not-contact list is of people: "stop" in one contact's dialog
// opts out both and ends the other's dialog.
func TestOptOutCoversEveryContactOfThePerson(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	byID, byName := uuid.New(), uuid.New()
	if _, err := w.h.Contact(ctx, byID, domain.AddContact{ContactID: byID, Source: domain.SourceImport, Basis: domain.BasisConsent, UserID: 501}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.h.LinkUser(ctx, 501, byID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.h.Contact(ctx, byName, domain.AddContact{ContactID: byName, Source: domain.SourceImport, Basis: domain.BasisConsent, Username: "anna_k"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.h.LinkUsername(ctx, "anna_k", byName); err != nil {
		t.Fatal(err)
	}
	if linked, err := w.h.LinkUser(ctx, 501, byName); err != nil || linked != byID {
		t.Fatalf("user 501 is linked to %s (%v); want the first contact", linked, err)
	}
	if _, err := w.h.Contact(ctx, byName, domain.SetTelegramUser{UserID: 501}); err != nil {
		t.Fatal(err)
	}
	start := func(cid uuid.UUID) uuid.UUID {
		c, _ := w.h.LoadContact(ctx, cid)
		did := uuid.New()
		n, _ := w.h.NextDialogNumber(ctx, did)
		if _, err := w.h.Dialog(ctx, did, cid, domain.StartDialog{DialogID: did, N: n, Contact: c, AccountID: uuid.New(), By: "inbound"}); err != nil {
			t.Fatal(err)
		}
		return did
	}
	dName, dID := start(byName), start(byID)
	stop := w.run()
	defer stop()
	w.say(dName, byName, "stop")
	eventually(t, "both contacts on the do-not-contact list", func() bool {
		a, _ := w.h.LoadContact(ctx, byID)
		b, _ := w.h.LoadContact(ctx, byName)
		return a.OptedOut && b.OptedOut
	})
	eventually(t, "the other contact's dialog ended", func() bool {
		d, _ := w.h.LoadDialog(ctx, dID)
		return d.Outcome == domain.OutcomeOptedOut
	})
	settle()
	if n := w.count(dID, "OutboundPlanned"); n != 0 {
		t.Fatalf("%d messages planned in the other contact's dialog", n)
	}
}

// A lead's message into a closed dialog is told to the admins, by the
// node that holds the dialog's account only (several nodes follow one
// log); an opt-out there is recorded whichever node sees it.
func TestAMessageIntoAClosedDialogIsToldToAdmins(t *testing.T) {
	for _, tc := range []struct {
		name    string
		holds   bool
		notices int
	}{{"this node holds the account", true, 1}, {"another node holds it", false, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			did, cid := w.dialog("inbound")
			d, err := w.h.LoadDialog(context.Background(), did)
			if err != nil {
				t.Fatal(err)
			}
			w.owns = func(account uuid.UUID) bool { return (account == d.AccountID) == tc.holds }
			if _, err := w.h.Dialog(context.Background(), did, cid, domain.CloseDialog{Outcome: domain.OutcomeLost, By: "ai"}); err != nil {
				t.Fatal(err)
			}
			stop := w.run()
			defer stop()
			settle()
			w.say(did, cid, "actually, let's talk")
			w.say(did, cid, "stop")
			eventually(t, "the opt-out recorded", func() bool {
				c, _ := w.h.LoadContact(context.Background(), cid)
				return c.OptedOut
			})
			settle()
			if n := w.count(did, "OutboundPlanned"); n != 0 {
				t.Fatalf("%d messages planned into a closed dialog", n)
			}
			eventually(t, fmt.Sprintf("%d notices", tc.notices), func() bool {
				w.mu.Lock()
				defer w.mu.Unlock()
				return len(w.notices) == tc.notices
			})
			w.mu.Lock()
			defer w.mu.Unlock()
			if tc.notices == 1 && !strings.HasPrefix(w.notices[0], "wrote-after-close: ") {
				t.Fatalf("notice %q", w.notices[0])
			}
		})
	}
}

func TestModelFailureWaitsTellsAdminsAndRetries(t *testing.T) {
	w := newWorld(t)
	w.model.fail = 2
	did, cid := w.dialog("inbound")
	stop := w.run()
	defer stop()
	w.say(did, cid, "hello?")
	w.clock.Add(16 * time.Second)
	eventually(t, "the failure recorded", func() bool { return w.count(did, "TurnFailed") == 1 })
	w.clock.Add(time.Minute) // the first retry fails too
	eventually(t, "the second call", func() bool { return len(w.model.inputs()) == 2 })
	settle()
	if n := w.count(did, "TurnFailed"); n != 2 {
		t.Fatalf("%d TurnFailed events; one per failed attempt", n)
	}
	if n := w.count(did, "OutboundPlanned"); n != 0 {
		t.Fatal("something was sent while the model was down")
	}
	w.clock.Add(2 * time.Minute) // the backoff doubled
	eventually(t, "the reply", func() bool { return w.count(did, "OutboundPlanned") == 1 })
	eventually(t, "the recovery notice", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.notices) == 2
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	if !strings.HasPrefix(w.notices[0], "llm-failing: ") || !strings.Contains(w.notices[0], "503") || !strings.HasPrefix(w.notices[1], "llm-recovered") {
		t.Fatalf("notices %q", w.notices)
	}
	if got := w.turns(did); len(got) != 1 || got[0].Answered != 1 {
		t.Fatalf("turns %+v", got)
	}
}

func TestRestartAnswersWhatCameInWhileDownAndNothingTwice(t *testing.T) {
	w := newWorld(t)
	did, cid := w.dialog("inbound")
	stop := w.run()
	w.say(did, cid, "first")
	w.clock.Add(16 * time.Second)
	eventually(t, "the first reply", func() bool { return w.count(did, "OutboundPlanned") == 1 })
	stop()
	w.say(did, cid, "second, while salesbot was down")
	w.clock.Add(time.Hour)
	stop = w.run()
	defer stop()
	eventually(t, "the second reply", func() bool { return w.count(did, "OutboundPlanned") == 2 })
	settle()
	in := w.model.inputs()
	if len(in) != 2 || len(in[1].New) != 1 || in[1].New[0] != "second, while salesbot was down" {
		t.Fatalf("model inputs %+v", in)
	}
	if len(in[1].History) < 2 || in[1].History[0].Text != "first" || in[1].History[1].Role != domain.RoleAssistant {
		t.Fatalf("history %+v", in[1].History)
	}
}

func TestSilentAfterHandoffUntilRelease(t *testing.T) {
	w := newWorld(t)
	did, cid := w.dialog("inbound")
	stop := w.run()
	defer stop()
	ctx := context.Background()
	if _, err := w.h.Dialog(ctx, did, cid, domain.TakeOver{By: "admin:1"}); err != nil {
		t.Fatal(err)
	}
	w.say(did, cid, "hello?")
	w.clock.Add(time.Minute)
	settle()
	if len(w.model.inputs()) != 0 {
		t.Fatal("the AI answered a dialog a manager took over")
	}
	if _, err := w.h.Dialog(ctx, did, cid, domain.Release{By: "admin:1"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reply after /release", func() bool { return w.count(did, "OutboundPlanned") == 1 })
}

func TestOptOutIsRepairedOnStart(t *testing.T) {
	w := newWorld(t)
	did, cid := w.dialog("inbound")
	// A crash between the dialog's opt-out and the contact's.
	if err := w.h.Log.Append(context.Background(), domain.DialogStream(did), 1, cid.String(),
		[]domain.Event{domain.DialogOptedOut{Reason: "stop"}, domain.DialogClosed{Outcome: domain.OutcomeOptedOut, By: "lead"}}); err != nil {
		t.Fatal(err)
	}
	stop := w.run()
	defer stop()
	eventually(t, "the contact on the do-not-contact list", func() bool {
		c, _ := w.h.LoadContact(context.Background(), cid)
		return c.OptedOut
	})
}

func TestNewRequiresItsParts(t *testing.T) {
	if _, err := engine.New(engine.Config{}); err == nil || !strings.Contains(err.Error(), "required") {
		t.Fatal("an engine without a core, store and decoder was made")
	}
}

// blocked is a Model whose turns wait until their context ends.
type blocked struct {
	entered chan struct{}
	ended   chan error
}

func (m blocked) Turn(ctx context.Context, _ domain.TurnInput) (domain.TurnOutput, domain.Usage, error) {
	m.entered <- struct{}{}
	<-ctx.Done()
	m.ended <- ctx.Err()
	return domain.TurnOutput{}, domain.Usage{}, ctx.Err()
}

// When following the log fails, Run stops the turns under way (a model
// call may take minutes) and returns the failure; it does not wait for
// them to end by themselves.
func TestAFollowFailureStopsTheTurns(t *testing.T) {
	w := newWorld(t)
	did, cid := w.dialog("inbound")
	m := blocked{entered: make(chan struct{}, 1), ended: make(chan error, 1)}
	e, err := engine.New(engine.Config{Core: &engine.Core{H: w.h, Model: m, Scenario: w.sc, TurnTimeout: time.Hour},
		Store: w.store, Decode: eventlog.New(w.store).Decode, Now: w.clock.Now, Tick: 2 * time.Millisecond, Debounce: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background()) }()
	w.say(did, cid, "hello?")
	w.clock.Add(2 * time.Second)
	select {
	case <-m.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("no turn was taken")
	}
	// An event the engine reads but cannot decode.
	if _, err := w.store.Append(context.Background(), domain.DialogStream(did), eventstore.Any,
		eventstore.Event{Type: (domain.InboundReceived{}).EventType(), Payload: []byte("{")}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Run returned nil after following the log failed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run waited for the turn under way instead of stopping it")
	}
	if err := <-m.ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("the turn ended with %v, want its context cancelled", err)
	}
}
