// Package sinktest is the conformance suite of projections.Sink: it drives
// the same dialogs through the domain, the event log and the projection
// runner into a sink, and checks every query result.
package sinktest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// Factory makes a new, empty sink; it registers its own clean-up.
type Factory func(t *testing.T) projections.Sink

// Run runs the suite.
func Run(t *testing.T, newSink Factory) {
	t.Run("Dialogs", func(t *testing.T) { t.Parallel(); testDialogs(t, newSink) })
	t.Run("RebuildGivesSameRows", func(t *testing.T) { t.Parallel(); testRebuild(t, newSink) })
	t.Run("ApplyIsAtomic", func(t *testing.T) { t.Parallel(); testAtomic(t, newSink) })
	t.Run("ForgottenContact", func(t *testing.T) { t.Parallel(); testForgotten(t, newSink) })
	t.Run("QualificationAccountsFunnel", func(t *testing.T) { t.Parallel(); testAnalytics(t, newSink) })
	t.Run("ExportDialog", func(t *testing.T) { t.Parallel(); testExport(t, newSink) })
	t.Run("Turns", func(t *testing.T) { t.Parallel(); testTurns(t, newSink) })
	t.Run("CustomQualification", func(t *testing.T) { t.Parallel(); testCustom(t, newSink) })
	t.Run("Campaigns", func(t *testing.T) { t.Parallel(); testCampaigns(t, newSink) })
	t.Run("CheckpointTiedToItsLog", func(t *testing.T) { t.Parallel(); testCheckpointLog(t, newSink) })
	t.Run("Outcomes", func(t *testing.T) { t.Parallel(); testOutcomes(t, newSink) })
	t.Run("Totals", func(t *testing.T) { t.Parallel(); testTotals(t, newSink) })
	t.Run("Meetings", func(t *testing.T) { t.Parallel(); testMeetings(t, newSink) })
	t.Run("Insights", func(t *testing.T) { t.Parallel(); testInsights(t, newSink) })
	t.Run("Bandit", func(t *testing.T) { t.Parallel(); testBandit(t, newSink) })
	t.Run("Media", func(t *testing.T) { t.Parallel(); testMedia(t, newSink) })
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// world is a log with a few dialogs made through the domain handlers.
type world struct {
	store    eventstore.Store
	log      *eventlog.Log
	h        domain.Handlers
	contacts []uuid.UUID
	dialogs  []uuid.UUID
	turns    [][]uint64 // positions of the script's turn events, by dialog N-1
	clock    time.Time  // the log's and the handlers' clock
}

func newWorld(t *testing.T) *world {
	w := &world{clock: t0.Add(123456789)} // nanoseconds: sinks keep microseconds
	now := func() time.Time { return w.clock }
	store, err := eventstore.NewMemory(eventstore.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	w.store, w.log = store, eventlog.New(store)
	w.h = domain.Handlers{Log: w.log, Index: domain.NewIndexKey(store.IndexKey()), Now: now}
	return w
}

// must fails the test on a command's error: w.must(t)(w.h.Dialog(...)).
func (w *world) must(t *testing.T) func([]domain.Event, error) {
	return func(_ []domain.Event, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// contact is the domain's state of contact id.
func (w *world) contact(t *testing.T, id uuid.UUID) domain.Contact {
	t.Helper()
	c, err := w.h.LoadContact(t.Context(), id)
	if err != nil {
		t.Fatalf("contact %s: %v", id, err)
	}
	return c
}

// addDialog adds a contact and a dialog numbered n.
func (w *world) addDialog(t *testing.T, n int64, username string) (contact, dialog uuid.UUID) {
	t.Helper()
	ctx := t.Context()
	contact, dialog = uuid.New(), uuid.New()
	w.must(t)(w.h.Contact(ctx, contact, domain.AddContact{ContactID: contact, Source: domain.SourceImport, Basis: domain.BasisConsent, Username: username, Name: "Lead " + username}))
	c, err := w.h.LoadContact(ctx, contact)
	if err != nil {
		t.Fatal(err)
	}
	w.must(t)(w.h.Dialog(ctx, dialog, contact, domain.StartDialog{DialogID: dialog, N: n, Contact: c, AccountID: uuid.New(), Variant: "A", By: "ai"}))
	w.contacts, w.dialogs = append(w.contacts, contact), append(w.dialogs, dialog)
	return contact, dialog
}

// record appends events to a dialog's stream as the dialog engine does
// (turn events come with no command of their own) and returns the
// position of the last one.
func (w *world) record(t *testing.T, dialog, contact uuid.UUID, evs ...domain.Event) uint64 {
	t.Helper()
	ctx := t.Context()
	stream := domain.DialogStream(dialog)
	v, err := w.log.Version(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.log.Append(ctx, stream, v, contact.String(), evs); err != nil {
		t.Fatal(err)
	}
	return w.store.Head()
}

func (w *world) runner(sink projections.Sink) projections.Runner {
	return projections.Runner{Store: w.store, Decode: w.log.Decode, Sink: sink, Batch: 3}
}

func score(n int) *int { return &n }

// The script's turns: an offline opening and an LLM reply in dialog 1, a
// failed turn and a retried one in dialog 3.
var (
	opening  = domain.TurnTaken{Kind: domain.TurnOpening, Engine: "offline", Scenario: "acme", ScenarioVersion: "3", Variant: "A", VariantVersion: "3a", Language: "en", LatencyMs: 2}
	reply    = domain.TurnTaken{Kind: domain.TurnReply, Engine: "llm", Model: "gpt-4o-mini", Scenario: "acme", ScenarioVersion: "3", Variant: "A", VariantVersion: "3a", Language: "en", Answered: 1, PromptTokens: 900, CompletionTokens: 80, CachedPromptTokens: 640, LatencyMs: 1200, Attempts: 2, Score: score(85), Flags: []string{"asks-if-bot"}, Guards: []string{"bot question answered with the disclosure", "ungrounded figure 90%: reply withheld"}}
	failed   = domain.TurnFailed{Engine: "llm", Model: "gpt-4o-mini", Reason: "429 Too Many Requests", Attempts: 4, LatencyMs: 9000, RetryAt: t0.Add(time.Minute + 1500).In(time.FixedZone("MSK", 3*3600))}
	followUp = domain.TurnTaken{Kind: domain.TurnFollowUp, Engine: "llm", Model: "gpt-4o-mini", Scenario: "acme", ScenarioVersion: "3", Variant: "A", VariantVersion: "3a", Language: "ru", PromptTokens: 700, CompletionTokens: 40, LatencyMs: 800, Attempts: 1, Score: score(0)}
)

// script plays three dialogs: one qualified and handed off, one opted out,
// one still in discovery; the dialog engine's turns go into 1 and 3.
func (w *world) script(t *testing.T) {
	ctx := t.Context()
	c1, d1 := w.addDialog(t, 1, "anna")
	_, d2 := w.addDialog(t, 2, "boris")
	_, d3 := w.addDialog(t, 3, "clara")
	w.turns = make([][]uint64, 3)
	contact1 := w.contact(t, c1)
	w.turns[0] = append(w.turns[0], w.record(t, d1, c1, opening))
	w.must(t)(w.h.Dialog(ctx, d1, c1, domain.PlanOutbound{RandomID: 11, Text: "Hello, I am the AI assistant of Acme.", By: domain.ActorAI, Contact: contact1}))
	w.must(t)(w.h.Dialog(ctx, d1, c1, domain.MarkSent{RandomID: 11, TelegramMessageID: 1<<40 + 501}))
	// A time in another zone, as Telegram's may come: stored as UTC.
	w.must(t)(w.h.Dialog(ctx, d1, c1, domain.RecordInbound{TelegramMessageID: 502, Text: "We need a CRM, budget 10k", At: t0.Add(time.Minute).In(time.FixedZone("MSK", 3*3600))}))
	w.turns[0] = append(w.turns[0], w.record(t, d1, c1, reply))
	w.must(t)(w.h.Dialog(ctx, d1, c1, domain.UpdateQualification{Qual: domain.Qualification{Score: score(85),
		Need: &domain.Field{Value: "CRM", Quote: "We need a CRM", Confidence: 0.9}, Budget: &domain.Field{Value: "10k", Quote: "budget 10k", Confidence: 0.7},
		Custom: []domain.CustomField{{Name: "team_size", Value: "12 reps", Quote: "we are 12 reps", Confidence: 0.8}}}}))
	w.must(t)(w.h.Dialog(ctx, d1, c1, domain.ChangeStage{To: domain.StageOffer}))
	w.must(t)(w.h.Dialog(ctx, d1, c1, domain.RequestHandoff{Reason: "score 85"}))
	w.must(t)(w.h.Dialog(ctx, d2, w.contacts[1], domain.RecordInbound{TelegramMessageID: 601, Text: "stop", At: t0.Add(2 * time.Minute)}))
	w.must(t)(w.h.Dialog(ctx, d2, w.contacts[1], domain.OptOutDialog{Reason: "stop"}))
	w.must(t)(w.h.Dialog(ctx, d3, w.contacts[2], domain.ChangeStage{To: domain.StageDiscovery}))
	w.turns[2] = append(w.turns[2], w.record(t, d3, w.contacts[2], failed), w.record(t, d3, w.contacts[2], followUp))
	contact3 := w.contact(t, w.contacts[2])
	w.must(t)(w.h.Dialog(ctx, d3, w.contacts[2], domain.PlanOutbound{RandomID: 31, Text: "What do you sell?", By: domain.ActorAI, Contact: contact3}))
	w.must(t)(w.h.Dialog(ctx, d3, w.contacts[2], domain.MarkFailed{RandomID: 31, Reason: "USER_PRIVACY_RESTRICTED"}))
}

func catchUp(t *testing.T, r projections.Runner) uint64 {
	t.Helper()
	pos, err := r.CatchUp(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if pos != r.Store.Head() {
		t.Fatalf("caught up to %d, head is %d", pos, r.Store.Head())
	}
	return pos
}

func testDialogs(t *testing.T, newSink Factory) {
	w := newWorld(t)
	w.script(t)
	sink := newSink(t)
	catchUp(t, w.runner(sink))
	ctx := t.Context()

	d1, err := sink.DialogByN(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d1.Stage != "handoff" || d1.Status != projections.StatusHandoff || d1.Score == nil || *d1.Score != 85 ||
		d1.Inbound != 1 || d1.Outbound != 1 || !d1.LastMessageAt.Equal(t0.Add(time.Minute)) || d1.Variant != "A" {
		t.Fatalf("dialog 1: %+v", d1)
	}
	// Times come back the same from every sink: UTC, microseconds.
	if want := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC); d1.CreatedAt != want || d1.FirstOutboundAt != want {
		t.Fatalf("dialog 1 created %#v, first outbound %#v; want %#v", d1.CreatedAt, d1.FirstOutboundAt, want)
	}
	if want := t0.Add(time.Minute); d1.LastMessageAt != want || d1.FirstInboundAt != want {
		t.Fatalf("dialog 1 last message %#v; want %#v", d1.LastMessageAt, want)
	}
	msgs, err := sink.Messages(ctx, d1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Direction != "out" || msgs[0].Status != "sent" || msgs[0].TelegramID != 1<<40+501 ||
		msgs[0].Text != "Hello, I am the AI assistant of Acme." || msgs[1].Direction != "in" || msgs[1].Text != "We need a CRM, budget 10k" {
		t.Fatalf("dialog 1 messages: %+v", msgs)
	}
	d2 := dialogN(t, sink, 2)
	if d2.Status != projections.StatusClosed || d2.Outcome != "opted-out" || d2.Stage != "closed" {
		t.Fatalf("dialog 2: %+v", d2)
	}
	d3 := dialogN(t, sink, 3)
	m3 := messagesOf(t, sink, d3.ID)
	if d3.Stage != "discovery" || d3.Status != projections.StatusActive || len(m3) != 1 || m3[0].Status != "failed" || d3.Outbound != 0 {
		t.Fatalf("dialog 3: %+v %+v", d3, m3)
	}
	if _, err := sink.DialogByN(ctx, 99); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("dialog 99: %v", err)
	}

	all := listDialogs(t, sink, projections.DialogFilter{})
	if ns := numbers(all); !reflect.DeepEqual(ns, []int64{3, 2, 1}) {
		t.Fatalf("list all: %v", ns)
	}
	active := listDialogs(t, sink, projections.DialogFilter{Status: projections.StatusActive})
	if ns := numbers(active); !reflect.DeepEqual(ns, []int64{3}) {
		t.Fatalf("list active: %v", ns)
	}
	paged := listDialogs(t, sink, projections.DialogFilter{Limit: 2, Offset: 1})
	if ns := numbers(paged); !reflect.DeepEqual(ns, []int64{2, 1}) {
		t.Fatalf("page 2: %v", ns)
	}
	byAccount := listDialogs(t, sink, projections.DialogFilter{Account: d2.AccountID})
	if ns := numbers(byAccount); !reflect.DeepEqual(ns, []int64{2}) {
		t.Fatalf("by account: %v", ns)
	}
	byStage := listDialogs(t, sink, projections.DialogFilter{Stage: "handoff"})
	if ns := numbers(byStage); !reflect.DeepEqual(ns, []int64{1}) {
		t.Fatalf("stage handoff: %v", ns)
	}
	if ns := numbers(listDialogs(t, sink, projections.DialogFilter{Before: 3, Limit: 1})); !reflect.DeepEqual(ns, []int64{2}) {
		t.Fatalf("before 3, one: %v", ns)
	}
	if ns := numbers(listDialogs(t, sink, projections.DialogFilter{Before: 1})); len(ns) != 0 {
		t.Fatalf("before 1: %v", ns)
	}
	if ns := numbers(listDialogs(t, sink, projections.DialogFilter{Since: d3.CreatedAt})); len(ns) == 0 || ns[0] != 3 {
		t.Fatalf("since dialog 3 started: %v", ns)
	}
	if ns := numbers(listDialogs(t, sink, projections.DialogFilter{Since: d3.CreatedAt.Add(time.Second)})); len(ns) != 0 {
		t.Fatalf("since after dialog 3 started: %v", ns)
	}
	if ns := numbers(listDialogs(t, sink, projections.DialogFilter{Numbers: []int64{3, 1, 7}})); !reflect.DeepEqual(ns, []int64{3, 1}) {
		t.Fatalf("numbers 3, 1, 7: %v", ns)
	}
	if ns := numbers(listDialogs(t, sink, projections.DialogFilter{Numbers: []int64{}})); len(ns) != 0 {
		t.Fatalf("no numbers: %v", ns)
	}
	// The same page as numbers and leads.
	leads, err := sink.DialogLeads(ctx, projections.DialogFilter{Before: 3, Limit: 5})
	if err != nil || len(leads) != 2 || leads[0].N != 2 || leads[1].N != 1 {
		t.Fatalf("leads before 3: %+v %v", leads, err)
	}
	for _, l := range leads {
		c := contactByID(t, sink, l.ContactID)
		if want := dialogN(t, sink, l.N); l.ContactID != want.ContactID || l.Name != c.Name || l.Username != c.Username {
			t.Errorf("lead of dialog %d: %+v, want contact %s %q @%s", l.N, l, want.ContactID, c.Name, c.Username)
		}
	}
	if leads, err := sink.DialogLeads(ctx, projections.DialogFilter{Numbers: []int64{}}); err != nil || leads != nil {
		t.Errorf("leads of no numbers: %v %v", leads, err)
	}
	c, err := sink.ContactByID(ctx, w.contacts[0])
	if err != nil || c.Username != "anna" || c.Source != "import" || c.Basis != "consent" || c.OptedOut {
		t.Fatalf("contact: %+v %v", c, err)
	}
	// Many at once (a list's names): the same rows, an unknown id absent,
	// an id asked twice once.
	unknown := uuid.New()
	cs, err := sink.ContactsByID(ctx, []uuid.UUID{w.contacts[1], unknown, w.contacts[0], w.contacts[1]})
	if err != nil || len(cs) != 2 {
		t.Fatalf("contacts by id: %d of them, %v; want 2", len(cs), err)
	}
	for _, id := range w.contacts[:2] {
		if want := contactByID(t, sink, id); !reflect.DeepEqual(cs[id], want) {
			t.Errorf("contacts by id: %+v, ContactByID %+v", cs[id], want)
		}
	}
	if _, ok := cs[unknown]; ok {
		t.Errorf("contacts by id: an unknown id found")
	}
	if cs, err := sink.ContactsByID(ctx, nil); err != nil || len(cs) != 0 {
		t.Errorf("contacts by no id: %v %v", cs, err)
	}

	// Live: more events, applied from the checkpoint on, each once.
	w.must(t)(w.h.Dialog(ctx, d1.ID, w.contacts[0], domain.TakeOver{By: "admin:1"}))
	w.must(t)(w.h.Dialog(ctx, d1.ID, w.contacts[0], domain.CloseDialog{Outcome: domain.OutcomeWon, By: "admin:1"}))
	catchUp(t, w.runner(sink))
	d1 = dialogN(t, sink, 1)
	if d1.Status != projections.StatusClosed || d1.Outcome != "won" || !d1.TakenOver || d1.Inbound != 1 {
		t.Fatalf("dialog 1 after close: %+v", d1)
	}
	if msgs := messagesOf(t, sink, d1.ID); len(msgs) != 2 {
		t.Fatalf("messages applied twice: %d", len(msgs))
	}
}

// The sink's answers, failing the test on an error.

func dialogN(t *testing.T, sink projections.Sink, n int64) projections.Dialog {
	t.Helper()
	d, err := sink.DialogByN(t.Context(), n)
	if err != nil {
		t.Fatalf("dialog %d: %v", n, err)
	}
	return d
}

func messagesOf(t *testing.T, sink projections.Sink, dialog uuid.UUID) []projections.Message {
	t.Helper()
	ms, err := sink.Messages(t.Context(), dialog)
	if err != nil {
		t.Fatalf("messages of %s: %v", dialog, err)
	}
	return ms
}

func listDialogs(t *testing.T, sink projections.Sink, f projections.DialogFilter) []projections.Dialog {
	t.Helper()
	ds, err := sink.ListDialogs(t.Context(), f)
	if err != nil {
		t.Fatalf("list dialogs %+v: %v", f, err)
	}
	return ds
}

func contactByID(t *testing.T, sink projections.Sink, id uuid.UUID) projections.Contact {
	t.Helper()
	c, err := sink.ContactByID(t.Context(), id)
	if err != nil {
		t.Fatalf("contact %s: %v", id, err)
	}
	return c
}

func turnsOf(t *testing.T, sink projections.Sink, dialog uuid.UUID) []projections.Turn {
	t.Helper()
	ts, err := sink.Turns(t.Context(), dialog)
	if err != nil {
		t.Fatalf("turns of %s: %v", dialog, err)
	}
	return ts
}

func accountsOf(t *testing.T, sink projections.Sink) []projections.Account {
	t.Helper()
	as, err := sink.Accounts(t.Context())
	if err != nil {
		t.Fatalf("accounts: %v", err)
	}
	return as
}

func campaignsOf(t *testing.T, sink projections.Sink) []projections.Campaign {
	t.Helper()
	cs, err := sink.Campaigns(t.Context())
	if err != nil {
		t.Fatalf("campaigns: %v", err)
	}
	return cs
}

func campaignOf(t *testing.T, sink projections.Sink, id uuid.UUID) projections.Campaign {
	t.Helper()
	c, err := sink.Campaign(t.Context(), id)
	if err != nil {
		t.Fatalf("campaign %s: %v", id, err)
	}
	return c
}

func numbers(ds []projections.Dialog) []int64 {
	var out []int64
	for _, d := range ds {
		out = append(out, d.N)
	}
	return out
}

// snapshot is every query result, for comparing two sinks or two builds.
func snapshot(t *testing.T, sink projections.Sink, w *world) any {
	ctx := t.Context()
	ds, err := sink.ListDialogs(ctx, projections.DialogFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var msgs [][]projections.Message
	for _, d := range ds {
		m, err := sink.Messages(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	var cs []projections.Contact
	for _, id := range w.contacts {
		c, err := sink.ContactByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	var quals [][]projections.Qualification
	var turns [][]projections.Turn
	for _, d := range ds {
		q, err := sink.Qualification(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		tu, err := sink.Turns(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		quals, turns = append(quals, q), append(turns, tu)
	}
	campaigns, err := sink.Campaigns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	variants, err := sink.VariantFunnel(ctx, uuid.Nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	totals, err := sink.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	meetings, err := sink.UpcomingMeetings(ctx, time.Time{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var insights []any
	for _, d := range ds {
		if in, err := sink.Insight(ctx, d.ID); err == nil {
			insights = append(insights, in)
		}
	}
	return []any{ds, msgs, cs, quals, turns, campaigns, variants, totals, meetings, insights}
}

func testRebuild(t *testing.T, newSink Factory) {
	w := newWorld(t)
	w.script(t)
	live := newSink(t)
	// Live: one event per batch as the log grows...
	r := w.runner(live)
	r.Batch = 1
	catchUp(t, r)
	before := snapshot(t, live, w)
	if turns := before.([]any)[4].([][]projections.Turn); len(turns[2]) != 2 || len(turns[0]) != 2 {
		t.Fatalf("the script's turns are not in the snapshot: %+v", turns)
	}
	// ... then dropped and rebuilt in big batches.
	if err := live.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	if cp, err := live.Checkpoint(t.Context()); err != nil || cp != (projections.Checkpoint{}) {
		t.Fatalf("checkpoint after reset: %+v %v", cp, err)
	}
	r.Batch = 1000
	catchUp(t, r)
	if after := snapshot(t, live, w); !reflect.DeepEqual(before, after) {
		t.Fatalf("rebuild differs:\nlive    %+v\nrebuilt %+v", before, after)
	}
}

func testAtomic(t *testing.T, newSink Factory) {
	w := newWorld(t)
	_, d := w.addDialog(t, 1, "anna")
	sink := newSink(t)
	pos := catchUp(t, w.runner(sink))
	before, err := sink.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	at := func(p uint64) projections.Checkpoint {
		return projections.Checkpoint{LogID: w.store.LogID(), Position: p, Hash: [32]byte{byte(p)}}
	}
	// A batch whose last change fails (a second dialog numbered 1) must
	// leave nothing and keep the checkpoint.
	bad := []projections.Change{
		projections.UpdateDialog{ID: d, Stage: ptr("offer"), At: t0},
		projections.PutDialog{Dialog: projections.Dialog{ID: uuid.New(), N: 1, ContactID: uuid.New(), AccountID: uuid.New(), Stage: "opening", Status: "active", CreatedAt: t0, UpdatedAt: t0}},
	}
	if err := sink.Apply(t.Context(), bad, pos+1, at(pos+5)); err == nil {
		t.Fatal("a batch with a duplicate dialog number was applied")
	}
	if cp, err := sink.Checkpoint(t.Context()); err != nil || cp != before {
		t.Fatalf("checkpoint moved to %+v after a failed batch (%v)", cp, err)
	}
	if got := dialogN(t, sink, 1); got.Stage != "opening" {
		t.Fatalf("part of a failed batch was applied: stage %s", got.Stage)
	}
	if err := sink.Apply(t.Context(), nil, pos, at(pos)); !errors.Is(err, projections.ErrCheckpoint) {
		t.Fatalf("a batch applied twice: %v", err)
	}
	if err := sink.Apply(t.Context(), nil, pos+10, at(pos+12)); !errors.Is(err, projections.ErrCheckpoint) {
		t.Fatalf("a batch that skips events: %v", err)
	}
	// Two new dialogs with one number in one batch.
	dup := func() projections.Change {
		return projections.PutDialog{Dialog: projections.Dialog{ID: uuid.New(), N: 2, ContactID: uuid.New(), AccountID: uuid.New(), Stage: "opening", Status: "active", CreatedAt: t0, UpdatedAt: t0}}
	}
	if err := sink.Apply(t.Context(), []projections.Change{dup(), dup()}, pos+1, at(pos+1)); err == nil {
		t.Fatal("two dialogs numbered 2 in one batch")
	}
	if _, err := sink.DialogByN(t.Context(), 2); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("a dialog of the failed batch: %v", err)
	}
	if ds, err := sink.ListDialogs(t.Context(), projections.DialogFilter{Offset: -5}); err != nil || len(ds) != 1 {
		t.Fatalf("negative offset: %d dialogs, %v", len(ds), err)
	}
}

func ptr[T any](v T) *T { return &v }

func testForgotten(t *testing.T, newSink Factory) {
	w := newWorld(t)
	w.script(t)
	sink := newSink(t)
	catchUp(t, w.runner(sink))
	ctx := t.Context()
	anna := w.contacts[0]
	d1 := dialogN(t, sink, 1)
	qsBefore, err := sink.Qualification(ctx, d1.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A second dialog of anna's, handed off only after the erasure.
	annaNow, err := w.h.LoadContact(ctx, anna)
	if err != nil {
		t.Fatal(err)
	}
	d4 := uuid.New()
	w.must(t)(w.h.Dialog(ctx, d4, anna, domain.StartDialog{DialogID: d4, N: 4, Contact: annaNow, AccountID: uuid.New(), Variant: "A", By: "ai"}))
	// Another contact's handoff keeps its reason.
	w.must(t)(w.h.Dialog(ctx, w.dialogs[2], w.contacts[2], domain.RequestHandoff{Reason: "clara wants a demo"}))
	// Erase: recording it shreds the key in the same write, so nothing
	// personal of the contact can be recorded after it: the dialog
	// refuses it, or the store does.
	w.must(t)(w.h.Contact(ctx, anna, domain.ForgetContact{By: "admin:1"}))
	for _, late := range []struct {
		dialog uuid.UUID
		cmd    domain.DialogCommand
	}{
		{d1.ID, domain.RecordInbound{TelegramMessageID: 9, Text: "my phone is +1 555", At: t0}},
		{d4, domain.RequestHandoff{Reason: "Anna wants a call on +1 555"}},
		{d1.ID, domain.UpdateQualification{Qual: domain.Qualification{Timeline: &domain.Field{Value: "May", Quote: "in May", Confidence: 1},
			Custom: []domain.CustomField{{Name: "tool", Value: "Excel", Quote: "we use Excel", Confidence: 0.6}}}}},
	} {
		if _, err := w.h.Dialog(ctx, late.dialog, anna, late.cmd); err != nil && !errors.Is(err, eventstore.ErrForgotten) {
			t.Fatalf("%T of an erased contact: %v", late.cmd, err)
		}
	}
	check := func(when string) {
		c := contactByID(t, sink, anna)
		if !c.Forgotten || !c.OptedOut || c.Username == "anna" || c.Name == "Lead anna" {
			t.Fatalf("%s: contact %+v", when, c)
		}
		d1 := dialogN(t, sink, 1)
		// Every personal column of the dialogs, messages and
		// qualification rows reads as forgotten.
		if d1.HandoffAt.IsZero() || d1.HandoffReason != projections.Forgotten {
			t.Fatalf("%s: dialog 1 handed off at %v for %q: the reason survived erasure", when, d1.HandoffAt, d1.HandoffReason)
		}
		if d4, err := sink.DialogByN(ctx, 4); err != nil || (d4.HandoffReason != projections.Forgotten && d4.HandoffReason != "") {
			t.Fatalf("%s: dialog 4 (a handoff asked after the erasure) %+v, %v", when, d4, err)
		}
		if d3 := dialogN(t, sink, 3); d3.HandoffReason != "clara wants a demo" {
			t.Fatalf("%s: another contact's handoff reason reads %q", when, d3.HandoffReason)
		}
		msgs := messagesOf(t, sink, d1.ID)
		for _, m := range msgs {
			if m.Text != projections.Forgotten && m.Text != eventstore.ForgottenMarker {
				t.Fatalf("%s: message text %q survived erasure", when, m.Text)
			}
		}
		qs, err := sink.Qualification(ctx, d1.ID)
		if err != nil || len(qs) != len(qsBefore) {
			t.Fatalf("%s: qualification %+v, %v", when, qs, err)
		}
		for _, q := range qs {
			if q.Value == "CRM" || q.Quote == "We need a CRM" || q.Value == "10k" || q.Value == "May" || q.Quote == "in May" ||
				q.Value == "12 reps" || q.Quote == "we are 12 reps" || q.Value == "Excel" || q.Quote == "we use Excel" {
				t.Fatalf("%s: qualification %+v survived erasure", when, q)
			}
		}
		d3 := dialogN(t, sink, 3)
		if m3 := messagesOf(t, sink, d3.ID); len(m3) != 1 || m3[0].Text != "What do you sell?" {
			t.Fatalf("%s: another contact's message was blanked: %+v", when, m3)
		}
		// Turns hold no personal data: they stay as they were.
		if ts, err := sink.Turns(ctx, d1.ID); err != nil || len(ts) != 2 || ts[1].Guards[0] != reply.Guards[0] {
			t.Fatalf("%s: turns %+v, %v", when, ts, err)
		}
	}
	catchUp(t, w.runner(sink))
	check("erased")
	if err := w.store.Forget(ctx, anna.String()); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w.runner(sink))
	check("live")
	if err := sink.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w.runner(sink))
	check("rebuilt")
}

func testAnalytics(t *testing.T, newSink Factory) {
	w := newWorld(t)
	w.script(t)
	ctx := t.Context()
	acc := uuid.New()
	w.must(t)(w.h.Account(ctx, acc, domain.RegisterAccount{AccountID: acc, Label: "sales-1", Limits: domain.DefaultLimits()}))
	w.must(t)(w.h.Account(ctx, acc, domain.MarkConnected{}))
	w.must(t)(w.h.Account(ctx, acc, domain.ReserveNewDialog{DialogID: uuid.New()}))
	w.must(t)(w.h.Account(ctx, acc, domain.ReserveNewDialog{DialogID: uuid.New()}))
	w.must(t)(w.h.Account(ctx, acc, domain.ReserveMessage{DialogID: uuid.New(), RandomID: 7}))
	w.must(t)(w.h.Account(ctx, acc, domain.MarkRestricted{Reason: "PEER_FLOOD"}))
	sink := newSink(t)
	catchUp(t, w.runner(sink))

	d1 := dialogN(t, sink, 1)
	q, err := sink.Qualification(ctx, d1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 3 || q[0].Field != "budget" || q[0].Value != "10k" || q[0].Quote != "budget 10k" || q[1].Field != "need" || q[1].Confidence != 0.9 ||
		q[2] != (projections.Qualification{DialogID: d1.ID, Field: "team_size", Value: "12 reps", Quote: "we are 12 reps", Confidence: 0.8, UpdatedAt: q[1].UpdatedAt}) {
		t.Fatalf("qualification: %+v", q)
	}
	if d1.FirstOutboundAt.IsZero() || !d1.FirstInboundAt.Equal(t0.Add(time.Minute)) || d1.HandoffAt.IsZero() || d1.HandoffReason != "score 85" {
		t.Fatalf("funnel facts of dialog 1: %+v", d1)
	}
	accs, err := sink.Accounts(ctx)
	if err != nil || len(accs) != 1 || accs[0].Label != "sales-1" || accs[0].Status != "restricted" || accs[0].Reason != "PEER_FLOOD" ||
		accs[0].DailyCap != domain.DefaultLimits().DailyNewDialogs || accs[0].DialogsToday != 2 || accs[0].Day != "2026-11-25" || accs[0].MessagesTotal != 1 {
		t.Fatalf("accounts: %+v %v", accs, err)
	}
	w.must(t)(w.h.Account(ctx, acc, domain.ResumeAccount{By: "admin:1"}))
	lim := domain.DefaultLimits()
	lim.DailyNewDialogs, lim.MessagesPerMinute = 50, 9
	w.must(t)(w.h.Account(ctx, acc, domain.SetLimits{Limits: lim}))
	catchUp(t, w.runner(sink))
	if accs := accountsOf(t, sink); len(accs) != 1 || accs[0].Status != "offline" || accs[0].Reason != "" || accs[0].DailyCap != 50 || accs[0].MessagesPerMinute != 9 {
		t.Fatalf("account after resume: %+v", accs)
	}

	want := map[string][]projections.FunnelRow{
		projections.ByStage: {
			{Key: "closed", Dialogs: 1, Replied: 1, OptedOut: 1},
			{Key: "discovery", Dialogs: 1},
			{Key: "handoff", Dialogs: 1, Replied: 1, Handoffs: 1},
		},
		projections.ByVariant: {{Key: "A", Dialogs: 3, Replied: 2, Handoffs: 1, OptedOut: 1}},
		projections.ByDay:     {{Key: "2026-11-25", Dialogs: 3, Replied: 2, Handoffs: 1, OptedOut: 1}},
		projections.ByStatus: {
			{Key: "active", Dialogs: 1},
			{Key: "closed", Dialogs: 1, Replied: 1, OptedOut: 1},
			{Key: "handoff", Dialogs: 1, Replied: 1, Handoffs: 1},
		},
	}
	for by, rows := range want {
		got, err := sink.Funnel(ctx, by)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, rows) {
			t.Errorf("funnel by %s:\n got %+v\nwant %+v", by, got, rows)
		}
	}
	byAccount, err := sink.Funnel(ctx, projections.ByAccount)
	if err != nil || len(byAccount) != 3 {
		t.Fatalf("funnel by account: %+v %v", byAccount, err)
	}
	if _, err := sink.Funnel(ctx, "color"); err == nil {
		t.Fatal("funnel by an unknown grouping")
	}
}

func testExport(t *testing.T, newSink Factory) {
	w := newWorld(t)
	w.script(t)
	sink := newSink(t)
	catchUp(t, w.runner(sink))
	var b strings.Builder
	if err := projections.ExportDialog(t.Context(), sink, 1, &b); err != nil {
		t.Fatal(err)
	}
	want := `Dialog 1
Contact: Lead anna (@anna), source import, basis consent
Stage: handoff, status: handoff, score 85, variant A
Started: 2026-11-25 10:00:00
Handed off: 2026-11-25 10:00:00 (score 85)
budget: 10k — "budget 10k" (confidence 0.70)
need: CRM — "We need a CRM" (confidence 0.90)
team_size: 12 reps — "we are 12 reps" (confidence 0.80)

[2026-11-25 10:00:00] ai: Hello, I am the AI assistant of Acme.
[2026-11-25 10:01:00] lead: We need a CRM, budget 10k
`
	if b.String() != want {
		t.Fatalf("export:\n%s\nwant:\n%s", b.String(), want)
	}
	if err := projections.ExportDialog(t.Context(), sink, 42, &b); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("export of a missing dialog: %v", err)
	}
	var all strings.Builder
	n, err := projections.ExportAll(t.Context(), sink, &all)
	if err != nil || n != 3 {
		t.Fatalf("export all: %d dialogs, %v", n, err)
	}
	if i1, i3 := strings.Index(all.String(), "Dialog 1\n"), strings.Index(all.String(), "Dialog 3\n"); i1 != 0 || i3 < 0 || !strings.Contains(all.String(), want) {
		t.Fatalf("export all:\n%s", all.String())
	}
}

func testTurns(t *testing.T, newSink Factory) {
	w := newWorld(t)
	w.script(t)
	sink := newSink(t)
	catchUp(t, w.runner(sink))
	ctx := t.Context()
	at := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC) // the log's clock, to the microsecond

	d1 := dialogN(t, sink, 1)
	got, err := sink.Turns(ctx, d1.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []projections.Turn{
		{DialogID: d1.ID, Position: w.turns[0][0], At: at, Status: projections.TurnOK, Kind: "opening", Engine: "offline",
			Scenario: "acme", ScenarioVersion: "3", Variant: "A", VariantVersion: "3a", Language: "en", LatencyMs: 2},
		{DialogID: d1.ID, Position: w.turns[0][1], At: at, Status: projections.TurnOK, Kind: "reply", Engine: "llm", Model: "gpt-4o-mini",
			Scenario: "acme", ScenarioVersion: "3", Variant: "A", VariantVersion: "3a", Language: "en",
			PromptTokens: 900, CompletionTokens: 80, CachedPromptTokens: 640, LatencyMs: 1200, Attempts: 2, Score: score(85),
			Flags: []string{"asks-if-bot"}, Guards: []string{"bot question answered with the disclosure", "ungrounded figure 90%: reply withheld"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("dialog 1 turns:\n got %+v\nwant %+v", got, want)
	}
	// A failed turn, then the retry; a time in another zone and with
	// nanoseconds comes back in UTC to the microsecond, a score of 0 is
	// kept.
	d3 := dialogN(t, sink, 3)
	got, err = sink.Turns(ctx, d3.ID)
	if err != nil {
		t.Fatal(err)
	}
	want = []projections.Turn{
		{DialogID: d3.ID, Position: w.turns[2][0], At: at, Status: projections.TurnFailed, Engine: "llm", Model: "gpt-4o-mini",
			LatencyMs: 9000, Attempts: 4, Reason: "429 Too Many Requests", RetryAt: time.Date(2026, 11, 25, 10, 1, 0, 1000, time.UTC)},
		{DialogID: d3.ID, Position: w.turns[2][1], At: at, Status: projections.TurnOK, Kind: "follow-up", Engine: "llm", Model: "gpt-4o-mini",
			Scenario: "acme", ScenarioVersion: "3", Variant: "A", VariantVersion: "3a", Language: "ru",
			PromptTokens: 700, CompletionTokens: 40, LatencyMs: 800, Attempts: 1, Score: score(0)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("dialog 3 turns:\n got %+v\nwant %+v", got, want)
	}
	if w.turns[2][0] >= w.turns[2][1] {
		t.Fatalf("positions %v", w.turns[2])
	}
	// None: no rows and no error, for a dialog without turns or an unknown one.
	d2 := dialogN(t, sink, 2)
	for _, id := range []uuid.UUID{d2.ID, uuid.New()} {
		if ts, err := sink.Turns(ctx, id); err != nil || len(ts) != 0 {
			t.Fatalf("turns of %s: %+v, %v", id, ts, err)
		}
	}
	// What a caller does with the rows does not change the sink's.
	first := turnsOf(t, sink, d1.ID)
	if len(first) != 2 || first[1].Score == nil || len(first[1].Flags) == 0 {
		t.Fatalf("dialog 1 turns: %+v", first)
	}
	*first[1].Score, first[1].Flags[0] = 1, "changed"
	if again := turnsOf(t, sink, d1.ID); len(again) != 2 || *again[1].Score != 85 || again[1].Flags[0] != "asks-if-bot" {
		t.Fatalf("a caller changed the sink's row: %+v", again)
	}

	// Live: a new turn is applied once, after the others.
	pos := w.record(t, d1.ID, w.contacts[0], domain.TurnTaken{Kind: domain.TurnFollowUp, Engine: "offline", Scenario: "acme", ScenarioVersion: "4", Language: "en", LatencyMs: 1})
	catchUp(t, w.runner(sink))
	ts := turnsOf(t, sink, d1.ID)
	if len(ts) != 3 || ts[2].Position != pos || ts[2].ScenarioVersion != "4" || ts[2].Variant != "" || ts[2].Score != nil || ts[0].Position != w.turns[0][0] {
		t.Fatalf("dialog 1 turns after a live one: %+v", ts)
	}
}

// testCustom: a scenario's own qualification fields are rows like the
// standard ones, replaced by name, listed in byte order of the name.
func testCustom(t *testing.T, newSink Factory) {
	w := newWorld(t)
	w.script(t)
	sink := newSink(t)
	catchUp(t, w.runner(sink))
	ctx := t.Context()
	d1 := dialogN(t, sink, 1)
	c1 := w.contacts[0]
	w.must(t)(w.h.Dialog(ctx, d1.ID, c1, domain.UpdateQualification{Qual: domain.Qualification{Custom: []domain.CustomField{
		{Name: "team_size", Value: "15 reps", Quote: "15 of us now", Confidence: 0.9},
		{Name: "teams", Value: "2", Confidence: 0.5},
		{Name: "Tool", Value: "Excel", Quote: "we use Excel", Confidence: 0.6},
	}}}))
	catchUp(t, w.runner(sink))
	qs, err := sink.Qualification(ctx, d1.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range qs {
		got = append(got, q.Field+"="+q.Value+"|"+q.Quote)
	}
	want := []string{"Tool=Excel|we use Excel", "budget=10k|budget 10k", "need=CRM|We need a CRM", "team_size=15 reps|15 of us now", "teams=2|"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("qualification:\n got %q\nwant %q", got, want)
	}
	// The score stays: an update of custom fields only does not touch it.
	if d := dialogN(t, sink, 1); d.Score == nil || *d.Score != 85 {
		t.Fatalf("dialog 1 score after a custom update: %v", d.Score)
	}
	// The same as the domain's view of the dialog.
	d, err := w.h.LoadDialog(ctx, d1.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if f := d.Qual.Get(q.Field); f == nil || f.Value != q.Value || f.Quote != q.Quote || f.Confidence != q.Confidence {
			t.Errorf("field %s: the sink has %+v, the domain %+v", q.Field, q, f)
		}
	}
}

// addCampaignDialog adds a contact and dialog n opened by a campaign with
// a variant.
func (w *world) addCampaignDialog(t *testing.T, n int64, campaign uuid.UUID, variant string) (contact, dialog uuid.UUID) {
	t.Helper()
	ctx := t.Context()
	contact, dialog = uuid.New(), uuid.New()
	w.must(t)(w.h.Contact(ctx, contact, domain.AddContact{ContactID: contact, Source: domain.SourceImport, Basis: domain.BasisConsent, Username: fmt.Sprintf("lead%d", n)}))
	c, err := w.h.LoadContact(ctx, contact)
	if err != nil {
		t.Fatal(err)
	}
	w.must(t)(w.h.Dialog(ctx, dialog, contact, domain.StartDialog{DialogID: dialog, N: n, Contact: c, AccountID: uuid.New(), Variant: variant,
		By: "campaign:" + campaign.String(), Campaign: campaign}))
	w.contacts, w.dialogs = append(w.contacts, contact), append(w.dialogs, dialog)
	return contact, dialog
}

// testCampaigns: campaigns as their events leave them, the campaign of
// each dialog, and the funnel by variant with its one definition of
// qualified (the score reached 50 at some point).
func testCampaigns(t *testing.T, newSink Factory) {
	w := newWorld(t)
	w.script(t) // dialogs 1-3: variant A, no campaign; 1 reaches score 85
	ctx := t.Context()
	c1 := uuid.MustParse("0193a0c0-0000-7000-8000-0000000ca001")
	c2 := uuid.MustParse("0193a0c0-0000-7000-8000-0000000ca002")
	acc := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000a1")
	msk := time.FixedZone("MSK", 3*3600)
	sched := domain.CampaignSchedule{Start: time.Date(2026, 12, 2, 12, 0, 0, 999, msk), End: time.Date(2026, 12, 9, 12, 0, 0, 0, msk),
		Days: []time.Weekday{time.Monday, time.Tuesday}, TimeZone: "Europe/Berlin", StartMinute: 9 * 60, EndMinute: 18 * 60}
	seg := domain.Segment{Tags: []string{"saas"}, Fields: []domain.SegmentField{{Name: "city", Value: "Berlin"}}}
	w.must(t)(w.h.Campaign(ctx, c1, domain.CreateCampaign{CampaignID: c1, Name: "Q1 Berlin", Segment: seg, Scenario: "acme", Version: "3",
		Variants: []domain.VariantWeight{{Name: "B", Weight: 30}, {Name: "A", Weight: 70}}, Accounts: []uuid.UUID{acc},
		Schedule: sched, Caps: domain.CampaignCaps{DailyNewDialogs: 20, TotalDialogs: 100}, By: "cli"}))
	w.must(t)(w.h.Campaign(ctx, c2, domain.CreateCampaign{CampaignID: c2, Name: "Everyone", Scenario: "acme", Version: "3",
		Variants: []domain.VariantWeight{{Name: "B", Weight: 1}}, Schedule: domain.CampaignSchedule{Start: t0, End: t0.Add(time.Hour)}, By: "admin:7"}))
	for _, cmd := range []domain.CampaignCommand{domain.PauseCampaign{By: "admin:1"}, domain.ResumeCampaign{By: "admin:1"}, domain.PauseCampaign{By: "admin:2"}} {
		w.must(t)(w.h.Campaign(ctx, c1, cmd))
	}
	w.must(t)(w.h.Campaign(ctx, c2, domain.EndCampaign{By: "admin:1", Reason: "done"}))

	// Dialogs 4-5 (A) and 6-7 (B) of campaign 1, 8 (B) of campaign 2.
	c4, d4 := w.addCampaignDialog(t, 4, c1, "A")
	c5, d5 := w.addCampaignDialog(t, 5, c1, "A")
	c6, d6 := w.addCampaignDialog(t, 6, c1, "B")
	c7, d7 := w.addCampaignDialog(t, 7, c1, "B")
	w.addCampaignDialog(t, 8, c2, "B")
	for _, c := range []uuid.UUID{c4, c5, c6, c7} { // claimed before their dialogs, as the scheduler does
		if err := w.log.Append(ctx, domain.CampaignTargetStream(c1, c), 0, "", []domain.Event{domain.CampaignTargeted{CampaignID: c1, ContactID: c, AccountID: acc}}); err != nil {
			t.Fatal(err)
		}
	}
	qual := func(d, c uuid.UUID, score int) {
		t.Helper()
		w.must(t)(w.h.Dialog(ctx, d, c, domain.UpdateQualification{Qual: domain.Qualification{Score: &score}}))
	}
	in := func(d, c uuid.UUID, id int64, text string) {
		t.Helper()
		w.must(t)(w.h.Dialog(ctx, d, c, domain.RecordInbound{TelegramMessageID: id, Text: text, At: t0}))
	}
	in(d4, c4, 1, "tell me more")
	qual(d4, c4, 50) // exactly the threshold: qualified
	w.must(t)(w.h.Dialog(ctx, d4, c4, domain.RequestHandoff{Reason: "wants a call"}))
	in(d5, c5, 1, "not now")
	qual(d5, c5, 49) // just under
	w.must(t)(w.h.Dialog(ctx, d5, c5, domain.CloseDialog{Outcome: domain.OutcomeLost, By: "ai"}))
	in(d6, c6, 1, "stop")
	w.must(t)(w.h.Dialog(ctx, d6, c6, domain.OptOutDialog{Reason: "stop"}))
	qual(d7, c7, 40)
	qual(d7, c7, 80) // qualified now ...
	qual(d7, c7, 10) // ... and stays so
	// A manager opts the lead out: not the lead's answer, not counted.
	w.must(t)(w.h.Dialog(ctx, d7, c7, domain.OptOutDialog{Reason: "asked by phone", By: "admin:7"}))

	sink := newSink(t)
	catchUp(t, w.runner(sink))
	if ns := numbers(listDialogs(t, sink, projections.DialogFilter{Campaign: c2})); !reflect.DeepEqual(ns, []int64{8}) {
		t.Fatalf("dialogs of campaign 2: %v", ns)
	}
	at := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC) // the log's clock, to the microsecond
	want := []projections.Campaign{
		{ID: c1, Name: "Q1 Berlin", Status: projections.CampaignPaused, Scenario: "acme", Version: "3",
			Variants: []domain.VariantWeight{{Name: "B", Weight: 30}, {Name: "A", Weight: 70}}, Segment: seg, Accounts: []uuid.UUID{acc},
			Schedule: domain.CampaignSchedule{Start: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 9, 9, 0, 0, 0, time.UTC),
				Days: []time.Weekday{time.Monday, time.Tuesday}, TimeZone: "Europe/Berlin", StartMinute: 540, EndMinute: 1080},
			Caps: domain.CampaignCaps{DailyNewDialogs: 20, TotalDialogs: 100}, Targeted: 4, CreatedBy: "cli", CreatedAt: at, UpdatedAt: at},
		{ID: c2, Name: "Everyone", Status: projections.CampaignEnded, Scenario: "acme", Version: "3",
			Variants: []domain.VariantWeight{{Name: "B", Weight: 1}}, Schedule: domain.CampaignSchedule{Start: t0, End: t0.Add(time.Hour)},
			CreatedBy: "admin:7", EndReason: "done", CreatedAt: at, UpdatedAt: at},
	}
	check := func(when string) {
		t.Helper()
		got, err := sink.Campaigns(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: campaigns\n got %+v\nwant %+v", when, got, want)
		}
		one, err := sink.Campaign(ctx, c2)
		if err != nil || !reflect.DeepEqual(one, want[1]) {
			t.Fatalf("%s: campaign 2: %+v, %v", when, one, err)
		}
		if _, err := sink.Campaign(ctx, uuid.New()); !errors.Is(err, projections.ErrNotFound) {
			t.Fatalf("%s: an unknown campaign: %v", when, err)
		}
		funnels := []struct {
			name     string
			campaign uuid.UUID
			since    time.Time
			want     []projections.VariantCounts
		}{
			{"campaign 1", c1, time.Time{}, []projections.VariantCounts{
				{Variant: "A", Dialogs: 2, Replied: 2, Qualified: 1, Handoffs: 1, Lost: 1},
				{Variant: "B", Dialogs: 2, Replied: 1, Qualified: 1, OptedOut: 1},
			}},
			{"campaign 2", c2, t0, []projections.VariantCounts{{Variant: "B", Dialogs: 1}}},
			{"every dialog", uuid.Nil, time.Time{}, []projections.VariantCounts{
				{Variant: "A", Dialogs: 5, Replied: 4, Qualified: 2, Handoffs: 2, OptedOut: 1, Lost: 1},
				{Variant: "B", Dialogs: 3, Replied: 1, Qualified: 1, OptedOut: 1},
			}},
			{"since after every start", c1, at.Add(time.Microsecond), nil},
			{"since the very start", c1, at, []projections.VariantCounts{
				{Variant: "A", Dialogs: 2, Replied: 2, Qualified: 1, Handoffs: 1, Lost: 1},
				{Variant: "B", Dialogs: 2, Replied: 1, Qualified: 1, OptedOut: 1},
			}},
			{"an unknown campaign", uuid.New(), time.Time{}, nil},
		}
		for _, f := range funnels {
			got, err := sink.VariantFunnel(ctx, f.campaign, f.since)
			if err != nil || !reflect.DeepEqual(got, f.want) {
				t.Errorf("%s: variant funnel of %s:\n got %+v, %v\nwant %+v", when, f.name, got, err, f.want)
			}
		}
		for n, campaign := range map[int64]uuid.UUID{1: uuid.Nil, 4: c1, 8: c2} {
			if d, err := sink.DialogByN(ctx, n); err != nil || d.Campaign != campaign {
				t.Fatalf("%s: dialog %d's campaign: %v, %v; want %v", when, n, d.Campaign, err, campaign)
			}
		}
		for n, by := range map[int64]string{6: "lead", 7: "admin:7"} {
			if d, err := sink.DialogByN(ctx, n); err != nil || d.Outcome != "opted-out" || d.OptedOutBy != by || d.LeadOptedOut() != (by == "lead") {
				t.Fatalf("%s: dialog %d opted out by %q (%v); want %q", when, n, d.OptedOutBy, err, by)
			}
		}
		for n, qualified := range map[int64]bool{1: true, 3: false, 4: true, 5: false, 7: true} {
			if d := dialogN(t, sink, n); d.QualifiedAt.IsZero() == qualified || (qualified && d.QualifiedAt != at) {
				t.Fatalf("%s: dialog %d qualified at %v, want qualified %v", when, n, d.QualifiedAt, qualified)
			}
		}
	}
	check("live")
	// What a caller does with the rows does not change the sink's.
	got := campaignsOf(t, sink)
	if len(got) == 0 || len(got[0].Variants) == 0 || len(got[0].Segment.Tags) == 0 || len(got[0].Accounts) == 0 || len(got[0].Schedule.Days) == 0 {
		t.Fatalf("campaigns: %+v", got)
	}
	got[0].Variants[0].Name, got[0].Segment.Tags[0], got[0].Accounts[0], got[0].Schedule.Days[0] = "X", "x", uuid.Nil, time.Sunday
	check("after a caller changed its copy")
	if err := sink.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if cs, err := sink.Campaigns(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("campaigns after a reset: %+v, %v", cs, err)
	}
	catchUp(t, w.runner(sink))
	check("rebuilt")
	// Live: the next event reaches the row once.
	w.must(t)(w.h.Campaign(ctx, c1, domain.ResumeCampaign{By: "admin:1"}))
	catchUp(t, w.runner(sink))
	if c := campaignOf(t, sink, c1); c.Status != projections.CampaignActive || c.Targeted != 4 {
		t.Fatalf("campaign 1 after a resume: %+v", c)
	}
}

// testOutcomes: recorded outcomes on the dialogs rows (the last one, over
// how the dialog closed, before or after), won and revenue by currency in
// VariantFunnel, typed budgets in Qualification; an erasure blanks a
// lost deal's reason and the budget's amount, not the revenue.
func testOutcomes(t *testing.T, newSink Factory) {
	w := newWorld(t)
	w.script(t)
	ctx := t.Context()
	d1, d2, d3 := w.dialogs[0], w.dialogs[1], w.dialogs[2]
	anna, boris, clara := w.contacts[0], w.contacts[1], w.contacts[2]
	w.must(t)(w.h.Dialog(ctx, d1, anna, domain.UpdateQualification{Qual: domain.Qualification{Budget: &domain.Field{Value: "$5k a month", Confidence: 0.8}}}))
	// A budget recorded before budgets were typed: no amount in the event.
	w.record(t, d3, clara, domain.QualificationUpdated{Qual: domain.Qualification{Budget: &domain.Field{Value: "50 000 руб", Confidence: 0.6}}})
	w.must(t)(w.h.Dialog(ctx, d1, anna, domain.RecordOutcome{Outcome: domain.OutcomeWon, Amount: "1200.5", Currency: "usd", By: "admin:1"}))
	w.must(t)(w.h.Dialog(ctx, d1, anna, domain.OptOutDialog{Reason: "no more messages"})) // after the sale: still won
	w.must(t)(w.h.Dialog(ctx, d2, boris, domain.RecordOutcome{Outcome: domain.OutcomeLost, Reason: "went with a rival", By: "admin:1"}))
	w.must(t)(w.h.Dialog(ctx, d3, clara, domain.RecordOutcome{Outcome: domain.OutcomeWon, By: "admin:1"}))
	w.must(t)(w.h.Dialog(ctx, d3, clara, domain.RecordOutcome{Outcome: domain.OutcomeWon, Amount: "99", Currency: "EUR", By: "admin:2"})) // the value learnt later
	sink := newSink(t)
	at := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC) // the log's clock, to the microsecond
	check := func(when string, erased bool) {
		t.Helper()
		for n, want := range map[int64]struct {
			outcome string
			value   domain.Money
			reason  string
		}{
			1: {"won", domain.Money{Minor: 120050, Currency: "USD"}, ""},
			2: {"lost", domain.Money{}, "went with a rival"},
			3: {"won", domain.Money{Minor: 9900, Currency: "EUR"}, ""},
		} {
			if erased && want.reason != "" {
				want.reason = projections.Forgotten
			}
			d := dialogN(t, sink, n)
			if d.Outcome != want.outcome || d.OutcomeValue != want.value || d.OutcomeReason != want.reason || d.OutcomeAt != at || d.Status != projections.StatusClosed {
				t.Fatalf("%s: dialog %d: outcome %q %v %q at %v, status %s; want %q %v %q at %v", when, n, d.Outcome, d.OutcomeValue, d.OutcomeReason,
					d.OutcomeAt, d.Status, want.outcome, want.value, want.reason, at)
			}
		}
		vf, err := sink.VariantFunnel(ctx, uuid.Nil, time.Time{})
		want := []projections.VariantCounts{{Variant: "A", Dialogs: 3, Replied: 2, Qualified: 1, Handoffs: 1, Lost: 1, Won: 2,
			Revenue: []domain.Money{{Minor: 9900, Currency: "EUR"}, {Minor: 120050, Currency: "USD"}}}}
		if err != nil || !reflect.DeepEqual(vf, want) {
			t.Fatalf("%s: variant funnel\n got %+v, %v\nwant %+v", when, vf, err, want)
		}
		for dialog, budget := range map[uuid.UUID]domain.Money{d1: {Minor: 500000, Currency: "USD"}, d3: {Minor: 5000000, Currency: "RUB"}} {
			if erased && dialog == d1 {
				budget = domain.Money{}
			}
			qs, err := sink.Qualification(ctx, dialog)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, q := range qs {
				if q.Field == "budget" {
					found = true
					if q.Money != budget {
						t.Fatalf("%s: budget of %s: %+v, want %v", when, dialog, q, budget)
					}
				} else if !q.Money.IsZero() {
					t.Fatalf("%s: %s has money: %+v", when, q.Field, q)
				}
			}
			if !found {
				t.Fatalf("%s: no budget in %+v", when, qs)
			}
		}
	}
	catchUp(t, w.runner(sink))
	check("live", false)
	// Recording the same outcome again changes nothing.
	if evs, err := w.h.Dialog(ctx, d3, clara, domain.RecordOutcome{Outcome: domain.OutcomeWon, Amount: "99.00", Currency: "EUR", By: "admin:3"}); err != nil || len(evs) != 0 {
		t.Fatalf("the same outcome again: %v, %v", evs, err)
	}
	w.must(t)(w.h.Contact(ctx, anna, domain.ForgetContact{By: "admin:1"}))
	w.must(t)(w.h.Contact(ctx, boris, domain.ForgetContact{By: "admin:1"}))
	catchUp(t, w.runner(sink))
	check("erased", true)
	if err := sink.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w.runner(sink))
	check("rebuilt", true)
}
