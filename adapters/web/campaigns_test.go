package web_test

import (
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/adapters/web"
	"github.com/salesbot/salesbot/domain"
)

// pageForm is a form with the CSRF token the page at path shows to
// cookie's session, with fields added.
func (w *world) pageForm(t testing.TB, cookie, path string, fields ...string) url.Values {
	t.Helper()
	f := url.Values{"csrf": {w.csrf(t, cookie, path)}}
	for i := 0; i+1 < len(fields); i += 2 {
		f.Set(fields[i], fields[i+1])
	}
	return f
}

// inlineCode finds inline script or style in a page (the CSP would
// block it).
var inlineCode = regexp.MustCompile(`<script(?:[^>]*)>[^<]|<style|<[a-z][^>]*\s(?:style|on[a-z]+)=`)

func TestCampaignsListsEachCampaignsFunnel(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeManage)
	res := w.get(t, "/web/campaigns", cookie)
	body := res.Body.String()
	if res.Code != http.StatusOK {
		t.Fatalf("campaigns: %d", res.Code)
	}
	// Two dialogs of the campaign (1 active, 2 handed off), one of them
	// replied? None has inbound messages in the read model: 0 replied.
	for _, want := range []string{`href="/web/campaigns/` + w.campaign.String() + `"`, "Winter &lt;b&gt;sale&lt;/b&gt;", ">active<",
		`<td class="num">2</td>`, `aria-current="page">Campaigns`, `action="/web/campaigns"`, `name="do" value="count"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the campaigns page lacks %q", want)
		}
	}
	if m := inlineCode.FindString(body); m != "" {
		t.Errorf("inline code %q", m)
	}
	analyst, _ := w.sessions.session(t, domain.ScopeRead)
	if body := w.get(t, "/web/campaigns", analyst).Body.String(); strings.Contains(body, `method="post" action="/web/campaigns"`) ||
		!strings.Contains(body, "Winter") {
		t.Errorf("an analyst sees the create form, or not the campaigns")
	}
}

func TestACampaignsFunnelChartIntervalsAndVerdicts(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	path := "/web/campaigns/" + w.campaign.String()
	res := w.get(t, path, cookie)
	body := res.Body.String()
	if res.Code != http.StatusOK {
		t.Fatalf("the campaign: %d %s", res.Code, body)
	}
	if !slices.Equal(w.campaigns.metrics, []string{"replied", "qualified", "handoff", "won"}) {
		t.Errorf("stats asked on %v", w.campaigns.metrics)
	}
	// 40 of 100: 40% with a Wilson interval of 30.9%..49.8%; 60 of 100:
	// 50.2%..69.1%.
	for _, want := range []string{"<svg", "40% (31–50%)", "60% (50–69%)", "A, Replied: 40/100 = 40% (95%: 31%–50%)",
		"B does better than A on reply rate (&#43;20.0 points): the difference is likely real (p = 0.005).",
		"Qualified: B and A differ by &#43;2.0 points, which could be chance (p = 0.650). About 3700 more dialogs per variant would tell.",
		"Won deals: too few dialogs yet to compare B with A.", "Winter &lt;b&gt;sale&lt;/b&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("the campaign's page lacks %q", want)
		}
	}
	// 4 metrics × 2 variants: 8 bars, each with its interval's whisker.
	if n := strings.Count(body, "<rect class=\"s"); n != 8 {
		t.Errorf("%d bars, want 8", n)
	}
	if n := strings.Count(body, `<path class="ci"`); n != 8 {
		t.Errorf("%d whiskers, want 8", n)
	}
	if m := inlineCode.FindString(body); m != "" {
		t.Errorf("inline code %q", m)
	}
	if strings.Contains(body, "/pause") {
		t.Errorf("an analyst is shown the pause button")
	}
	ru := w.get(t, path+"?lang=ru", cookie).Body.String()
	if !strings.Contains(ru, "B лучше, чем A, по показателю «доля ответов»") || !strings.Contains(ru, "Воронка по вариантам") {
		t.Errorf("the Russian page lacks its verdict")
	}
	if res := w.get(t, "/web/campaigns/ffffffff", cookie); res.Code != http.StatusNotFound {
		t.Errorf("an unknown campaign: %d", res.Code)
	}
}

func TestPauseAndResumeACampaign(t *testing.T) {
	w := newWorld(t, nil)
	cookie, p := w.sessions.session(t, domain.ScopeManage)
	path := "/web/campaigns/" + w.campaign.String()
	if body := w.get(t, path, cookie).Body.String(); !strings.Contains(body, path+"/pause") {
		t.Fatalf("a manager sees no pause button")
	}
	res := w.post(t, path+"/pause", cookie, w.pageForm(t, cookie, path))
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != path+"?m=paused" {
		t.Fatalf("pause: %d to %q", res.Code, res.Header().Get("Location"))
	}
	if body := w.get(t, path+"?m=paused", cookie).Body.String(); !strings.Contains(body, "The campaign is paused") {
		t.Errorf("no notice after pausing")
	}
	res = w.post(t, path+"/resume", cookie, w.pageForm(t, cookie, path))
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != path+"?m=resumed" {
		t.Errorf("resume: %d to %q", res.Code, res.Header().Get("Location"))
	}
	want := []string{"pause " + w.campaign.String() + " " + p.Actor(), "resume " + w.campaign.String() + " " + p.Actor()}
	if !slices.Equal(w.campaigns.paused, want) {
		t.Errorf("the port did %v, want %v", w.campaigns.paused, want)
	}
	// An ended campaign: refused, shown with why.
	w.campaigns.stats.Campaign.Status = "ended"
	res = w.post(t, path+"/resume", cookie, w.pageForm(t, cookie, path))
	if res.Code != http.StatusConflict || !strings.Contains(res.Body.String(), "the campaign has ended") {
		t.Errorf("resuming an ended campaign: %d", res.Code)
	}
	// An analyst and a forged form change nothing.
	analyst, _ := w.sessions.session(t, domain.ScopeRead)
	if res := w.post(t, path+"/pause", analyst, w.pageForm(t, analyst, path)); res.Code != http.StatusForbidden {
		t.Errorf("an analyst's pause: %d, want 403", res.Code)
	}
	if res := w.post(t, path+"/pause", cookie, url.Values{"csrf": {"forged"}}); res.Code != http.StatusForbidden {
		t.Errorf("a forged pause: %d, want 403", res.Code)
	}
	if len(w.campaigns.paused) != 2 {
		t.Errorf("refused requests reached the port: %v", w.campaigns.paused)
	}
}

func TestCreateACampaignAfterCountingItsAudience(t *testing.T) {
	w := newWorld(t, nil)
	cookie, p := w.sessions.session(t, domain.ScopeManage)
	fields := []string{"name", "Spring", "tags", "vip, moscow ,", "import", "imp-1", "variants", "A=70, B=30", "accounts", "sales-1",
		"start", "2026-12-03T09:00", "length", "14", "hours", "10:00-19:00", "days", "mon-fri", "time_zone", "Europe/Moscow", "daily", "20", "total", "", "optimize", "qualified"}
	res := w.post(t, "/web/campaigns", cookie, w.pageForm(t, cookie, "/web/campaigns", append(fields, "do", "count")...))
	body := res.Body.String()
	if res.Code != http.StatusOK || !strings.Contains(body, "17 people may be written to now (of 20 the segment selects).") {
		t.Fatalf("the dry run: %d", res.Code)
	}
	if !strings.Contains(body, `value="A=70, B=30"`) || !strings.Contains(body, `value="Europe/Moscow"`) ||
		!strings.Contains(body, `<option value="qualified" selected>optimize for qualified leads</option>`) {
		t.Errorf("the dry run lost the form's values")
	}
	if len(w.campaigns.created) != 0 || len(w.audience.segs) != 1 ||
		!slices.Equal(w.audience.segs[0].Tags, []string{"vip", "moscow"}) || w.audience.segs[0].Import != "imp-1" {
		t.Fatalf("the dry run created %v, counted %+v", w.campaigns.created, w.audience.segs)
	}
	res = w.post(t, "/web/campaigns", cookie, w.pageForm(t, cookie, "/web/campaigns", append(fields, "do", "create")...))
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != "/web/campaigns/00000000-0000-4000-8000-000000000042?m=created" {
		t.Fatalf("create: %d to %q", res.Code, res.Header().Get("Location"))
	}
	want := httpapi.CampaignRequest{Name: "Spring", Segment: httpapi.SegmentRequest{Tags: []string{"vip", "moscow"}, Import: "imp-1"},
		Variants: []domain.VariantWeight{{Name: "A", Weight: 70}, {Name: "B", Weight: 30}}, Accounts: []string{"sales-1"},
		Schedule: httpapi.ScheduleRequest{Start: "2026-12-03T09:00", Length: 14, Hours: "10:00-19:00", Days: "mon-fri", TimeZone: "Europe/Moscow"},
		Caps:     httpapi.Caps{DailyNewDialogs: 20}, Optimize: "qualified"}
	if len(w.campaigns.created) != 1 || !reflect.DeepEqual(w.campaigns.created[0], want) {
		t.Errorf("created %+v, want %+v (by %s)", w.campaigns.created, want, p.Actor())
	}
	// Refused: the form again, as typed, with why.
	for _, c := range []struct{ field, value, why string }{
		{"name", "", "name: a campaign needs a name"},
		{"variants", "A=x", "variants: each variant as name=weight"},
		{"daily", "-1", "caps.daily_new_dialogs: a whole number"},
	} {
		f := w.pageForm(t, cookie, "/web/campaigns", append(fields, "do", "create")...)
		f.Set(c.field, c.value)
		res := w.post(t, "/web/campaigns", cookie, f)
		if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body.String(), c.why) || !strings.Contains(res.Body.String(), `value="imp-1"`) {
			t.Errorf("%s=%q: %d, want 422 saying %q with the form kept", c.field, c.value, res.Code, c.why)
		}
	}
	if len(w.campaigns.created) != 1 {
		t.Errorf("refused forms created campaigns: %v", w.campaigns.created)
	}
	analyst, _ := w.sessions.session(t, domain.ScopeRead)
	if res := w.post(t, "/web/campaigns", analyst, w.pageForm(t, analyst, "/web/campaigns", fields...)); res.Code != http.StatusForbidden {
		t.Errorf("an analyst's create: %d, want 403", res.Code)
	}
	if len(w.campaigns.created) != 1 {
		t.Errorf("an analyst created a campaign")
	}
}

func TestCampaignsWithoutThePort(t *testing.T) {
	w := newWorld(t, func(c *web.Config) { c.Campaigns, c.Audience = nil, nil })
	cookie, _ := w.sessions.session(t, domain.ScopeAdmin)
	list := w.get(t, "/web/campaigns", cookie).Body.String()
	if !strings.Contains(list, "Winter") || strings.Contains(list, `action="/web/campaigns"`) {
		t.Errorf("without the port the list should show the campaigns without the create form")
	}
	path := "/web/campaigns/" + w.campaign.String()
	res := w.get(t, path, cookie)
	if res.Code != http.StatusOK || !strings.Contains(res.Body.String(), "not available on this server") {
		t.Errorf("the campaign without the port: %d", res.Code)
	}
	if res := w.post(t, path+"/pause", cookie, w.pageForm(t, cookie, "/web/campaigns")); res.Code != http.StatusNotFound {
		t.Errorf("a pause without the port: %d", res.Code)
	}
}

// A self-optimizing campaign's page shows its weights' optimizer: each
// variant's share, posterior, mean and 95% interval, the paused one, and
// the last change; one with fixed weights has no such section.
func TestACampaignsOptimizer(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	path := "/web/campaigns/" + w.campaign.String()
	if body := w.get(t, path, cookie).Body.String(); strings.Contains(body, "Self-optimizing weights") {
		t.Fatalf("a campaign with fixed weights shows an optimizer")
	}
	at := time.Date(2026, 11, 25, 10, 50, 0, 0, time.UTC)
	w.campaigns.mu.Lock()
	w.campaigns.stats.Optimizer = &httpapi.Optimizer{Goal: "replied", Reason: "20 new outcomes (replied); C paused", At: &at,
		Variants: []httpapi.OptimizedVariant{
			{Variant: "A", Weight: 100, Share: 0.1, Alpha: 4, Beta: 81, Mean: 0.047, Low: 0.013, High: 0.101},
			{Variant: "B", Weight: 900, Share: 0.9, Alpha: 41, Beta: 45, Mean: 0.477, Low: 0.373, High: 0.582},
			{Variant: "C", Alpha: 6, Beta: 71, Mean: 0.078, Low: 0.03, High: 0.147, Paused: true}}}
	w.campaigns.mu.Unlock()
	body := w.get(t, path, cookie).Body.String()
	for _, want := range []string{"<h2>Self-optimizing weights</h2>", "The weights follow the reply rate: Thompson sampling, at least 10% of new dialogs",
		"Last change 25 Nov 10:50 UTC: 20 new outcomes (replied); C paused",
		`<tr><td>B</td><td class="num">90.0%</td><td class="num">Beta(41, 45)</td><td class="num">47.7%</td><td class="num">37.3–58.2%</td></tr>`,
		`<tr><td>C</td><td class="num">paused</td>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if ru := w.get(t, path+"?lang=ru", cookie).Body.String(); !strings.Contains(ru, "Веса следуют за метрикой «доля ответов»") ||
		!strings.Contains(ru, "приостановлен") || strings.Contains(ru, "%!") {
		t.Errorf("the Russian page lacks the optimizer")
	}
}
