package webhooks_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
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
	)
	appendTo(domain.AccountStream(account), account.String(),
		domain.AccountRestricted{Reason: "PEER_FLOOD"}, domain.AccountFloodWaited{Until: at.Add(time.Minute)}, domain.AccountConnected{})
	appendTo(domain.ContactStream(contact), contact.String(), domain.ContactForgotten{By: "cli", At: at})

	recs, err := store.ReadAll(ctx, 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	p := webhooks.NewPayloads(store)
	all := func(domain.WebhookEvent) bool { return true }
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
		}
		return out
	}
	public := build(false)
	var got []string
	for _, b := range public {
		got = append(got, string(b.typ))
		for _, secret := range []string{"hana", "Hana", "5000 EUR", "rival"} {
			if strings.Contains(b.raw, secret) {
				t.Errorf("public %s holds %q: %s", b.typ, secret, b.raw)
			}
		}
	}
	want := "dialog.started lead.qualified dialog.taken_over dialog.outcome dialog.outcome account.status account.status account.status contact.forgotten"
	if strings.Join(got, " ") != want {
		t.Fatalf("types %v\nwant %s", got, want)
	}
	if d := public[1].data; d["score"] != float64(82) || d["dialog_n"] != float64(7) || len(d["fields"].([]any)) != 1 || d["fields"].([]any)[0] != "budget" {
		t.Errorf("lead.qualified %v", d)
	}
	if d := public[3].data; d["outcome"] != "won" || d["amount"] != "5000.00" || d["currency"] != "EUR" {
		t.Errorf("dialog.outcome %v", d)
	}
	if d := public[5].data; d["status"] != "restricted" || d["reason"] != "PEER_FLOOD" || d["account_id"] != account.String() {
		t.Errorf("account.status %v", d)
	}
	if d := public[8].data; d["contact_id"] != contact.String() || d["by"] != "cli" {
		t.Errorf("contact.forgotten %v", d)
	}
	personal := build(true)
	// The contact was forgotten before this build: its personal fields
	// read as the marker, never as what they were.
	if q, _ := personal[1].data["qualification"].(map[string]any); q == nil || !strings.Contains(personal[1].raw, eventstore.ForgottenMarker) {
		t.Errorf("personal lead.qualified after erasure: %s", personal[1].raw)
	}
	if strings.Contains(personal[4].raw, "rival") || strings.Contains(personal[0].raw, "hana") {
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
