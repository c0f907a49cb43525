// Package webtest drives a real (headless) Chromium for the web
// console's tests, with github.com/chromedp/chromedp: the console's own
// tests on fakes and the command line's tests on a running sandbox.
package webtest

import (
	"context"
	"os/exec"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Chromium is the path of a Chromium the test can drive; the test is
// skipped without one (.ci/run installs Debian's chromium).
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium found (chromium, google-chrome, headless-shell): the browser test needs one")
	return ""
}

// Browser is a headless Chromium whose pages speak lang (en-US, ru),
// closed when the test ends or after timeout.
type Browser struct {
	Ctx context.Context
	// Dialogs counts the JavaScript dialogs (alert, confirm, prompt) its
	// pages opened, each dismissed: a lead's text that ran as script
	// opens one.
	Dialogs atomic.Int32
}

// New starts a Browser (skipping the test without Chromium) and its
// first page, blank.
func New(t testing.TB, lang string, timeout time.Duration) *Browser {
	t.Helper()
	exe := Chromium(t)
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("lang", lang))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancel() })
	b := &Browser{Ctx: bctx}
	opened := chromedp.Events(bctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range opened {
			if err != nil {
				return
			}
			b.Dialogs.Add(1)
			_, _ = chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return b
}

// StepTimeout bounds each Do and Value.
const StepTimeout = 45 * time.Second

// Do runs browser actions, failing the test on an error (or after
// StepTimeout) with the page's address and text.
func (b *Browser) Do(t testing.TB, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, StepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%v\n%s", err, b.page())
	}
}

// page is the address and text of the browser's page, for a failure.
func (b *Browser) page() string {
	ctx, cancel := context.WithTimeout(b.Ctx, 5*time.Second)
	defer cancel()
	at, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return "the page at " + at + ":\n" + text
}

// Value runs a browser action that gives a value, failing the test on an
// error.
func Value[T any](t testing.TB, b *Browser, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%v\n%s", err, b.page())
	}
	return v
}
