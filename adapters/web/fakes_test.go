package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/adapters/web"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// The test doubles of the console's ports, and a world to run pages in:
// the real memory read models filled with dialogs, fake sessions,
// dialogs, transcripts and events.

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// sessionExpiry is when the fake sessions end: from the real clock, not
// now, or a real browser would drop the cookie as expired once the
// day passes.
var sessionExpiry = time.Now().Add(12 * time.Hour).UTC().Truncate(time.Second)

// The XSS-named lead of every test.
const xssName = `<img src=x onerror=alert(1)>`

// sessions is a fake Sessions: links are used once.
type sessions struct {
	mu       sync.Mutex
	links    map[string]domain.Principal // unused links
	sessions map[string]domain.Principal // by cookie
	ended    []string
}

func newSessions() *sessions {
	return &sessions{links: map[string]domain.Principal{}, sessions: map[string]domain.Principal{}}
}

// link makes a sign-in link's secret for scope.
func (s *sessions) link(scope domain.Scope) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	secret := random()
	s.links[secret] = domain.Principal{TokenID: uuid.New(), Name: "web " + string(scope), Scope: scope, Prefix: "web" + secret[:6]}
	return secret
}

// session opens a session for scope directly; it returns its cookie.
func (s *sessions) session(t testing.TB, scope domain.Scope) (string, domain.Principal) {
	t.Helper()
	c, p, _, err := s.Redeem(context.Background(), s.link(scope))
	if err != nil {
		t.Fatal(err)
	}
	return c, p
}

func random() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *sessions) Redeem(_ context.Context, secret string) (string, domain.Principal, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.links[secret]
	if !ok {
		return "", domain.Principal{}, time.Time{}, fmt.Errorf("%w: no such link", domain.ErrUnauthenticated)
	}
	delete(s.links, secret)
	c := random()
	s.sessions[c] = p
	return c, p, sessionExpiry, nil
}

func (s *sessions) Authenticate(_ context.Context, cookie string, need domain.Scope) (domain.Principal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.sessions[cookie]
	if !ok {
		return domain.Principal{}, fmt.Errorf("%w: no such session", domain.ErrUnauthenticated)
	}
	if !p.Scope.Allows(need) {
		return p, &domain.ScopeError{Token: p.Prefix, Have: p.Scope, Need: need}
	}
	return p, nil
}

func (s *sessions) End(_ context.Context, cookie string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, cookie)
	s.ended = append(s.ended, cookie)
	return nil
}

var _ web.Sessions = (*sessions)(nil)

// call is one action the fake Dialogs did.
type call struct {
	Action string
	N      int64
	At     uint64
	By     string
	Text   string
	Cmd    domain.RecordOutcome
}

// dialogs is a fake httpapi.Dialogs: every dialog is at a version, an
// action at another is stale, a done action raises it. It records the
// actions done.
type dialogs struct {
	mu       sync.Mutex
	versions map[int64]uint64
	calls    []call
	done     chan call // each call done, if set
}

func newDialogs() *dialogs { return &dialogs{versions: map[int64]uint64{}} }

func (d *dialogs) Calls() []call {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]call(nil), d.calls...)
}

func (d *dialogs) Version(_ context.Context, n int64) (uint64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.versions[n]
	if !ok {
		return 0, fmt.Errorf("dialog %d: %w", n, domain.ErrUnknownDialog)
	}
	return v, nil
}

func (d *dialogs) do(c call) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.versions[c.N]
	switch {
	case !ok:
		return fmt.Errorf("dialog %d: %w", c.N, domain.ErrUnknownDialog)
	case c.At != 0 && c.At != v:
		return &domain.StaleError{Stream: "dialog", Expected: c.At, Version: v}
	case c.Action == "reply" && strings.TrimSpace(c.Text) == "":
		return &domain.Error{Code: domain.EINVALID, Field: "text", Message: "a reply needs a text"}
	}
	d.versions[c.N] = v + 1
	d.calls = append(d.calls, c)
	if d.done != nil {
		d.done <- c
	}
	return nil
}

func (d *dialogs) RecordOutcomeAt(_ context.Context, n int64, at uint64, cmd domain.RecordOutcome) (bool, error) {
	return true, d.do(call{Action: "outcome", N: n, At: at, By: cmd.By, Cmd: cmd})
}
func (d *dialogs) Stop(_ context.Context, n int64, at uint64, by string) (bool, error) {
	return true, d.do(call{Action: "stop", N: n, At: at, By: by})
}
func (d *dialogs) TakeOver(_ context.Context, n int64, at uint64, by string) (bool, error) {
	return true, d.do(call{Action: "takeover", N: n, At: at, By: by})
}
func (d *dialogs) Release(_ context.Context, n int64, at uint64, by string) error {
	return d.do(call{Action: "release", N: n, At: at, By: by})
}
func (d *dialogs) Reply(_ context.Context, n int64, at uint64, by, text string) (bool, error) {
	return true, d.do(call{Action: "reply", N: n, At: at, By: by, Text: text})
}

var _ httpapi.Dialogs = (*dialogs)(nil)

// transcripts is a fake httpapi.Transcripts.
type transcripts struct{}

func (transcripts) WriteText(_ context.Context, n int64, w io.Writer) error {
	if n > 100 {
		return fmt.Errorf("dialog %d: %w", n, projections.ErrNotFound)
	}
	_, err := fmt.Fprintf(w, "dialog %d transcript\n", n)
	return err
}

// events is a fake httpapi.Events: what is published goes to every
// follower.
type events struct {
	mu        sync.Mutex
	followers []chan httpapi.LogEvent
	personal  []bool // each Follow's
}

func (e *events) Head() uint64 { return 10 }

func (e *events) Follow(from uint64, _ []string, personal bool) httpapi.Follower {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.personal = append(e.personal, personal)
	ch := make(chan httpapi.LogEvent, 16)
	e.followers = append(e.followers, ch)
	return follower{ch}
}

// publish gives evs to every follower there is.
func (e *events) publish(evs ...httpapi.LogEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ch := range e.followers {
		for _, ev := range evs {
			select {
			case ch <- ev:
			default: // a follower long gone
			}
		}
	}
}

type follower struct{ ch chan httpapi.LogEvent }

func (f follower) Next(ctx context.Context) ([]httpapi.LogEvent, error) {
	select {
	case e := <-f.ch:
		return []httpapi.LogEvent{e}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// world is a console over memory read models with five dialogs:
//
//	1 active (Ann @ann)
//	2 handoff waiting 30 min, past the SLA (the XSS-named lead)
//	3 handoff waiting 5 min (Борис @boris)
//	4 handoff a manager has
//	5 closed
type world struct {
	web      *web.Web
	sessions *sessions
	dialogs  *dialogs
	sink     *projections.Memory
	ids      map[int64]uuid.UUID
	events   *events
	// campaign is the world's one campaign ("Winter <b>sale</b>"), with
	// dialogs 1 (variant A) and 2 (variant B); campaigns its port.
	campaign  uuid.UUID
	campaigns *campaignActions
	audience  *audience
	accounts  *accountActions
	audit     *auditPort
}

func newWorld(t testing.TB, mod func(*web.Config)) *world {
	t.Helper()
	w := &world{sessions: newSessions(), dialogs: newDialogs(), sink: projections.NewMemory(), ids: map[int64]uuid.UUID{},
		events: &events{}, campaign: uuid.MustParse("0c0ffee0-0000-4000-8000-000000000001"), audience: &audience{}}
	w.campaigns = &campaignActions{stats: campaignStats(w.campaign)}
	w.accounts = &accountActions{sink: w.sink}
	w.audit = &auditPort{}
	account := uuid.New()
	changes := []projections.Change{projections.PutAccount{Account: projections.Account{ID: account, Label: "sales-1", Status: "active"}}}
	contact := func(name, username string) uuid.UUID {
		id := uuid.New()
		changes = append(changes, projections.PutContact{Contact: projections.Contact{ID: id, Name: name, Username: username, Source: "import"}})
		return id
	}
	dialog := func(n int64, c uuid.UUID, status string, taken bool, handoff, last time.Time) {
		id := uuid.New()
		w.ids[n] = id
		w.dialogs.versions[n] = 7
		stage := "discovery"
		if status == projections.StatusHandoff {
			stage = "handoff"
		}
		changes = append(changes, projections.PutDialog{Dialog: projections.Dialog{ID: id, N: n, ContactID: c, AccountID: account,
			Stage: stage, Status: status, TakenOver: taken, HandoffAt: handoff, HandoffReason: "asked for a human",
			LastMessageAt: last, CreatedAt: now.Add(-2 * time.Hour), UpdatedAt: last}})
	}
	dialog(1, contact("Ann", "ann"), projections.StatusActive, false, time.Time{}, now.Add(-5*time.Minute))
	xss := contact(xssName, "xss_lead")
	dialog(2, xss, projections.StatusHandoff, false, now.Add(-30*time.Minute), now.Add(-30*time.Minute))
	changes = append(changes, projections.PutCampaign{Campaign: projections.Campaign{ID: w.campaign, Name: "Winter <b>sale</b>",
		Status: projections.CampaignActive, Variants: []domain.VariantWeight{{Name: "A", Weight: 50}, {Name: "B", Weight: 50}},
		CreatedAt: now.Add(-24 * time.Hour), UpdatedAt: now}})
	for i, p := range changes {
		if d, ok := p.(projections.PutDialog); ok && (d.Dialog.N == 1 || d.Dialog.N == 2) {
			d.Dialog.Campaign, d.Dialog.Variant = w.campaign, map[int64]string{1: "A", 2: "B"}[d.Dialog.N]
			changes[i] = d
		}
	}
	dialog(3, contact("Борис", "boris"), projections.StatusHandoff, false, now.Add(-5*time.Minute), now.Add(-5*time.Minute))
	dialog(4, contact("Dana", "dana"), projections.StatusHandoff, true, now.Add(-50*time.Minute), now.Add(-1*time.Minute))
	dialog(5, contact("Eve", "eve"), projections.StatusClosed, false, time.Time{}, now.Add(-90*time.Minute))
	changes = append(changes,
		projections.PutMessage{Message: projections.Message{DialogID: w.ids[2], Position: 1, Direction: "out", Author: "ai", Text: "Hello! How can we help?", At: now.Add(-40 * time.Minute), Status: "sent"}},
		projections.PutMessage{Message: projections.Message{DialogID: w.ids[2], Position: 2, Direction: "in", Author: "lead", Text: "<script>alert(2)</script> I want a person", At: now.Add(-30 * time.Minute), Status: "received"}},
		projections.PutQualification{Q: projections.Qualification{DialogID: w.ids[2], Field: "budget", Value: "1000 EUR", Quote: `about "1000" <b>euro</b>`, Confidence: 0.8, UpdatedAt: now}},
	)
	if err := w.sink.Apply(context.Background(), changes, 1, projections.Checkpoint{Position: 1}); err != nil {
		t.Fatal(err)
	}
	cfg := web.Config{Sessions: w.sessions, ReadModels: w.sink, Dialogs: w.dialogs, Transcripts: transcripts{},
		Events: w.events, Now: func() time.Time { return now }, CSRFKey: []byte("test key"),
		Campaigns: w.campaigns, Audience: w.audience, Accounts: w.accounts, Audit: w.audit}
	if mod != nil {
		mod(&cfg)
	}
	c, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.web = c
	return w
}

// get serves a GET of path with cookie (none if empty) and headers
// (name, value pairs).
func (w *world) get(t testing.TB, path, cookie string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "http://console.test"+path, nil)
	return w.serve(r, cookie, headers...)
}

// post serves a POST of form to path.
func (w *world) post(t testing.TB, path, cookie string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://console.test"+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return w.serve(r, cookie, headers...)
}

func (w *world) serve(r *http.Request, cookie string, headers ...string) *httptest.ResponseRecorder {
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: "sb_session", Value: cookie})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	w.web.ServeHTTP(rec, r)
	return rec
}

// csrf is the CSRF token the page at path shows to cookie's session.
func (w *world) csrf(t testing.TB, cookie, path string) string {
	t.Helper()
	body := w.get(t, path, cookie).Body.String()
	const mark = `name="csrf" value="`
	i := strings.Index(body, mark)
	if i < 0 {
		t.Fatalf("%s shows no CSRF token", path)
	}
	rest := body[i+len(mark):]
	return rest[:strings.IndexByte(rest, '"')]
}

// apply adds rows to the read models, as the projector would.
func (w *world) apply(t testing.TB, changes ...projections.Change) {
	t.Helper()
	ctx := context.Background()
	cp, err := w.sink.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.sink.Apply(ctx, changes, cp.Position+1, projections.Checkpoint{Position: cp.Position + 1}); err != nil {
		t.Fatal(err)
	}
}

// campaignActions is a fake httpapi.CampaignActions over one campaign's
// stats; it records what it was asked to do.
type campaignActions struct {
	mu      sync.Mutex
	stats   httpapi.CampaignStats
	created []httpapi.CampaignRequest
	paused  []string // "pause id by", "resume id by"
	metrics []string
}

func (c *campaignActions) Create(_ context.Context, req httpapi.CampaignRequest, by string) (uuid.UUID, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if req.Name == "" {
		return uuid.Nil, &domain.Error{Code: domain.EINVALID, Field: "name", Message: "a campaign needs a name"}
	}
	c.created = append(c.created, req)
	return uuid.MustParse("00000000-0000-4000-8000-000000000042"), nil
}

func (c *campaignActions) Campaign(_ context.Context, ref string) (httpapi.CampaignDetail, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !strings.HasPrefix(c.stats.Campaign.ID, ref) {
		return httpapi.CampaignDetail{}, fmt.Errorf("campaign %q: %w", ref, projections.ErrNotFound)
	}
	return httpapi.CampaignDetail{Campaign: c.stats.Campaign}, nil
}

func (c *campaignActions) SetPaused(ctx context.Context, ref string, pause bool, by string) (uuid.UUID, bool, error) {
	d, err := c.Campaign(ctx, ref)
	if err != nil {
		return uuid.Nil, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d.Status == projections.CampaignEnded {
		return uuid.Nil, false, &domain.Error{Code: domain.ESTATE, Message: "the campaign has ended"}
	}
	verb := "resume"
	if pause {
		verb = "pause"
	}
	c.paused = append(c.paused, verb+" "+d.ID+" "+by)
	return uuid.MustParse(d.ID), true, nil
}

func (c *campaignActions) Stats(ctx context.Context, ref string, _ time.Time, metrics []string) (httpapi.CampaignStats, error) {
	if _, err := c.Campaign(ctx, ref); err != nil {
		return httpapi.CampaignStats{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.metrics = metrics
	return c.stats, nil
}

var _ httpapi.CampaignActions = (*campaignActions)(nil)

// audience is a fake web.Audience: 17 of 20 contactable.
type audience struct {
	mu   sync.Mutex
	segs []httpapi.SegmentRequest
}

func (a *audience) Count(_ context.Context, seg httpapi.SegmentRequest) (int, int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.segs = append(a.segs, seg)
	return 17, 20, nil
}

var _ web.Audience = (*audience)(nil)

// campaignStats are the world's campaign's stats: B replies more than A
// (likely real), qualifies about as often (could be chance).
func campaignStats(id uuid.UUID) httpapi.CampaignStats {
	c := httpapi.Campaign{ID: id.String(), Short: id.String()[:8], Name: "Winter <b>sale</b>", Status: projections.CampaignActive,
		Scenario: "demo", Version: "3", Variants: []domain.VariantWeight{{Name: "A", Weight: 50}, {Name: "B", Weight: 50}},
		Targeted: 250, Created: now.Add(-24 * time.Hour), Updated: now}
	return httpapi.CampaignStats{Campaign: c,
		Variants: []httpapi.VariantCounts{
			{Variant: "A", Weight: 50, Counts: httpapi.Counts{Dialogs: 100, Replied: 40, Qualified: 10, Handoff: 8, Won: 3}},
			{Variant: "B", Weight: 50, Counts: httpapi.Counts{Dialogs: 100, Replied: 60, Qualified: 12, Handoff: 9, Won: 4}},
		},
		Tests: []httpapi.ABTest{
			{Metric: "replied", Variant: "B", Control: "A", Diff: 0.2, P: 0.0047, OK: true, LikelyReal: true},
			{Metric: "qualified", Variant: "B", Control: "A", Diff: 0.02, P: 0.65, OK: true, MoreDialogs: 3700},
			{Metric: "won", Variant: "B", Control: "A", Diff: 0.01, OK: false},
		},
		Objections: []httpapi.ObjectionCount{
			{Variant: "A", Objection: "price", Dialogs: 30, WithInsight: 80, Share: 0.375},
			{Variant: "B", Objection: "has_a_tool", Dialogs: 12, WithInsight: 70, Share: 0.1714},
		}}
}

// accountActions is a fake httpapi.AccountActions: it records what it
// did; a lost account is not resumed.
type accountActions struct {
	mu   sync.Mutex
	sink *projections.Memory
	done []string // "pause id by"
}

func (a *accountActions) SetPaused(ctx context.Context, ref string, pause bool, by string) (uuid.UUID, error) {
	accs, err := a.sink.Accounts(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	for _, acc := range accs {
		if acc.ID.String() != ref {
			continue
		}
		if !pause && acc.Status == "lost" {
			return uuid.Nil, &domain.Error{Code: domain.ESTATE, Message: "a lost account is not resumed"}
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		verb := "resume"
		if pause {
			verb = "pause"
		}
		a.done = append(a.done, verb+" "+ref+" "+by)
		return acc.ID, nil
	}
	return uuid.Nil, fmt.Errorf("account %q: %w", ref, projections.ErrNotFound)
}

var _ httpapi.AccountActions = (*accountActions)(nil)

// auditPort is a fake httpapi.Audit: the log is intact at head 41
// unless expect names another head; dialog 2 has three events, whose
// personal field (the text) is withheld when not personal.
type auditPort struct {
	mu       sync.Mutex
	verifies []string
	personal []bool
	last     *httpapi.Verification
}

func (a *auditPort) LastVerified(context.Context) (httpapi.Verification, bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.last == nil {
		return httpapi.Verification{}, false, nil
	}
	return *a.last, true, nil
}

func (a *auditPort) Verify(_ context.Context, expect, by string) (httpapi.VerifyReport, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.verifies = append(a.verifies, expect)
	if expect != "" && !strings.Contains(expect, ":") {
		return httpapi.VerifyReport{}, &domain.Error{Code: domain.EINVALID, Field: "expect_head", Message: "a head is POS:HASH"}
	}
	rep := httpapi.VerifyReport{OK: true, LogID: "log-1", Head: &httpapi.Head{Position: 41, Hash: "ab12cd"}, Events: 41, Streams: 9,
		Subjects: 5, Erased: 1, UnsignedEvents: 3, Seconds: 0.25, Problems: []httpapi.VerifyProblem{},
		SignedHead: &httpapi.SignedHead{Head: httpapi.Head{Position: 38, Hash: "ffee01"}, SignedAt: now.Add(-time.Hour)}}
	if expect != "" && expect != "41:ab12cd" {
		pos := uint64(41)
		rep.OK, rep.Problems = false, []httpapi.VerifyProblem{{Position: &pos, Problem: "the expected head " + expect + " is not in the log"}}
	}
	a.last = &httpapi.Verification{Report: rep, At: now.Add(-17 * time.Minute), By: by} // the port stamps it, not the page
	return rep, nil
}

func (a *auditPort) Replay(_ context.Context, n int64, personal bool) ([]httpapi.LogEvent, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.personal = append(a.personal, personal)
	if n != 2 {
		return nil, fmt.Errorf("dialog %d: %w", n, domain.ErrUnknownDialog)
	}
	text, withheld := `"<script>alert(3)</script> secret text"`, []string{}
	if !personal {
		text, withheld = `null`, []string{"text"}
	}
	var out []httpapi.LogEvent
	for i, typ := range []string{"DialogStarted", "MessageReceived", "DialogHandedOff"} {
		data := `{"dialog_n":2}`
		if typ == "MessageReceived" {
			data = `{"dialog_n":2,"text":` + text + `}`
		}
		out = append(out, httpapi.LogEvent{Position: uint64(10 + i), Type: typ, Stream: "dialog-x", Version: uint64(i + 1),
			At: now.Add(time.Duration(i) * time.Minute), Withheld: withheld, Data: []byte(data)})
	}
	return out, nil
}

var _ httpapi.Audit = (*auditPort)(nil)
