package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// fakeOpener opens dialogs as accounts.Service.Start would, without
// Telegram: it records the person as a new contact and starts a dialog
// on the account asked for (else the world's), numbered after the
// world's three. An error set for a username is returned instead, as
// the service returns it (adapters/app/system tests the service itself).
type fakeOpener struct {
	w *world

	mu     sync.Mutex
	errs   map[string]error // by username
	number int64            // if set, the number Open answers without opening anything
	asked  []httpapi.OpenRequest
	opened int
}

func (f *fakeOpener) Open(ctx context.Context, req httpapi.OpenRequest) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, req)
	if err := f.errs[req.Username]; err != nil {
		return 0, err
	}
	if f.number != 0 {
		return f.number, nil
	}
	h := f.w.h
	cid, did := uuid.New(), uuid.New()
	if _, err := h.Contact(ctx, cid, domain.AddContact{ContactID: cid, Source: domain.SourceAPI, Basis: req.Basis, Note: req.Note, Username: req.Username}); err != nil {
		return 0, err
	}
	c, err := h.LoadContact(ctx, cid)
	if err != nil {
		return 0, err
	}
	account := req.Account
	if account == uuid.Nil {
		account = f.w.account
	}
	f.opened++
	n := int64(3 + f.opened)
	if _, err := h.Dialog(ctx, did, cid, domain.StartDialog{DialogID: did, N: n, Contact: c, AccountID: account, By: req.By}); err != nil {
		return 0, err
	}
	return n, nil
}

func (f *fakeOpener) fail(username string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.errs == nil {
		f.errs = map[string]error{}
	}
	f.errs[username] = err
}

func (f *fakeOpener) requests() []httpapi.OpenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]httpapi.OpenRequest(nil), f.asked...)
}

// transcripts is projections.ExportDialog as httpapi.Transcripts, as the
// running system fills it.
type transcripts struct{ sink projections.Sink }

func (t transcripts) WriteText(ctx context.Context, n int64, w io.Writer) error {
	return projections.ExportDialog(ctx, t.sink, n, w)
}

func (w *world) post(t *testing.T, path, token, body string, header map[string]string, checkRequest bool) answer {
	t.Helper()
	return w.call(t, http.MethodPost, path, token, body, header, checkRequest)
}

// etagOf is the ETag of dialog n as GET gives it.
func (w *world) etagOf(t *testing.T, n int) string {
	t.Helper()
	a := w.get(t, fmt.Sprintf("/api/v1/dialogs/%d", n), w.read)
	if a.status != http.StatusOK || !strings.HasPrefix(a.header.Get("ETag"), `"v`) {
		t.Fatalf("GET dialog %d: %d, ETag %q", n, a.status, a.header.Get("ETag"))
	}
	return a.header.Get("ETag")
}

func TestOpenDialog(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	key := map[string]string{"Idempotency-Key": "open-dora"}
	a := w.post(t, "/api/v1/dialogs", w.manage, `{"username":"@lead_dora","account":"MAIN","note":"met at the fair"}`, key, true)
	var card httpapi.Card
	a.json(t, &card)
	if a.status != http.StatusCreated || card.N != 4 || card.Account != w.account || card.Status != projections.StatusActive ||
		a.header.Get("Location") != "/api/v1/dialogs/4" || a.header.Get("ETag") != `"v1"` {
		t.Fatalf("open: %d %v %s", a.status, a.header, a.body)
	}
	asked := w.opener.requests()
	if len(asked) != 1 || asked[0].Username != "lead_dora" || asked[0].Account != w.account || asked[0].Basis != domain.BasisLegitimateInterest ||
		!strings.HasPrefix(asked[0].By, "token:sb_") || !strings.Contains(asked[0].Note, asked[0].By) || !strings.HasSuffix(asked[0].Note, ": met at the fair") {
		t.Fatalf("asked: %+v", asked)
	}
	// The same key again: the first answer, headers too; nothing opened again.
	again := w.post(t, "/api/v1/dialogs", w.manage, `{"username":"@lead_dora","account":"MAIN","note":"met at the fair"}`, key, true)
	if again.status != http.StatusCreated || !bytes.Equal(again.body, a.body) || again.header.Get("Idempotency-Replayed") != "true" ||
		again.header.Get("Location") != "/api/v1/dialogs/4" || again.header.Get("ETag") != `"v1"` || len(w.opener.requests()) != 1 {
		t.Fatalf("repeat: %d %v %s", again.status, again.header, again.body)
	}
	// By the account's id, with a basis; a t.me link.
	a = w.post(t, "/api/v1/dialogs", w.manage, `{"username":"t.me/lead_emil","account":"`+w.account.String()+`","basis":"consent"}`, nil, true)
	if a.status != http.StatusCreated {
		t.Fatalf("open emil: %d %s", a.status, a.body)
	}
	if r := w.opener.requests()[1]; r.Username != "lead_emil" || r.Basis != domain.BasisConsent || r.Account != w.account {
		t.Fatalf("asked: %+v", r)
	}
	// No account named: the service picks.
	w.post(t, "/api/v1/dialogs", w.manage, `{"username":"lead_fred"}`, nil, true)
	if r := w.opener.requests()[2]; r.Account != uuid.Nil {
		t.Fatalf("asked: %+v", r)
	}

	// The use case's refusals, each its own problem.
	retry := t0.Add(90 * time.Minute)
	for _, c := range []struct {
		name   string
		err    error
		status int
		typ    string
		detail string
	}{
		{"nobody_here", fmt.Errorf("resolve: %w", domain.ErrUnknownUsername), http.StatusNotFound, httpapi.TypeUnknownUsername, "no Telegram user"},
		{"anna_again", &domain.InDialogError{Dialog: 1}, http.StatusConflict, httpapi.TypeInDialog, "dialog 1"},
		{"anna_twice", &domain.InDialogError{}, http.StatusConflict, httpapi.TypeInDialog, "being opened"},
		{"dora_optout", &domain.Error{Code: domain.EFORBIDDEN, Message: "the contact is on the do-not-contact list"}, http.StatusConflict, httpapi.TypeRefused, "do-not-contact"},
		{"night_owl", &domain.Error{Code: domain.ELIMIT, Message: "no account can open a dialog now: main: outside its working hours", RetryAt: retry, Err: domain.ErrNoAccount},
			http.StatusServiceUnavailable, httpapi.TypeNoAccount, "outside its working hours"},
		{"all_paused", &domain.Error{Code: domain.ESTATE, Message: "no account can open a dialog now: main: paused", Err: domain.ErrNoAccount},
			http.StatusServiceUnavailable, httpapi.TypeNoAccount, "paused"},
		{"lost_account", &domain.Error{Code: domain.ESTATE, Message: "account main is lost: add it again with a new session"}, http.StatusConflict, httpapi.TypeConflict, "is lost"},
		{"race_lost", fmt.Errorf("append to contact-x: %w", domain.ErrConflict), http.StatusConflict, httpapi.TypeConflict, "changed"},
	} {
		w.opener.fail(c.name, c.err)
		a := w.post(t, "/api/v1/dialogs", w.manage, `{"username":"`+c.name+`"}`, nil, true)
		p := a.problem(t, c.status)
		if p.Type != c.typ || !strings.Contains(p.Detail, c.detail) {
			t.Errorf("%s: %+v", c.name, p)
		}
		if want := map[bool]string{true: "5400", false: ""}[c.name == "night_owl"]; a.header.Get("Retry-After") != want {
			t.Errorf("%s: Retry-After %q, want %q", c.name, a.header.Get("Retry-After"), want)
		}
	}

	// Open, but not in the read models yet: 202 with the number.
	w.opener.number = 77
	a = w.post(t, "/api/v1/dialogs", w.manage, `{"username":"slow_reader"}`, nil, true)
	var opened httpapi.Opened
	a.json(t, &opened)
	if a.status != http.StatusAccepted || opened.N != 77 || a.header.Get("Location") != "/api/v1/dialogs/77" {
		t.Fatalf("lagging: %d %v %s", a.status, a.header, a.body)
	}
	w.opener.number = 0

	// Bad input, each field named.
	before := len(w.opener.requests())
	for _, c := range []struct{ body, field string }{
		{`{}`, "username"},
		{`{"username":"@ab"}`, "username"},
		{`{"username":"lead dora"}`, "username"},
		{`{"username":"лид_дора"}`, "username"},
		{`{"username":"lead_dora","basis":"friendship"}`, "basis"},
		{`{"username":"lead_dora","account":"nope"}`, "account"},
		{`{"username":"lead_dora","note":"` + strings.Repeat("ж", httpapi.MaxNote+1) + `"}`, "note"},
		{`{"username":"lead_dora","campaign":"` + w.campaign.String() + `"}`, "campaign"},
		{`{"username":5}`, "username"},
	} {
		p := w.post(t, "/api/v1/dialogs", w.manage, c.body, nil, false).problem(t, http.StatusBadRequest)
		if len(p.Errors) != 1 || p.Errors[0].Field != c.field {
			t.Errorf("%.60s: %+v", c.body, p)
		}
	}
	if len(w.opener.requests()) != before {
		t.Fatal("bad input reached the opener")
	}
	w.post(t, "/api/v1/dialogs", "", `{"username":"lead_dora"}`, nil, true).problem(t, http.StatusUnauthorized)
	w.post(t, "/api/v1/dialogs", w.read, `{"username":"lead_dora"}`, nil, true).problem(t, http.StatusForbidden)
}

func TestDialogActions(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	var card httpapi.Card
	v1 := w.etagOf(t, 3)

	// Take over at the version read: done; the ETag moves on.
	a := w.post(t, "/api/v1/dialogs/3/takeover", w.manage, "", map[string]string{"If-Match": v1}, true)
	a.json(t, &card)
	v2 := a.header.Get("ETag")
	if a.status != http.StatusOK || !card.TakenOver || v2 == v1 || v2 != w.etagOf(t, 3) {
		t.Fatalf("take over: %d %s %s", a.status, v2, a.body)
	}
	// An action at the old version: refused, saying the versions.
	p := w.post(t, "/api/v1/dialogs/3/release", w.manage, "", map[string]string{"If-Match": v1}, true).problem(t, http.StatusConflict)
	if p.Type != httpapi.TypeConflict || !strings.Contains(p.Detail, v2) || !strings.Contains(p.Detail, v1) {
		t.Fatalf("stale release: %+v", p)
	}
	// Release at the right version, with an empty JSON body.
	a = w.post(t, "/api/v1/dialogs/3/release", w.manage, `{}`, map[string]string{"If-Match": v2}, true)
	a.json(t, &card)
	if a.status != http.StatusOK || card.TakenOver {
		t.Fatalf("release: %d %s", a.status, a.body)
	}
	// Release again: the state machine refuses, with its reason.
	p = w.post(t, "/api/v1/dialogs/3/release", w.manage, "", nil, true).problem(t, http.StatusConflict)
	if p.Type != httpapi.TypeConflict || !strings.Contains(p.Detail, "not with a manager") {
		t.Fatalf("release again: %+v", p)
	}

	// A reply: queued, the dialog taken over; the same key does it once.
	key := map[string]string{"Idempotency-Key": "reply-3", "If-Match": w.etagOf(t, 3)}
	a = w.post(t, "/api/v1/dialogs/3/reply", w.manage, `{"text":"Здравствуйте! Это Макс из Acme."}`, key, true)
	a.json(t, &card)
	if a.status != http.StatusOK || !card.TakenOver {
		t.Fatalf("reply: %d %s", a.status, a.body)
	}
	again := w.post(t, "/api/v1/dialogs/3/reply", w.manage, `{"text":"Здравствуйте! Это Макс из Acme."}`, key, true)
	if again.status != http.StatusOK || !bytes.Equal(again.body, a.body) || again.header.Get("Idempotency-Replayed") != "true" || again.header.Get("ETag") != a.header.Get("ETag") {
		t.Fatalf("repeat: %d %v %s", again.status, again.header, again.body)
	}
	var msgs struct{ Items []httpapi.Message }
	w.get(t, "/api/v1/dialogs/3/messages", w.read).json(t, &msgs)
	if len(msgs.Items) != 1 || msgs.Items[0].Author != "manager" || msgs.Items[0].Status != "planned" || msgs.Items[0].Text != "Здравствуйте! Это Макс из Acme." {
		t.Fatalf("messages: %+v", msgs)
	}
	for _, c := range []struct{ body, field string }{
		{`{"text":""}`, "text"},
		{`{"text":"  \n "}`, "text"},
		{`{"text":"` + strings.Repeat("я", 4097) + `"}`, "text"},
		{`{}`, "text"},
		{`{"text":"hi","html":true}`, "html"},
		{`{"text":7}`, "text"},
	} {
		p := w.post(t, "/api/v1/dialogs/3/reply", w.manage, c.body, nil, false).problem(t, http.StatusBadRequest)
		if len(p.Errors) != 1 || p.Errors[0].Field != c.field {
			t.Errorf("%.40s: %+v", c.body, p)
		}
	}

	// Stop; again is no change; then the closed dialog refuses a reply
	// and a take-over.
	a = w.post(t, "/api/v1/dialogs/3/stop", w.manage, "", map[string]string{"If-Match": "*"}, true)
	a.json(t, &card)
	if a.status != http.StatusOK || card.Status != projections.StatusClosed || card.ClosedAs == nil || *card.ClosedAs != "stopped" {
		t.Fatalf("stop: %d %s", a.status, a.body)
	}
	if a := w.post(t, "/api/v1/dialogs/3/stop", w.manage, "", nil, true); a.status != http.StatusOK {
		t.Fatalf("stop again: %d %s", a.status, a.body)
	}
	for path, body := range map[string]string{"/api/v1/dialogs/3/takeover": "", "/api/v1/dialogs/3/reply": `{"text":"still there?"}`} {
		p := w.post(t, path, w.manage, body, nil, true).problem(t, http.StatusConflict)
		if p.Type != httpapi.TypeConflict || !strings.Contains(p.Detail, "closed") {
			t.Errorf("%s: %+v", path, p)
		}
	}

	// The outcome takes an If-Match too.
	old := w.etagOf(t, 2)
	v := w.post(t, "/api/v1/dialogs/2/takeover", w.manage, "", map[string]string{"If-Match": old}, true).header.Get("ETag")
	w.post(t, "/api/v1/dialogs/2/outcome", w.manage, `{"outcome":"won"}`, map[string]string{"If-Match": old}, true).problem(t, http.StatusConflict)
	a = w.post(t, "/api/v1/dialogs/2/outcome", w.manage, `{"outcome":"won"}`, map[string]string{"If-Match": v}, true)
	if a.status != http.StatusOK || a.header.Get("ETag") == v || v == old {
		t.Fatalf("outcome: %d %v %s", a.status, a.header, a.body)
	}

	// Bad headers and bodies; unknown dialogs; tokens.
	for _, im := range []string{"v2", `W/"v2"`, `"v0"`, `"2"`, `"v2", "v3"`, `"vx"`} {
		p := w.post(t, "/api/v1/dialogs/1/takeover", w.manage, "", map[string]string{"If-Match": im}, false).problem(t, http.StatusBadRequest)
		if len(p.Errors) != 1 || p.Errors[0].Field != "If-Match" {
			t.Errorf("If-Match %s: %+v", im, p)
		}
	}
	w.post(t, "/api/v1/dialogs/1/stop", w.manage, `{"why":"bored"}`, nil, false).problem(t, http.StatusBadRequest)
	w.post(t, "/api/v1/dialogs/1/stop", w.manage, `[]`, nil, false).problem(t, http.StatusBadRequest)
	for _, action := range []string{"stop", "takeover", "release", "reply"} {
		path := "/api/v1/dialogs/99/" + action
		body := map[bool]string{true: `{"text":"hi"}`, false: ""}[action == "reply"]
		w.post(t, path, w.manage, body, nil, true).problem(t, http.StatusNotFound)
		w.post(t, path, "", body, nil, true).problem(t, http.StatusUnauthorized)
		w.post(t, "/api/v1/dialogs/1/"+action, w.read, body, nil, true).problem(t, http.StatusForbidden)
	}
	if w.etagOf(t, 1) != `"v3"` {
		t.Fatal("a refused request changed dialog 1")
	}
}

func TestExportDialog(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	a := w.get(t, "/api/v1/dialogs/1/export", w.read)
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "text/plain; charset=utf-8" ||
		a.header.Get("Content-Disposition") != `attachment; filename="dialog-1.txt"` {
		t.Fatalf("text: %d %v", a.status, a.header)
	}
	var want bytes.Buffer
	if err := projections.ExportDialog(t.Context(), w.sink, 1, &want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.body, want.Bytes()) || !strings.HasPrefix(string(a.body), "Dialog 1\n") ||
		!strings.Contains(string(a.body), "[2026-12-01 09:00:00] lead: we have 5000 EUR\n") {
		t.Fatalf("text:\n%s", a.body)
	}
	if b := w.get(t, "/api/v1/dialogs/1/export?format=text", w.manage).body; !bytes.Equal(b, a.body) {
		t.Fatalf("format=text:\n%s", b)
	}

	// jsonl: the messages as GET .../messages gives them, one a line,
	// each a Message of the contract.
	w.post(t, "/api/v1/dialogs/1/reply", w.manage, `{"text":"A manager here: \"hello\" <b>"}`, nil, true)
	a = w.get(t, "/api/v1/dialogs/1/export?format=jsonl", w.read)
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/x-ndjson" ||
		a.header.Get("Content-Disposition") != `attachment; filename="dialog-1.jsonl"` {
		t.Fatalf("jsonl: %d %v", a.status, a.header)
	}
	var msgs struct{ Items []httpapi.Message }
	w.get(t, "/api/v1/dialogs/1/messages", w.read).json(t, &msgs)
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	schema := doc.Components.Schemas["Message"].Value
	sc := bufio.NewScanner(bytes.NewReader(a.body))
	var lines []httpapi.Message
	for sc.Scan() {
		var raw any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("line %d: %v: %s", len(lines)+1, err, sc.Bytes())
		}
		if err := schema.VisitJSON(raw, append(w.formats, openapi3.EnableJSONSchema2020())...); err != nil {
			t.Fatalf("line %d breaks the Message schema: %v", len(lines)+1, err)
		}
		var m httpapi.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 || len(msgs.Items) != 2 || lines[0] != msgs.Items[0] || lines[1] != msgs.Items[1] || lines[1].Text != `A manager here: "hello" <b>` {
		t.Fatalf("jsonl:\n%s\nmessages %+v", a.body, msgs.Items)
	}

	p := w.call(t, http.MethodGet, "/api/v1/dialogs/1/export?format=pdf", w.read, "", nil, false).problem(t, http.StatusBadRequest)
	if len(p.Errors) != 1 || p.Errors[0].Field != "format" {
		t.Fatalf("format=pdf: %+v", p)
	}
	w.get(t, "/api/v1/dialogs/99/export", w.read).problem(t, http.StatusNotFound)
	w.get(t, "/api/v1/dialogs/99/export?format=jsonl", w.read).problem(t, http.StatusNotFound)
	w.get(t, "/api/v1/dialogs/1/export", "").problem(t, http.StatusUnauthorized)
}
