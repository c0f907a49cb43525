package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
)

func TestCreateCampaign(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	post := func(body string, header map[string]string, checkRequest bool) answer {
		t.Helper()
		return w.call(t, http.MethodPost, "/api/v1/campaigns", w.manage, body, header, checkRequest)
	}
	const hamburg = `{"name":"Q2 Hamburg","segment":{"tags":["VIP"],"fields":[{"name":"city","value":"Hamburg"}]},
		"variants":[{"name":"A","weight":70},{"name":"B","weight":30}],"accounts":["main"],
		"schedule":{"start":"2026-12-02T09:00","length":14,"hours":"09:00-18:00","time_zone":"Europe/Berlin","days":"mon-fri"},
		"caps":{"daily_new_dialogs":40}}`
	key := map[string]string{"Idempotency-Key": "q2-hamburg"}
	a := post(hamburg, key, true)
	var c httpapi.CampaignDetail
	a.json(t, &c)
	start := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC) // 09:00 in Berlin
	if a.status != http.StatusOK || c.Name != "Q2 Hamburg" || c.Status != "active" || c.Short != c.ID[:8] ||
		!slices.Equal(c.Variants, []domain.VariantWeight{{Name: "A", Weight: 70}, {Name: "B", Weight: 30}}) ||
		!slices.Equal(c.Segment.Tags, []string{"vip"}) || len(c.Segment.Fields) != 1 || c.Segment.Import != nil ||
		len(c.Accounts) != 1 || c.Accounts[0] != w.account ||
		!c.Schedule.Start.Equal(start) || !c.Schedule.End.Equal(start.AddDate(0, 0, 14)) || *c.Schedule.Hours != "09:00-18:00" ||
		*c.Schedule.TimeZone != "Europe/Berlin" || !slices.Equal(c.Schedule.Days, []string{"mon", "tue", "wed", "thu", "fri"}) ||
		c.Caps != (httpapi.Caps{DailyNewDialogs: 40}) || c.Totals.Dialogs != 0 {
		t.Fatalf("created: %d %s", a.status, a.body)
	}
	// The same key again: the first answer, nothing created again.
	again := post(hamburg, key, true)
	if again.status != http.StatusOK || again.header.Get("Idempotency-Replayed") != "true" || string(again.body) != string(a.body) {
		t.Fatalf("repeat: %d %s", again.status, again.body)
	}
	var cs struct{ Items []httpapi.Campaign }
	w.get(t, "/api/v1/campaigns", w.read).json(t, &cs)
	if len(cs.Items) != 2 {
		t.Fatalf("campaigns after a repeat: %+v", cs.Items)
	}
	// Without the key, the name is taken.
	if p := post(hamburg, nil, true).problem(t, http.StatusBadRequest); !slices.Equal(fieldsOf(p), []string{"name"}) {
		t.Fatalf("a taken name: %+v", p)
	}
	// The scenario's variants by default; a week.
	var d httpapi.CampaignDetail
	post(`{"name":"Defaults","schedule":{"start":"2026-12-02"}}`, nil, true).json(t, &d)
	if !slices.Equal(d.Variants, []domain.VariantWeight{{Name: "A", Weight: 50}, {Name: "B", Weight: 50}}) || len(d.Accounts) != 0 ||
		!d.Schedule.End.Equal(d.Schedule.Start.AddDate(0, 0, 7)) || d.Schedule.Hours != nil || len(d.Schedule.Days) != 0 {
		t.Fatalf("defaults: %+v", d)
	}

	for _, c := range []struct{ body, fields string }{
		{`{"schedule":{"start":"2026-12-02"}}`, "name"},
		{`{"name":"x","schedule":{}}`, "schedule.start"},
		{`{"name":" "}`, "name schedule.start"},
		{`{"name":"x","schedule":{"start":"yesterday"}}`, "schedule.start"},
		{`{"name":"x","schedule":{"start":"2026-12-02","length":5000}}`, "schedule.length"},
		{`{"name":"x","schedule":{"start":"2026-12-02","length":"week"}}`, "schedule.length"},
		{`{"name":"x","schedule":{"start":"2026-12-02","end":"soon"}}`, "schedule.end"},
		{`{"name":"x","schedule":{"start":"2026-12-02","hours":"25:00-26:00"}}`, "schedule.hours"},
		{`{"name":"x","schedule":{"start":"2026-12-02","time_zone":"Mars/Base"}}`, "schedule.time_zone"},
		{`{"name":"x","schedule":{"start":"2026-12-02","days":"funday"}}`, "schedule.days"},
		{`{"name":"x","schedule":{"start":"2026-12-02","stop":"2026-12-09"}}`, "schedule.stop"},
		{`{"name":"x","schedule":{"start":"1999-12-02"}}`, "schedule"},
		{`{"name":"x","variants":[{"name":"C","weight":1}],"schedule":{"start":"2026-12-02"}}`, "variants"},
		{`{"name":"x","variants":[{"name":"A","weight":0}],"schedule":{"start":"2026-12-02"}}`, "variants"},
		{`{"name":"x","variants":[{"name":"A","weight":1,"prompt":"hi"}],"schedule":{"start":"2026-12-02"}}`, "variants.prompt"},
		{`{"name":"x","accounts":["nope"],"schedule":{"start":"2026-12-02"}}`, "accounts"},
		{`{"name":"x","segment":{"fields":[{"name":"Bad Name","value":"x"}]},"schedule":{"start":"2026-12-02"}}`, "segment.fields"},
		{`{"name":"x","segment":{"import":"imp x"},"schedule":{"start":"2026-12-02"}}`, "segment.import"},
		{`{"name":"x","segment":{"tag":"vip"},"schedule":{"start":"2026-12-02"}}`, "segment.tag"},
		{`{"name":"x","caps":{"total_dialogs":-1},"schedule":{"start":"2026-12-02"}}`, "caps.total_dialogs"},
		{`{"name":"x","schedule":{"start":"2026-12-02"},"budget":5}`, "budget"},
		{`{"name":"x","schedule":{"start":"2026-12-02","end":"2026-12-01"}}`, ""}, // about two fields: the detail names both
	} {
		p := post(c.body, nil, false).problem(t, http.StatusBadRequest)
		if got := strings.Join(fieldsOf(p), " "); got != c.fields {
			t.Errorf("%s: fields %q, want %q (%s)", c.body, got, c.fields, p.Detail)
		}
	}
	w.call(t, http.MethodPost, "/api/v1/campaigns", w.read, hamburg, nil, true).problem(t, http.StatusForbidden)
	w.call(t, http.MethodPost, "/api/v1/campaigns", "", hamburg, nil, true).problem(t, http.StatusUnauthorized)
	w.call(t, http.MethodPost, "/api/v1/campaigns", w.manage, hamburg, map[string]string{"Content-Type": "text/plain"}, false).problem(t, http.StatusUnsupportedMediaType)
}

func TestCampaignActions(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	id := w.campaign.String()
	for _, ref := range []string{id, id[:8], strings.ToUpper(id[:8])} {
		var c httpapi.CampaignDetail
		w.get(t, "/api/v1/campaigns/"+ref, w.read).json(t, &c)
		if c.ID != id || c.Name != "Q1 Berlin" || c.Totals.Dialogs != 2 || c.Totals.Replied != 1 || len(c.Accounts) != 0 || c.Caps != (httpapi.Caps{}) {
			t.Fatalf("GET %s: %+v", ref, c)
		}
	}
	w.get(t, "/api/v1/campaigns/deadbeef", w.read).problem(t, http.StatusNotFound)
	if p := w.call(t, http.MethodGet, "/api/v1/campaigns/Q1-Berlin", w.read, "", nil, false).problem(t, http.StatusBadRequest); !slices.Equal(fieldsOf(p), []string{"id"}) {
		t.Fatalf("a bad id: %+v", p)
	}
	w.get(t, "/api/v1/campaigns/"+id, "").problem(t, http.StatusUnauthorized)

	act := func(verb, ref, token string) answer {
		t.Helper()
		return w.call(t, http.MethodPost, "/api/v1/campaigns/"+ref+"/"+verb, token, "", nil, true)
	}
	for _, step := range []struct{ verb, status string }{
		{"pause", "paused"}, {"pause", "paused"}, {"resume", "active"}, {"resume", "active"},
	} {
		var c httpapi.CampaignDetail
		act(step.verb, id[:8], w.manage).json(t, &c)
		if c.ID != id || c.Status != step.status {
			t.Fatalf("%s: %+v", step.verb, c)
		}
	}
	act("pause", id, w.read).problem(t, http.StatusForbidden)
	act("pause", id, "").problem(t, http.StatusUnauthorized)
	act("pause", "deadbeef", w.manage).problem(t, http.StatusNotFound)
	// An ended campaign is neither paused nor resumed.
	if _, err := w.h.Campaign(t.Context(), w.campaign, domain.EndCampaign{By: "scheduler", Reason: "schedule over"}); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"pause", "resume"} {
		if p := act(verb, id, w.manage).problem(t, http.StatusConflict); p.Type != httpapi.TypeConflict || !strings.Contains(p.Detail, "ended") {
			t.Fatalf("%s an ended campaign: %+v", verb, p)
		}
	}
}

func TestCampaignStats(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	id := w.campaign.String()
	stats := func(query string, checkRequest bool) answer {
		t.Helper()
		return w.call(t, http.MethodGet, "/api/v1/campaigns/"+id[:8]+"/stats"+query, w.read, "", nil, checkRequest)
	}
	var st httpapi.CampaignStats
	stats("", true).json(t, &st)
	if st.Campaign.ID != id || st.Since != nil || len(st.Variants) != 2 || st.Variants[0].Variant != "A" || st.Variants[0].Weight != 50 ||
		st.Variants[0].Dialogs != 2 || st.Variants[0].Replied != 1 || st.Variants[0].ReplyRate != 0.5 || st.Variants[1].Dialogs != 0 {
		t.Fatalf("stats: %+v", st)
	}
	// The tests are those salesbot campaigns stats prints.
	want, err := campaigns.StatsOn(t.Context(), w.sink, id, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	wj := want.JSON()
	if len(st.Tests) != len(wj.Tests) || len(st.Tests) != 4 {
		t.Fatalf("tests: %+v, want %+v", st.Tests, wj.Tests)
	}
	for i, tt := range st.Tests {
		x := wj.Tests[i]
		if tt.Metric != x.Metric || tt.Variant != x.Variant || tt.Control != x.Control || tt.P != x.P || tt.Z != x.Z || tt.Verdict != x.Verdict || tt.OK != x.OK {
			t.Errorf("test %d: %+v, want %+v", i, tt, x)
		}
	}
	stats("?metric=won", true).json(t, &st)
	if len(st.Tests) != 1 || st.Tests[0].Metric != "won" {
		t.Fatalf("won: %+v", st.Tests)
	}
	stats("?metric=replied,won&metric=qualified", false).json(t, &st)
	if len(st.Tests) != 3 || st.Tests[0].Metric != "replied" || st.Tests[2].Metric != "qualified" {
		t.Fatalf("three metrics: %+v", st.Tests)
	}
	stats("?since=2026-12-02", true).json(t, &st)
	if st.Since == nil || !st.Since.Equal(t0.AddDate(0, 0, 1).Truncate(24*time.Hour)) || st.Variants[0].Dialogs != 0 {
		t.Fatalf("since: %+v", st)
	}
	for query, field := range map[string]string{"?metric=reply": "metric", "?since=last+week": "since"} {
		if p := stats(query, false).problem(t, http.StatusBadRequest); !slices.Equal(fieldsOf(p), []string{field}) {
			t.Errorf("%s: %+v", query, p)
		}
	}
	w.get(t, "/api/v1/campaigns/deadbeef/stats", w.read).problem(t, http.StatusNotFound)
	w.get(t, "/api/v1/campaigns/"+id+"/stats", "").problem(t, http.StatusUnauthorized)
}

// A self-optimizing campaign's stats carry its optimizer, as the
// contract describes it: before any change (the campaign's weights, the
// uniform prior) and after one (per mille weights, posteriors, a pause).
func TestCampaignStatsOptimizer(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	ctx := t.Context()
	id := uuid.MustParse("0b0b0000-0000-4000-8000-0000000000c9")
	if _, err := w.h.Campaign(ctx, id, domain.CreateCampaign{CampaignID: id, Name: "Tuned", Scenario: "acme", Version: "1",
		Variants: []domain.VariantWeight{{Name: "A", Weight: 1}, {Name: "B", Weight: 1}},
		Schedule: domain.CampaignSchedule{Start: t0, End: t0.AddDate(0, 0, 7)}, By: "cli", Optimize: domain.GoalWon}); err != nil {
		t.Fatal(err)
	}
	if err := w.catchUp(ctx); err != nil {
		t.Fatal(err)
	}
	var st httpapi.CampaignStats
	w.get(t, "/api/v1/campaigns/"+id.String()+"/stats", w.read).json(t, &st)
	if o := st.Optimizer; o == nil || o.Goal != "won" || o.At != nil || len(o.Variants) != 2 || o.Variants[0].Alpha != 1 || o.Variants[0].Share != 0.5 {
		t.Fatalf("before a change: %+v", st.Optimizer)
	}
	if _, err := w.h.Campaign(ctx, id, domain.ReweightCampaign{Seed: 1, Reason: "test", At: t0, Outcomes: []domain.ArmOutcomes{
		{Variant: "A", Dialogs: 200, Successes: 10, OptedOut: 2}, {Variant: "B", Dialogs: 200, Successes: 10, OptedOut: 30}}}); err != nil {
		t.Fatal(err)
	}
	if err := w.catchUp(ctx); err != nil {
		t.Fatal(err)
	}
	w.get(t, "/api/v1/campaigns/"+id.String()+"/stats", w.read).json(t, &st)
	o := st.Optimizer
	if o == nil || o.At == nil || !o.Variants[1].Paused || o.Variants[0].Weight != 1000 || o.Variants[1].Alpha != 11 || o.Variants[1].Beta != 191 ||
		o.Variants[1].Low >= o.Variants[1].Mean || o.Variants[1].High <= o.Variants[1].Mean {
		t.Fatalf("after a change: %+v", o)
	}
	// A campaign with fixed weights has none.
	var fixed httpapi.CampaignStats
	w.get(t, "/api/v1/campaigns/"+w.campaign.String()+"/stats", w.read).json(t, &fixed)
	if fixed.Optimizer != nil || len(fixed.Variants) != 2 {
		t.Fatalf("fixed weights: %+v", fixed)
	}
}
