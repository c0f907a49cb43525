package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/adapters/web/webtest"
)

// 'salesbot web link' through the running server gives a URL that signs
// in once, to an inbox of the sandbox's dialogs; the same URL again is
// refused.
func TestWebLink(t *testing.T) {
	dir, addr, _ := startRun(t)
	r := run(t, nil, "web", "link", "--data-dir", dir, "--json")
	var l struct{ URL, Role string }
	if err := json.Unmarshal([]byte(r.stdout), &l); r.code != 0 || err != nil || l.Role != "owner" || !strings.HasPrefix(l.URL, "http://"+addr+"/web/signin?t=sbl_") {
		t.Fatalf("web link: %+v (%v)", r, err)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	var page string
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if page == "" {
			res, err := client.Get(l.URL)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/web/" {
				t.Fatalf("the link: %s at %s\n%s", res.Status, res.Request.URL, b)
			}
			page = string(b)
		} else {
			res, err := client.Get("http://" + addr + "/web/")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			page = string(b)
		}
		if strings.Contains(page, `href="/web/dialogs/1"`) || time.Now().After(end) {
			break
		}
	}
	if !strings.Contains(page, `href="/web/dialogs/1"`) {
		t.Fatalf("the inbox lists no sandbox dialog:\n%s", page)
	}
	for _, path := range []string{"/web/dialogs/1", "/web/campaigns", "/web/accounts", "/web/analytics", "/web/audit"} { // every page, wired
		res, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || strings.Contains(string(b), "not available on this server") {
			t.Errorf("%s: %s\n%.500s", path, res.Status, b)
		}
	}
	res, err := http.Get(l.URL) // used: refused
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a used link: %s", res.Status)
	}
	if r := run(t, nil, "web", "link", "--data-dir", t.TempDir()); r.code == 0 || !strings.Contains(r.stderr, "no salesbot runs") {
		t.Errorf("web link without a server: %+v", r)
	}
}

// The console in a real (headless) Chromium on 'run --sandbox', as a
// manager uses it: a one-time link from 'web link' signs in; the inbox
// shows a sandbox person's handoff, under a name that is markup and
// stays text; a reply typed in the page reaches that person in the
// sandbox Telegram; a won deal with its amount shows in the analytics;
// taking a lead's dialog over silences the assistant; a POST without
// the form's CSRF token is refused; the used link is refused.
func TestWebConsoleInABrowser(t *testing.T) {
	t.Parallel() // mostly waiting for the sandbox: beside the others
	b := webtest.New(t, "en-US", 3*time.Minute)
	dir, addr, sb := startRun(t)
	base := "http://" + addr
	var l struct{ URL string }
	if r := run(t, nil, "web", "link", "--data-dir", dir, "--json"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &l) != nil {
		t.Fatalf("web link: %+v", r)
	}
	acct, err := sb.Lookup(demo.AccountUsername(1))
	if err != nil {
		t.Fatal(err)
	}
	const markup = `<img src=x onerror=alert(1)>`
	person, err := sb.AddUser(telegramtest.UserSpec{Username: "markup_person", FirstName: markup})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.SendAs(person.ID, acct.ID, "Can I talk to a manager, please?"); err != nil {
		t.Fatal(err)
	}

	// The inbox lists the handoff (live, as it happens), the name as text.
	b.Do(t, chromedp.Navigate(l.URL), chromedp.WaitVisible(`ul.dialogs`))
	find := `[...document.querySelectorAll("li.dialog")].find(li => li.querySelector(".name")?.textContent === ` + strconv.Quote(markup) + `)`
	if err := chromedp.Do(b.Ctx, chromedp.Poll[chromedp.Void](`(`+find+`)?.matches(".waiting, .late") || false`, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("the inbox shows no handoff of the sandbox person: %v\n%s", err, webtest.Value(t, b, chromedp.Text(`main`)))
	}
	if n := webtest.Value(t, b, chromedp.Evaluate[int](`document.querySelectorAll("img").length`)); n != 0 {
		t.Errorf("the inbox holds %d images: the name ran as markup", n)
	}
	n := webtest.Value(t, b, chromedp.Evaluate[string](`(`+find+`).dataset.n`))

	// A reply from the page reaches the person through the outbox.
	const reply = "Hello, Anna here, a manager at Acme. How many reps are on your team?"
	b.Do(t, chromedp.Navigate(base+"/web/dialogs/"+n), chromedp.WaitVisible(`#reply-text`),
		chromedp.SendKeys(`#reply-text`, reply))
	submit(t, b, `#reply-send`)
	waitFor(t, 30*time.Second, "the reply in the sandbox person's chat", func() bool {
		for _, m := range sb.Messages(person.ID, acct.ID) {
			if !m.Out && m.Text == reply {
				return true
			}
		}
		return false
	})

	// The form's POST without its CSRF token, from the page itself, with
	// the session's cookie: refused.
	status := webtest.Value(t, b, chromedp.Evaluate[int](`fetch(location.pathname + "/takeover", {method: "POST",
		body: new URLSearchParams({version: document.querySelector("input[name=version]").value})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if status != http.StatusForbidden {
		t.Errorf("a POST without the CSRF token: %d, want 403", status)
	}

	// Won, with an amount: the analytics count its revenue.
	b.Do(t, chromedp.Click(`input[name=outcome][value=won]`), chromedp.SetValue(`input[name=amount]`, "1500"),
		chromedp.SetValue(`input[name=currency]`, "USD"))
	submit(t, b, `form.outcome button[type=submit]`)
	b.Do(t, chromedp.Navigate(base+"/web/analytics"), chromedp.WaitVisible(`main`))
	if page := webtest.Value(t, b, chromedp.Text(`main`)); !strings.Contains(page, "1500.00 USD") {
		t.Errorf("the analytics do not show the won deal's 1500.00 USD:\n%s", page)
	}

	// Take over a lead's dialog: what the lead writes next goes unanswered
	// by the assistant.
	lead, err := sb.Lookup(demo.LeadUsername(2))
	if err != nil {
		t.Fatal(err)
	}
	b.Do(t, chromedp.Navigate(base+"/web/?q=@"+demo.LeadUsername(2)), chromedp.WaitVisible(`li.dialog a`), chromedp.Click(`li.dialog a`),
		chromedp.WaitVisible(`form[action$="/takeover"] button`))
	submit(t, b, `form[action$="/takeover"] button`)
	b.Do(t, chromedp.WaitVisible(`form[action$="/release"] button`))
	var with telegramtest.User // the account the lead talks with
	for i := 1; i <= 3 && with.ID == 0; i++ {
		if a, err := sb.Lookup(demo.AccountUsername(i)); err == nil && len(sb.Messages(lead.ID, a.ID)) > 0 {
			with = a
		}
	}
	if with.ID == 0 {
		t.Fatal("the sandbox's lead 2 talks with no account")
	}
	const question = "And what would it cost for 12 reps?"
	if _, err := sb.SendAs(lead.ID, with.ID, question); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b.Ctx, chromedp.Poll[chromedp.Void](`document.getElementById("transcript").innerText.includes(`+strconv.Quote(question)+`)`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the lead's question did not reach the page: %v", err)
	}
	time.Sleep(6 * time.Second) // longer than the sandbox's debounce (2 s) and typing: an answer would be sent by now
	msgs := sb.Messages(lead.ID, with.ID)
	if last := msgs[len(msgs)-1]; !last.Out || last.Text != question {
		t.Errorf("after the take-over the assistant answered the lead: %q", last.Text)
	}

	// The link, used, is refused.
	res, err := chromedp.RunResponse(b.Ctx, chromedp.Navigate(l.URL))
	if err != nil || res.Status != http.StatusUnauthorized {
		t.Errorf("the used link: %v %v", res, err)
	}
	if n := b.Dialogs.Load(); n != 0 {
		t.Errorf("%d JavaScript dialogs opened: a name ran as script", n)
	}
}

// submit clicks a form's button and waits for the page that answers;
// a dialog that changed since its page was shown (the lead read a
// message, the assistant's last one was delivered) shows it anew with
// what was typed kept, and the button is clicked again, as a manager
// would.
func submit(t *testing.T, b *webtest.Browser, button string) {
	t.Helper()
	for try := 1; ; try++ {
		b.Do(t, chromedp.Evaluate[chromedp.Void](`window.sbBefore = true`), chromedp.Click(button))
		waitFor(t, webtest.StepTimeout, "answer to "+button, func() bool { // a poll in the page ends with it: ask anew
			ok, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`!window.sbBefore && document.readyState === "complete" && document.querySelector(".notice, .alert") !== null`))
			return err == nil && ok
		})
		alert := webtest.Value(t, b, chromedp.Evaluate[string](`document.querySelector(".alert")?.textContent || ""`))
		if alert == "" {
			return
		}
		if !strings.Contains(alert, "changed since") || try == 3 {
			t.Fatalf("%s: %s", button, alert)
		}
	}
}

// waitFor polls ok until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no %s after %s", what, d)
		}
	}
}
