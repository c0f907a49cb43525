package hubspot_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/hubspot"
	"github.com/salesbot/salesbot/domain"
)

const (
	clientSecret = "app-client-secret-0123456789"
	hookURL      = "https://salesbot.example.com/hooks/hubspot"
)

type index map[string]int64 // deal id → dialog number

func (ix index) DialogOfCRMLead(_ context.Context, crm, lead string) (domain.CRMLeadLinked, bool, error) {
	n, ok := ix[lead]
	if crm != "hubspot" || !ok {
		return domain.CRMLeadLinked{}, false, nil
	}
	return domain.CRMLeadLinked{DialogID: uuid.New(), N: n, CRM: crm, CRMLeadID: lead}, true, nil
}

type recorded struct {
	n   int64
	cmd domain.RecordOutcome
}

type hookEnv struct {
	env
	hook   *hubspot.Webhook
	got    *[]recorded
	logs   *bytes.Buffer
	deal12 string // the deal of dialog 12
	deal13 string // the deal of dialog 13
}

// newHook is a HubSpot with two deals (dialogs 12 and 13) and the webhook.
func newHook(t *testing.T, fail error) hookEnv {
	t.Helper()
	e := newEnv(t)
	var ids [2]domain.CRMIDs
	for i, n := range []int64{12, 13} {
		in := anna()
		in.DialogN, in.Marker = n, domain.CRMMarker(n)
		var err error
		if ids[i], err = e.client.CreateLead(t.Context(), in); err != nil {
			t.Fatal(err)
		}
	}
	var got []recorded
	record := func(_ context.Context, n int64, at uint64, cmd domain.RecordOutcome) (bool, error) {
		if at != 0 {
			t.Errorf("at %d", at)
		}
		if fail != nil {
			return false, fail
		}
		if _, err := cmd.Validate(); err != nil {
			return false, err
		}
		got = append(got, recorded{n, cmd})
		return true, nil
	}
	cfg := testConfig(e.srv.URL)
	cfg.ClientSecret, cfg.WebhookURL = hubspot.NewSecret(clientSecret), hookURL
	logs := &bytes.Buffer{}
	h, err := hubspot.NewWebhook(cfg, hubspot.WebhookDeps{Links: index{ids[0].LeadID: 12, ids[1].LeadID: 13}, Deals: e.client, Record: record,
		Log: slog.New(slog.NewTextHandler(logs, nil)), Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return hookEnv{env: e, hook: h, got: &got, logs: logs, deal12: ids[0].LeadID, deal13: ids[1].LeadID}
}

// sign is HubSpot's signature v3, computed here from the spec.
func sign(secret, method, uri, body, ts string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method + uri + body + ts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func stageEvents(changes ...[2]string) string {
	var evs []map[string]any
	for i, c := range changes {
		id, _ := strconv.ParseInt(c[0], 10, 64)
		evs = append(evs, map[string]any{"eventId": 100 + i, "subscriptionId": 7, "portalId": 62515, "appId": 1, "occurredAt": t0.UnixMilli(),
			"subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": id, "propertyName": "dealstage", "propertyValue": c[1],
			"changeSource": "CRM", "sourceId": "userId:1"})
	}
	b, _ := json.Marshal(evs)
	return string(b)
}

// post sends body signed at ts (ms) to the webhook at target (the path
// and query as the proxy passes them; the signature covers hookURL +
// the query).
func (h hookEnv) post(target, body string, ts int64, secret string) *httptest.ResponseRecorder {
	tsS := strconv.FormatInt(ts, 10)
	uri := hookURL
	if _, q, ok := strings.Cut(target, "?"); ok {
		uri += "?" + q
	}
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-HubSpot-Request-Timestamp", tsS)
	r.Header.Set("X-HubSpot-Signature-v3", sign(secret, http.MethodPost, uri, body, tsS))
	w := httptest.NewRecorder()
	h.hook.ServeHTTP(w, r)
	return w
}

func TestWebhookWonAndLost(t *testing.T) {
	h := newHook(t, nil)
	h.srv.SetProperty(h.deal12, "dealstage", "closedwon")
	h.srv.SetProperty(h.deal12, "amount", "175000")
	h.srv.SetProperty(h.deal13, "dealstage", "closedlost")
	body := stageEvents([2]string{h.deal12, "closedwon"}, [2]string{h.deal13, "closedlost"}, [2]string{h.deal12, "qualifiedtobuy"})
	if w := h.post("/hooks/hubspot", body, t0.Add(-4*time.Minute).UnixMilli(), clientSecret); w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	want := []recorded{
		{12, domain.RecordOutcome{Outcome: domain.OutcomeWon, Amount: "175000.00", Currency: "RUB", By: "crm:hubspot"}},
		{13, domain.RecordOutcome{Outcome: domain.OutcomeLost, Reason: hubspot.LostReason, By: "crm:hubspot"}},
	}
	if fmt.Sprint(*h.got) != fmt.Sprint(want) {
		t.Fatalf("recorded %+v", *h.got)
	}
	// The amount was read back from the deal.
	var reads int
	for _, r := range h.srv.Requests() {
		if r.Method == http.MethodGet && r.Path == "/crm/v3/objects/deals/"+h.deal12 {
			reads++
		}
	}
	if reads != 1 {
		t.Fatalf("%d reads of the won deal", reads)
	}
	// The deal's own currency wins; a query string is signed as part of the URI.
	*h.got = nil
	h.srv.SetProperty(h.deal12, "deal_currency_code", "EUR")
	if w := h.post("/hooks/hubspot?portal=62515", stageEvents([2]string{h.deal12, "closedwon"}), t0.UnixMilli(), clientSecret); w.Code != 200 ||
		len(*h.got) != 1 || (*h.got)[0].cmd.Currency != "EUR" || (*h.got)[0].cmd.Amount != "175000.00" {
		t.Fatalf("status %d, recorded %+v", w.Code, *h.got)
	}
}

// An event whose stage is no longer the deal's is left; a deal without
// an amount is won without one.
func TestWebhookStaleEventAndNoAmount(t *testing.T) {
	h := newHook(t, nil)
	h.srv.SetProperty(h.deal12, "dealstage", "closedlost") // moved on since
	if w := h.post("/hooks/hubspot", stageEvents([2]string{h.deal12, "closedwon"}), t0.UnixMilli(), clientSecret); w.Code != 200 || len(*h.got) != 0 {
		t.Fatalf("status %d, recorded %+v", w.Code, *h.got)
	}
	h.srv.SetProperty(h.deal13, "dealstage", "closedwon")
	h.srv.SetProperty(h.deal13, "amount", "")
	if w := h.post("/hooks/hubspot", stageEvents([2]string{h.deal13, "closedwon"}), t0.UnixMilli(), clientSecret); w.Code != 200 ||
		len(*h.got) != 1 || (*h.got)[0].cmd != (domain.RecordOutcome{Outcome: domain.OutcomeWon, By: "crm:hubspot"}) {
		t.Fatalf("status %d, recorded %+v", w.Code, *h.got)
	}
}

func TestWebhookUnknownAndDeletedDeals(t *testing.T) {
	h := newHook(t, nil)
	before := len(h.srv.Requests())
	if w := h.post("/hooks/hubspot", stageEvents([2]string{"777", "closedwon"}), t0.UnixMilli(), clientSecret); w.Code != 200 || len(*h.got) != 0 {
		t.Fatalf("status %d, recorded %+v", w.Code, *h.got)
	}
	if len(h.srv.Requests()) != before {
		t.Fatal("an unknown deal was read")
	}
	if !strings.Contains(h.logs.String(), "deal=777") {
		t.Fatalf("logs %s", h.logs)
	}
	h.srv.Delete(h.deal12)
	if w := h.post("/hooks/hubspot", stageEvents([2]string{h.deal12, "closedwon"}), t0.UnixMilli(), clientSecret); w.Code != 200 || len(*h.got) != 0 {
		t.Fatalf("deleted: status %d, recorded %+v", w.Code, *h.got)
	}
}

func TestWebhookRefusals(t *testing.T) {
	h := newHook(t, nil)
	h.srv.SetProperty(h.deal12, "dealstage", "closedwon")
	good := stageEvents([2]string{h.deal12, "closedwon"})
	now := t0.UnixMilli()
	for _, c := range []struct {
		name, body string
		ts         int64
		secret     string
		status     int
	}{
		{"stale", good, t0.Add(-5*time.Minute - time.Second).UnixMilli(), clientSecret, 401},
		{"future", good, t0.Add(6 * time.Minute).UnixMilli(), clientSecret, 401},
		{"wrong secret", good, now, "another-secret", 401},
		{"empty", "", now, clientSecret, 400},
		{"not JSON", "{", now, clientSecret, 400},
		{"an object", `{"objectId": 1}`, now, clientSecret, 400},
		{"null", `null`, now, clientSecret, 400},
		{"bad id", `[{"subscriptionType": "deal.propertyChange", "objectId": "x"}]`, now, clientSecret, 400},
	} {
		w := h.post("/hooks/hubspot", c.body, c.ts, c.secret)
		if w.Code != c.status {
			t.Errorf("%s: status %d, want %d", c.name, w.Code, c.status)
			continue
		}
		var p map[string]any
		if w.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(w.Body.Bytes(), &p) != nil || p["status"] != float64(c.status) {
			t.Errorf("%s: %s %s", c.name, w.Header().Get("Content-Type"), w.Body)
		}
	}
	// A body changed after signing, a missing signature.
	r := httptest.NewRequest(http.MethodPost, "/hooks/hubspot", strings.NewReader(good+" "))
	r.Header.Set("X-HubSpot-Request-Timestamp", strconv.FormatInt(now, 10))
	r.Header.Set("X-HubSpot-Signature-v3", sign(clientSecret, "POST", hookURL, good, strconv.FormatInt(now, 10)))
	w := httptest.NewRecorder()
	h.hook.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Fatalf("tampered: %d", w.Code)
	}
	r = httptest.NewRequest(http.MethodPost, "/hooks/hubspot", strings.NewReader(good))
	w = httptest.NewRecorder()
	h.hook.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Fatalf("unsigned: %d", w.Code)
	}
	if len(*h.got) != 0 {
		t.Fatalf("recorded %+v", *h.got)
	}
	// Other events are answered 200 and left; [] too.
	other := `[{"eventId": 1, "subscriptionType": "contact.creation", "objectId": 5}, {"subscriptionType": "deal.propertyChange", "objectId": ` + h.deal12 + `, "propertyName": "amount", "propertyValue": "1"}]`
	if w := h.post("/hooks/hubspot", other, now, clientSecret); w.Code != 200 || len(*h.got) != 0 {
		t.Fatalf("other: %d %+v", w.Code, *h.got)
	}
	if w := h.post("/hooks/hubspot", "[]", now, clientSecret); w.Code != 200 {
		t.Fatalf("[]: %d", w.Code)
	}
	r = httptest.NewRequest(http.MethodGet, "/hooks/hubspot", nil)
	w = httptest.NewRecorder()
	h.hook.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", w.Code)
	}
}

// A failing log or a failing HubSpot is a 500: HubSpot sends it again.
func TestWebhookFailures(t *testing.T) {
	h := newHook(t, errors.New("disk full"))
	h.srv.SetProperty(h.deal13, "dealstage", "closedlost")
	if w := h.post("/hooks/hubspot", stageEvents([2]string{h.deal13, "closedlost"}), t0.UnixMilli(), clientSecret); w.Code != http.StatusInternalServerError {
		t.Fatalf("log: status %d", w.Code)
	}
	h.srv.Fail("/crm/v3/objects/deals/", http.StatusUnauthorized)
	if w := h.post("/hooks/hubspot", stageEvents([2]string{h.deal13, "closedlost"}), t0.UnixMilli(), clientSecret); w.Code != http.StatusInternalServerError {
		t.Fatalf("HubSpot: status %d", w.Code)
	}
	if strings.Contains(h.logs.String(), token) || strings.Contains(h.logs.String(), clientSecret) {
		t.Fatal("a secret was logged")
	}
}

// Signature follows the spec: the URI's encoded : / ? @ ! $ ' ( ) * , ;
// are decoded before signing.
func TestSignature(t *testing.T) {
	uri := "https://salesbot.example.com/hooks/hubspot?next=a%3Ab%2Fc%40d%2C&x=%20"
	got := hubspot.Signature("secret", "POST", uri, []byte(`[{"a":1}]`), "1764669600000")
	want := sign("secret", "POST", "https://salesbot.example.com/hooks/hubspot?next=a:b/c@d,&x=%20", `[{"a":1}]`, "1764669600000")
	if got != want {
		t.Fatalf("%s != %s", got, want)
	}
	if !hubspot.ValidSignature("secret", "POST", uri, []byte(`[{"a":1}]`), "1764669600000", want, time.UnixMilli(1764669600000).Add(time.Minute)) {
		t.Fatal("valid refused")
	}
	if hubspot.ValidSignature("secret", "POST", uri, []byte(`[{"a":1}]`), "1764669600000", want, time.UnixMilli(1764669600000).Add(10*time.Minute)) {
		t.Fatal("stale accepted")
	}
	if hubspot.ValidSignature("secret", "POST", uri, []byte(`[{"a":1}]`), "x", want, time.UnixMilli(1764669600000)) {
		t.Fatal("bad timestamp accepted")
	}
}

func TestNewWebhookNeeds(t *testing.T) {
	cfg := testConfig("https://api.hubapi.com")
	deps := hubspot.WebhookDeps{Links: index{}, Deals: nil, Record: func(context.Context, int64, uint64, domain.RecordOutcome) (bool, error) { return false, nil }}
	cfg.WebhookURL = hookURL
	if _, err := hubspot.NewWebhook(cfg, deps); err == nil {
		t.Fatal("no client secret accepted")
	}
	cfg.ClientSecret = hubspot.NewSecret(clientSecret)
	if _, err := hubspot.NewWebhook(cfg, deps); err == nil {
		t.Fatal("no deal reader accepted")
	}
}

func FuzzWebhook(f *testing.F) {
	f.Add([]byte(stageEvents([2]string{"5001", "closedwon"})))
	f.Add([]byte(`[{"subscriptionType":"object.propertyChange","objectTypeId":"0-3","objectId":5001,"propertyName":"dealstage","propertyValue":"closedlost"}]`))
	f.Add([]byte(`[null, 1, "x"]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if evs, err := hubspot.ParseEvents(body); err == nil && evs == nil {
			t.Fatal("nil events without an error")
		}
		var got []recorded
		h, err := hubspot.NewWebhook(hubspot.Config{ClientSecret: hubspot.NewSecret(clientSecret), WebhookURL: hookURL, WonStage: "closedwon", LostStage: "closedlost", Currency: "USD"},
			hubspot.WebhookDeps{Links: index{"5001": 12}, Deals: fixedDeal{}, Now: func() time.Time { return t0 },
				Record: func(_ context.Context, n int64, _ uint64, cmd domain.RecordOutcome) (bool, error) {
					got = append(got, recorded{n, cmd})
					return true, nil
				}})
		if err != nil {
			t.Fatal(err)
		}
		ts := strconv.FormatInt(t0.UnixMilli(), 10)
		r := httptest.NewRequest(http.MethodPost, "/hooks/hubspot", bytes.NewReader(body))
		r.Header.Set("X-HubSpot-Request-Timestamp", ts)
		r.Header.Set("X-HubSpot-Signature-v3", sign(clientSecret, "POST", hookURL, string(body), ts))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 && w.Code != 400 {
			t.Fatalf("status %d for %q", w.Code, body)
		}
		for _, g := range got {
			if g.n != 12 {
				t.Fatalf("%+v", g)
			}
		}
	})
}

type fixedDeal struct{}

func (fixedDeal) Deal(_ context.Context, id string) (hubspot.Deal, error) {
	return hubspot.Deal{ID: id, Stage: "closedwon", Amount: "12.5"}, nil
}
