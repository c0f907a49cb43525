package web_test

import (
	"bytes"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/adapters/web"
	"github.com/salesbot/salesbot/adapters/web/webtest"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// counted counts the bytes a handler sends: its bodies and headers.
type counted struct {
	h     http.Handler
	bytes atomic.Int64
}

func (c *counted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.h.ServeHTTP(&countingWriter{ResponseWriter: w, n: &c.bytes}, r)
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w *countingWriter) WriteHeader(status int) {
	for k, vs := range w.Header() {
		for _, v := range vs {
			w.n.Add(int64(len(k) + len(v) + 4))
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	w.n.Add(int64(len(b)))
	return w.ResponseWriter.Write(b)
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestInABrowser signs in through a link in a real (headless) Chromium,
// finds the handoff in the inbox, opens it, replies, and sees the
// transcript update live; the XSS-named lead stays text and no script
// of theirs runs.
func TestInABrowser(t *testing.T) {
	w := newWorld(t, func(cfg *web.Config) { cfg.LLMPrice = web.LLMPrice{Prompt: 0.15, Completion: 0.6} })
	srv := httptest.NewServer(&counted{h: w.web})
	defer srv.Close()
	count := srv.Config.Handler.(*counted)
	b := webtest.New(t, "en-US", 60*time.Second)

	// The browser started on a blank page, so that the page's weight
	// below counts a cold load: the sign-in's redirect, the inbox, its
	// stylesheet and script (and the live stream's start).
	link := w.sessions.link(domain.ScopeManage)
	count.bytes.Store(0)
	b.Do(t, chromedp.Navigate(srv.URL+"/web/signin?t="+link), chromedp.WaitVisible(`li.dialog.late`))
	if n := count.bytes.Load(); n > 150<<10 || n < 8000 {
		t.Errorf("the inbox weighs %d bytes over the wire, want at most 150 KB (and its stylesheet and script)", n)
	} else {
		t.Logf("the inbox weighs %d bytes over the wire", n)
	}
	shoot(t, b, "inbox")
	url := webtest.Value(t, b, chromedp.Location())
	if url != srv.URL+"/web/" {
		t.Errorf("after sign-in the browser is at %s, not the inbox", url)
	}
	name := webtest.Value(t, b, chromedp.Text(`li.dialog.late .name`))
	images := webtest.Value(t, b, chromedp.Evaluate[int](`document.querySelectorAll("img").length`))
	if name != xssName || images != 0 {
		t.Errorf("the XSS-named lead shows as %q with %d images, want the text and none", name, images)
	}

	b.Do(t, chromedp.Click(`li.dialog.late a`), chromedp.WaitVisible(`#reply-text`))
	if transcript := webtest.Value(t, b, chromedp.Text(`#transcript`)); !strings.Contains(transcript, "<script>alert(2)</script> I want a person") {
		t.Errorf("the transcript reads %q", transcript)
	}
	if err := chromedp.Do(b.Ctx,
		chromedp.SendKeys(`#reply-text`, "Hello, a person here"),
		chromedp.Click(`#reply-send`),
		chromedp.WaitVisible(`.notice`),
	); err != nil {
		t.Fatal(err)
	}
	calls := w.dialogs.Calls()
	if len(calls) != 1 || calls[0].Action != "reply" || calls[0].N != 2 || calls[0].At != 7 || calls[0].Text != "Hello, a person here" {
		t.Fatalf("the Dialogs port got %+v, want the reply to dialog 2 at version 7", calls)
	}

	// Live: the lead answers; the page shows it without a reload.
	b.Do(t, chromedp.WaitVisible(`.live`))
	w.apply(t, projections.PutMessage{Message: projections.Message{DialogID: w.ids[2], Position: 3, Direction: "in", Author: "lead",
		Text: "Thanks, <i>call me</i>", At: now, Status: "received"}})
	w.dialogs.mu.Lock()
	w.dialogs.versions[2] = 9 // the lead's message raised it
	w.dialogs.mu.Unlock()
	w.events.publish(httpapi.LogEvent{Position: 13, Type: "dialog.message_received", Stream: "dialog-" + w.ids[2].String()})
	if err := chromedp.Do(b.Ctx,
		chromedp.Poll[chromedp.Void](`document.getElementById("transcript").innerText.includes("Thanks, <i>call me</i>")`, chromedp.WithPollingTimeout(5*time.Second)),
	); err != nil {
		t.Fatalf("the transcript did not update live: %v", err)
	}
	if v := webtest.Value(t, b, chromedp.Evaluate[string](`document.querySelector("input[name=version]").value`)); v != "9" {
		t.Errorf("after the live update the forms carry version %s, want 9, the version the page shows", v)
	}
	shoot(t, b, "dialog")
	tour(t, b, w, srv.URL)
	if n := b.Dialogs.Load(); n != 0 {
		t.Errorf("%d JavaScript dialogs opened: a lead's text ran as script", n)
	}
}

// tour signs an owner in and visits the campaigns, a campaign, the
// accounts, analytics, the audit and the sign-in page, checking each
// shows what it is for (and taking its screenshot, see shoot).
func tour(t *testing.T, b *webtest.Browser, w *world, base string) {
	t.Helper()
	// Something to show: accounts in trouble, dialogs of the past days,
	// a verification of the log.
	accountsData(t, w)
	var changes []projections.Change
	for i := range 40 {
		at := now.Add(-time.Duration(i/3) * 24 * time.Hour)
		d := projections.Dialog{ID: uuid.New(), N: int64(100 + i), ContactID: uuid.New(), Status: projections.StatusClosed, Stage: "closed",
			CreatedAt: at, UpdatedAt: at}
		if i%3 != 0 {
			d.Inbound = 1
			d.FirstOutboundAt, d.FirstInboundAt = at, at.Add(time.Duration(1+i%4)*7*time.Minute)
			d.PromptTokens, d.CompletionTokens = int64(2400+100*i), int64(180+10*i)
		}
		if i%4 == 0 {
			d.QualifiedAt = at
		}
		if i%5 == 0 {
			d.HandoffAt = at
		}
		if i%7 == 0 {
			d.Outcome, d.OutcomeAt, d.OutcomeValue = "won", at, domain.Money{Minor: 90000, Currency: "EUR"}
		}
		changes = append(changes, projections.PutDialog{Dialog: d})
	}
	w.apply(t, changes...)
	owner, _ := w.sessions.session(t, domain.ScopeAdmin)
	if res := w.post(t, "/web/audit/verify", owner, w.pageForm(t, owner, "/web/audit")); res.Code != http.StatusSeeOther {
		t.Fatalf("verify: %d", res.Code)
	}

	link := w.sessions.link(domain.ScopeAdmin)
	for _, p := range []struct {
		name, path, sel string
		want            int // how many sel
	}{
		{"signed in", "/web/signin?t=" + link, `li.dialog`, 4},
		{"campaigns", "/web/campaigns", `table a[href^="/web/campaigns/"]`, 1},
		{"campaign", "/web/campaigns/" + w.campaign.String(), `svg rect`, 8},
		{"accounts", "/web/accounts", `meter`, 2},
		{"analytics", "/web/analytics", `svg rect`, 14 * 4},
		{"audit", "/web/audit?n=2", `pre.event`, 3},
		{"signin", "/web/signin", `code`, 1},
	} {
		if err := chromedp.Do(b.Ctx, chromedp.Navigate(base+p.path), chromedp.WaitVisible(`main`)); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if n := webtest.Value(t, b, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(p.sel)+`).length`)); n != p.want {
			t.Errorf("%s shows %d of %s, want %d", p.name, n, p.sel, p.want)
		}
		if p.name != "signed in" {
			shoot(t, b, p.name)
		}
	}
}

// accountsData adds accounts in a flood wait, restricted and paused,
// and lost.
func accountsData(t *testing.T, w *world) {
	t.Helper()
	w.apply(t,
		projections.PutAccount{Account: projections.Account{ID: uuid.New(), Label: "sales-2", Status: "flood-wait", FloodUntil: now.Add(90 * time.Minute),
			Day: "2026-12-02", DialogsToday: 18, DailyCap: 20, MessagesPerMinute: 3, MessagesTotal: 412, UpdatedAt: now}},
		projections.PutAccount{Account: projections.Account{ID: uuid.New(), Label: "sales-3", Status: "restricted", Paused: true,
			Reason: "PEER_FLOOD", DialogsToday: 2, DailyCap: 10, UpdatedAt: now}},
		projections.PutAccount{Account: projections.Account{ID: uuid.New(), Label: "sales-4", Status: "lost", UpdatedAt: now}},
	)
}

// shoot saves a full-page PNG of the browser's page as
// docs/web/<name>.png when SALESBOT_WEB_SCREENSHOTS=1 (the docs'
// screenshots; CI does not rewrite them), at a desktop width, each
// under 200 KB.
func shoot(t *testing.T, b *webtest.Browser, name string) {
	t.Helper()
	if os.Getenv("SALESBOT_WEB_SCREENSHOTS") != "1" {
		return
	}
	b.Do(t, chromedp.EmulateViewport(1024, 700))
	shot := webtest.Value(t, b, chromedp.FullScreenshot(100))
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 200<<10 {
		t.Errorf("the screenshot of %s weighs %d bytes, want under 200 KB", name, buf.Len())
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "web", name+".png"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("docs/web/%s.png: %d bytes", name, buf.Len())
}
