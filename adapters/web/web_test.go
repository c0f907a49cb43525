package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/adapters/web"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

func TestSignInSetsASessionCookieOnce(t *testing.T) {
	for _, secure := range []bool{false, true} {
		w := newWorld(t, func(c *web.Config) { c.Secure = secure })
		link := w.sessions.link(domain.ScopeManage)
		res := w.get(t, "/web/signin?t="+link, "")
		if res.Code != http.StatusSeeOther || res.Header().Get("Location") != "/web/" {
			t.Fatalf("secure %v: sign-in answered %d to %q, want 303 to /web/", secure, res.Code, res.Header().Get("Location"))
		}
		if got := res.Header().Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("Referrer-Policy %q: the link could leak", got)
		}
		cookies := res.Result().Cookies()
		if len(cookies) != 1 || cookies[0].Name != "sb_session" {
			t.Fatalf("cookies %v, want one sb_session", cookies)
		}
		c := cookies[0]
		if !c.HttpOnly || (c.SameSite != http.SameSiteLaxMode && c.SameSite != http.SameSiteStrictMode) || c.Secure != secure {
			t.Errorf("secure %v: cookie HttpOnly %v SameSite %v Secure %v", secure, c.HttpOnly, c.SameSite, c.Secure)
		}
		if !c.Expires.Equal(sessionExpiry) {
			t.Errorf("cookie expires %v, want the session's expiry", c.Expires)
		}
		if page := w.get(t, "/web/", c.Value); page.Code != http.StatusOK {
			t.Errorf("the inbox with the new session: %d", page.Code)
		}
		again := w.get(t, "/web/signin?t="+link, "")
		body := again.Body.String()
		if again.Code != http.StatusUnauthorized || !strings.Contains(body, "used or expired") || !strings.Contains(body, "salesbot web link") {
			t.Errorf("a used link: %d %s", again.Code, body)
		}
		if len(again.Result().Cookies()) != 0 {
			t.Errorf("a used link set cookies: %v", again.Result().Cookies())
		}
	}
}

func TestPagesNeedASession(t *testing.T) {
	w := newWorld(t, nil)
	for _, path := range []string{"/web/", "/web/dialogs/2", "/web/dialogs/2/export", "/web/events", "/web/campaigns",
		"/web/campaigns/0c0ffee0-0000-4000-8000-000000000001", "/web/accounts", "/web/analytics", "/web/audit", "/web/audit?n=2"} {
		res := w.get(t, path, "")
		if res.Code != http.StatusUnauthorized || !strings.Contains(res.Body.String(), "salesbot web link") {
			t.Errorf("GET %s without a session: %d, want 401 and how to get a link", path, res.Code)
		}
		if res := w.get(t, path, "forged"); res.Code != http.StatusUnauthorized {
			t.Errorf("GET %s with an unknown session: %d", path, res.Code)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeAdmin)
	for _, path := range []string{"/web/", "/web/dialogs/2", "/web/signin", "/web/nowhere", "/web/static/app.js", "/web/campaigns",
		"/web/campaigns/0c0ffee0-0000-4000-8000-000000000001", "/web/accounts", "/web/analytics", "/web/audit?n=2"} {
		h := w.get(t, path, cookie).Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self';", "style-src 'self';", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q allows something unsafe", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: nosniff %q, referrer %q", path, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
	}
	// No inline script or style in any page: the CSP would block it.
	for _, path := range []string{"/web/", "/web/dialogs/2", "/web/signin", "/web/campaigns", "/web/campaigns/0c0ffee0-0000-4000-8000-000000000001",
		"/web/accounts", "/web/analytics", "/web/audit?n=2"} {
		body := w.get(t, path, cookie).Body.String()
		if m := regexp.MustCompile(`<script(?:[^>]*)>[^<]|<style|<[a-z][^>]*\s(?:style|on[a-z]+)=`).FindString(body); m != "" {
			t.Errorf("%s has inline code %q", path, m)
		}
		if i := strings.Index(body, "%!"); i >= 0 {
			t.Errorf("%s has a broken format: %q", path, body[i:min(len(body), i+20)])
		}
	}
}

func TestLeadTextIsEscaped(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeManage)
	for _, path := range []string{"/web/", "/web/dialogs/2", "/web/?q=img"} {
		body := w.get(t, path, cookie).Body.String()
		if strings.Contains(body, "<img") || strings.Contains(body, "<script>alert") || strings.Contains(body, "<b>euro") {
			t.Errorf("%s renders a lead's text as HTML", path)
		}
		if !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") {
			t.Errorf("%s does not show the lead's name as text", path)
		}
	}
	body := w.get(t, "/web/dialogs/2", cookie).Body.String()
	for _, want := range []string{"&lt;script&gt;alert(2)&lt;/script&gt; I want a person", "about &#34;1000&#34; &lt;b&gt;euro&lt;/b&gt;", "80%"} {
		if !strings.Contains(body, want) {
			t.Errorf("the dialog's page lacks %q", want)
		}
	}
}

func TestLanguageFromTheBrowserAndTheSwitch(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeManage)
	ru := w.get(t, "/web/", cookie, "Accept-Language", "ru-RU,ru;q=0.9,en;q=0.5")
	if b := ru.Body.String(); !strings.Contains(b, `<html lang="ru">`) || !strings.Contains(b, "Нужен человек") || !strings.Contains(b, "передача · sales-1 · оценка – · 30 мин назад") || !strings.Contains(b, `href="/web/?lang=en"`) {
		t.Errorf("a Russian browser did not get Russian with a switch to English")
	}
	en := w.get(t, "/web/", cookie, "Accept-Language", "de, en;q=0.8")
	if !strings.Contains(en.Body.String(), "Needs a person") {
		t.Errorf("a German/English browser did not get English")
	}
	sw := w.get(t, "/web/?lang=en", cookie, "Accept-Language", "ru")
	if !strings.Contains(sw.Body.String(), "Needs a person") {
		t.Errorf("?lang=en did not switch to English")
	}
	var lang *http.Cookie
	for _, c := range sw.Result().Cookies() {
		if c.Name == "sb_lang" {
			lang = c
		}
	}
	if lang == nil || lang.Value != "en" {
		t.Fatalf("the switch kept no choice: %v", sw.Result().Cookies())
	}
	r := httptest.NewRequest(http.MethodGet, "http://console.test/web/dialogs/3", nil)
	r.AddCookie(lang)
	r.Header.Set("Accept-Language", "ru")
	kept := w.serve(r, cookie)
	if !strings.Contains(kept.Body.String(), "Transcript") {
		t.Errorf("the chosen language was not kept on the next page")
	}
}

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	// Every page in each language: a key missing from a catalog fails
	// the template (missingkey=error), so rendering both is the check.
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeAdmin)
	for _, lang := range []string{"en", "ru"} {
		for _, path := range []string{"/web/", "/web/dialogs/2", "/web/dialogs/4", "/web/signin", "/web/nowhere", "/web/?status=closed"} {
			res := w.get(t, path+sep(path)+"lang="+lang, cookie)
			if res.Code >= 500 {
				t.Errorf("%s in %s: %d", path, lang, res.Code)
			}
		}
	}
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

func TestInboxPutsHandoffsFirst(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	body := w.get(t, "/web/", cookie).Body.String()
	rows := regexp.MustCompile(`<li class="dialog([^"]*)" data-n="(\d+)"`).FindAllStringSubmatch(body, -1)
	var order, classes []string
	for _, r := range rows {
		order = append(order, r[2])
		classes = append(classes, strings.TrimSpace(r[1]))
	}
	// 2 waits longest (past the SLA), 3 waits within it, 4 has a
	// manager, then the active 1; the closed 5 is not in the inbox.
	if want := []string{"2", "3", "4", "1"}; !reflect.DeepEqual(order, want) {
		t.Fatalf("inbox order %v, want %v", order, want)
	}
	if want := []string{"late", "waiting", "", ""}; !reflect.DeepEqual(classes, want) {
		t.Errorf("inbox marks %q, want %q", classes, want)
	}
	if !strings.Contains(body, "waiting 30 min · past the SLA") || !strings.Contains(body, "waiting 5 min") {
		t.Errorf("the inbox does not say how long handoffs wait")
	}

	for _, c := range []struct{ query, want string }{
		{"?status=closed", "5"},
		{"?q=%40bor", "3"},
		{"?q=ann", "1"},
		{"?q=%D0%B1%D0%BE%D1%80%D0%B8%D1%81", "3"}, // борис, any case
		{"?q=4", "4"},
		{"?status=active&q=boris", ""},
	} {
		body := w.get(t, "/web/"+c.query, cookie).Body.String()
		var got []string
		for _, r := range regexp.MustCompile(`data-n="(\d+)"`).FindAllStringSubmatch(body, -1) {
			got = append(got, r[1])
		}
		if strings.Join(got, ",") != c.want {
			t.Errorf("inbox %s lists %v, want %s", c.query, got, c.want)
		}
	}
}

func TestSLAIsConfigurable(t *testing.T) {
	w := newWorld(t, func(c *web.Config) { c.SLA = time.Hour })
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	if strings.Contains(w.get(t, "/web/", cookie).Body.String(), `class="dialog late"`) {
		t.Errorf("a 30-minute wait is marked late under a one-hour SLA")
	}
}

// form is an action's form as the dialog's page gives it to cookie's
// session, with fields added.
func (w *world) form(t testing.TB, cookie string, fields ...string) url.Values {
	t.Helper()
	f := url.Values{"csrf": {w.csrf(t, cookie, "/web/dialogs/2")}, "version": {"7"}}
	for i := 0; i+1 < len(fields); i += 2 {
		f.Set(fields[i], fields[i+1])
	}
	return f
}

func TestDialogActionsCallThePortsAtTheFormsVersion(t *testing.T) {
	for _, c := range []struct {
		action string
		fields []string
		want   call
		notice string
	}{
		{"takeover", nil, call{Action: "takeover", N: 2, At: 7}, "You took the dialog over"},
		{"release", nil, call{Action: "release", N: 2, At: 7}, "back with the AI"},
		{"reply", []string{"text", "  We will call you at 3  "}, call{Action: "reply", N: 2, At: 7, Text: "We will call you at 3"}, "in the outbox"},
		{"stop", nil, call{Action: "stop", N: 2, At: 7}, "is stopped"},
		{"outcome", []string{"outcome", "won", "amount", "1200.50", "currency", "eur"},
			call{Action: "outcome", N: 2, At: 7, Cmd: domain.RecordOutcome{Outcome: domain.OutcomeWon, Amount: "1200.50", Currency: "EUR"}}, "outcome is recorded"},
	} {
		t.Run(c.action, func(t *testing.T) {
			w := newWorld(t, nil)
			cookie, p := w.sessions.session(t, domain.ScopeManage)
			res := w.post(t, "/web/dialogs/2/"+c.action, cookie, w.form(t, cookie, c.fields...), "Sec-Fetch-Site", "same-origin", "Origin", "http://console.test")
			if res.Code != http.StatusSeeOther {
				t.Fatalf("POST %s: %d %s", c.action, res.Code, res.Body.String())
			}
			c.want.By = p.Actor()
			if c.want.Action == "outcome" {
				c.want.Cmd.By = p.Actor()
			}
			if got := w.dialogs.Calls(); len(got) != 1 || !reflect.DeepEqual(got[0], c.want) {
				t.Fatalf("calls %+v, want %+v", got, c.want)
			}
			page := w.get(t, res.Header().Get("Location"), cookie).Body.String()
			if !strings.Contains(page, c.notice) || !strings.Contains(page, `name="version" value="8"`) {
				t.Errorf("after %s the page does not say so (%q) or show version 8", c.action, c.notice)
			}
		})
	}
}

func TestAStaleFormDoesNothing(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeManage)
	res := w.post(t, "/web/dialogs/2/reply", cookie, w.form(t, cookie, "version", "6", "text", "my draft <b>"))
	body := res.Body.String()
	if res.Code != http.StatusConflict || !strings.Contains(body, "The dialog changed since this page was shown") {
		t.Fatalf("a stale reply: %d", res.Code)
	}
	if !strings.Contains(body, "my draft &lt;b&gt;</textarea>") || !strings.Contains(body, `name="version" value="7"`) ||
		!strings.Contains(body, `href="/web/dialogs/2?lang=ru"`) {
		t.Errorf("the refused page lost the draft or shows an old version")
	}
	if calls := w.dialogs.Calls(); len(calls) != 0 {
		t.Errorf("a stale form did %v", calls)
	}
	res = w.post(t, "/web/dialogs/2/reply", cookie, w.form(t, cookie, "text", "   "))
	if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body.String(), "a reply needs a text") {
		t.Errorf("an empty reply: %d", res.Code)
	}
	if res := w.post(t, "/web/dialogs/99/stop", cookie, w.form(t, cookie)); res.Code != http.StatusNotFound {
		t.Errorf("an unknown dialog: %d", res.Code)
	}
}

func TestPostsNeedTheCSRFTokenAndThisOrigin(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeAdmin)
	other, _ := w.sessions.session(t, domain.ScopeAdmin)
	good := w.form(t, cookie)
	for _, c := range []struct {
		name    string
		form    url.Values
		headers []string
	}{
		{"no token", url.Values{"version": {"7"}}, nil},
		{"a wrong token", url.Values{"version": {"7"}, "csrf": {"x"}}, nil},
		{"another session's token", w.form(t, other), nil},
		{"a cross-site request", good, []string{"Sec-Fetch-Site", "cross-site"}},
		{"another origin", good, []string{"Origin", "https://evil.example"}},
	} {
		res := w.post(t, "/web/dialogs/2/takeover", cookie, c.form, c.headers...)
		if res.Code != http.StatusForbidden || !strings.Contains(res.Body.String(), "The form has expired") {
			t.Errorf("%s: %d, want 403", c.name, res.Code)
		}
	}
	if res := w.post(t, "/web/signout", cookie, url.Values{}); res.Code != http.StatusForbidden {
		t.Errorf("a sign-out without the token: %d", res.Code)
	}
	if calls := w.dialogs.Calls(); len(calls) != 0 || len(w.sessions.ended) != 0 {
		t.Errorf("forged requests did %v, ended %v", calls, w.sessions.ended)
	}
	if res := w.post(t, "/web/dialogs/2/takeover", cookie, good, "Sec-Fetch-Site", "same-origin"); res.Code != http.StatusSeeOther {
		t.Errorf("the real form: %d", res.Code)
	}
}

func TestAnAnalystReadsButDoesNotAct(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	page := w.get(t, "/web/dialogs/2", cookie)
	body := page.Body.String()
	if page.Code != http.StatusOK || !strings.Contains(body, "I want a person") || !strings.Contains(body, "analyst (read only)") {
		t.Fatalf("an analyst's dialog page: %d", page.Code)
	}
	if strings.Contains(body, "/takeover") || strings.Contains(body, "/reply") || strings.Contains(body, "/outcome") {
		t.Errorf("an analyst is shown action buttons")
	}
	for _, a := range []string{"takeover", "release", "reply", "stop", "outcome"} {
		res := w.post(t, "/web/dialogs/2/"+a, cookie, w.form(t, cookie, "text", "hi", "outcome", "lost", "reason", "no"))
		if res.Code != http.StatusForbidden || !strings.Contains(res.Body.String(), "Your role may not do this") {
			t.Errorf("an analyst's %s: %d, want 403", a, res.Code)
		}
	}
	if calls := w.dialogs.Calls(); len(calls) != 0 {
		t.Errorf("an analyst did %v", calls)
	}
	if res := w.get(t, "/web/dialogs/2/export", cookie); res.Code != http.StatusOK || res.Body.String() != "dialog 2 transcript\n" ||
		!strings.Contains(res.Header().Get("Content-Disposition"), "dialog-2.txt") {
		t.Errorf("an analyst's export: %d %q", res.Code, res.Body.String())
	}
}

func TestSignOutEndsTheSession(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeManage)
	res := w.post(t, "/web/signout", cookie, url.Values{"csrf": {w.csrf(t, cookie, "/web/")}})
	if res.Code != http.StatusSeeOther || len(w.sessions.ended) != 1 || w.sessions.ended[0] != cookie {
		t.Fatalf("sign-out: %d, ended %v", res.Code, w.sessions.ended)
	}
	if cs := res.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Errorf("sign-out did not clear the cookie: %v", cs)
	}
	if res := w.get(t, "/web/", cookie); res.Code != http.StatusUnauthorized {
		t.Errorf("the ended session still reads: %d", res.Code)
	}
}

func TestUnknownDialogIsNotFound(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	for _, path := range []string{"/web/dialogs/99", "/web/dialogs/x", "/web/dialogs/0", "/web/dialogs/101/export"} {
		if res := w.get(t, path, cookie); res.Code != http.StatusNotFound {
			t.Errorf("%s: %d", path, res.Code)
		}
	}
}

func TestLiveUpdatesSayOnlyWhichDialogChanged(t *testing.T) {
	w := newWorld(t, func(c *web.Config) { c.Heartbeat = 50 * time.Millisecond })
	srv := httptest.NewServer(w.web)
	defer srv.Close()
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/web/events", nil)
	req.AddCookie(&http.Cookie{Name: "sb_session", Value: cookie})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("Content-Type %q", res.Header.Get("Content-Type"))
	}
	w.events.publish(
		httpapi.LogEvent{Position: 11, Type: "contact.added", Stream: "contact-" + w.ids[1].String(), Data: []byte(`{"name":"Ann"}`)},
		httpapi.LogEvent{Position: 12, Type: "dialog.message_received", Stream: "dialog-" + w.ids[2].String(), Data: []byte(`{"text":"secret words"}`)})
	sc := bufio.NewScanner(res.Body)
	var got []string
	for sc.Scan() && len(got) < 2 {
		if l := sc.Text(); strings.HasPrefix(l, "event:") || strings.HasPrefix(l, "data:") {
			got = append(got, l)
		}
	}
	if want := []string{"event: dialog", "data: " + w.ids[2].String()}; !reflect.DeepEqual(got, want) {
		t.Fatalf("live updates %q, want %q", got, want)
	}
	w.events.mu.Lock()
	personal := w.events.personal
	w.events.mu.Unlock()
	if !reflect.DeepEqual(personal, []bool{false}) {
		t.Errorf("the stream followed the log with personal fields: %v", personal)
	}
	// Signed out, the stream ends at its next heartbeat.
	if err := w.sessions.End(ctx, cookie); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
	}
	if ctx.Err() != nil {
		t.Errorf("the stream outlived its session")
	}
}

func TestPagesStayUnder150KB(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeAdmin)
	var changes []projections.Change
	account := uuid.New()
	long := strings.Repeat("Ж", 64)
	for n := int64(10); n < 400; n++ {
		c := uuid.New()
		status := projections.StatusActive
		if n%2 == 0 {
			status = projections.StatusHandoff
		}
		changes = append(changes,
			projections.PutContact{Contact: projections.Contact{ID: c, Name: long, Username: "user_" + strings.Repeat("x", 26)}},
			projections.PutDialog{Dialog: projections.Dialog{ID: uuid.New(), N: n, ContactID: c, AccountID: account, Stage: "qualification",
				Status: status, HandoffAt: now.Add(-time.Duration(n) * time.Minute), LastMessageAt: now, CreatedAt: now, UpdatedAt: now}})
	}
	for i := range 500 {
		changes = append(changes, projections.PutMessage{Message: projections.Message{DialogID: w.ids[2], Position: uint64(10 + i),
			Direction: "in", Author: "lead", Text: strings.Repeat("<ы>", 1000), At: now, Status: "received"}})
	}
	for i := range 2000 {
		changes = append(changes, projections.PutMessage{Message: projections.Message{DialogID: w.ids[3], Position: uint64(1000 + i),
			Direction: "out", Author: "ai", Text: "ok", At: now, Status: "sent"}})
	}
	w.apply(t, changes...)
	inbox := w.get(t, "/web/", cookie)
	if n := inbox.Body.Len(); n > 150<<10 || !strings.Contains(inbox.Body.String(), "Only the first 100 are shown") {
		t.Errorf("an inbox of 400 dialogs weighs %d bytes, or does not say it shows only some", n)
	} else {
		t.Logf("an inbox of 400 dialogs weighs %d bytes", n)
	}
	for _, n := range []int{2, 3} { // 500 long messages; 2000 short ones
		d := w.get(t, fmt.Sprintf("/web/dialogs/%d", n), cookie)
		if size := d.Body.Len(); size > 150<<10 || !strings.Contains(d.Body.String(), "Earlier messages are left out") {
			t.Errorf("dialog %d weighs %d bytes, or does not say some messages are left out", n, size)
		} else {
			t.Logf("dialog %d weighs %d bytes", n, size)
		}
	}
}

func TestAClosedDialogTakesOnlyAnOutcome(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeManage)
	body := w.get(t, "/web/dialogs/5", cookie).Body.String()
	if strings.Contains(body, "/reply") || strings.Contains(body, "/takeover") || strings.Contains(body, "/stop") || !strings.Contains(body, "/outcome") {
		t.Errorf("a closed dialog's page offers the wrong actions")
	}
	body = w.get(t, "/web/dialogs/4", cookie).Body.String()
	if !strings.Contains(body, "/release") || strings.Contains(body, "/takeover") {
		t.Errorf("a dialog a manager has is not offered back to the AI")
	}
}

// A dialog's page shows its meeting: the slots on offer, then the
// booked time (UTC, as every time of the console) and whose calendar,
// in either language; the transcript shows the confirmation's file; a
// manager's name is text, not HTML.
func TestDialogShowsItsMeeting(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	if body := w.get(t, "/web/dialogs/1", cookie).Body.String(); strings.Contains(body, "Meeting") || strings.Contains(body, "📎") {
		t.Fatal("a dialog without a meeting shows one")
	}
	msk := time.FixedZone("MSK", 3*3600)
	slots := []domain.Interval{
		{Start: time.Date(2026, 12, 3, 13, 0, 0, 0, msk), End: time.Date(2026, 12, 3, 13, 30, 0, 0, msk)},
		{Start: time.Date(2026, 12, 4, 17, 0, 0, 0, msk), End: time.Date(2026, 12, 4, 17, 30, 0, 0, msk)},
	}
	w.apply(t, projections.ProposeMeeting{DialogID: w.ids[1], At: now.Add(-4 * time.Minute), Slots: slots})
	if inbox := w.get(t, "/web/", cookie).Body.String(); strings.Contains(inbox, "Upcoming meetings") {
		t.Error("the inbox lists a meeting only proposed")
	}
	body := w.get(t, "/web/dialogs/1", cookie).Body.String()
	for _, want := range []string{"<dt>Meeting</dt>", `class="meeting proposed"`, "2 slots offered", "03 Dec 10:00–10:30 UTC, 04 Dec 14:00–14:30 UTC",
		"Meeting proposed"} {
		if !strings.Contains(body, want) {
			t.Errorf("the proposed meeting's page lacks %q", want)
		}
	}
	w.apply(t,
		projections.BookMeeting{DialogID: w.ids[1], At: now.Add(-3 * time.Minute), Start: slots[1].Start.UTC(), End: slots[1].End.UTC(),
			Manager: "Maria <b>M</b>", UID: "m-1@acme.test"},
		projections.PutMessage{Message: projections.Message{DialogID: w.ids[1], Position: 9, Direction: "out", Author: "ai",
			Text: "Booked: Friday 17:00.", At: now.Add(-3 * time.Minute), Status: "sent", File: "meeting.ics"}})
	body = w.get(t, "/web/dialogs/1", cookie).Body.String()
	for _, want := range []string{`class="meeting booked"`, "booked for 04 Dec 14:00–14:30 UTC · calendar: Maria &lt;b&gt;M&lt;/b&gt;",
		"Meeting booked", `<div class="file" title="file sent">📎 meeting.ics</div>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the booked meeting's page lacks %q", want)
		}
	}
	if strings.Contains(body, "slots offered") || strings.Contains(body, "<b>M") {
		t.Error("the booked meeting's page still offers slots or renders the manager's name as HTML")
	}
	// The inbox lists it among the upcoming meetings, unfiltered only.
	inbox := w.get(t, "/web/", cookie).Body.String()
	if !strings.Contains(inbox, "Upcoming meetings") || !strings.Contains(inbox,
		`<span class="name">Ann</span> <span class="user">@ann</span>`+"\n"+`<span class="meta">04 Dec 14:00–14:30 UTC · calendar: Maria &lt;b&gt;M&lt;/b&gt;</span>`) {
		t.Errorf("the inbox does not list the booked meeting:\n%s", inbox)
	}
	if filtered := w.get(t, "/web/?status=active", cookie).Body.String(); strings.Contains(filtered, "Upcoming meetings") {
		t.Error("a filtered inbox lists the upcoming meetings")
	}
	ru := w.get(t, "/web/dialogs/1?lang=ru", cookie).Body.String()
	for _, want := range []string{"<dt>Встреча</dt>", "назначена на 04.12 14:00–14:30 UTC", "Назначена встреча", `title="отправлен файл"`} {
		if !strings.Contains(ru, want) {
			t.Errorf("the Russian page lacks %q", want)
		}
	}
}
