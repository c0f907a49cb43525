package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// browser is the path of a Chromium the test can drive; the test is
// skipped without one.
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium found (chromium, google-chrome, headless-shell): the browser test needs one")
	return ""
}

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
	exe := browser(t)
	w := newWorld(t, nil)
	srv := httptest.NewServer(&counted{h: w.web})
	defer srv.Close()
	count := srv.Config.Handler.(*counted)

	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("lang", "en-US"))
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	var dialogs atomic.Int32 // alert, confirm, prompt
	opened := chromedp.Events(bctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range opened {
			if err != nil {
				return
			}
			dialogs.Add(1)
			_, _ = chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()

	// Start the browser first, so that the page's weight below counts a
	// cold load: the sign-in's redirect, the inbox, its stylesheet and
	// script (and the live stream's start).
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	link := w.sessions.link(domain.ScopeManage)
	count.bytes.Store(0)
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/web/signin?t="+link), chromedp.WaitVisible(`li.dialog.late`)); err != nil {
		t.Fatal(err)
	}
	if n := count.bytes.Load(); n > 150<<10 || n < 8000 {
		t.Errorf("the inbox weighs %d bytes over the wire, want at most 150 KB (and its stylesheet and script)", n)
	} else {
		t.Logf("the inbox weighs %d bytes over the wire", n)
	}
	url := run(t, bctx, chromedp.Location())
	if url != srv.URL+"/web/" {
		t.Errorf("after sign-in the browser is at %s, not the inbox", url)
	}
	name := run(t, bctx, chromedp.Text(`li.dialog.late .name`))
	images := run(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll("img").length`))
	if name != xssName || images != 0 {
		t.Errorf("the XSS-named lead shows as %q with %d images, want the text and none", name, images)
	}

	if err := chromedp.Do(bctx, chromedp.Click(`li.dialog.late a`), chromedp.WaitVisible(`#reply-text`)); err != nil {
		t.Fatal(err)
	}
	if transcript := run(t, bctx, chromedp.Text(`#transcript`)); !strings.Contains(transcript, "<script>alert(2)</script> I want a person") {
		t.Errorf("the transcript reads %q", transcript)
	}
	if err := chromedp.Do(bctx,
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
	if err := chromedp.Do(bctx, chromedp.WaitVisible(`.live`)); err != nil {
		t.Fatal(err)
	}
	w.apply(t, projections.PutMessage{Message: projections.Message{DialogID: w.ids[2], Position: 3, Direction: "in", Author: "lead",
		Text: "Thanks, <i>call me</i>", At: now, Status: "received"}})
	w.dialogs.mu.Lock()
	w.dialogs.versions[2] = 9 // the lead's message raised it
	w.dialogs.mu.Unlock()
	w.events.publish(httpapi.LogEvent{Position: 13, Type: "dialog.message_received", Stream: "dialog-" + w.ids[2].String()})
	if err := chromedp.Do(bctx,
		chromedp.Poll[chromedp.Void](`document.getElementById("transcript").innerText.includes("Thanks, <i>call me</i>")`, chromedp.WithPollingTimeout(5*time.Second)),
	); err != nil {
		t.Fatalf("the transcript did not update live: %v", err)
	}
	if v := run(t, bctx, chromedp.Evaluate[string](`document.querySelector("input[name=version]").value`)); v != "9" {
		t.Errorf("after the live update the forms carry version %s, want 9, the version the page shows", v)
	}
	if n := dialogs.Load(); n != 0 {
		t.Errorf("%d JavaScript dialogs opened: a lead's text ran as script", n)
	}
}

// run runs a browser action that gives a value.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
