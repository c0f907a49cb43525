package amocrm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/amocrm"
	"github.com/salesbot/salesbot/adapters/amocrm/amocrmtest"
	"github.com/salesbot/salesbot/domain"
)

const token = "ltt-0123456789abcdef-SECRET"

var t0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

type env struct {
	srv    *amocrmtest.Server
	client *amocrm.Client
	clock  *amocrmtest.Clock
	logs   *bytes.Buffer
}

func newEnv(t *testing.T, mut ...func(*amocrm.Config)) env {
	t.Helper()
	srv := amocrmtest.New(token)
	t.Cleanup(srv.Close)
	srv.KnownFields(9001, 9002, 9003, 9004, 9005, 9100, 9200)
	cfg := amocrm.Config{BaseURL: srv.URL, Token: amocrm.NewSecret(token), PipelineID: 7001, StatusID: 7002, ResponsibleUserID: 42,
		Fields: map[string]int64{"budget": 9001, "timeline": 9002, "authority": 9003, "need": 9004, "team_size": 9005}, TelegramFieldID: 9100, Currency: "RUB"}
	for _, m := range mut {
		m(&cfg)
	}
	clock := amocrmtest.NewClock(t0)
	logs := &bytes.Buffer{}
	c, err := amocrm.New(cfg, amocrm.Options{Clock: clock, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return env{srv: srv, client: c, clock: clock, logs: logs}
}

func anna() domain.CRMLead {
	return domain.CRMLead{DialogN: 12, Marker: domain.CRMMarker(12), Name: "Анна Петрова", Username: "anna_p", Phone: "+79161234567",
		Budget: domain.Money{Minor: 15000050, Currency: "RUB"}, HasPrice: true,
		Fields: map[string]string{"budget": "150 000 ₽", "timeline": "next month", "need": "CRM for 20 reps", "team_size": "20", "score": "80"}}
}

func TestCreateLead(t *testing.T) {
	e := newEnv(t)
	ids, err := e.client.CreateLead(t.Context(), anna())
	if err != nil {
		t.Fatal(err)
	}
	leads, contacts := e.srv.Leads(), e.srv.Contacts()
	if len(leads) != 1 || len(contacts) != 1 {
		t.Fatalf("%d leads, %d contacts", len(leads), len(contacts))
	}
	l, c := leads[0], contacts[0]
	if ids.LeadID != fmt.Sprint(l.ID) || ids.ContactID != fmt.Sprint(c.ID) {
		t.Fatalf("ids %+v, lead %d, contact %d", ids, l.ID, c.ID)
	}
	if l.Name != "Анна Петрова · salesbot dialog 12" || l.Price != 150001 || l.PipelineID != 7001 || l.StatusID != 7002 ||
		l.ResponsibleUserID != 42 || l.ContactID != c.ID || !reflect.DeepEqual(l.Tags, []string{"salesbot"}) {
		t.Fatalf("lead %+v", l)
	}
	// The mapped fields, in name order; "score" has no mapping and is left out.
	got := map[int64]any{}
	for _, f := range l.Fields {
		if len(f.Values) != 1 {
			t.Fatalf("field %+v", f)
		}
		got[f.FieldID] = f.Values[0].Value
	}
	want := map[int64]any{9001: "150 000 ₽", 9002: "next month", 9004: "CRM for 20 reps", 9005: "20"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("custom_fields_values %v, want %v", got, want)
	}
	if c.Name != "Анна Петрова" || len(c.Fields) != 2 || c.Fields[0].FieldCode != "PHONE" || c.Fields[0].Values[0].Value != "+79161234567" ||
		c.Fields[1].FieldID != 9100 || c.Fields[1].Values[0].Value != "@anna_p" {
		t.Fatalf("contact %+v", c)
	}
	reqs := e.srv.Requests()
	if len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != "/api/v4/leads/complex" || reqs[0].Auth != "Bearer "+token || reqs[0].Status != 200 {
		t.Fatalf("requests %+v", reqs)
	}
	// The body is a JSON array of one lead with the contact and the tag embedded.
	var body []map[string]any
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil || len(body) != 1 {
		t.Fatalf("body %s: %v", reqs[0].Body, err)
	}
	emb, _ := body[0]["_embedded"].(map[string]any)
	if _, ok := emb["contacts"]; !ok || emb["tags"] == nil {
		t.Fatalf("_embedded %v", emb)
	}
}

func TestCreateLeadWithoutPrice(t *testing.T) {
	e := newEnv(t)
	in := anna()
	in.Budget, in.HasPrice = domain.Money{Minor: 500000, Currency: "USD"}, true // not the account's currency
	in.Name = ""
	if _, err := e.client.CreateLead(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	l := e.srv.Leads()[0]
	if l.Price != 0 || l.Name != "@anna_p · salesbot dialog 12" || e.srv.Contacts()[0].Name != "@anna_p" {
		t.Fatalf("lead %+v", l)
	}
	if strings.Contains(string(e.srv.Requests()[0].Body), `"price"`) {
		t.Fatalf("a price was sent: %s", e.srv.Requests()[0].Body)
	}
}

// The fake refuses what amoCRM refuses: an unknown custom field is a
// validation error, and the client's error names the operation, the
// status and amoCRM's path.
func TestValidationError(t *testing.T) {
	e := newEnv(t, func(c *amocrm.Config) { c.Fields["budget"] = 12345 })
	_, err := e.client.CreateLead(t.Context(), anna())
	var se *amocrm.StatusError
	if !errors.As(err, &se) || se.Status != 400 || se.Op != "create lead" || len(se.Validation) != 1 || !strings.HasPrefix(se.Validation[0], "custom_fields_values.0.field_id") {
		t.Fatalf("err %v (%#v)", err, se)
	}
	if !strings.Contains(err.Error(), "create lead: HTTP 400") {
		t.Fatalf("message %q", err)
	}
	if len(e.srv.Leads()) != 0 {
		t.Fatal("a lead was created")
	}
}

func TestUnauthorized(t *testing.T) {
	e := newEnv(t, func(c *amocrm.Config) { c.Token = amocrm.NewSecret("wrong-" + token) })
	_, err := e.client.CreateLead(t.Context(), anna())
	if !errors.Is(err, amocrm.ErrUnauthorized) || errors.Is(err, amocrm.ErrRateLimited) {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error(), token) || strings.Contains(e.logs.String(), token) {
		t.Fatal("the token leaked")
	}
	if !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("message %q", err)
	}
}

// A 429 is waited out (Retry-After, else a backoff) and the request sent
// again; the lead is created once.
func TestRateLimitedIsRetried(t *testing.T) {
	e := newEnv(t)
	e.srv.Fail("/api/v4/leads/complex", http.StatusTooManyRequests, "3")
	e.srv.Fail("/api/v4/leads/complex", http.StatusTooManyRequests, "")
	if _, err := e.client.CreateLead(t.Context(), anna()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Leads()); n != 1 {
		t.Fatalf("%d leads", n)
	}
	var statuses []int
	for _, r := range e.srv.Requests() {
		statuses = append(statuses, r.Status)
	}
	if !reflect.DeepEqual(statuses, []int{429, 429, 200}) {
		t.Fatalf("statuses %v", statuses)
	}
	if s := e.clock.Slept(); !reflect.DeepEqual(s, []time.Duration{3 * time.Second, 2 * time.Second}) {
		t.Fatalf("slept %v", s)
	}
	if strings.Contains(e.logs.String(), token) {
		t.Fatal("the token is in the logs")
	}
}

func TestRateLimitedGivesUp(t *testing.T) {
	e := newEnv(t)
	for range 5 {
		e.srv.Fail("", http.StatusTooManyRequests, "1")
	}
	_, _, err := e.client.FindLead(t.Context(), "salesbot dialog 1")
	if !errors.Is(err, amocrm.ErrRateLimited) || len(e.srv.Requests()) != 5 {
		t.Fatalf("err %v after %d requests", err, len(e.srv.Requests()))
	}
}

// A 5xx of a POST is not retried (the lead may exist: FindLead tells);
// one of a search is.
func TestServerErrors(t *testing.T) {
	e := newEnv(t)
	e.srv.Fail("/api/v4/leads/complex", http.StatusBadGateway, "")
	if _, err := e.client.CreateLead(t.Context(), anna()); err == nil || !strings.Contains(err.Error(), "HTTP 502") {
		t.Fatalf("err %v", err)
	}
	if n := len(e.srv.Requests()); n != 1 {
		t.Fatalf("%d requests", n)
	}
	e.srv.Fail("/api/v4/leads", http.StatusServiceUnavailable, "")
	if _, found, err := e.client.FindLead(t.Context(), "salesbot dialog 12"); err != nil || found {
		t.Fatalf("find: %v, %v", found, err)
	}
	if n := len(e.srv.Requests()); n != 3 {
		t.Fatalf("%d requests", n)
	}
}

// The search is full-text: dialog 1's marker also finds dialog 12's
// lead, which FindLead passes over.
func TestFindLeadExactly(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	in := anna()
	ids12, err := e.client.CreateLead(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := e.client.FindLead(ctx, domain.CRMMarker(1)); err != nil || found {
		t.Fatalf("dialog 1: %v, %v", found, err)
	}
	got, found, err := e.client.FindLead(ctx, domain.CRMMarker(12))
	if err != nil || !found || got != ids12 {
		t.Fatalf("dialog 12: %+v, %v, %v (want %+v)", got, found, err, ids12)
	}
	last := e.srv.Requests()[len(e.srv.Requests())-1]
	if last.Method != "GET" || last.Path != "/api/v4/leads" || !strings.Contains(last.Query, "query=salesbot+dialog+12") {
		t.Fatalf("request %+v", last)
	}
}

// With a marker field, a lead renamed by a manager is still found.
func TestFindLeadByMarkerField(t *testing.T) {
	e := newEnv(t, func(c *amocrm.Config) { c.MarkerFieldID = 9200 })
	ids, err := e.client.CreateLead(t.Context(), anna())
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	fmt.Sscan(ids.LeadID, &id)
	e.srv.Rename(id, "Big deal")
	if got, found, err := e.client.FindLead(t.Context(), domain.CRMMarker(12)); err != nil || !found || got.LeadID != ids.LeadID {
		t.Fatalf("%+v, %v, %v", got, found, err)
	}
}

func TestAddNoteSplits(t *testing.T) {
	e := newEnv(t)
	ids, err := e.client.CreateLead(t.Context(), anna())
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("я", 99) + "\n" // 100 characters a line
	text := strings.Repeat(line, 90)       // 9,000 characters
	parts, err := e.client.AddNote(t.Context(), ids.LeadID, text)
	if err != nil || parts != 3 {
		t.Fatalf("parts %d, %v", parts, err)
	}
	notes := e.srv.Notes()
	if len(notes) != 3 {
		t.Fatalf("%d notes", len(notes))
	}
	var joined []string
	for _, n := range notes {
		if n.Type != "common" || fmt.Sprint(n.LeadID) != ids.LeadID || len([]rune(n.Text)) > amocrm.MaxNote {
			t.Fatalf("note %+v", n)
		}
		joined = append(joined, n.Text)
	}
	if strings.Join(joined, "\n") != strings.TrimSpace(text) {
		t.Fatal("the parts do not make the transcript")
	}
	if reqs := e.srv.Requests(); len(reqs) != 2 || reqs[1].Path != "/api/v4/leads/"+ids.LeadID+"/notes" {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestSplitNote(t *testing.T) {
	for _, c := range []struct {
		text string
		max  int
		want []string
	}{
		{"", 5, nil},
		{"abc", 5, []string{"abc"}},
		{"ab\ncd\nef", 5, []string{"ab\ncd", "ef"}},
		{"абвгдеёжз", 4, []string{"абвг", "деёж", "з"}},
	} {
		if got := amocrm.SplitNote(c.text, c.max); !reflect.DeepEqual(got, c.want) {
			t.Errorf("SplitNote(%q, %d) = %q, want %q", c.text, c.max, got, c.want)
		}
	}
}

// No second in which more than 7 requests start: counted on the fake
// clock, every request's start 8 requests on is a second later or more.
func TestLimiter(t *testing.T) {
	clock := amocrmtest.NewClock(t0)
	l := amocrm.NewLimiter(7, clock)
	var starts []time.Time
	for range 30 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		starts = append(starts, clock.Now())
	}
	for i := range starts[:len(starts)-7] {
		if d := starts[i+7].Sub(starts[i]); d < time.Second {
			t.Fatalf("requests %d and %d start %v apart", i, i+7, d)
		}
	}
	// A burst of 7 starts at once; the 30 take about 3 seconds, not more.
	if !starts[6].Equal(t0) || starts[29].Sub(t0) > 4*time.Second {
		t.Fatalf("starts %v .. %v", starts[6], starts[29])
	}
}

// The client goes through the limiter: 15 searches take 2 seconds of the clock.
func TestClientIsPaced(t *testing.T) {
	e := newEnv(t)
	for range 15 {
		if _, _, err := e.client.FindLead(t.Context(), "salesbot dialog 3"); err != nil {
			t.Fatal(err)
		}
	}
	if d := e.clock.Now().Sub(t0); d < 2*time.Second {
		t.Fatalf("15 requests in %v", d)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	cfg := amocrm.Config{Token: amocrm.NewSecret(token), WebhookSecret: amocrm.NewSecret("whsecret-0123456789")}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s", cfg.Token)} {
		if strings.Contains(s, token) || strings.Contains(s, "whsecret") {
			t.Fatalf("printed: %s", s)
		}
	}
	b, err := json.Marshal(cfg)
	if err != nil || strings.Contains(string(b), token) {
		t.Fatalf("marshalled: %s, %v", b, err)
	}
}
