package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/web"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

func TestAnalyticsFunnelByDayRatesAndRevenue(t *testing.T) {
	w := newWorld(t, nil)
	accs, err := w.sink.Accounts(t.Context())
	if err != nil || len(accs) != 1 {
		t.Fatal(accs, err)
	}
	// 5 more dialogs two days ago: 3 replied, 2 qualified, 1 handed
	// off, 2 won (1200.50 EUR and 300 EUR), 1 opted out.
	day := now.Add(-48 * time.Hour)
	var changes []projections.Change
	for i := range 5 {
		d := projections.Dialog{ID: uuid.New(), N: int64(20 + i), ContactID: uuid.New(), AccountID: accs[0].ID, Stage: "offer",
			Status: projections.StatusActive, CreatedAt: day, UpdatedAt: day}
		if i < 3 {
			d.Inbound = 2
		}
		if i < 2 {
			d.QualifiedAt, d.Outcome, d.OutcomeAt, d.Status = day, "won", day, projections.StatusClosed
			d.OutcomeValue = domain.Money{Minor: []int64{120050, 30000}[i], Currency: "EUR"}
		}
		if i == 2 {
			d.HandoffAt = day
		}
		if i == 4 {
			d.Outcome, d.Status = string(domain.OutcomeOptedOut), projections.StatusClosed
		}
		changes = append(changes, projections.PutDialog{Dialog: d})
	}
	w.apply(t, changes...)
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	res := w.get(t, "/web/analytics", cookie)
	body := res.Body.String()
	if res.Code != http.StatusOK {
		t.Fatalf("analytics: %d", res.Code)
	}
	// 10 dialogs: the world's 5 (3 handed off) today, these 5 two days ago.
	for _, want := range []string{"Every dialog so far: 10.", "30% (11–60%)", "3 dialogs where the lead wrote back", "2 deals won",
		"1 leads opted out", "4 handed to a person", "1500.50 EUR", "2026-11-30", "2026-12-02", "<svg", "sales-1",
		`aria-current="page">Analytics`, "LLM tokens"} {
		if !strings.Contains(body, want) {
			t.Errorf("the analytics page lacks %q", want)
		}
	}
	// Two days, four series: 8 bars, counts (no intervals).
	if n := strings.Count(body, `<rect class="s`); n != 8 {
		t.Errorf("%d bars, want 8", n)
	}
	if strings.Contains(body, `class="ci"`) {
		t.Errorf("the counts chart has intervals")
	}
	if m := inlineCode.FindString(body); m != "" {
		t.Errorf("inline code %q", m)
	}
	if ru := w.get(t, "/web/analytics?lang=ru", cookie).Body.String(); !strings.Contains(ru, "Всего диалогов: 10.") {
		t.Errorf("the Russian analytics page")
	}
}

func TestAnalyticsChartShowsTheLatestDays(t *testing.T) {
	w := newWorld(t, nil)
	var changes []projections.Change
	for i := range 100 {
		at := now.Add(-time.Duration(i+1) * 24 * time.Hour)
		changes = append(changes, projections.PutDialog{Dialog: projections.Dialog{ID: uuid.New(), N: int64(100 + i), ContactID: uuid.New(),
			Status: projections.StatusActive, Stage: "opening", CreatedAt: at, UpdatedAt: at}})
	}
	w.apply(t, changes...)
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	body := w.get(t, "/web/analytics", cookie).Body.String()
	if n := strings.Count(body, `<rect class="s`); n != 30*4 {
		t.Errorf("%d bars, want the latest 30 days' 120", n)
	}
	if !strings.Contains(body, "2026-12-02") || strings.Contains(body, fmt.Sprint(now.Add(-31*24*time.Hour).Format(time.DateOnly))) {
		t.Errorf("the page does not show exactly the latest 30 days")
	}
	if len(body) > 150<<10 {
		t.Errorf("the page weighs %d bytes", len(body))
	}
}

// kpiOf is the value of the analytics page's figure labelled label
// ("" if there is none).
func kpiOf(body, label string) string {
	_, after, ok := strings.Cut(body, "<span>"+label+"</span><b>")
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, "</b>")
	return v
}

func TestAnalyticsTokensCostAndReplyTimes(t *testing.T) {
	// 3 qualified leads of 4 new dialogs with 9,000 tokens (6,000 prompt,
	// 3,000 of them cached, 3,000 completion), 2 won; the leads answered
	// our first message in 30 s, 90 s and 5 min; we answered the lead who
	// wrote first in 4 s.
	addDialogs := func(t *testing.T, w *world) {
		var changes []projections.Change
		for i, c := range []struct {
			qualified          bool
			prompt, completion int64
			out, in            time.Duration // after the start; <0: none
		}{
			{true, 1000, 500, 0, 30 * time.Second},
			{true, 2000, 1000, 0, 90 * time.Second},
			{true, 3000, 1500, 0, 5 * time.Minute},
			{false, 0, 0, 4 * time.Second, 0},
		} {
			start := now.Add(-time.Hour)
			d := projections.Dialog{ID: uuid.New(), N: int64(30 + i), ContactID: uuid.New(), Stage: "offer", Status: projections.StatusActive,
				CreatedAt: start, UpdatedAt: start, PromptTokens: c.prompt, CompletionTokens: c.completion, CachedPromptTokens: c.prompt / 2,
				FirstOutboundAt: start.Add(c.out), FirstInboundAt: start.Add(c.in)}
			if c.qualified {
				d.QualifiedAt = start
			}
			if i < 2 {
				d.Outcome = string(domain.OutcomeWon)
			}
			changes = append(changes, projections.PutDialog{Dialog: d})
		}
		w.apply(t, changes...)
	}
	for _, c := range []struct {
		name  string
		price web.LLMPrice
		add   bool
		want  map[string]string // a figure's label: its value
		has   []string
		lacks []string
	}{
		{
			name: "no price", add: true,
			want:  map[string]string{"Tokens": "9,000", "Tokens per qualified lead": "3,000", "The lead&#39;s first reply": "1 min 30 s", "Our first reply": "4 s"},
			has:   []string{"6,000 prompt and 3,000 completion tokens", "3,000 of the prompt tokens served from the provider&#39;s prompt cache", "over 3 qualified leads", "median over 3 dialogs we opened", "median over 1 dialogs the lead opened", "--llm-price-prompt", "SALESBOT_LLM_PRICE_COMPLETION"},
			lacks: []string{"Cost per qualified lead", "Cost per won deal"},
		},
		{
			// Without a cached price the cached tokens cost the prompt price.
			name: "priced", add: true, price: web.LLMPrice{Prompt: 2.5, Completion: 10},
			want:  map[string]string{"Tokens per qualified lead": "3,000", "Cost": "$0.0450", "Cost per qualified lead": "$0.0150", "Cost per won deal": "$0.0225"},
			has:   []string{"at $2.50 and $10.00 per million prompt and completion tokens", "over 2 won deals"},
			lacks: []string{"--llm-price-prompt", "cached prompt tokens at"},
		},
		{
			// 3,000 uncached at $2.50, 3,000 cached at $1.25, 3,000
			// completion at $10: $0.0075 + $0.00375 + $0.03.
			name: "priced, cached cheaper", add: true, price: web.LLMPrice{Prompt: 2.5, Completion: 10, Cached: 1.25, HasCached: true},
			want: map[string]string{"Cost": "$0.0413", "Cost per qualified lead": "$0.0138", "Cost per won deal": "$0.0206"},
			has:  []string{"; cached prompt tokens at $1.25"},
		},
		{
			name: "none qualified, none answered", price: web.LLMPrice{Prompt: 2.5},
			want:  map[string]string{"Tokens": "0", "Tokens per qualified lead": "–", "Cost": "$0.00", "Cost per qualified lead": "–", "Cost per won deal": "–", "Our first reply": "–"},
			has:   []string{"over 0 qualified leads", "over 0 won deals"},
			lacks: []string{"prompt cache"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, func(cfg *web.Config) { cfg.LLMPrice = c.price })
			if c.add {
				addDialogs(t, w)
			}
			cookie, _ := w.sessions.session(t, domain.ScopeRead)
			body := w.get(t, "/web/analytics", cookie).Body.String()
			for label, want := range c.want {
				if got := kpiOf(body, label); got != want {
					t.Errorf("%s: %q, want %q", label, got, want)
				}
			}
			for _, s := range c.has {
				if !strings.Contains(body, s) {
					t.Errorf("the page lacks %q", s)
				}
			}
			for _, s := range c.lacks {
				if strings.Contains(body, s) {
					t.Errorf("the page has %q", s)
				}
			}
			if strings.Contains(body, "not in total") {
				t.Errorf("the page still says the tokens have no total")
			}
		})
	}
	// In Russian: numbers grouped with no-break spaces, a decimal comma.
	w := newWorld(t, func(cfg *web.Config) { cfg.LLMPrice = web.LLMPrice{Prompt: 2.5, Completion: 10} })
	addDialogs(t, w)
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	ru := w.get(t, "/web/analytics?lang=ru", cookie).Body.String()
	for label, want := range map[string]string{"Токены": "9\u00a0000", "Стоимость квалифицированного лида": "0,0150\u00a0$", "Первый ответ лида": "1 мин 30 с"} {
		if got := kpiOf(ru, label); got != want {
			t.Errorf("ru %s: %q, want %q", label, got, want)
		}
	}
}
