package crmsync_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/dialogs"
	"github.com/salesbot/salesbot/adapters/hubspot"
	"github.com/salesbot/salesbot/adapters/hubspot/hubspottest"
	"github.com/salesbot/salesbot/domain"
)

const hsToken = "pat-na1-crmsync-0123456789-SECRET"

type hsWorld struct {
	world
	hs     *hubspottest.Server
	client *hubspot.Client
	cfg    hubspot.Config
}

// newHubSpotWorld is newWorld's dialog 12 and a HubSpot.
func newHubSpotWorld(t *testing.T) hsWorld {
	t.Helper()
	w := newWorld(t, true)
	srv := hubspottest.New(hsToken)
	t.Cleanup(srv.Close)
	srv.DefineProperty("deals", "salesbot_budget", "team_size")
	srv.DefineProperty("contacts", "telegram_username")
	cfg := hubspot.Config{BaseURL: srv.URL, Token: hubspot.NewSecret(hsToken), Pipeline: "default", DealStage: "qualifiedtobuy",
		WonStage: "closedwon", LostStage: "closedlost", Currency: "RUB", TelegramProperty: "telegram_username",
		DealProperties: map[string]string{"need": "description", "budget": "salesbot_budget", "team_size": "team_size"},
		ClientSecret:   hubspot.NewSecret("client-secret-0123456789"), WebhookURL: "https://salesbot.example.com/hooks/hubspot"}
	client, err := hubspot.New(cfg, hubspot.Options{Clock: hubspottest.NewClock(now), Logger: slog.New(slog.NewTextHandler(w.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return hsWorld{world: w, hs: srv, client: client, cfg: cfg}
}

func (w hsWorld) count(method, path string) int {
	n := 0
	for _, r := range w.hs.Requests() {
		if r.Method == method && r.Path == path && r.Status != 0 {
			n++
		}
	}
	return n
}

func TestHubSpotSyncCreatesOnce(t *testing.T) {
	w := newHubSpotWorld(t)
	ctx := t.Context()
	res, err := w.svc.Sync(ctx, w.client, 12)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Found || !res.Noted || res.Link.CRM != "hubspot" || res.Link.N != 12 {
		t.Fatalf("result %+v", res)
	}
	again, err := w.svc.Sync(ctx, w.client, 12)
	if err != nil || again.Created || again.Noted || again.Link.CRMLeadID != res.Link.CRMLeadID {
		t.Fatalf("again: %+v, %v", again, err)
	}
	contacts, deals, notes := w.hs.Objects("contacts"), w.hs.Objects("deals"), w.hs.Objects("notes")
	if len(contacts) != 1 || len(deals) != 1 || len(notes) != 1 {
		t.Fatalf("%d contacts, %d deals, %d notes", len(contacts), len(deals), len(notes))
	}
	if w.count("POST", "/crm/v3/objects/contacts") != 1 || w.count("POST", "/crm/v3/objects/deals") != 1 || w.count("POST", "/crm/v3/objects/notes") != 1 {
		t.Fatalf("requests %+v", w.hs.Requests())
	}
	c, d, n := contacts[0], deals[0], notes[0]
	if res.Link.CRMLeadID != d.ID || res.Link.CRMContactID != c.ID {
		t.Fatalf("link %+v, deal %s, contact %s", res.Link, d.ID, c.ID)
	}
	if d.Properties["dealname"] != "Анна Петрова · salesbot dialog 12" || d.Properties["amount"] != "150000.00" ||
		d.Properties["salesbot_budget"] != "150000 RUB" || d.Properties["description"] != "CRM for 20 reps" || d.Properties["team_size"] != "20" {
		t.Fatalf("deal %v", d.Properties)
	}
	// The associations, as sent: deal → contact (3), note → deal (214).
	for _, r := range w.hs.Requests() {
		if r.Method != "POST" || (r.Path != "/crm/v3/objects/deals" && r.Path != "/crm/v3/objects/notes") {
			continue
		}
		var b struct {
			Associations []struct {
				To struct {
					ID string `json:"id"`
				} `json:"to"`
				Types []struct {
					AssociationCategory string `json:"associationCategory"`
					AssociationTypeID   int    `json:"associationTypeId"`
				} `json:"types"`
			} `json:"associations"`
		}
		if err := json.Unmarshal(r.Body, &b); err != nil || len(b.Associations) != 1 || len(b.Associations[0].Types) != 1 {
			t.Fatalf("%s: %s", r.Path, r.Body)
		}
		a := b.Associations[0]
		want := fmt.Sprintf("%s HUBSPOT_DEFINED 3", c.ID)
		if r.Path == "/crm/v3/objects/notes" {
			want = fmt.Sprintf("%s HUBSPOT_DEFINED 214", d.ID)
		}
		if got := fmt.Sprintf("%s %s %d", a.To.ID, a.Types[0].AssociationCategory, a.Types[0].AssociationTypeID); got != want {
			t.Fatalf("%s: association %s, want %s", r.Path, got, want)
		}
	}
	body := n.Properties["hs_note_body"]
	for _, want := range []string{"salesbot dialog 12", "Telegram: @anna_p", "Lead: Нужна CRM на 20 человек, бюджет 150 000 руб", "score: 85"} {
		if !strings.Contains(body, want) {
			t.Errorf("the note lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "never sent") {
		t.Error("an unsent message is in the note")
	}
	link, found, err := w.h.DialogOfCRMLead(ctx, "hubspot", d.ID)
	if err != nil || !found || link.DialogID != w.dialog {
		t.Fatalf("index: %+v, %v, %v", link, found, err)
	}
	if strings.Contains(w.logs.String(), hsToken) || strings.Contains(w.logs.String(), "Анна") {
		t.Fatalf("the logs hold the token or a name:\n%s", w.logs)
	}
}

// The deal's creation answer is lost: the retry finds the deal by its
// marker (and the contact by its username); nothing is created twice.
func TestHubSpotSyncAfterALostAnswer(t *testing.T) {
	w := newHubSpotWorld(t)
	ctx := t.Context()
	w.hs.Drop("/crm/v3/objects/deals")
	if _, err := w.svc.Sync(ctx, w.client, 12); err == nil {
		t.Fatal("no error for a lost answer")
	}
	if s, err := w.h.CRMLinkOf(ctx, w.dialog, "hubspot"); err != nil || s.Linked {
		t.Fatalf("linked without an answer: %+v, %v", s, err)
	}
	res, err := w.svc.Sync(ctx, w.client, 12)
	if err != nil || res.Created || !res.Found || !res.Noted {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	deals, contacts := w.hs.Objects("deals"), w.hs.Objects("contacts")
	if len(deals) != 1 || len(contacts) != 1 || res.Link.CRMLeadID != deals[0].ID || res.Link.CRMContactID != contacts[0].ID || !res.Link.Found {
		t.Fatalf("%d deals, %d contacts, link %+v", len(deals), len(contacts), res.Link)
	}
	if n := len(w.hs.Objects("notes")); n != 1 {
		t.Fatalf("%d notes", n)
	}
}

// The loop closed: the dialog pushed to HubSpot, then HubSpot's signed
// webhook on the deal's stage records the deal through dialogs.Service.
func TestHubSpotWebhookRecordsTheOutcome(t *testing.T) {
	w := newHubSpotWorld(t)
	ctx := t.Context()
	res, err := w.svc.Sync(ctx, w.client, 12)
	if err != nil {
		t.Fatal(err)
	}
	hook, err := hubspot.NewWebhook(w.cfg, hubspot.WebhookDeps{Links: w.h, Deals: w.client, Record: dialogs.Service{H: w.h}.RecordOutcomeAt,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	send := func(stage string) int {
		w.hs.SetProperty(res.Link.CRMLeadID, "dealstage", stage)
		id, _ := strconv.ParseInt(res.Link.CRMLeadID, 10, 64)
		body, _ := json.Marshal([]map[string]any{{"eventId": 1, "subscriptionType": "deal.propertyChange", "portalId": 62515,
			"occurredAt": now.UnixMilli(), "objectId": id, "propertyName": "dealstage", "propertyValue": stage}})
		ts := strconv.FormatInt(now.UnixMilli(), 10)
		m := hmac.New(sha256.New, []byte("client-secret-0123456789"))
		m.Write([]byte("POST" + w.cfg.WebhookURL + string(body) + ts))
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/hooks/hubspot", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-HubSpot-Request-Timestamp", ts)
		r.Header.Set("X-HubSpot-Signature-v3", base64.StdEncoding.EncodeToString(m.Sum(nil)))
		rec := httptest.NewRecorder()
		hook.ServeHTTP(rec, r)
		return rec.Code
	}
	w.hs.SetProperty(res.Link.CRMLeadID, "amount", "175000")
	if s := send("closedwon"); s != 200 {
		t.Fatalf("won: %d", s)
	}
	d, err := w.h.LoadDialog(ctx, w.dialog)
	if err != nil || d.Deal != (domain.Deal{Outcome: domain.OutcomeWon, Value: domain.Money{Minor: 17500000, Currency: "RUB"}}) {
		t.Fatalf("deal %+v, %v", d.Deal, err)
	}
	if s := send("closedlost"); s != 200 {
		t.Fatalf("lost: %d", s)
	}
	if d, err = w.h.LoadDialog(ctx, w.dialog); err != nil || d.Deal.Outcome != domain.OutcomeLost || d.Deal.Reason != hubspot.LostReason {
		t.Fatalf("deal %+v, %v", d.Deal, err)
	}
}
