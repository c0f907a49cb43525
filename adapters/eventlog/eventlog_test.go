package eventlog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

var (
	t0      = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	contact = uuid.MustParse("0193a0c0-0000-7000-8000-000000000002")
	account = uuid.MustParse("0193a0c0-0000-7000-8000-000000000003")
	dialog  = uuid.MustParse("0193a0c0-0000-7000-8000-000000000001")
)

func stores(t *testing.T) map[string]eventstore.Store {
	mem, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := bytes.Repeat([]byte{3}, eventstore.MasterKeySize)
	peb, err := eventstore.Open(t.TempDir(), eventstore.Options{MasterKey: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mem.Close(); peb.Close() })
	return map[string]eventstore.Store{"memory": mem, "pebble": peb}
}

func score(n int) *int { return &n }

// samples has one populated value of every event type.
func samples() []domain.Event {
	need := &domain.Field{Value: "CRM for 20 reps", Quote: "we need a CRM", Confidence: 0.9}
	return []domain.Event{
		domain.ContactAdded{ContactID: contact, Source: domain.SourceImport, Basis: domain.BasisConsent, Note: "leads.csv", UserID: 77, Username: "anna", Phone: "+100", Name: "Анна",
			Tags: []string{"fair", "vip"}, Fields: []domain.ContactField{{Name: "company", Value: "Acme GmbH"}, {Name: "city", Value: "Köln"}}, Import: "imp-0193a0c0"},
		domain.ContactMerged{Tags: []string{"berlin"}, Fields: []domain.ContactField{{Name: "city", Value: "Düsseldorf"}}, Import: "imp-0193a0c1"},
		domain.ContactOptedOut{Reason: "не пишите мне", By: "lead", At: t0},
		domain.ContactForgotten{By: "admin:1", At: t0},
		domain.ContactUnreachable{Reason: "USER_IS_BLOCKED", At: t0},
		domain.ContactTelegramUserSet{UserID: 777000},
		domain.UserLinked{ContactID: uuid.MustParse("0193a0c0-0000-7000-8000-0000000000c1")},
		domain.UsernameLinked{ContactID: uuid.MustParse("0193a0c0-0000-7000-8000-0000000000c1")},
		domain.PhoneLinked{ContactID: uuid.MustParse("0193a0c0-0000-7000-8000-0000000000c1")},
		domain.PeerLinked{AccountID: uuid.MustParse("0193a0c0-0000-7000-8000-0000000000a1"), DialogID: uuid.MustParse("0193a0c0-0000-7000-8000-0000000000d1"), ContactID: uuid.MustParse("0193a0c0-0000-7000-8000-0000000000c1")},
		domain.DialogStarted{DialogID: dialog, N: 7, ContactID: contact, AccountID: account, Variant: "B", By: "campaign:x", Campaign: account},
		domain.InboundReceived{TelegramMessageID: 5, Text: "Hi, how much is it?", At: t0},
		domain.OutboundPlanned{RandomID: -42, Text: "I am the AI assistant of Acme.", By: domain.ActorAI, Kind: domain.KindMeeting, File: &domain.Attachment{Name: "meeting.ics", MIME: "text/calendar", Data: "BEGIN:VCALENDAR\r\nATTENDEE;CN=Dana:mailto:dana@example.com\r\nEND:VCALENDAR\r\n"}},
		domain.OutboundSent{RandomID: -42, TelegramMessageID: 6},
		domain.OutboundFailed{RandomID: 9, Reason: "USER_PRIVACY_RESTRICTED"},
		domain.OutboundObserved{TelegramMessageID: 12, Text: "Maria here", At: t0},
		domain.QualificationUpdated{Qual: domain.Qualification{Need: need, Budget: &domain.Field{Value: "10k EUR", Confidence: 0.5, Amount: "10000.00", Currency: "EUR"}, Score: score(80),
			Custom: []domain.CustomField{{Name: "team_size", Value: "12 reps", Quote: "we are 12 reps", Confidence: 0.8}, {Name: "tool", Value: "Excel", Confidence: 0.4}}}},
		domain.StageChanged{From: domain.StageOpening, To: domain.StageOffer},
		domain.HandoffRequested{Reason: "score 80"},
		domain.DialogTakenOver{By: "admin:1"},
		domain.DialogReleased{By: "admin:1", To: domain.StageOffer},
		domain.DialogStopped{By: "admin:1"},
		domain.DialogOptedOut{Reason: "stop"},
		domain.DialogClosed{Outcome: domain.OutcomeUnreachable, By: "telegram", Reason: "USER_IS_BLOCKED"},
		domain.OutcomeRecorded{Outcome: domain.OutcomeLost, Reason: "bought from a rival", By: "admin:1"},
		domain.MeetingProposed{Slots: []domain.Interval{{Start: time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 7, 7, 30, 0, 0, time.UTC)}}, Zone: "Europe/Moscow", Reason: "zone", Answered: 3},
		domain.MeetingBooked{Start: time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 7, 7, 30, 0, 0, time.UTC), Zone: "Asia/Almaty", UID: "salesbot-0a1b", Href: "/cal/m/salesbot-0a1b.ics", Manager: "Maria", Answered: 4},
		domain.InsightsRecorded{Summary: "Asked the price; found it too dear.", LossReason: "too expensive", Objections: []string{"price"}, By: domain.InsightByLLM, Outcome: domain.OutcomeLost,
			Model: "gpt-4o-mini", PromptTokens: 900, CachedPromptTokens: 512, CompletionTokens: 60},
		domain.LeaseGranted{Key: account.String(), Holder: "node-1", Epoch: 3},
		domain.AccountRegistered{AccountID: account, Label: "sales-1", Phone: "+200", Limits: domain.DefaultLimits(), At: t0},
		domain.AccountLimitsChanged{Limits: domain.DefaultLimits()},
		domain.AccountConnecting{},
		domain.AccountConnected{},
		domain.AccountDisconnected{Reason: "EOF"},
		domain.AccountFloodWaited{Until: t0.Add(time.Minute)},
		domain.AccountRestricted{Reason: "PEER_FLOOD"},
		domain.AccountLost{Reason: "SESSION_REVOKED"},
		domain.AccountPaused{By: "admin:1"},
		domain.AccountResumed{By: "admin:1"},
		domain.AccountRemoved{By: "admin:1"},
		domain.NewDialogReserved{DialogID: dialog, Day: "2026-11-25", At: t0},
		domain.MessageReserved{DialogID: dialog, RandomID: 3, At: t0},
		domain.DialogNumbered{DialogID: dialog, N: 12},
		domain.DialogIndexed{DialogID: dialog, ContactID: contact, N: 12},
		domain.TurnTaken{Kind: domain.TurnReply, Engine: "llm", Model: "gpt-4o-mini", Scenario: "acme", ScenarioVersion: "3", Variant: "B",
			VariantVersion: "3b", Language: "en", Answered: 2, PromptTokens: 900, CompletionTokens: 80, LatencyMs: 1200, Attempts: 2,
			Score: score(40), Flags: []string{"asks-if-bot"}, Guards: []string{"bot question answered with the disclosure"}},
		domain.TurnFailed{Engine: "llm", Model: "gpt-4o-mini", Reason: "429 Too Many Requests", Attempts: 4, LatencyMs: 9000, RetryAt: t0.Add(time.Minute)},
		domain.CampaignCreated{CampaignID: dialog, Name: "Q1 outreach", Segment: domain.Segment{Tags: []string{"saas"}, Fields: []domain.SegmentField{{Name: "city", Value: "Berlin"}}, Import: "imp-1"},
			Scenario: "acme", Version: "3", Variants: []domain.VariantWeight{{Name: "A", Weight: 50}, {Name: "B", Weight: 50}}, Accounts: []uuid.UUID{account},
			Schedule: domain.CampaignSchedule{Start: t0, End: t0.Add(7 * 24 * time.Hour), Days: []time.Weekday{time.Monday}, TimeZone: "Europe/Berlin", StartMinute: 600, EndMinute: 1080},
			Caps:     domain.CampaignCaps{DailyNewDialogs: 100, TotalDialogs: 1000}, By: "admin:1"},
		domain.CampaignPaused{By: "admin:1"},
		domain.CampaignResumed{By: "admin:1"},
		domain.CampaignEnded{By: "admin:1", Reason: "done"},
		domain.CampaignTargeted{CampaignID: dialog, ContactID: contact, AccountID: account, Variant: "B"},
		domain.CampaignWeightsChanged{Weights: []domain.VariantWeight{{Name: "A", Weight: 100}, {Name: "B", Weight: 900}},
			Posteriors: []domain.Posterior{{Variant: "A", Alpha: 3, Beta: 40}, {Variant: "B", Alpha: 12, Beta: 31}}, Paused: []string{"C"},
			Reason: "20 new outcomes (replied)", At: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)},
		domain.TokenCreated{TokenID: account, Name: "crm", Scope: domain.ScopeManage, Prefix: "sb_abcdefghijklmnop", Hash: domain.HashTokenSecret("s3cret"), At: t0, By: "cli"},
		domain.TokenRevoked{TokenID: account, At: t0, By: "admin:1", Reason: "leaked"},
		domain.TokenRefused{TokenID: account, Scope: domain.ScopeRead, Suppressed: 2, At: t0},
		domain.WebLinkIssued{LinkID: account, Role: domain.WebAnalyst, Hash: domain.HashTokenSecret("link"), By: "admin:1", At: t0, Expires: t0.Add(domain.DefaultLinkTTL)},
		domain.WebSignedIn{LinkID: account, SessionID: dialog, Hash: domain.HashTokenSecret("session"), Role: domain.WebAnalyst, At: t0, Expires: t0.Add(domain.DefaultSessionTTL)},
		domain.WebSessionEnded{SessionID: dialog, By: "admin:1", Reason: "ended by admin", At: t0},
		domain.WebhookSubscribed{WebhookID: account, URL: "https://crm.example.com/hook", Events: []domain.WebhookEvent{domain.WebhookDialogHandoff}, Personal: true, By: "cli", At: t0},
		domain.WebhookRemoved{WebhookID: account, By: "cli", At: t0},
		domain.WebhookDisabled{WebhookID: account, Reason: "HTTP 503", Position: 42, Since: t0, At: t0},
		domain.WebhookReplayRequested{WebhookID: account, From: 42, By: "cli", At: t0},
		domain.CRMLeadLinked{DialogID: dialog, N: 4, ContactID: contact, CRM: "amocrm", CRMContactID: "3001", CRMLeadID: "2001", Found: true, At: t0},
		domain.CRMNoteAdded{DialogID: dialog, CRM: "amocrm", CRMLeadID: "2001", Parts: 2, At: t0},
	}
}

func TestEveryEventRoundTrips(t *testing.T) {
	if len(samples()) != len(domain.EventTypes()) {
		t.Fatalf("%d samples for %d event types: add the new type here", len(samples()), len(domain.EventTypes()))
	}
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			log := eventlog.New(store)
			var in []domain.Event
			for _, e := range samples() {
				if _, erasure := e.(domain.ContactForgotten); !erasure {
					in = append(in, e)
				}
			}
			if err := log.Append(t.Context(), "mixed", 0, contact.String(), in); err != nil {
				t.Fatal(err)
			}
			// An erasure shreds its subject's key: it goes alone, under a
			// subject of its own.
			erasure := domain.ContactForgotten{By: "cli", At: t0}
			if err := log.Append(t.Context(), "mixed", uint64(len(in)), "other", []domain.Event{erasure}); err != nil {
				t.Fatal(err)
			}
			in = append(in, erasure)
			out, version, err := log.Load(t.Context(), "mixed")
			if err != nil {
				t.Fatal(err)
			}
			if version != uint64(len(in)) {
				t.Fatalf("version %d, want %d", version, len(in))
			}
			for i := range in {
				if !reflect.DeepEqual(in[i], out[i]) {
					t.Errorf("%s:\n in %#v\nout %#v", in[i].EventType(), in[i], out[i])
				}
			}
			// Personal data is not in the clear payloads.
			recs, _ := store.ReadAll(t.Context(), 1, 100)
			for _, r := range recs {
				for _, secret := range []string{"Анна", "+100", "+200", "Hi, how much", "AI assistant of Acme", "CRM for 20", "we need a CRM", "12 reps", "Excel", "Acme GmbH", "Köln", "Düsseldorf", `"user_id"`, "bought from a rival", "10000.00"} {
					if bytes.Contains(r.Payload, []byte(secret)) {
						t.Errorf("%s payload holds %q in clear: %s", r.Type, secret, r.Payload)
					}
				}
			}
		})
	}
}

func TestForgottenFieldsReadAsMarker(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			log := eventlog.New(store)
			evs := []domain.Event{
				domain.InboundReceived{TelegramMessageID: 1, Text: "my phone is +100", At: t0},
				domain.QualificationUpdated{Qual: domain.Qualification{Need: &domain.Field{Value: "CRM", Quote: "a CRM", Confidence: 1},
					Budget: &domain.Field{Value: "$5k", Confidence: 1, Amount: "5000.00", Currency: "USD"}}},
				domain.OutcomeRecorded{Outcome: domain.OutcomeLost, Reason: "lives in Köln, moved away", By: "admin:1"},
				domain.OutcomeRecorded{Outcome: domain.OutcomeWon, Amount: "1200.50", Currency: "EUR", By: "admin:1"},
			}
			if err := log.Append(t.Context(), "d", 0, contact.String(), evs); err != nil {
				t.Fatal(err)
			}
			if err := store.Forget(t.Context(), contact.String()); err != nil {
				t.Fatal(err)
			}
			out, _, err := log.Load(t.Context(), "d")
			if err != nil {
				t.Fatal(err)
			}
			if got := out[0].(domain.InboundReceived); got.Text != eventstore.ForgottenMarker || got.TelegramMessageID != 1 {
				t.Fatalf("inbound after forget: %+v", got)
			}
			q := out[1].(domain.QualificationUpdated).Qual.Need
			if q.Value != eventstore.ForgottenMarker || q.Quote != eventstore.ForgottenMarker || q.Confidence != 1 {
				t.Fatalf("qualification after forget: %+v", q)
			}
			// The budget's amount is the lead's words; its currency is a code.
			b := out[1].(domain.QualificationUpdated).Qual.Budget
			if m, ok := b.Money(); b.Amount != eventstore.ForgottenMarker || b.Currency != "USD" || ok {
				t.Fatalf("budget after forget: %+v (reads %v, %v)", b, m, ok)
			}
			// A lost deal's reason is erased; a won deal's amount is revenue and stays.
			if got := out[2].(domain.OutcomeRecorded); got.Reason != eventstore.ForgottenMarker || got.Outcome != domain.OutcomeLost {
				t.Fatalf("lost outcome after forget: %+v", got)
			}
			if got := out[3].(domain.OutcomeRecorded); got.Amount != "1200.50" || got.Currency != "EUR" {
				t.Fatalf("won outcome after forget: %+v", got)
			}
		})
	}
}

func TestEncodeDoesNotChangeTheEvent(t *testing.T) {
	log := eventlog.New(nil)
	need := &domain.Field{Value: "CRM", Quote: "a CRM"}
	e := domain.QualificationUpdated{Qual: domain.Qualification{Need: need}}
	if _, err := log.Encode(e, "c"); err != nil {
		t.Fatal(err)
	}
	if need.Value != "CRM" || need.Quote != "a CRM" {
		t.Fatalf("encoding blanked the caller's event: %+v", need)
	}
	if _, err := log.Encode(domain.InboundReceived{Text: "x"}, ""); err == nil {
		t.Fatal("personal fields without a subject were accepted")
	}
}

func TestUnknownTypeIsAnError(t *testing.T) {
	_, err := eventlog.New(nil).Decode(&eventstore.RecordedEvent{Event: eventstore.Event{Type: "Nope"}, Position: 3})
	if err == nil {
		t.Fatal("an unknown type decoded")
	}
}

// Handlers on the real log: concurrent commands on one dialog all land,
// each retried past the version conflicts of the others.
func TestHandlersRetryOnConflict(t *testing.T) {
	for name, store := range stores(t) {
		for _, cache := range []*domain.StateCache{nil, domain.NewStateCache(10)} {
			t.Run(fmt.Sprintf("%s cached=%v", name, cache != nil), func(t *testing.T) {
				store := store
				if cache != nil { // a fresh log for the second run
					store = stores(t)[name]
				}
				retryOnConflict(t, store, cache)
			})
		}
	}
}

func retryOnConflict(t *testing.T, store eventstore.Store, cache *domain.StateCache) {
	h := domain.Handlers{Log: eventlog.New(store), Now: func() time.Time { return t0 }, Retries: 100, Cache: cache}
	c := domain.Contact{ID: contact, Exists: true, Source: domain.SourceManual, Basis: domain.BasisConsent, Username: "anna"}
	if _, err := h.Dialog(t.Context(), dialog, contact, domain.StartDialog{DialogID: dialog, N: 1, Contact: c, AccountID: account, By: "admin:1"}); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := h.Dialog(context.Background(), dialog, contact, domain.PlanOutbound{RandomID: int64(i + 1), Text: fmt.Sprint("message ", i), By: domain.ActorAI, Contact: c})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	d, err := h.LoadDialog(t.Context(), dialog)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Pending) != n || d.Stage != domain.StageOpening {
		t.Fatalf("dialog after %d concurrent plans: %d pending, stage %s", n, len(d.Pending), d.Stage)
	}
	// A rule still rejects, and nothing is written.
	opted := c
	opted.OptedOut = true
	_, err = h.Dialog(t.Context(), dialog, contact, domain.PlanOutbound{RandomID: 99, Text: "x", By: domain.ActorManager, Contact: opted})
	if domain.ErrorCode(err) != domain.EFORBIDDEN {
		t.Fatalf("plan to an opted-out contact: %v", err)
	}
	if store.Head() != n+3 { // the start, its two index events and the n plans
		t.Fatalf("log head %d, want %d", store.Head(), n+3)
	}
}

// A cached state picks up what another writer appended since.
func TestCachedStateSeesOtherWriters(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			cache := domain.NewStateCache(10)
			cached := domain.Handlers{Log: eventlog.New(store), Now: func() time.Time { return t0 }, Cache: cache}
			other := domain.Handlers{Log: eventlog.New(store), Now: func() time.Time { return t0 }}
			c := domain.Contact{ID: contact, Exists: true, Source: domain.SourceManual, Basis: domain.BasisConsent, Username: "anna"}
			if _, err := cached.Dialog(t.Context(), dialog, contact, domain.StartDialog{DialogID: dialog, N: 1, Contact: c, AccountID: account, By: "admin:1"}); err != nil {
				t.Fatal(err)
			}
			if cache.Len() != 1 {
				t.Fatalf("cache holds %d states", cache.Len())
			}
			if _, err := other.Dialog(t.Context(), dialog, contact, domain.RecordInbound{TelegramMessageID: 5, Text: "hi", At: t0}); err != nil {
				t.Fatal(err)
			}
			d, err := cached.LoadDialog(t.Context(), dialog)
			if err != nil || d.Inbound != 1 || d.LastInbound != 5 {
				t.Fatalf("cached load missed the other writer: %+v %v", d, err)
			}
			// The cached writer's next command decides on the fresh state:
			// the same message again is recognised.
			evs, err := cached.Dialog(t.Context(), dialog, contact, domain.RecordInbound{TelegramMessageID: 5, Text: "hi", At: t0})
			if err != nil || len(evs) != 0 {
				t.Fatalf("a repeated message was recorded again: %v %v", evs, err)
			}
		})
	}
}

// Dialog numbers come from the log: concurrent allocations get 1..n, each
// once.
func TestDialogNumbersAreUnique(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			h := domain.Handlers{Log: eventlog.New(store), Now: func() time.Time { return t0 }}
			const n = 20
			got := make(chan int64, n)
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					v, err := h.NextDialogNumber(context.Background(), uuid.New())
					if err != nil {
						t.Error(err)
					}
					got <- v
				})
			}
			wg.Wait()
			close(got)
			seen := map[int64]bool{}
			for v := range got {
				if v < 1 || v > n || seen[v] {
					t.Fatalf("number %d given twice or out of 1..%d", v, n)
				}
				seen[v] = true
			}
		})
	}
}

func TestForgottenContactLosesItsTelegramID(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			log := eventlog.New(store)
			added := domain.ContactAdded{ContactID: contact, Source: domain.SourceAPI, Basis: domain.BasisContract, UserID: 123456789, Username: "anna"}
			if err := log.Append(t.Context(), "c", 0, contact.String(), []domain.Event{added}); err != nil {
				t.Fatal(err)
			}
			if err := store.Forget(t.Context(), contact.String()); err != nil {
				t.Fatal(err)
			}
			out, _, err := log.Load(t.Context(), "c")
			if err != nil {
				t.Fatal(err)
			}
			if got := out[0].(domain.ContactAdded); got.UserID != 0 || got.Username != eventstore.ForgottenMarker || got.Source != domain.SourceAPI {
				t.Fatalf("after forget: %+v", got)
			}
		})
	}
}

// Recording ContactForgotten erases the contact in the same write: its
// personal fields read as forgotten at once, the erasure is bound to the
// event, and the store verifies it.
func TestContactForgottenErasesInTheSameWrite(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			log := eventlog.New(store)
			added := domain.ContactAdded{ContactID: contact, Source: domain.SourceAPI, Basis: domain.BasisContract, Username: "anna"}
			if err := log.Append(t.Context(), "c", 0, contact.String(), []domain.Event{added}); err != nil {
				t.Fatal(err)
			}
			if err := log.Append(t.Context(), "c", 1, contact.String(), []domain.Event{domain.ContactForgotten{By: "cli", At: t0}}); err != nil {
				t.Fatal(err)
			}
			recs, err := store.ReadStream(t.Context(), "c", 1)
			if err != nil {
				t.Fatal(err)
			}
			if !recs[0].Forgotten || recs[1].Metadata[eventstore.MetaErases] != contact.String() {
				t.Fatalf("after ContactForgotten: forgotten %v, metadata %v", recs[0].Forgotten, recs[1].Metadata)
			}
			rep, err := store.Verify(t.Context(), nil)
			if err != nil || rep.Erased != 1 || rep.Unbound != 0 {
				t.Fatalf("verify: %+v %v", rep, err)
			}
			if err := log.Append(t.Context(), "d", 0, "", []domain.Event{domain.ContactForgotten{By: "cli", At: t0}}); err == nil {
				t.Fatal("an erasure without a subject was recorded")
			}
		})
	}
}

// A budget recorded before budgets were typed has no amount in its
// payload: it decodes with none, and reads as money from its text.
func TestUntypedBudgetStillReads(t *testing.T) {
	log := eventlog.New(nil)
	r := &eventstore.RecordedEvent{Event: eventstore.Event{Type: "QualificationUpdated", SchemaVersion: 1,
		Payload: []byte(`{"qualification":{"budget":{"confidence":0.9}}}`), Personal: map[string]string{"qualification.budget.value": "50 000 руб"}}}
	e, err := log.Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	b := e.(domain.QualificationUpdated).Qual.Budget
	if m, ok := b.Money(); b.Amount != "" || b.Currency != "" || !ok || m.String() != "50000.00 RUB" {
		t.Fatalf("old budget: %+v reads %v, %v", b, m, ok)
	}
}

func TestDecodeRejectsBadPersonalPaths(t *testing.T) {
	log := eventlog.New(nil)
	for _, path := range []string{"", "nope", "text.x", "telegram_id"} {
		r := &eventstore.RecordedEvent{Event: eventstore.Event{Type: "InboundReceived", Payload: []byte(`{}`), Personal: map[string]string{path: "x"}}}
		if _, err := log.Decode(r); err == nil {
			t.Errorf("personal path %q accepted", path)
		}
	}
}

// Accounts seal their phone under their own key.
func TestAccountWithPhone(t *testing.T) {
	store := stores(t)["pebble"]
	h := domain.Handlers{Log: eventlog.New(store), Now: func() time.Time { return t0 }}
	if _, err := h.Account(t.Context(), account, domain.RegisterAccount{AccountID: account, Label: "sales-1", Phone: "+15550001", Limits: domain.DefaultLimits()}); err != nil {
		t.Fatal(err)
	}
	recs, _ := store.ReadAll(t.Context(), 1, 10)
	if bytes.Contains(recs[0].Payload, []byte("+1555")) || recs[0].Personal["phone"] != "+15550001" || recs[0].Subject != account.String() {
		t.Fatalf("account event: %+v", recs[0])
	}
}

// Every personal tag is on a kind the codec moves (string or integer), so
// no personal field stays in clear by accident.
func TestPersonalTagsAreOnSupportedFields(t *testing.T) {
	var walk func(rt reflect.Type, path string)
	walk = func(rt reflect.Type, path string) {
		for i := range rt.NumField() {
			f := rt.Field(i)
			ft := f.Type
			if ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if f.Tag.Get("personal") != "" {
				switch ft.Kind() {
				case reflect.String, reflect.Int, reflect.Int64, reflect.Int32:
					if f.Type.Kind() == reflect.Pointer {
						t.Errorf("%s.%s: personal pointer fields are not supported", path, f.Name)
					}
				default:
					t.Errorf("%s.%s: personal tag on a %s", path, f.Name, ft.Kind())
				}
			}
			if ft.Kind() == reflect.Struct && ft.PkgPath() != "time" {
				walk(ft, path+"."+f.Name)
			}
		}
	}
	for _, e := range domain.EventTypes() {
		walk(reflect.TypeOf(e), e.EventType())
	}
}

// Reservations go to a usage stream per account and day; caps hold under
// concurrency and pacing holds across midnight.
func TestAccountUsageStreams(t *testing.T) {
	store := stores(t)["pebble"]
	clock := time.Date(2026, 11, 25, 23, 59, 50, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	h := domain.Handlers{Log: eventlog.New(store), Now: now, Retries: 50}
	lim := domain.Limits{DailyNewDialogs: 5, MessagesPerMinute: 10, MinDelay: 20 * time.Second, TimeZone: "UTC", StartMinute: 0, EndMinute: 24 * 60}
	ctx := t.Context()
	if _, err := h.Account(ctx, account, domain.RegisterAccount{AccountID: account, Label: "sales-1", Limits: lim}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Account(ctx, account, domain.MarkConnected{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var ok, limited sync.Map
	for i := range 10 {
		wg.Go(func() {
			_, err := h.Account(context.Background(), account, domain.ReserveNewDialog{DialogID: uuid.New()})
			switch domain.ErrorCode(err) {
			case "":
				ok.Store(i, true)
			case domain.ELIMIT:
				limited.Store(i, true)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	count := func(m *sync.Map) (n int) { m.Range(func(any, any) bool { n++; return true }); return }
	if count(&ok) != 5 || count(&limited) != 5 {
		t.Fatalf("%d reserved, %d limited; want 5 and 5", count(&ok), count(&limited))
	}
	if v, _ := store.StreamVersion(ctx, domain.AccountStream(account)); v != 2 {
		t.Fatalf("account stream has %d events; reservations belong in the usage stream", v)
	}
	if v, _ := store.StreamVersion(ctx, domain.UsageStream(account, "2026-11-25")); v != 5 {
		t.Fatalf("usage stream has %d events, want 5", v)
	}
	if _, err := h.Account(ctx, account, domain.ReserveMessage{DialogID: dialog, RandomID: 1}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	clock = clock.Add(15 * time.Second) // 00:00:05 the next day
	mu.Unlock()
	_, err := h.Account(ctx, account, domain.ReserveMessage{DialogID: dialog, RandomID: 2})
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.ELIMIT || !de.RetryAt.Equal(time.Date(2026, 11, 26, 0, 0, 10, 0, time.UTC)) {
		t.Fatalf("a message 15 s after the last, across midnight: %v", err)
	}
	// A new day: the daily cap starts over.
	if _, err := h.Account(ctx, account, domain.ReserveNewDialog{DialogID: uuid.New()}); err != nil {
		t.Fatalf("first dialog of the new day: %v", err)
	}
}
