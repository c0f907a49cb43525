package webhooks_test

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/adapters/webhooks"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// Every public type is built from its log events, without personal
// fields unless asked; the log's other events are none of them.
func TestPayloads(t *testing.T) {
	ctx := t.Context()
	store, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	log := eventlog.New(store)
	contact, dialog, account := uuid.New(), uuid.New(), uuid.New()
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	score := 82
	appendTo := func(stream, subject string, evs ...domain.Event) {
		t.Helper()
		v, err := log.Version(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		if err := log.Append(ctx, stream, v, subject, evs); err != nil {
			t.Fatal(err)
		}
	}
	appendTo(domain.ContactStream(contact), contact.String(),
		domain.ContactAdded{ContactID: contact, Source: domain.SourceAPI, Basis: domain.BasisConsent, Username: "hana", Name: "Hana Q"})
	appendTo(domain.DialogStream(dialog), contact.String(),
		domain.DialogStarted{DialogID: dialog, N: 7, ContactID: contact, AccountID: account, By: "inbound"},
		domain.StageChanged{From: domain.StageOpening, To: domain.StageDiscovery},
		domain.QualificationUpdated{Qual: domain.Qualification{Budget: &domain.Field{Value: "around 5000 EUR", Confidence: 0.8}, Score: &score}},
		domain.DialogTakenOver{By: "admin:5"},
		domain.OutcomeRecorded{Outcome: domain.OutcomeWon, Amount: "5000.00", Currency: "EUR", By: "admin:5"},
		domain.OutcomeRecorded{Outcome: domain.OutcomeLost, Reason: "chose a rival", By: "admin:5"},
		domain.InboundReceived{TelegramMessageID: 1, Text: "xyzzy-in", At: at, Media: &domain.Media{Kind: domain.MediaVoice}, Transcript: "xyzzy-heard"},
		domain.OutboundPlanned{RandomID: 3, Text: "xyzzy-out", By: domain.ActorAI},
		domain.OutboundSent{RandomID: 3, TelegramMessageID: 2},
		domain.OutboundObserved{TelegramMessageID: 4, Text: "xyzzy-typed", At: at},
		domain.HandoffRequested{Reason: "xyzzy-reason"},
		domain.DialogClosed{Outcome: domain.OutcomeStopped, By: "admin:5"},
		domain.MeetingProposed{Slots: []domain.Interval{{Start: at.Add(24 * time.Hour), End: at.Add(25 * time.Hour)}}, Zone: "Asia/Xyzzy"},
		domain.MeetingBooked{Start: at.Add(24 * time.Hour), End: at.Add(25 * time.Hour), Zone: "Asia/Xyzzy", UID: "m-7@acme.test",
			Href: "/cal/maria/m-7.ics", Manager: "Maria"},
	)
	appendTo(domain.AccountStream(account), account.String(),
		domain.AccountRestricted{Reason: "PEER_FLOOD"}, domain.AccountFloodWaited{Until: at.Add(time.Minute)}, domain.AccountConnected{})
	appendTo(domain.ContactStream(contact), contact.String(), domain.ContactOptedOut{Reason: "xyzzy-stop", By: "lead", At: at})
	// Built before the erasure: the personal payloads hold the texts.
	recs, err := store.ReadAll(ctx, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	p := webhooks.NewPayloads(store)
	all := func(domain.WebhookEvent) bool { return true }
	before := map[domain.WebhookEvent]map[string]any{}
	for i := range recs {
		body, typ, ok, err := p.Build(ctx, &recs[i], all, true)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			checkContract(t, typ, body)
			var pl webhooks.Payload
			if err := json.Unmarshal(body, &pl); err != nil {
				t.Fatal(err)
			}
			before[typ] = pl.Data
		}
	}
	if before[domain.WebhookMessageReceived]["text"] != "xyzzy-in" || before[domain.WebhookMessageReceived]["transcript"] != "xyzzy-heard" ||
		before[domain.WebhookMessageReceived]["media"] != "voice" || before[domain.WebhookMessageSent]["text"] != "xyzzy-typed" ||
		before[domain.WebhookDialogHandoff]["reason"] != "xyzzy-reason" || before[domain.WebhookContactOptedOut]["reason"] != "xyzzy-stop" ||
		before[domain.WebhookMeetingBooked]["zone"] != "Asia/Xyzzy" {
		t.Errorf("personal payloads before the erasure: %v", before)
	}
	if c, _ := before[domain.WebhookDialogStarted]["contact"].(map[string]any); c["username"] != "hana" || c["name"] != "Hana Q" {
		t.Errorf("personal contact: %v", before[domain.WebhookDialogStarted])
	}
	appendTo(domain.ContactStream(contact), contact.String(), domain.ContactForgotten{By: "cli", At: at})

	recs, err = store.ReadAll(ctx, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	type built struct {
		typ  domain.WebhookEvent
		data map[string]any
		raw  string
	}
	build := func(personal bool) []built {
		var out []built
		for i := range recs {
			body, typ, ok, err := p.Build(ctx, &recs[i], all, personal)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				continue
			}
			var pl webhooks.Payload
			if err := json.Unmarshal(body, &pl); err != nil || pl.Type != typ {
				t.Fatalf("%s: %v %s", typ, err, body)
			}
			if _, err := time.Parse(time.RFC3339Nano, pl.Timestamp); err != nil {
				t.Fatalf("timestamp %q", pl.Timestamp)
			}
			out = append(out, built{typ, pl.Data, string(body)})
			checkContract(t, typ, body)
		}
		return out
	}
	public := build(false)
	var got []string
	for _, b := range public {
		got = append(got, string(b.typ))
		for _, secret := range []string{"hana", "Hana", "5000 EUR", "rival", "xyzzy"} {
			if strings.Contains(b.raw, secret) {
				t.Errorf("public %s holds %q: %s", b.typ, secret, b.raw)
			}
		}
	}
	want := "dialog.started lead.qualified dialog.taken_over dialog.outcome dialog.outcome message.received message.sent message.sent dialog.handoff dialog.closed " +
		"meeting.booked account.status account.status account.status contact.opted_out contact.forgotten"
	if strings.Join(got, " ") != want {
		t.Fatalf("types %v\nwant %s", got, want)
	}
	if d := public[1].data; d["score"] != float64(82) || d["dialog_n"] != float64(7) || len(d["fields"].([]any)) != 1 || d["fields"].([]any)[0] != "budget" {
		t.Errorf("lead.qualified %v", d)
	}
	if d := public[3].data; d["outcome"] != "won" || d["amount"] != "5000.00" || d["currency"] != "EUR" {
		t.Errorf("dialog.outcome %v", d)
	}
	if d := public[6].data; d["by"] != "ai" || d["random_id"] != float64(3) || d["tg_message_id"] != float64(2) {
		t.Errorf("message.sent %v", d)
	}
	if d := public[7].data; d["by"] != "person" || d["tg_message_id"] != float64(4) {
		t.Errorf("message.sent by a person %v", d)
	}
	if d := public[9].data; d["outcome"] != "stopped" || d["by"] != "admin:5" {
		t.Errorf("dialog.closed %v", d)
	}
	if d := public[10].data; d["dialog_n"] != float64(7) || d["start"] != "2026-12-03T10:00:00Z" || d["end"] != "2026-12-03T11:00:00Z" ||
		d["manager"] != "Maria" || d["calendar_uid"] != "m-7@acme.test" || d["zone"] != nil || d["href"] != nil {
		t.Errorf("meeting.booked %v", d)
	}
	if d := public[11].data; d["status"] != "restricted" || d["reason"] != "PEER_FLOOD" || d["account_id"] != account.String() {
		t.Errorf("account.status %v", d)
	}
	if d := public[15].data; d["contact_id"] != contact.String() || d["by"] != "cli" {
		t.Errorf("contact.forgotten %v", d)
	}
	personal := build(true)
	// The contact was forgotten before this build: its personal fields
	// read as the marker, never as what they were.
	if q, _ := personal[1].data["qualification"].(map[string]any); q == nil || !strings.Contains(personal[1].raw, eventstore.ForgottenMarker) {
		t.Errorf("personal lead.qualified after erasure: %s", personal[1].raw)
	}
	if z := personal[10].data["zone"]; z != eventstore.ForgottenMarker {
		t.Errorf("personal meeting.booked after erasure: zone %v", z)
	}
	if strings.Contains(personal[4].raw, "rival") || strings.Contains(personal[0].raw, "hana") || strings.Contains(personal[5].raw, "xyzzy") {
		t.Errorf("an erased contact's data: %s %s", personal[4].raw, personal[0].raw)
	}

	// Only the wanted types are built.
	only := func(e domain.WebhookEvent) bool { return e == domain.WebhookAccountStatus }
	if _, _, ok, err := p.Build(ctx, &recs[0], only, false); ok || err != nil {
		t.Errorf("an unwanted type: %v %v", ok, err)
	}
	if _, ok := webhooks.EventFor("StageChanged"); ok {
		t.Error("StageChanged is a public event")
	}
}

func TestMessageID(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	if webhooks.MessageID(a, 5) != webhooks.MessageID(a, 5) || webhooks.MessageID(a, 5) == webhooks.MessageID(a, 6) || webhooks.MessageID(a, 5) == webhooks.MessageID(b, 5) {
		t.Fatal("a message id is one per subscription and position")
	}
	if id := webhooks.MessageID(a, 5); !strings.HasPrefix(id, "msg_") || len(id) != 36 {
		t.Fatalf("id %q", id)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"120":                           2 * time.Minute,
		" 5 ":                           5 * time.Second,
		"0":                             0,
		"-3":                            0,
		"soon":                          0,
		"":                              0,
		"Wed, 02 Dec 2026 10:01:30 GMT": 90 * time.Second,
		"Wed, 02 Dec 2026 09:59:00 GMT": 0,
	} {
		if got := webhooks.RetryAfter(in, now); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

var (
	contractOnce sync.Once
	contract     *openapi3.T
	contractErr  error
)

// checkContract checks a payload against the OpenAPI document's
// webhooks section (adapters/httpapi/openapi.json).
func checkContract(t *testing.T, typ domain.WebhookEvent, body []byte) {
	t.Helper()
	contractOnce.Do(func() {
		contract, contractErr = openapi3.NewLoader().LoadFromData(httpapi.OpenAPI)
		if contractErr == nil {
			contractErr = contract.Validate(t.Context())
		}
	})
	if contractErr != nil {
		t.Fatalf("openapi.json: %v", contractErr)
	}
	item := contract.Webhooks[string(typ)]
	if item == nil || item.Post == nil {
		t.Fatalf("openapi.json has no webhook %s", typ)
	}
	schema := item.Post.RequestBody.Value.Content.Get("application/json").Schema.Value
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	formats := openapi3.WithStringFormatValidator("uuid",
		openapi3.NewRegexpFormatValidator(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`))
	if err := schema.VisitJSON(v, formats, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("%s does not match openapi.json: %v\n%s", typ, err, body)
	}
}

// The OpenAPI document documents exactly the public types, and every
// public type stands for some log event.
func TestContractLists(t *testing.T) {
	checkContract(t, domain.WebhookContactForgotten, []byte(`{"type":"contact.forgotten","timestamp":"2026-12-02T10:00:00Z","data":{"contact_id":"0193a0c0-0000-7000-8000-0000000000a1","by":"cli","at":"2026-12-02T10:00:00Z"}}`))
	var documented, public []string
	for name := range contract.Webhooks {
		documented = append(documented, name)
	}
	for _, e := range domain.WebhookEvents() {
		public = append(public, string(e))
	}
	slices.Sort(documented)
	slices.Sort(public)
	if !slices.Equal(documented, public) {
		t.Fatalf("openapi.json's webhooks %v, the domain's %v", documented, public)
	}
	for _, e := range domain.WebhookEvents() {
		found := false
		for _, le := range domain.EventTypes() {
			if got, ok := webhooks.EventFor(le.EventType()); ok && got == e {
				found = true
			}
		}
		if !found {
			t.Errorf("no log event is delivered as %s", e)
		}
	}
	// A payload with a field the document does not know fails.
	var v any
	json.Unmarshal([]byte(`{"type":"contact.forgotten","timestamp":"2026-12-02T10:00:00Z","data":{"contact_id":"0193a0c0-0000-7000-8000-0000000000a1","by":"cli","at":"2026-12-02T10:00:00Z","name":"x"}}`), &v)
	schema := contract.Webhooks["contact.forgotten"].Post.RequestBody.Value.Content.Get("application/json").Schema.Value
	if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020()); err == nil {
		t.Fatal("an unknown field passed the contract")
	}
}
