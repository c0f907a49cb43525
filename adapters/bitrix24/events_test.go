package bitrix24_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/bitrix24"
	"github.com/salesbot/salesbot/adapters/bitrix24/bitrix24test"
	"github.com/salesbot/salesbot/domain"
)

const appToken = "51856fefc120afa4b628cc82d3935cce"

type index map[string]int64 // deal id → dialog number

func (ix index) DialogOfCRMLead(_ context.Context, crm, lead string) (domain.CRMLeadLinked, bool, error) {
	n, ok := ix[lead]
	if crm != "bitrix24" || !ok {
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
	h    *bitrix24.Events
	got  *[]recorded
	logs *bytes.Buffer
	deal int64 // linked to dialog 12
}

func newHook(t *testing.T) hookEnv {
	t.Helper()
	e := newEnv(t, bitrix24.ModeDeal, bitrix24.Options{})
	if _, err := e.client.CreateLead(t.Context(), lead(12)); err != nil {
		t.Fatal(err)
	}
	deal := e.srv.Deals()[0].ID
	var got []recorded
	record := func(_ context.Context, n int64, at uint64, cmd domain.RecordOutcome) (bool, error) {
		if at != 0 {
			t.Errorf("at %d", at)
		}
		if _, err := cmd.Validate(); err != nil {
			return false, err
		}
		got = append(got, recorded{n, cmd})
		return true, nil
	}
	logs := &bytes.Buffer{}
	cfg := bitrix24.Config{Portal: e.srv.URL, Mode: bitrix24.ModeDeal, ApplicationToken: bitrix24.NewSecret(appToken)}
	h, err := bitrix24.NewEvents(cfg, e.client, index{itoa(deal): 12}, record, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return hookEnv{env: e, h: h, got: &got, logs: logs, deal: deal}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func send(h http.Handler, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/hooks/bitrix24", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestEventsWonAndLost(t *testing.T) {
	e := newHook(t)
	e.srv.SetDeal(e.deal, "C2:WON", "S", "175000.00", "RUB")
	if w := send(e.h, e.srv.DealUpdateForm(e.deal, appToken)); w.Code != 200 {
		t.Fatalf("won: %d %s", w.Code, w.Body)
	}
	e.srv.SetDeal(e.deal, "C2:LOSE", "F", "0", "RUB")
	if w := send(e.h, e.srv.DealUpdateForm(e.deal, appToken)); w.Code != 200 {
		t.Fatalf("lost: %d %s", w.Code, w.Body)
	}
	e.srv.SetDeal(e.deal, "C2:PREPARATION", "P", "175000.00", "RUB")
	if w := send(e.h, e.srv.DealUpdateForm(e.deal, appToken)); w.Code != 200 {
		t.Fatalf("in progress: %d %s", w.Code, w.Body)
	}
	want := []recorded{
		{12, domain.RecordOutcome{Outcome: domain.OutcomeWon, Amount: "175000.00", Currency: "RUB", By: "crm:bitrix24"}},
		{12, domain.RecordOutcome{Outcome: domain.OutcomeLost, Reason: bitrix24.LostReason, By: "crm:bitrix24"}},
	}
	if len(*e.got) != 2 || (*e.got)[0] != want[0] || (*e.got)[1] != want[1] {
		t.Fatalf("recorded %+v", *e.got)
	}
	if n := e.srv.Calls("crm.deal.get"); n != 3 {
		t.Fatalf("%d deal.get calls", n)
	}
	// Won without an amount, and in a currency without minor units.
	e.srv.SetDeal(e.deal, "WON", "S", "0.00", "RUB")
	send(e.h, e.srv.DealUpdateForm(e.deal, appToken))
	e.srv.SetDeal(e.deal, "WON", "S", "5000.00", "JPY")
	send(e.h, e.srv.DealUpdateForm(e.deal, appToken))
	if g := *e.got; len(g) != 4 || g[2].cmd.Amount != "" || g[2].cmd.Outcome != domain.OutcomeWon || g[3].cmd.Amount != "5000" || g[3].cmd.Currency != "JPY" {
		t.Fatalf("recorded %+v", g)
	}
}

func TestEventsLeftAlone(t *testing.T) {
	e := newHook(t)
	// A deal no dialog is linked to: 200, and Bitrix24 is not asked.
	if w := send(e.h, e.srv.DealUpdateForm(e.deal+1000, appToken)); w.Code != 200 {
		t.Fatalf("unknown: %d", w.Code)
	}
	// Another event.
	other := url.Values{"event": {"ONCRMLEADADD"}, "data[FIELDS][ID]": {"5"}, "auth[application_token]": {appToken}}.Encode()
	if w := send(e.h, other); w.Code != 200 {
		t.Fatalf("other: %d", w.Code)
	}
	if e.srv.Calls("crm.deal.get") != 0 || len(*e.got) != 0 {
		t.Fatalf("%d calls, recorded %+v", e.srv.Calls("crm.deal.get"), *e.got)
	}
	// A linked deal deleted meanwhile: 200, nothing.
	ix := index{"999999": 12}
	h, err := bitrix24.NewEvents(bitrix24.Config{Portal: e.srv.URL, Mode: bitrix24.ModeDeal, ApplicationToken: bitrix24.NewSecret(appToken)},
		e.client, ix, func(context.Context, int64, uint64, domain.RecordOutcome) (bool, error) {
			t.Error("recorded")
			return false, nil
		}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := send(h, e.srv.DealUpdateForm(999999, appToken)); w.Code != 200 {
		t.Fatalf("gone: %d", w.Code)
	}
	// Bitrix24 failing: 500.
	for range 5 {
		e.srv.Fail("crm.deal.get", http.StatusInternalServerError, "INTERNAL_SERVER_ERROR")
	}
	if w := send(e.h, e.srv.DealUpdateForm(e.deal, appToken)); w.Code != 500 || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("failing: %d", w.Code)
	}
}

func TestEventsRefused(t *testing.T) {
	e := newHook(t)
	problem := func(w *httptest.ResponseRecorder, status int) {
		t.Helper()
		var p struct {
			Status int    `json:"status"`
			Title  string `json:"title"`
		}
		if w.Code != status || w.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Status != status {
			t.Fatalf("%d %q %s, want %d", w.Code, w.Header().Get("Content-Type"), w.Body, status)
		}
	}
	for _, body := range []string{
		"",
		"%zz",
		"data[FIELDS][ID]=5&auth[application_token]=" + appToken,
		"event=ONCRMDEALUPDATE&auth[application_token]=" + appToken,
		"event=ONCRMDEALUPDATE&data[FIELDS][ID]=abc&auth[application_token]=" + appToken,
		"event=ONCRMDEALUPDATE&data[FIELDS][ID]=-3&auth[application_token]=" + appToken,
		"event=ONCRMDEALUPDATE&data[FIELDS][ID]=1&data[FIELDS][ID]=2&auth[application_token]=" + appToken,
	} {
		problem(send(e.h, body), http.StatusBadRequest)
	}
	problem(send(e.h, e.srv.DealUpdateForm(e.deal, "0"+appToken[1:])), http.StatusUnauthorized)
	problem(send(e.h, strings.Replace(e.srv.DealUpdateForm(e.deal, appToken), "auth%5Bapplication_token%5D", "auth%5Bx%5D", 1)), http.StatusUnauthorized)
	forged := url.Values{"event": {"ONCRMDEALUPDATE"}, "data[FIELDS][ID]": {itoa(e.deal)}, "auth[domain]": {"evil.bitrix24.ru"}, "auth[application_token]": {appToken}}
	problem(send(e.h, forged.Encode()), http.StatusUnauthorized)
	r := httptest.NewRequest(http.MethodPost, "/hooks/bitrix24", strings.NewReader(e.srv.DealUpdateForm(e.deal, appToken)))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	problem(w, http.StatusUnsupportedMediaType)
	w = httptest.NewRecorder()
	e.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/hooks/bitrix24", nil))
	problem(w, http.StatusMethodNotAllowed)
	if len(*e.got) != 0 || e.srv.Calls("crm.deal.get") != 0 {
		t.Fatalf("recorded %+v", *e.got)
	}
	if strings.Contains(e.logs.String(), appToken) {
		t.Fatal("the token in the logs")
	}
}

func TestNewEventsRefuses(t *testing.T) {
	srv := bitrix24test.New(7, code)
	defer srv.Close()
	rec := func(context.Context, int64, uint64, domain.RecordOutcome) (bool, error) { return false, nil }
	for _, cfg := range []bitrix24.Config{
		{Mode: bitrix24.ModeDeal},
		{Mode: bitrix24.ModeDeal, ApplicationToken: bitrix24.NewSecret("short")},
		{Mode: bitrix24.ModeLead, ApplicationToken: bitrix24.NewSecret(appToken)},
	} {
		if _, err := bitrix24.NewEvents(cfg, stubDeals{}, index{}, rec, nil); err == nil {
			t.Errorf("%+v: accepted", cfg)
		}
	}
}

type stubDeals struct{}

func (stubDeals) GetDeal(_ context.Context, id int64) (bitrix24.Deal, error) {
	return bitrix24.Deal{ID: id, Semantic: "S", Amount: "1e400", Currency: "XXX"}, nil
}

func FuzzParseEvent(f *testing.F) {
	f.Add("event=ONCRMDEALUPDATE&data[FIELDS][ID]=123&ts=1&auth[application_token]=" + appToken + "&auth[domain]=example.bitrix24.ru")
	f.Add("event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=9223372036854775808")
	f.Add("event=&data[FIELDS][ID]=1;")
	rec := func(_ context.Context, _ int64, _ uint64, cmd domain.RecordOutcome) (bool, error) {
		_, err := cmd.Validate()
		return err == nil, err
	}
	h, err := bitrix24.NewEvents(bitrix24.Config{Portal: "https://example.bitrix24.ru", Mode: bitrix24.ModeDeal, ApplicationToken: bitrix24.NewSecret(appToken)},
		stubDeals{}, index{"123": 12}, rec, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		ev, err := bitrix24.ParseEvent(body)
		if err == nil && (ev.Name == "" || (ev.Name == bitrix24.EventDealUpdate && ev.ID <= 0)) {
			t.Fatalf("%+v", ev)
		}
		w := send(h, body)
		if w.Code != 200 && w.Code != 400 && w.Code != 401 {
			t.Fatalf("%d for %q", w.Code, body)
		}
	})
}
