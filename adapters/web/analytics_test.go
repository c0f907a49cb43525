package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

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
