package web

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// Analytics, GET /web/analytics: what the read models answer about every
// dialog: the funnel by day (the dialog's start date, UTC) as an SVG
// chart, the rates of the whole funnel (replied, qualified, handed off,
// won, opted out), the won deals' revenue by currency, and the funnel
// by account. The LLM's tokens are in the read models per dialog turn
// only (projections.Turn), with no total, so the page says where they
// are rather than adding up every dialog.

// ChartDays is how many days, up to the latest, the analytics chart
// shows.
const ChartDays = 30

// analyticsData is the analytics page's content.
type analyticsData struct {
	Dialogs  int
	Rates    []kpi
	Revenue  []string // by currency
	Chart    chart
	Days     []dayRow // the chart's days, the latest first
	Accounts []dayRow // the funnel by account
}

type kpi struct {
	Label, Value, Note string
}

type dayRow struct {
	Key                                  string
	Dialogs, Replied, Handoffs, Won, Out int
	ReplyRate                            string
}

func (w *Web) analytics(r *http.Request, v *view) error {
	ctx, L := r.Context(), v.L
	rm := w.cfg.ReadModels
	days, err := rm.Funnel(ctx, projections.ByDay)
	if err != nil {
		return err
	}
	variants, err := rm.VariantFunnel(ctx, uuid.Nil, time.Time{})
	if err != nil {
		return err
	}
	byAccount, err := rm.Funnel(ctx, projections.ByAccount)
	if err != nil {
		return err
	}
	accs, err := rm.Accounts(ctx)
	if err != nil {
		return err
	}
	var d analyticsData
	all := projections.SumVariants(variants)
	revenue := slices.Clone(all.Revenue)
	slices.SortFunc(revenue, func(a, b domain.Money) int { return cmp.Compare(a.Currency, b.Currency) })
	for _, m := range revenue {
		d.Revenue = append(d.Revenue, m.String())
	}
	d.Dialogs = all.Dialogs
	rate := func(label string, x int, note string) kpi {
		return kpi{Label: label, Value: rateCI(x, all.Dialogs), Note: L.T(note, x)}
	}
	d.Rates = []kpi{
		rate(L["Replied"], all.Replied, "KpiReplied"),
		rate(L["QualifiedRate"], all.Qualified, "KpiQualified"),
		rate(L["Handoffs"], all.Handoffs, "KpiHandoffs"),
		rate(L["WonRate"], all.Won, "KpiWon"),
		rate(L["OptedOut"], all.OptedOut, "KpiOptedOut"),
	}
	if len(days) > ChartDays {
		days = days[len(days)-ChartDays:]
	}
	series := []string{L["Dialogs"], L["Replied"], L["Handoffs"], L["WonRate"]}
	var keys []string
	var vals [][]seriesValue
	for _, f := range days {
		keys = append(keys, shortDay(f.Key))
		var g []seriesValue
		for i, x := range []int{f.Dialogs, f.Replied, f.Handoffs, f.Won} {
			g = append(g, seriesValue{V: float64(x), Title: f.Key + ", " + series[i] + ": " + itoa(x)})
		}
		vals = append(vals, g)
		d.Days = append(d.Days, rowOf(f))
	}
	slices.Reverse(d.Days)
	d.Chart = barChart(L.T("DayChart", len(days)), keys, series, vals, false)
	labels := map[string]string{}
	for _, a := range accs {
		labels[a.ID.String()] = a.Label
	}
	for _, f := range byAccount {
		row := rowOf(f)
		if l, ok := labels[f.Key]; ok {
			row.Key = l
		} else if f.Key == uuid.Nil.String() || f.Key == "" {
			row.Key = L["NoAccount"]
		}
		d.Accounts = append(d.Accounts, row)
	}
	v.Title, v.Nav, v.Data = L["AnalyticsTitle"], "analytics", d
	return nil
}

func rowOf(f projections.FunnelRow) dayRow {
	return dayRow{Key: f.Key, Dialogs: f.Dialogs, Replied: f.Replied, Handoffs: f.Handoffs, Won: f.Won, Out: f.OptedOut,
		ReplyRate: rateCI(f.Replied, f.Dialogs)}
}

// shortDay is a day's key (2026-12-02) as the chart labels it (12-02).
func shortDay(key string) string {
	if t, err := time.Parse(time.DateOnly, key); err == nil {
		return t.Format("01-02")
	}
	return key
}

func itoa(n int) string { return strconv.Itoa(n) }
