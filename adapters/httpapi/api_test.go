package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/adapters/app/dialogs"
	"github.com/salesbot/salesbot/adapters/app/system"
	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/app/webhooks"
	"github.com/salesbot/salesbot/adapters/cli/remote"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// world is the API over the real services on a memory log: three
// dialogs (1 and 2 of a campaign, 3 inbound), one account, and a token
// per scope.
type world struct {
	h          domain.Handlers
	sink       *projections.Memory
	runner     projections.Runner
	tokens     *tokens.Service
	read       string // a read token
	manage     string // a manage token
	admin      string // an admin token
	store      *eventstore.MemoryStore
	api        *httpapi.API
	campaign   uuid.UUID
	account    uuid.UUID
	catchUpMu  sync.Mutex
	serverURL  string
	contract   routers.Router
	formats    []openapi3.SchemaValidationOption // what the contract checks formats with
	contractOK bool
	opener     *fakeOpener       // dialog_actions_test.go
	hooks      *webhooks.Service // webhooks_test.go
}

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// newWorld builds the world; mods change the API's config before it
// is built.
func newWorld(t testing.TB, rate tokens.Rate, mods ...func(*httpapi.Config)) *world {
	t.Helper()
	ctx := t.Context()
	now := func() time.Time { return t0 }
	store, err := eventstore.NewMemory(eventstore.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	w := &world{h: domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: now}, store: store, sink: projections.NewMemory(),
		campaign: uuid.MustParse("0193a0c0-0000-7000-8000-0000000ca001"), account: uuid.MustParse("0193a0c0-0000-7000-8000-0000000000a1")}
	w.runner = projections.Runner{Store: store, Decode: eventlog.New(store).Decode, Sink: w.sink}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.h.Account(ctx, w.account, domain.RegisterAccount{AccountID: w.account, Label: "main", Limits: domain.DefaultLimits()}))
	must(w.h.Campaign(ctx, w.campaign, domain.CreateCampaign{CampaignID: w.campaign, Name: "Q1 Berlin", Scenario: "acme", Version: "3",
		Variants: []domain.VariantWeight{{Name: "A", Weight: 50}, {Name: "B", Weight: 50}},
		Schedule: domain.CampaignSchedule{Start: t0, End: t0.Add(7 * 24 * time.Hour)}, By: "cli"}))
	for n, name := range []string{"anna", "boris", "carl"} {
		cid, did := uuid.New(), uuid.New()
		must(w.h.Contact(ctx, cid, domain.AddContact{ContactID: cid, Source: domain.SourceImport, Basis: domain.BasisConsent, Username: name}))
		c, err := w.h.LoadContact(ctx, cid)
		must(nil, err)
		start := domain.StartDialog{DialogID: did, N: int64(n + 1), Contact: c, AccountID: w.account, Variant: "A", By: "ai"}
		if n < 2 {
			start.Campaign, start.By = w.campaign, "campaign:"+w.campaign.String()
		}
		must(w.h.Dialog(ctx, did, cid, start))
		if n == 0 {
			must(w.h.Dialog(ctx, did, cid, domain.RecordInbound{TelegramMessageID: 7, Text: "we have 5000 EUR", At: t0}))
			score := 70
			must(w.h.Dialog(ctx, did, cid, domain.UpdateQualification{Qual: domain.Qualification{Score: &score,
				Budget: &domain.Field{Value: "5000 EUR", Quote: "we have 5000 EUR", Confidence: 0.9}}}))
		}
	}
	w.tokens, err = tokens.New(ctx, tokens.Config{Log: eventlog.New(store), Now: now})
	must(nil, err)
	r, err := w.tokens.Create(ctx, "dashboard", domain.ScopeRead, "cli")
	must(nil, err)
	m, err := w.tokens.Create(ctx, "crm", domain.ScopeManage, "cli")
	must(nil, err)
	ad, err := w.tokens.Create(ctx, "ops", domain.ScopeAdmin, "cli")
	must(nil, err)
	w.read, w.manage, w.admin, w.store = r.Token.Reveal(), m.Token.Reveal(), ad.Token.Reveal(), store
	w.catchUp(ctx)

	w.hooks, err = webhooks.New(ctx, webhooks.Config{Store: store, Now: time.Now, AllowPrivate: true, MinBackoff: 10 * time.Millisecond})
	must(nil, err)
	w.opener = &fakeOpener{w: w}
	sc, err := scenario.Default()
	must(nil, err)
	cfg := httpapi.Config{ReadModels: w.sink, Tokens: w.tokens, Limiter: tokens.NewLimiter(rate, now),
		Dialogs: dialogs.Service{H: w.h}, Campaigns: campaignList{w.sink}, Fresh: w.catchUp, Now: now,
		CLI: func(p domain.Principal) remote.Exec {
			return func(_ context.Context, s *remote.Session, args []string) int {
				fmt.Fprintf(s.Stdout(), "%s ran %s for %s", s.Getenv("SALESBOT_USER_NAME"), strings.Join(args, " "), p.Scope)
				return 4
			}
		},
		Opener: w.opener, Transcripts: transcripts{w.sink},
		Contacts:        system.ContactsAPI{H: w.h, Store: store},
		CampaignActions: system.CampaignsAPI{H: w.h, Store: store, Sink: w.sink, Scenario: sc},

		Events: system.APIEvents(store), Heartbeat: 50 * time.Millisecond, Audit: system.APIAudit(store), Accounts: system.APIAccounts(w.h, w.sink),
		Webhooks: system.APIWebhooks(w.hooks)}
	for _, mod := range mods {
		mod(&cfg)
	}
	api, err := httpapi.New(cfg)
	must(nil, err)
	w.api = api
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	w.serverURL = srv.URL

	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(httpapi.OpenAPI)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: srv.URL + "/api/v1"}}
	// kin-openapi asserts date-time but knows no uuid format: teach it.
	w.formats = []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("uuid",
		openapi3.NewRegexpFormatValidator(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`))}
	w.contract, err = legacy.NewRouter(doc)
	must(nil, err)
	return w
}

func (w *world) catchUp(ctx context.Context) error {
	w.catchUpMu.Lock()
	defer w.catchUpMu.Unlock()
	_, err := w.runner.CatchUp(ctx)
	return err
}

// campaignList is the campaigns port over campaigns.List, as the
// running system fills it.
type campaignList struct{ sink projections.Sink }

func (c campaignList) Campaigns(ctx context.Context) ([]httpapi.Campaign, error) {
	l, err := campaigns.List(ctx, c.sink)
	var out []httpapi.Campaign
	for _, s := range l {
		out = append(out, httpapi.Campaign{ID: s.ID, Short: s.Short, Name: s.Name, Status: s.Status, Scenario: s.Scenario, Version: s.Version,
			Variants: s.Variants, Targeted: s.Targeted, Created: s.Created, Updated: s.Updated,
			Totals: httpapi.Counts{Dialogs: s.Totals.Dialogs, Won: s.Totals.Won}})
	}
	return out, err
}

// answer is a response read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d %s: %v", a.status, a.body, err)
	}
}

// problem is the answer as a problem, checked to be one.
func (a answer) problem(t *testing.T, status int) httpapi.Problem {
	t.Helper()
	if a.status != status || a.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("want a %d problem, got %d %s: %s", status, a.status, a.header.Get("Content-Type"), a.body)
	}
	var p httpapi.Problem
	a.json(t, &p)
	if p.Status != status || p.Type == "" || p.Title == "" {
		t.Fatalf("problem: %+v", p)
	}
	return p
}

// call makes a request and checks the response against openapi.json,
// and the request too when checkRequest (a request meant to be bad is
// not).
func (w *world) call(t *testing.T, method, path, token, body string, header map[string]string, checkRequest bool) answer {
	t.Helper()
	newReq := func() *http.Request {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequestWithContext(t.Context(), method, w.serverURL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		return req
	}
	res, err := http.DefaultClient.Do(newReq())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: res.StatusCode, header: res.Header, body: b}
	req := newReq()
	route, params, err := w.contract.FindRoute(req)
	if err != nil {
		if a.status != http.StatusNotFound && a.status != http.StatusMethodNotAllowed {
			t.Fatalf("%s %s: not in openapi.json (%v), yet answered %d", method, path, err, a.status)
		}
		return a // a path the contract does not have: the caller checks the problem
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true, SchemaValidationOptions: w.formats}}
	if checkRequest {
		if err := openapi3filter.ValidateRequest(t.Context(), in); err != nil {
			t.Fatalf("%s %s: the request breaks openapi.json: %v", method, path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: a.status, Header: a.header, Body: io.NopCloser(bytes.NewReader(b)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, SchemaValidationOptions: w.formats}}
	if err := openapi3filter.ValidateResponse(t.Context(), out); err != nil {
		t.Fatalf("%s %s: the answer %d breaks openapi.json: %v\n%s", method, path, a.status, err, b)
	}
	return a
}

// TestContractBites: the contract check refuses an answer that breaks
// openapi.json, so the tests' passing means something.
func TestContractBites(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	req := httptest.NewRequest(http.MethodGet, w.serverURL+"/api/v1/dialogs/1", nil)
	route, params, err := w.contract.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route}
	var card map[string]any
	if err := json.Unmarshal(w.get(t, "/api/v1/dialogs/1", w.read).body, &card); err != nil {
		t.Fatal(err)
	}
	bad := func(k string, v any) string {
		c := maps.Clone(card)
		c[k] = v
		b, _ := json.Marshal(c)
		return string(b)
	}
	for _, body := range []string{`{"n":"one"}`, `{"n":1,"status":"open"}`, `{"n":1}`,
		bad("id", "nope"), bad("created_at", "yesterday"), bad("score", "high"), bad("campaign", 5), bad("extra", 1)} {
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: 200,
			Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)),
			Options: &openapi3filter.Options{SchemaValidationOptions: w.formats}}
		if err := openapi3filter.ValidateResponse(t.Context(), out); err == nil {
			t.Errorf("%s passed the contract", body)
		}
	}
}

func (w *world) get(t *testing.T, path, token string) answer {
	t.Helper()
	return w.call(t, http.MethodGet, path, token, "", nil, true)
}

func TestOpenAPIDocument(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	a := w.get(t, "/api/v1/openapi.json", "")
	if a.status != http.StatusOK || !bytes.Equal(a.body, httpapi.OpenAPI) {
		t.Fatalf("openapi.json: %d", a.status)
	}
	var doc struct{ OpenAPI string }
	a.json(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
}

func TestDialogs(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	var all struct {
		Items      []httpapi.Dialog
		NextCursor *string `json:"next_cursor"`
	}
	w.get(t, "/api/v1/dialogs", w.read).json(t, &all)
	if len(all.Items) != 3 || all.Items[0].N != 3 || all.NextCursor != nil {
		t.Fatalf("all: %+v", all)
	}
	// Paging: two pages of two and one, no dialog twice.
	var p1, p2 struct {
		Items      []httpapi.Dialog
		NextCursor *string `json:"next_cursor"`
	}
	w.get(t, "/api/v1/dialogs?limit=2", w.read).json(t, &p1)
	if len(p1.Items) != 2 || p1.NextCursor == nil {
		t.Fatalf("page 1: %+v", p1)
	}
	w.get(t, "/api/v1/dialogs?limit=2&cursor="+*p1.NextCursor, w.read).json(t, &p2)
	if len(p2.Items) != 1 || p2.Items[0].N != 1 || p2.NextCursor != nil {
		t.Fatalf("page 2: %+v", p2)
	}
	var byCampaign struct{ Items []httpapi.Dialog }
	w.get(t, "/api/v1/dialogs?campaign="+w.campaign.String()+"&status=active&since=2026-12-01T00:00:00Z", w.read).json(t, &byCampaign)
	if len(byCampaign.Items) != 2 || *byCampaign.Items[0].Campaign != w.campaign {
		t.Fatalf("by campaign: %+v", byCampaign)
	}

	var card httpapi.Card
	w.get(t, "/api/v1/dialogs/1", w.read).json(t, &card)
	if card.N != 1 || card.Score == nil || *card.Score != 70 || card.Outcome != nil || len(card.Qualification) != 1 ||
		card.Qualification[0].Money == nil || card.Qualification[0].Money.Amount != "5000.00" {
		t.Fatalf("card: %+v", card)
	}
	var msgs struct{ Items []httpapi.Message }
	w.get(t, "/api/v1/dialogs/1/messages", w.read).json(t, &msgs)
	if len(msgs.Items) != 1 || msgs.Items[0].Text != "we have 5000 EUR" || msgs.Items[0].Direction != "in" {
		t.Fatalf("messages: %+v", msgs)
	}
	w.get(t, "/api/v1/dialogs/99", w.read).problem(t, http.StatusNotFound)
	w.get(t, "/api/v1/dialogs/99/messages", w.read).problem(t, http.StatusNotFound)

	p := w.call(t, http.MethodGet, "/api/v1/dialogs?limit=500&status=open&cursor=xyz&account=7", w.read, "", nil, false).problem(t, http.StatusBadRequest)
	fields := map[string]bool{}
	for _, e := range p.Errors {
		fields[e.Field] = true
	}
	for _, f := range []string{"limit", "status", "cursor", "account"} {
		if !fields[f] {
			t.Errorf("no error for %s: %+v", f, p.Errors)
		}
	}
}

func TestLists(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	var cs struct{ Items []httpapi.Campaign }
	w.get(t, "/api/v1/campaigns", w.read).json(t, &cs)
	if len(cs.Items) != 1 || cs.Items[0].Name != "Q1 Berlin" || cs.Items[0].Totals.Dialogs != 2 {
		t.Fatalf("campaigns: %+v", cs)
	}
	var as struct{ Items []httpapi.Account }
	w.get(t, "/api/v1/accounts", w.read).json(t, &as)
	if len(as.Items) != 1 || as.Items[0].Label != "main" || as.Items[0].ID != w.account {
		t.Fatalf("accounts: %+v", as)
	}
}

func TestAuth(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	a := w.get(t, "/api/v1/dialogs", "")
	a.problem(t, http.StatusUnauthorized)
	if !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("WWW-Authenticate: %q", a.header.Get("WWW-Authenticate"))
	}
	w.get(t, "/api/v1/dialogs", "sb_nottoken").problem(t, http.StatusUnauthorized)
	wrong := w.read[:len(w.read)-1] + map[bool]string{true: "b", false: "a"}[strings.HasSuffix(w.read, "a")]
	w.get(t, "/api/v1/dialogs", wrong).problem(t, http.StatusUnauthorized) // a wrong secret
	// A read token may not record an outcome.
	w.call(t, http.MethodPost, "/api/v1/dialogs/1/outcome", w.read, `{"outcome":"won"}`, nil, true).problem(t, http.StatusForbidden)
	// A revoked token is refused.
	if _, _, err := w.tokens.Revoke(t.Context(), "dashboard", "cli", "leaked"); err != nil {
		t.Fatal(err)
	}
	w.get(t, "/api/v1/accounts", w.read).problem(t, http.StatusUnauthorized)
}

func TestRateLimit(t *testing.T) {
	w := newWorld(t, tokens.Rate{PerSecond: 0.5, Burst: 2})
	w.get(t, "/api/v1/accounts", w.read)
	w.get(t, "/api/v1/accounts", w.read)
	a := w.get(t, "/api/v1/accounts", w.read)
	a.problem(t, http.StatusTooManyRequests)
	if a.header.Get("Retry-After") != "2" {
		t.Fatalf("Retry-After %q", a.header.Get("Retry-After"))
	}
	// Another token has its own allowance.
	if a := w.get(t, "/api/v1/accounts", w.manage); a.status != http.StatusOK {
		t.Fatalf("the other token: %d", a.status)
	}
}

func TestRecordOutcome(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	post := func(n, body string, header map[string]string, checkRequest bool) answer {
		t.Helper()
		return w.call(t, http.MethodPost, "/api/v1/dialogs/"+n+"/outcome", w.manage, body, header, checkRequest)
	}
	var card httpapi.Card
	a := post("2", `{"outcome":"won","amount":"1200.5","currency":"EUR"}`, map[string]string{"Idempotency-Key": "deal-2"}, true)
	a.json(t, &card)
	if a.status != http.StatusOK || card.Outcome == nil || card.Outcome.Outcome != "won" || *card.Outcome.Amount != "1200.50" ||
		*card.Outcome.Currency != "EUR" || card.Status != projections.StatusClosed {
		t.Fatalf("won: %d %s", a.status, a.body)
	}
	// The same key again: the first answer, nothing done again.
	again := post("2", `{"outcome":"won","amount":"1200.5","currency":"EUR"}`, map[string]string{"Idempotency-Key": "deal-2"}, true)
	if again.status != http.StatusOK || !bytes.Equal(again.body, a.body) || again.header.Get("Idempotency-Replayed") != "true" {
		t.Fatalf("repeat: %d %s", again.status, again.body)
	}
	// The same key with another body.
	post("2", `{"outcome":"lost","reason":"too dear"}`, map[string]string{"Idempotency-Key": "deal-2"}, true).problem(t, http.StatusUnprocessableEntity)
	// A lost deal, without a key.
	post("3", `{"outcome":"lost","reason":"chose a competitor"}`, nil, true).json(t, &card)
	if card.Outcome == nil || card.Outcome.Outcome != "lost" || *card.Outcome.Reason != "chose a competitor" || card.Outcome.Amount != nil {
		t.Fatalf("lost: %+v", card.Outcome)
	}
	post("99", `{"outcome":"won"}`, nil, true).problem(t, http.StatusNotFound)
	for _, c := range []struct{ body, field string }{
		{`{"outcome":"won","amount":"12,5","currency":"EUR"}`, "amount"},
		{`{"outcome":"won","amount":"12.50","currency":"EURO"}`, "currency"},
		{`{"outcome":"lost"}`, "reason"},
		{`{"outcome":"maybe"}`, "outcome"},
		{`{}`, "outcome"},
		{`{"outcome":"won","amount":12.5}`, "amount"},
		{`{"outcome":"won","price":"1"}`, "price"},
	} {
		p := post("1", c.body, nil, false).problem(t, http.StatusBadRequest)
		if len(p.Errors) != 1 || p.Errors[0].Field != c.field {
			t.Errorf("%s: %+v", c.body, p)
		}
	}
	post("1", `{"outcome":"won"} {}`, nil, false).problem(t, http.StatusBadRequest)
	post("1", `[1]`, nil, false).problem(t, http.StatusBadRequest)
	post("1", `{"outcome":"won","reason":"`+strings.Repeat("x", httpapi.MaxBody)+`"}`, nil, false).problem(t, http.StatusRequestEntityTooLarge)
	w.call(t, http.MethodPost, "/api/v1/dialogs/1/outcome", w.manage, "", map[string]string{"Content-Type": "text/plain"}, false).problem(t, http.StatusUnsupportedMediaType)
}

func TestUnknownRoutes(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	w.get(t, "/api/v1/nothing", w.read).problem(t, http.StatusNotFound)
	a := w.call(t, http.MethodDelete, "/api/v1/dialogs", w.read, "", nil, false)
	a.problem(t, http.StatusMethodNotAllowed)
	if !strings.Contains(a.header.Get("Allow"), "GET") {
		t.Fatalf("Allow: %q", a.header.Get("Allow"))
	}
}

// TestEveryOperationIsServed: each operation of openapi.json has its
// route (a request without a token is refused with 401, not 404 or 405),
// so the contract promises nothing the server lacks; call checks the
// other way round.
func TestEveryOperationIsServed(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			n++
			want := http.StatusUnauthorized
			if op.Security != nil && len(*op.Security) == 0 {
				want = http.StatusOK // no token needed
			}
			a := w.call(t, method, "/api/v1"+strings.NewReplacer("{n}", "1", "{id}", "main").Replace(path), "", "", nil, false)
			if a.status != want {
				t.Errorf("%s %s: %d, want %d", method, path, a.status, want)
			}
		}
	}
	if n != 36 {
		t.Errorf("%d operations", n)
	}
}

// TestCLI: /api/v1/cli runs a command line for a token (the server's
// side is cmd/salesbot's; here a stand-in that echoes), and refuses a
// request without a token or without the upgrade.
func TestCLI(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	c, err := remote.Dial(t.Context(), remote.Target{URL: w.serverURL, Token: w.read})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, err := c.Run(t.Context(), []string{"campaigns", "list"}, remote.Host{Stdout: &out, Stderr: &out,
		Getenv: func(k string) string { return map[string]string{"SALESBOT_USER_NAME": "ann"}[k] }})
	if err != nil || code != 4 || out.String() != "ann ran campaigns list for read" {
		t.Errorf("through the server: %d %v %q", code, err, out.String())
	}
	var se *remote.ServerError
	if _, err := remote.Dial(t.Context(), remote.Target{URL: w.serverURL, Token: "sb_nope"}); !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Errorf("a bad token: %v", err)
	}
	a := w.call(t, http.MethodPost, "/api/v1/cli", w.read, "", nil, true)
	if p := a.problem(t, http.StatusUpgradeRequired); p.Type != httpapi.TypeUpgrade {
		t.Errorf("without the upgrade: %+v", p)
	}
}
