package hubspot_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/hubspot"
	"github.com/salesbot/salesbot/adapters/hubspot/hubspottest"
	"github.com/salesbot/salesbot/domain"
)

const token = "pat-na1-0123456789abcdef-SECRET"

var t0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

type env struct {
	srv    *hubspottest.Server
	client *hubspot.Client
	clock  *hubspottest.Clock
	logs   *bytes.Buffer
}

func testConfig(url string) hubspot.Config {
	return hubspot.Config{BaseURL: url, Token: hubspot.NewSecret(token), Pipeline: "default", DealStage: "qualifiedtobuy",
		WonStage: "closedwon", LostStage: "closedlost", OwnerID: "77",
		DealProperties:    map[string]string{"need": "description", "budget": "salesbot_budget", "team_size": "team_size"},
		ContactProperties: map[string]string{"authority": "jobtitle"},
		TelegramProperty:  "telegram_username", Currency: "RUB"}
}

func newEnv(t *testing.T, mut ...func(*hubspot.Config)) env {
	t.Helper()
	srv := hubspottest.New(token)
	t.Cleanup(srv.Close)
	srv.DefineProperty("deals", "salesbot_budget", "team_size", "salesbot_marker")
	srv.DefineProperty("contacts", "jobtitle", "telegram_username")
	cfg := testConfig(srv.URL)
	for _, m := range mut {
		m(&cfg)
	}
	clock := hubspottest.NewClock(t0)
	logs := &bytes.Buffer{}
	c, err := hubspot.New(cfg, hubspot.Options{Clock: clock, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return env{srv: srv, client: c, clock: clock, logs: logs}
}

func anna() domain.CRMLead {
	return domain.CRMLead{DialogN: 12, Marker: domain.CRMMarker(12), Name: "Анна Петрова", Username: "anna_p", Phone: "+79161234567",
		Budget: domain.Money{Minor: 15000050, Currency: "RUB"}, HasPrice: true,
		Fields: map[string]string{"budget": "150 000 ₽", "timeline": "next month", "need": "CRM for 20 reps", "team_size": "20", "authority": "CTO", "score": "80"}}
}

// body decodes a recorded request's JSON body.
func body(t *testing.T, r hubspottest.Request) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	return m
}

func TestCreateLead(t *testing.T) {
	e := newEnv(t)
	ids, err := e.client.CreateLead(t.Context(), anna())
	if err != nil {
		t.Fatal(err)
	}
	contacts, deals := e.srv.Objects("contacts"), e.srv.Objects("deals")
	if len(contacts) != 1 || len(deals) != 1 {
		t.Fatalf("%d contacts, %d deals", len(contacts), len(deals))
	}
	c, d := contacts[0], deals[0]
	if ids.ContactID != c.ID || ids.LeadID != d.ID {
		t.Fatalf("ids %+v, contact %s, deal %s", ids, c.ID, d.ID)
	}
	wantDeal := map[string]string{"dealname": "Анна Петрова · salesbot dialog 12", "pipeline": "default", "dealstage": "qualifiedtobuy",
		"amount": "150000.50", "hubspot_owner_id": "77", "description": "CRM for 20 reps", "salesbot_budget": "150 000 ₽", "team_size": "20", "hs_object_id": d.ID}
	if fmt.Sprint(d.Properties) != fmt.Sprint(wantDeal) {
		t.Fatalf("deal properties\n got %v\nwant %v", d.Properties, wantDeal)
	}
	wantContact := map[string]string{"firstname": "Анна", "lastname": "Петрова", "phone": "+79161234567", "telegram_username": "@anna_p",
		"jobtitle": "CTO", "hubspot_owner_id": "77", "hs_object_id": c.ID}
	if fmt.Sprint(c.Properties) != fmt.Sprint(wantContact) {
		t.Fatalf("contact properties\n got %v\nwant %v", c.Properties, wantContact)
	}
	if len(d.Associations) != 1 || d.Associations[0] != (hubspottest.Association{Category: "HUBSPOT_DEFINED", TypeID: 3, ToType: "contacts", ToID: c.ID}) {
		t.Fatalf("associations %+v", d.Associations)
	}
	// The requests: a search for the Telegram username, the contact, the deal; each with the token.
	reqs := e.srv.Requests()
	var paths []string
	for _, r := range reqs {
		paths = append(paths, r.Method+" "+r.Path)
		if r.Auth != "Bearer "+token {
			t.Fatalf("auth %q", r.Auth)
		}
	}
	if strings.Join(paths, ", ") != "POST /crm/v3/objects/contacts/search, POST /crm/v3/objects/contacts, POST /crm/v3/objects/deals" {
		t.Fatalf("requests %v", paths)
	}
	search := body(t, reqs[0])
	if fmt.Sprint(search["filterGroups"]) != "[map[filters:[map[operator:EQ propertyName:telegram_username value:@anna_p]]]]" {
		t.Fatalf("search %s", reqs[0].Body)
	}
	deal := body(t, reqs[2])
	if fmt.Sprint(deal["associations"]) != fmt.Sprintf("[map[to:map[id:%s] types:[map[associationCategory:HUBSPOT_DEFINED associationTypeId:3]]]]", c.ID) {
		t.Fatalf("deal's associations %s", reqs[2].Body)
	}
	if strings.Contains(e.logs.String(), "Анна") || strings.Contains(e.logs.String(), token) {
		t.Fatalf("logs: %s", e.logs)
	}
}

// A budget in another currency gives no amount; no name: the username.
func TestCreateLeadMapping(t *testing.T) {
	e := newEnv(t, func(c *hubspot.Config) { c.TelegramProperty = ""; c.OwnerID = ""; c.MarkerProperty = "salesbot_marker" })
	in := anna()
	in.Name, in.Phone = "", ""
	in.Budget = domain.Money{Minor: 100, Currency: "USD"}
	in.Fields = map[string]string{"need": "  "}
	if _, err := e.client.CreateLead(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	d, c := e.srv.Objects("deals")[0], e.srv.Objects("contacts")[0]
	if d.Properties["dealname"] != "@anna_p · salesbot dialog 12" || d.Properties["salesbot_marker"] != "salesbot dialog 12" ||
		d.Properties["amount"] != "" || d.Properties["description"] != "" || d.Properties["hubspot_owner_id"] != "" {
		t.Fatalf("deal %v", d.Properties)
	}
	if c.Properties["firstname"] != "@anna_p" || len(c.Properties) != 2 {
		t.Fatalf("contact %v", c.Properties)
	}
	// The contact exists: the deal is associated with it, no contact is created, no search.
	in.CRMContactID = c.ID
	in.Marker = domain.CRMMarker(13)
	before := len(e.srv.Requests())
	ids, err := e.client.CreateLead(t.Context(), in)
	if err != nil || ids.ContactID != c.ID || len(e.srv.Objects("contacts")) != 1 || len(e.srv.Requests()) != before+1 {
		t.Fatalf("ids %+v, %v; %d contacts", ids, err, len(e.srv.Objects("contacts")))
	}
}

// The contact of an earlier attempt is found by its Telegram username.
func TestCreateLeadReusesTheContact(t *testing.T) {
	e := newEnv(t)
	e.srv.Drop("/crm/v3/objects/deals")
	if _, err := e.client.CreateLead(t.Context(), anna()); err == nil {
		t.Fatal("no error for a dropped answer")
	}
	ids, err := e.client.CreateLead(t.Context(), anna())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Objects("contacts")); n != 1 || ids.ContactID != e.srv.Objects("contacts")[0].ID {
		t.Fatalf("%d contacts, ids %+v", n, ids)
	}
}

// An unknown property is HubSpot's 400, parsed into a StatusError.
func TestCreateLeadValidation(t *testing.T) {
	e := newEnv(t, func(c *hubspot.Config) { c.DealProperties = map[string]string{"need": "no_such_property"} })
	_, err := e.client.CreateLead(t.Context(), anna())
	var se *hubspot.StatusError
	if !errors.As(err, &se) || se.Status != 400 || se.Category != "VALIDATION_ERROR" || se.Op != "create deal" ||
		!strings.Contains(se.Message, "no_such_property") || se.CorrelationID == "" {
		t.Fatalf("%#v", err)
	}
	if !strings.Contains(err.Error(), "create deal: HTTP 400 VALIDATION_ERROR") {
		t.Fatal(err)
	}
}

func TestFindLead(t *testing.T) {
	for _, marker := range []string{"", "salesbot_marker"} {
		t.Run("marker property "+marker, func(t *testing.T) {
			e := newEnv(t, func(c *hubspot.Config) { c.MarkerProperty = marker })
			ctx := t.Context()
			in := anna()
			in.DialogN, in.Marker = 12, domain.CRMMarker(12)
			want, err := e.client.CreateLead(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			// dialog 1 is not dialog 12
			if _, found, err := e.client.FindLead(ctx, domain.CRMMarker(1)); err != nil || found {
				t.Fatalf("dialog 1: %v, %v", found, err)
			}
			got, found, err := e.client.FindLead(ctx, domain.CRMMarker(12))
			if err != nil || !found || got != want {
				t.Fatalf("dialog 12: %+v, %v, %v; want %+v", got, found, err, want)
			}
			reqs := e.srv.Requests()
			search := body(t, reqs[len(reqs)-2])
			f := search["filterGroups"].([]any)[0].(map[string]any)["filters"].([]any)[0].(map[string]any)
			wantF := map[string]any{"propertyName": "dealname", "operator": "CONTAINS_TOKEN", "value": "salesbot dialog 12"}
			if marker != "" {
				wantF = map[string]any{"propertyName": marker, "operator": "EQ", "value": "salesbot dialog 12"}
			}
			if fmt.Sprint(f) != fmt.Sprint(wantF) {
				t.Fatalf("filter %v", f)
			}
			if last := reqs[len(reqs)-1]; last.Method != "GET" || last.Path != "/crm/v3/objects/deals/"+want.LeadID || last.Query != "associations=contacts" {
				t.Fatalf("last request %+v", last)
			}
			// A manager renames the deal: found by the marker property only.
			e.srv.SetProperty(want.LeadID, "dealname", "Big deal")
			_, found, err = e.client.FindLead(ctx, domain.CRMMarker(12))
			if err != nil || found != (marker != "") {
				t.Fatalf("renamed: %v, %v", found, err)
			}
		})
	}
}

// Search lags: a deal just created is not found yet (HubSpot's search is
// eventually consistent); once indexed, it is.
func TestFindLeadSearchLag(t *testing.T) {
	e := newEnv(t)
	e.srv.SearchLag(true)
	if _, err := e.client.CreateLead(t.Context(), anna()); err != nil {
		t.Fatal(err)
	}
	if _, found, err := e.client.FindLead(t.Context(), domain.CRMMarker(12)); err != nil || found {
		t.Fatalf("before indexing: %v, %v", found, err)
	}
	e.srv.Index()
	if _, found, err := e.client.FindLead(t.Context(), domain.CRMMarker(12)); err != nil || !found {
		t.Fatalf("after indexing: %v, %v", found, err)
	}
}

func TestAddNote(t *testing.T) {
	e := newEnv(t)
	ids, err := e.client.CreateLead(t.Context(), anna())
	if err != nil {
		t.Fatal(err)
	}
	text := "salesbot dialog 12: transcript\nLead: <b>Привет</b> & \"hi\"\n" + strings.Repeat("строка\n", 2000)
	parts, err := e.client.AddNote(t.Context(), ids.LeadID, text)
	if err != nil || parts != 2 {
		t.Fatalf("parts %d, %v", parts, err)
	}
	notes := e.srv.Objects("notes")
	if len(notes) != 2 {
		t.Fatalf("%d notes", len(notes))
	}
	for _, n := range notes {
		if len(n.Associations) != 1 || n.Associations[0] != (hubspottest.Association{Category: "HUBSPOT_DEFINED", TypeID: 214, ToType: "deals", ToID: ids.LeadID}) {
			t.Fatalf("associations %+v", n.Associations)
		}
		if n.Properties["hs_timestamp"] != "2026-12-02T10:00:00.000Z" {
			t.Fatalf("timestamp %q", n.Properties["hs_timestamp"])
		}
	}
	if !strings.HasPrefix(notes[0].Properties["hs_note_body"], "salesbot dialog 12: transcript<br>Lead: &lt;b&gt;Привет&lt;/b&gt; &amp; &#34;hi&#34;<br>строка<br>") {
		t.Fatalf("body %q", notes[0].Properties["hs_note_body"][:120])
	}
	if _, err := e.client.AddNote(t.Context(), "1/../2", "x"); err == nil {
		t.Fatal("a bad id was sent")
	}
	// A note on a deal that does not exist: HubSpot's 400.
	if _, err := e.client.AddNote(t.Context(), "999999", "x"); err == nil || !strings.Contains(err.Error(), "INVALID_OBJECT_IDS") && !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing deal: %v", err)
	}
}

func TestSplitNote(t *testing.T) {
	if got := hubspot.SplitNote("ab\ncd\nef", 5); fmt.Sprint(got) != "[ab\ncd ef]" {
		t.Fatalf("%q", got)
	}
	if got := hubspot.SplitNote("абвгд", 2); fmt.Sprint(got) != "[аб вг д]" {
		t.Fatalf("%q", got)
	}
}

// A 429 is waited out (Retry-After, else the limit's interval), a daily
// limit is not; a create answered 500 is not retried; a search is.
func TestRateLimitAndRetries(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.srv.RateLimit("/crm/v3/objects/contacts", "TEN_SECONDLY_ROLLING", "")
	e.srv.RateLimit("/crm/v3/objects/deals", "SECONDLY", "2")
	if _, err := e.client.CreateLead(ctx, anna()); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(e.clock.Slept()); got != "[10s 2s]" {
		t.Fatalf("slept %s", got)
	}
	if len(e.srv.Objects("deals")) != 1 {
		t.Fatal("no deal")
	}
	e.srv.RateLimit("", "DAILY", "")
	_, _, err := e.client.FindLead(ctx, domain.CRMMarker(12))
	var se *hubspot.StatusError
	if !errors.Is(err, hubspot.ErrRateLimited) || !errors.As(err, &se) || se.Policy != "DAILY" || len(e.clock.Slept()) != 2 {
		t.Fatalf("daily: %v, slept %v", err, e.clock.Slept())
	}
	// A create answered 500 is not retried: the deal may exist.
	e.srv.Fail("/crm/v3/objects/deals", http.StatusInternalServerError)
	in := anna()
	in.Marker = domain.CRMMarker(13)
	before := len(e.srv.Requests())
	if _, err := e.client.CreateLead(ctx, in); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("500: %v", err)
	}
	if n := len(e.srv.Requests()) - before; n != 2 { // the contact search, then the deal: no retry
		t.Fatalf("%d requests", n)
	}
	// A search answered 503 is.
	e.srv.Fail("/crm/v3/objects/deals/search", http.StatusServiceUnavailable)
	if _, found, err := e.client.FindLead(ctx, domain.CRMMarker(12)); err != nil || !found {
		t.Fatalf("search after 503: %v, %v", found, err)
	}
	// Retries run out.
	for range 5 {
		e.srv.RateLimit("/crm/v3/objects/deals/search", "TEN_SECONDLY_ROLLING", "1")
	}
	if _, _, err := e.client.FindLead(ctx, domain.CRMMarker(12)); !errors.Is(err, hubspot.ErrRateLimited) {
		t.Fatalf("out of retries: %v", err)
	}
}

func TestUnauthorizedKeepsTheTokenOut(t *testing.T) {
	e := newEnv(t)
	cfg := testConfig(e.srv.URL)
	cfg.Token = hubspot.NewSecret("pat-na1-wrong-" + token)
	logs := &bytes.Buffer{}
	c, err := hubspot.New(cfg, hubspot.Options{Clock: e.clock, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateLead(t.Context(), anna())
	var se *hubspot.StatusError
	if !errors.Is(err, hubspot.ErrUnauthorized) || !errors.As(err, &se) || se.Category != "INVALID_AUTHENTICATION" {
		t.Fatalf("%v", err)
	}
	if strings.Contains(err.Error(), token) || strings.Contains(logs.String(), token) {
		t.Fatal("the token leaked")
	}
	// A transport error names no token either (the URL holds none; the header is not printed).
	cfg.BaseURL = "http://127.0.0.1:1"
	c, err = hubspot.New(cfg, hubspot.Options{Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.FindLead(t.Context(), "salesbot dialog 1"); err == nil || strings.Contains(err.Error(), token) {
		t.Fatalf("transport: %v", err)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, mustJSON(t, cfg)); strings.Contains(s, token) {
		t.Fatalf("the config prints the token: %s", s)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDeal(t *testing.T) {
	e := newEnv(t)
	ids, err := e.client.CreateLead(t.Context(), anna())
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.client.Deal(t.Context(), ids.LeadID)
	if err != nil || d != (hubspot.Deal{ID: ids.LeadID, Stage: "qualifiedtobuy", Amount: "150000.50"}) {
		t.Fatalf("%+v, %v", d, err)
	}
	last := e.srv.Requests()[len(e.srv.Requests())-1]
	if last.Query != "properties=dealstage%2Camount%2Cdeal_currency_code" {
		t.Fatalf("query %q", last.Query)
	}
	if _, err := e.client.Deal(t.Context(), "424242"); !errors.Is(err, hubspot.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}
