package web_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/adapters/web"
	"github.com/salesbot/salesbot/domain"
)

func TestAnOwnerVerifiesTheLogOnDemand(t *testing.T) {
	w := newWorld(t, nil)
	owner, _ := w.sessions.session(t, domain.ScopeAdmin)
	body := w.get(t, "/web/audit", owner).Body.String()
	if !strings.Contains(body, "Not verified through this server yet.") || !strings.Contains(body, `action="/web/audit/verify"`) {
		t.Fatalf("the audit page before a verification, for an owner")
	}
	res := w.post(t, "/web/audit/verify", owner, w.pageForm(t, owner, "/web/audit"))
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != "/web/audit?m=verified" {
		t.Fatalf("verify: %d to %q", res.Code, res.Header().Get("Location"))
	}
	// Anyone's audit page shows the last verification.
	analyst, _ := w.sessions.session(t, domain.ScopeRead)
	body = w.get(t, "/web/audit", analyst).Body.String()
	for _, want := range []string{">intact<", "41:ab12cd", "38:ffee01", "3 events after it", "5, of them 1 erased", "log-1", "verified 02 Dec 11:43 UTC by web admin"} {
		if !strings.Contains(body, want) {
			t.Errorf("the audit page lacks %q", want)
		}
	}
	if strings.Contains(body, `action="/web/audit/verify"`) {
		t.Errorf("an analyst is shown the verify button")
	}
	if m := inlineCode.FindString(body); m != "" {
		t.Errorf("inline code %q", m)
	}
	// A head written down earlier that the log does not hold: not intact.
	w.post(t, "/web/audit/verify", owner, w.pageForm(t, owner, "/web/audit", "expect", "41:0000"))
	body = w.get(t, "/web/audit", owner).Body.String()
	if !strings.Contains(body, ">NOT intact<") || !strings.Contains(body, "at 41: the expected head 41:0000 is not in the log") {
		t.Errorf("a failed verification is not shown as such")
	}
	// A malformed head: 422, typed value kept.
	res = w.post(t, "/web/audit/verify", owner, w.pageForm(t, owner, "/web/audit", "expect", "nonsense"))
	if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body.String(), "a head is POS:HASH") ||
		!strings.Contains(res.Body.String(), `value="nonsense"`) {
		t.Errorf("a malformed head: %d", res.Code)
	}
	// Managers, analysts and forged forms do not verify.
	manager, _ := w.sessions.session(t, domain.ScopeManage)
	for _, c := range []struct {
		cookie string
		form   url.Values
	}{{manager, w.pageForm(t, manager, "/web/audit")}, {analyst, w.pageForm(t, analyst, "/web/audit")}, {owner, url.Values{"csrf": {"x"}}}} {
		if res := w.post(t, "/web/audit/verify", c.cookie, c.form); res.Code != http.StatusForbidden {
			t.Errorf("a verify refused: %d, want 403", res.Code)
		}
	}
	if want := []string{"", "41:0000", "nonsense"}; !slices.Equal(w.audit.verifies, want) {
		t.Errorf("verifications %q, want %q", w.audit.verifies, want)
	}
}

func TestReplayADialogWithPersonalFieldsOnlyForManagers(t *testing.T) {
	w := newWorld(t, nil)
	manager, _ := w.sessions.session(t, domain.ScopeManage)
	body := w.get(t, "/web/audit?n=2", manager).Body.String()
	for _, want := range []string{"DialogStarted", "MessageReceived", "DialogHandedOff", "&lt;script&gt;alert(3)&lt;/script&gt; secret text", "with its personal fields"} {
		if !strings.Contains(body, want) {
			t.Errorf("a manager's replay lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert(3)") {
		t.Errorf("the replay renders an event's text as HTML")
	}
	analyst, _ := w.sessions.session(t, domain.ScopeRead)
	body = w.get(t, "/web/audit?n=%232", analyst).Body.String()
	if strings.Contains(body, "secret text") || !strings.Contains(body, "withheld: text") || !strings.Contains(body, "MessageReceived") {
		t.Errorf("an analyst's replay shows personal fields, or not the events")
	}
	if want := []bool{true, false}; !slices.Equal(w.audit.personal, want) {
		t.Errorf("replays asked personal %v, want %v", w.audit.personal, want)
	}
	for _, q := range []string{"99", "x"} {
		if body := w.get(t, "/web/audit?n="+q, analyst).Body.String(); !strings.Contains(body, "no dialog with that number") {
			t.Errorf("n=%s: no alert", q)
		}
	}
}

func TestAuditWithoutThePort(t *testing.T) {
	w := newWorld(t, func(c *web.Config) { c.Audit = nil })
	owner, _ := w.sessions.session(t, domain.ScopeAdmin)
	res := w.get(t, "/web/audit?n=2", owner)
	if res.Code != http.StatusOK || !strings.Contains(res.Body.String(), "not available on this server") || strings.Contains(res.Body.String(), "/web/audit/verify") {
		t.Errorf("the audit page without the port: %d", res.Code)
	}
	if res := w.post(t, "/web/audit/verify", owner, w.pageForm(t, owner, "/web/audit")); res.Code != http.StatusNotFound {
		t.Errorf("a verify without the port: %d", res.Code)
	}
}

func TestALongReplayStaysUnder150KB(t *testing.T) {
	w := newWorld(t, func(c *web.Config) { c.Audit = &longReplay{} })
	cookie, _ := w.sessions.session(t, domain.ScopeManage)
	body := w.get(t, "/web/audit?n=2", cookie).Body.String()
	if len(body) > 150<<10 || !strings.Contains(body, "of 3000 events are shown") {
		t.Errorf("a replay of 3000 events weighs %d bytes, or does not say some are left out", len(body))
	}
}

// longReplay replays 3000 events of 200 bytes of data.
type longReplay struct{ auditPort }

func (*longReplay) Replay(_ context.Context, n int64, _ bool) ([]httpapi.LogEvent, error) {
	out := make([]httpapi.LogEvent, 3000)
	for i := range out {
		out[i] = httpapi.LogEvent{Position: uint64(i + 1), Type: "MessageReceived", At: now, Data: []byte(`{"text":"` + strings.Repeat("ж", 95) + `"}`)}
	}
	return out, nil
}
