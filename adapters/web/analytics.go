package web

import (
	"cmp"
	"math"
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
// by account, the median times to the first reply (the lead's to our
// first message, ours to theirs), and the LLM's tokens, in all and per
// qualified lead, with their cost when Config.LLMPrice is set.

// ChartDays is how many days, up to the latest, the analytics chart
// shows.
const ChartDays = 30

// LLMPrice is what an LLM provider charges, in US dollars per million
// tokens. Zero is not known; with one of the two set, the other is
// free.
type LLMPrice struct {
	Prompt, Completion float64
	// Cached is the price of the prompt tokens the provider's prompt
	// cache served (they are part of the prompt tokens), if HasCached;
	// else they cost Prompt.
	Cached    float64
	HasCached bool
}

// Known says whether a price is set.
func (p LLMPrice) Known() bool {
	return p.Prompt > 0 || p.Completion > 0 || p.HasCached && p.Cached > 0
}

// CachedPrice is what a million cached prompt tokens cost.
func (p LLMPrice) CachedPrice() float64 {
	if p.HasCached {
		return p.Cached
	}
	return p.Prompt
}

// Cost is what prompt and completion tokens cost, in US dollars; cached
// of the prompt tokens cost the cached price.
func (p LLMPrice) Cost(prompt, completion, cached int64) float64 {
	cached = min(max(cached, 0), prompt)
	return (float64(prompt-cached)*p.Prompt + float64(cached)*p.CachedPrice() + float64(completion)*p.Completion) / 1e6
}

// analyticsData is the analytics page's content.
type analyticsData struct {
	Dialogs  int
	Rates    []kpi
	Replies  []kpi    // the median times to the first reply
	LLM      []kpi    // tokens, and cost when a price is known
	NoPrice  bool     // no price is known: the page says how to set one
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
	totals, err := rm.Totals(ctx)
	if err != nil {
		return err
	}
	var d analyticsData
	all := projections.SumVariants(variants)
	d.Replies, d.LLM = replyKPIs(L, totals), w.llmKPIs(L, totals, all.Qualified, all.Won)
	d.NoPrice = !w.cfg.LLMPrice.Known()
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

// replyKPIs are the median times to the first reply: "–" over no
// dialogs.
func replyKPIs(L catalog, t projections.Totals) []kpi {
	median := func(d projections.Delays) string {
		if d.Count == 0 {
			return "–"
		}
		return L.delay(d.Median)
	}
	return []kpi{
		{Label: L["LeadReplyTime"], Value: median(t.LeadReply), Note: L.T("LeadReplyNote", t.LeadReply.Count)},
		{Label: L["OurReplyTime"], Value: median(t.OurReply), Note: L.T("OurReplyNote", t.OurReply.Count)},
	}
}

// llmKPIs are the LLM's tokens in all and per qualified lead ("–" with
// none qualified), and their costs, in all, per qualified lead and per
// won deal ("–" with none won), when a price is known.
func (w *Web) llmKPIs(L catalog, t projections.Totals, qualified, won int) []kpi {
	tokens := t.PromptTokens + t.CompletionTokens
	perLead := func(v string) string {
		if qualified == 0 {
			return "–"
		}
		return v
	}
	tokensNote := L.T("TokensTotalNote", L.number(t.PromptTokens), L.number(t.CompletionTokens))
	if t.CachedPromptTokens > 0 {
		tokensNote += L.T("CachedNote", L.number(t.CachedPromptTokens))
	}
	out := []kpi{
		{Label: L["TokensTotal"], Value: L.number(tokens), Note: tokensNote},
		{Label: L["TokensPerLead"], Value: perLead(L.number(int64(math.Round(float64(tokens) / float64(max(qualified, 1)))))),
			Note: L.T("PerLeadNote", qualified)},
	}
	price := w.cfg.LLMPrice
	if !price.Known() {
		return out
	}
	cost := price.Cost(t.PromptTokens, t.CompletionTokens, t.CachedPromptTokens)
	perWon := "–"
	if won > 0 {
		perWon = L.usd(cost / float64(won))
	}
	costNote := L.T("CostNote", L.price(price.Prompt), L.price(price.Completion))
	if price.HasCached {
		costNote += L.T("CostCachedNote", L.price(price.Cached))
	}
	return append(out,
		kpi{Label: L["CostTotal"], Value: L.usd(cost), Note: costNote},
		kpi{Label: L["CostPerLead"], Value: perLead(L.usd(cost / float64(max(qualified, 1)))), Note: L.T("PerLeadNote", qualified)},
		kpi{Label: L["CostPerWon"], Value: perWon, Note: L.T("PerWonNote", won)})
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
