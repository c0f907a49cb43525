package bitrix24_test

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

	"github.com/salesbot/salesbot/adapters/bitrix24"
	"github.com/salesbot/salesbot/adapters/bitrix24/bitrix24test"
	"github.com/salesbot/salesbot/domain"
)

const code = "k3yw0rdCODE0123456789"

var t0 = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

type env struct {
	srv    *bitrix24test.Server
	client *bitrix24.Client
	clock  *bitrix24test.Clock
	logs   *bytes.Buffer
}

func newEnv(t *testing.T, mode bitrix24.Mode, opt bitrix24.Options) env {
	t.Helper()
	srv := bitrix24test.New(7, code)
	t.Cleanup(srv.Close)
	srv.KnownFields("UF_CRM_NEED", "UF_CRM_BUDGET", "UF_CRM_TEAM", "UF_CRM_MARKER")
	portal, user, secret, err := bitrix24.ParseWebhookURL(srv.WebhookURL())
	if err != nil {
		t.Fatal(err)
	}
	cfg := bitrix24.Config{Portal: portal, UserID: user, Code: secret, Mode: mode, SourceID: "WEB", AssignedByID: 3,
		Fields: map[string]string{"need": "UF_CRM_NEED", "budget": "UF_CRM_BUDGET", "team_size": "UF_CRM_TEAM"}}
	if mode == bitrix24.ModeDeal {
		cfg.CategoryID, cfg.StageID = 2, "C2:NEW"
	} else {
		cfg.StatusID = "NEW"
	}
	clock := bitrix24test.NewClock(t0)
	logs := &bytes.Buffer{}
	opt.Clock = clock
	opt.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := bitrix24.New(cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	return env{srv: srv, client: c, clock: clock, logs: logs}
}

func lead(n int64) domain.CRMLead {
	budget, _ := domain.ParseMoney("150000", "RUB")
	return domain.CRMLead{DialogN: n, Marker: domain.CRMMarker(n), Name: "Анна Петрова", Username: "anna_p", Phone: "+79161234567",
		Budget: budget, HasPrice: true, Fields: map[string]string{"need": "CRM for 20 reps", "budget": "150000 RUB", "team_size": "20", "timeline": "Q1"}}
}

func TestCreateLeadMapping(t *testing.T) {
	e := newEnv(t, bitrix24.ModeLead, bitrix24.Options{})
	ids, err := e.client.CreateLead(t.Context(), lead(12))
	if err != nil {
		t.Fatal(err)
	}
	leads := e.srv.Leads()
	if len(leads) != 1 || fmt.Sprint(leads[0].ID) != ids.LeadID || ids.ContactID != "" {
		t.Fatalf("ids %+v, leads %+v", ids, leads)
	}
	l := leads[0]
	want := map[string]string{"TITLE": "Анна Петрова · salesbot dialog 12", "NAME": "Анна Петрова", "STATUS_ID": "NEW", "SOURCE_ID": "WEB",
		"ASSIGNED_BY_ID": "3", "OPPORTUNITY": "150000.00", "CURRENCY_ID": "RUB", "UF_CRM_NEED": "CRM for 20 reps",
		"UF_CRM_BUDGET": "150000 RUB", "UF_CRM_TEAM": "20",
		"PHONE": `[{"VALUE":"+79161234567","VALUE_TYPE":"MOBILE"}]`, "IM": `[{"VALUE":"@anna_p","VALUE_TYPE":"TELEGRAM"}]`}
	for k, v := range want {
		if got := l.Str(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(l.Fields) != len(want) { // timeline is not mapped: not sent
		t.Errorf("fields %v", l.Fields)
	}
	var body struct {
		Params map[string]string `json:"params"`
	}
	reqs := e.srv.Requests()
	if err := json.Unmarshal(reqs[len(reqs)-1].Body, &body); err != nil || body.Params["REGISTER_SONET_EVENT"] != "Y" {
		t.Fatalf("params %v, %v", body.Params, err)
	}
	// Without a budget in money, no OPPORTUNITY.
	in := lead(13)
	in.HasPrice, in.Budget = false, domain.Money{}
	if _, err := e.client.CreateLead(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if l := e.srv.Leads()[1]; l.Str("OPPORTUNITY") != "" || l.Str("CURRENCY_ID") != "" {
		t.Fatalf("lead %+v", l)
	}
}

func TestCreateDeal(t *testing.T) {
	e := newEnv(t, bitrix24.ModeDeal, bitrix24.Options{})
	ctx := t.Context()
	ids, err := e.client.CreateLead(ctx, lead(12))
	if err != nil {
		t.Fatal(err)
	}
	contacts, deals := e.srv.Contacts(), e.srv.Deals()
	if len(contacts) != 1 || len(deals) != 1 || fmt.Sprint(deals[0].ID) != ids.LeadID || fmt.Sprint(contacts[0].ID) != ids.ContactID {
		t.Fatalf("ids %+v, contacts %+v, deals %+v", ids, contacts, deals)
	}
	d := deals[0]
	for k, v := range map[string]string{"TITLE": "Анна Петрова · salesbot dialog 12", "CONTACT_ID": ids.ContactID, "CATEGORY_ID": "2",
		"STAGE_ID": "C2:NEW", "OPPORTUNITY": "150000.00", "CURRENCY_ID": "RUB", "SOURCE_ID": "WEB", "UF_CRM_NEED": "CRM for 20 reps"} {
		if got := d.Str(k); got != v {
			t.Errorf("deal %s = %q, want %q", k, got, v)
		}
	}
	if c := contacts[0]; c.Str("NAME") != "Анна Петрова" || !strings.Contains(c.Str("PHONE"), "+79161234567") || !strings.Contains(c.Str("IM"), "TELEGRAM") {
		t.Fatalf("contact %+v", c)
	}
	// The contact's next dialog: a deal of the same contact, no contact created.
	next := lead(13)
	next.CRMContactID = ids.ContactID
	ids2, err := e.client.CreateLead(ctx, next)
	if err != nil || ids2.ContactID != ids.ContactID || len(e.srv.Contacts()) != 1 || e.srv.Calls("crm.contact.add") != 1 {
		t.Fatalf("second: %+v, %v; %d contacts", ids2, err, len(e.srv.Contacts()))
	}
}

func TestFindLeadExactly(t *testing.T) {
	for _, mode := range []bitrix24.Mode{bitrix24.ModeLead, bitrix24.ModeDeal} {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, mode, bitrix24.Options{})
			ctx := t.Context()
			if _, found, err := e.client.FindLead(ctx, domain.CRMMarker(1)); err != nil || found {
				t.Fatalf("empty portal: %v, %v", found, err)
			}
			twelve, err := e.client.CreateLead(ctx, lead(12))
			if err != nil {
				t.Fatal(err)
			}
			// "salesbot dialog 1" is contained in dialog 12's title: not a match.
			if ids, found, err := e.client.FindLead(ctx, domain.CRMMarker(1)); err != nil || found {
				t.Fatalf("dialog 1: %+v, %v, %v", ids, found, err)
			}
			one, err := e.client.CreateLead(ctx, lead(1))
			if err != nil {
				t.Fatal(err)
			}
			for n, want := range map[int64]domain.CRMIDs{1: one, 12: twelve} {
				ids, found, err := e.client.FindLead(ctx, domain.CRMMarker(n))
				if err != nil || !found || ids != want {
					t.Fatalf("dialog %d: %+v, %v, %v; want %+v", n, ids, found, err, want)
				}
			}
			method := "crm." + string(mode) + ".list"
			if e.srv.Calls(method) != 4 {
				t.Fatalf("%d calls of %s", e.srv.Calls(method), method)
			}
		})
	}
}

func TestFindLeadByMarkerField(t *testing.T) {
	srv := bitrix24test.New(7, code)
	defer srv.Close()
	portal, user, secret, _ := bitrix24.ParseWebhookURL(srv.WebhookURL())
	c, err := bitrix24.New(bitrix24.Config{Portal: portal, UserID: user, Code: secret, MarkerField: "UF_CRM_MARKER"}, bitrix24.Options{Clock: bitrix24test.NewClock(t0)})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := c.CreateLead(t.Context(), lead(12))
	if err != nil {
		t.Fatal(err)
	}
	if l := srv.Leads()[0]; l.Str("UF_CRM_MARKER") != "salesbot dialog 12" {
		t.Fatalf("lead %+v", l)
	}
	srv.Rename(srv.Leads()[0].ID, "Анна — CRM на 20 мест") // a manager renamed it: the marker is in the field only
	got, found, err := c.FindLead(t.Context(), domain.CRMMarker(12))
	if err != nil || !found || got != ids {
		t.Fatalf("%+v, %v, %v", got, found, err)
	}
}

func TestAddNoteSplits(t *testing.T) {
	for _, mode := range []bitrix24.Mode{bitrix24.ModeLead, bitrix24.ModeDeal} {
		e := newEnv(t, mode, bitrix24.Options{})
		ids, err := e.client.CreateLead(t.Context(), lead(12))
		if err != nil {
			t.Fatal(err)
		}
		line := strings.Repeat("я", 99) + "\n"
		text := strings.Repeat(line, 90) // 9000 characters: three comments
		parts, err := e.client.AddNote(t.Context(), ids.LeadID, text)
		if err != nil || parts != 3 {
			t.Fatalf("%s: parts %d, %v", mode, parts, err)
		}
		cs := e.srv.Comments()
		joined := ""
		for _, c := range cs {
			if fmt.Sprint(c.EntityID) != ids.LeadID || c.EntityType != string(mode) || len([]rune(c.Text)) > bitrix24.MaxComment {
				t.Fatalf("%s: comment %+v", mode, c)
			}
			joined += c.Text + "\n"
		}
		if len(cs) != 3 || joined != strings.TrimSpace(text)+"\n" {
			t.Fatalf("%s: %d comments", mode, len(cs))
		}
		if _, err := e.client.AddNote(t.Context(), "x", "text"); err == nil {
			t.Fatal("a bad id")
		}
	}
}

// QUERY_LIMIT_EXCEEDED is waited out for every call (Bitrix24 refused it
// before doing it); a 5xx or a lost answer only for reads.
func TestRetries(t *testing.T) {
	e := newEnv(t, bitrix24.ModeLead, bitrix24.Options{})
	ctx := t.Context()
	e.srv.RateLimit("crm.lead.add")
	e.srv.RateLimit("crm.lead.add")
	if _, err := e.client.CreateLead(ctx, lead(12)); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Calls("crm.lead.add"); n != 3 || len(e.srv.Leads()) != 1 {
		t.Fatalf("%d calls, %d leads", n, len(e.srv.Leads()))
	}
	if s := e.clock.Slept(); len(s) != 2 || s[0] != time.Second || s[1] != 2*time.Second {
		t.Fatalf("slept %v", s)
	}
	// A 500 or a lost answer to a create: not sent again.
	e.srv.Fail("crm.lead.add", http.StatusInternalServerError, "INTERNAL_SERVER_ERROR")
	_, err := e.client.CreateLead(ctx, lead(13))
	var se *bitrix24.StatusError
	if !errors.As(err, &se) || se.Status != 500 || se.Code != "INTERNAL_SERVER_ERROR" || e.srv.Calls("crm.lead.add") != 4 {
		t.Fatalf("500: %v; %d calls", err, e.srv.Calls("crm.lead.add"))
	}
	e.srv.Drop("crm.lead.add")
	if _, err := e.client.CreateLead(ctx, lead(13)); err == nil || e.srv.Calls("crm.lead.add") != 5 || len(e.srv.Leads()) != 2 {
		t.Fatalf("dropped: %v; %d calls, %d leads", err, e.srv.Calls("crm.lead.add"), len(e.srv.Leads()))
	}
	// A read is sent again after both.
	e.srv.Fail("crm.lead.list", http.StatusBadGateway, "")
	e.srv.Drop("crm.lead.list")
	if ids, found, err := e.client.FindLead(ctx, domain.CRMMarker(13)); err != nil || !found || ids.LeadID != fmt.Sprint(e.srv.Leads()[1].ID) {
		t.Fatalf("find: %+v, %v, %v", ids, found, err)
	}
	if n := e.srv.Calls("crm.lead.list"); n != 3 {
		t.Fatalf("%d list calls", n)
	}
	// The limit outlasting the retries.
	for range 5 {
		e.srv.RateLimit("crm.timeline.comment.add")
	}
	_, err = e.client.AddNote(ctx, fmt.Sprint(e.srv.Leads()[0].ID), "text")
	if !errors.Is(err, bitrix24.ErrRateLimited) || errors.Is(err, bitrix24.ErrUnauthorized) || e.srv.Calls("crm.timeline.comment.add") != 5 {
		t.Fatalf("limited: %v; %d calls", err, e.srv.Calls("crm.timeline.comment.add"))
	}
}

// The bucket: a burst at once, then one request every 1/rate.
func TestPacing(t *testing.T) {
	e := newEnv(t, bitrix24.ModeLead, bitrix24.Options{Rate: 2, Burst: 3})
	for range 6 {
		if _, _, err := e.client.FindLead(t.Context(), domain.CRMMarker(1)); err != nil {
			t.Fatal(err)
		}
	}
	s := e.clock.Slept()
	if len(s) != 3 || s[0] != 500*time.Millisecond || s[1] != 500*time.Millisecond || s[2] != 500*time.Millisecond {
		t.Fatalf("slept %v", s)
	}
	// The bucket drains while idle: after 10 s, a burst again.
	if err := e.clock.Sleep(t.Context(), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := e.client.FindLead(t.Context(), domain.CRMMarker(1)); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.clock.Slept(); len(got) != 4 {
		t.Fatalf("slept %v", got)
	}
}

func TestLimiterConcurrentCallersAreSpaced(t *testing.T) {
	clock := bitrix24test.NewClock(t0)
	l := bitrix24.NewLimiter(2, 1, clock)
	for range 4 {
		if err := l.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := clock.Now().Sub(t0); got != 1500*time.Millisecond {
		t.Fatalf("4 requests at 2 a second, burst 1, took %v", got)
	}
}

// The webhook's code is in no error and no log, whatever fails.
func TestCodeNeverShown(t *testing.T) {
	e := newEnv(t, bitrix24.ModeLead, bitrix24.Options{})
	ctx := t.Context()
	bad, err := bitrix24.New(bitrix24.Config{Portal: e.srv.URL, UserID: 7, Code: bitrix24.NewSecret("wrong0code0123456")}, bitrix24.Options{Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.CreateLead(ctx, lead(12))
	if !errors.Is(err, bitrix24.ErrUnauthorized) || strings.Contains(err.Error(), "wrong0code") || !strings.Contains(err.Error(), e.srv.Host()) {
		t.Fatalf("unauthorized: %v", err)
	}
	e.srv.Fail("crm.lead.add", http.StatusUnauthorized, "expired_token")
	if _, err := e.client.CreateLead(ctx, lead(12)); !errors.Is(err, bitrix24.ErrUnauthorized) {
		t.Fatalf("expired: %v", err)
	}
	e.srv.RateLimit("crm.lead.list")
	e.srv.Drop("crm.lead.list")
	if _, _, err := e.client.FindLead(ctx, "salesbot dialog 3"); err != nil {
		t.Fatal(err)
	}
	e.srv.Close() // a transport error: its *url.Error holds the URL
	_, _, err = e.client.FindLead(ctx, "salesbot dialog 3")
	if err == nil || strings.Contains(err.Error(), code) {
		t.Fatalf("closed: %v", err)
	}
	if strings.Contains(e.logs.String(), code) || !strings.Contains(e.logs.String(), "retrying") {
		t.Fatalf("logs: %s", e.logs.String())
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, bitrix24.Config{Code: bitrix24.NewSecret(code)}); strings.Contains(s, code) {
			t.Fatalf("%s prints the code: %s", f, s)
		}
	}
	if b, _ := json.Marshal(bitrix24.Config{Code: bitrix24.NewSecret(code)}); bytes.Contains(b, []byte(code)) {
		t.Fatalf("json: %s", b)
	}
}

func TestGetDeal(t *testing.T) {
	e := newEnv(t, bitrix24.ModeDeal, bitrix24.Options{})
	ids, err := e.client.CreateLead(t.Context(), lead(12))
	if err != nil {
		t.Fatal(err)
	}
	id := e.srv.Deals()[0].ID
	e.srv.SetDeal(id, "C2:WON", "S", "175000.50", "RUB")
	d, err := e.client.GetDeal(t.Context(), id)
	if err != nil || d != (bitrix24.Deal{ID: id, StageID: "C2:WON", Semantic: "S", Amount: "175000.50", Currency: "RUB"}) || fmt.Sprint(id) != ids.LeadID {
		t.Fatalf("%+v, %v", d, err)
	}
	if _, err := e.client.GetDeal(t.Context(), 999999); !errors.Is(err, bitrix24.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}
