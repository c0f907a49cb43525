package campaigns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// Summary is a campaign as 'campaigns list --json' prints it (and the
// API serves it).
type Summary struct {
	ID       string                  `json:"id"`
	Short    string                  `json:"short_id"`
	Name     string                  `json:"name"`
	Status   string                  `json:"status"`
	Scenario string                  `json:"scenario"`
	Version  string                  `json:"version"`
	Variants []domain.VariantWeight  `json:"variants"`
	Segment  domain.Segment          `json:"segment"`
	Accounts []uuid.UUID             `json:"accounts"`
	Schedule domain.CampaignSchedule `json:"schedule"`
	Caps     domain.CampaignCaps     `json:"caps"`
	Targeted int                     `json:"targeted"`
	Totals   Counts                  `json:"totals"`
	Created  time.Time               `json:"created_at"`
	Updated  time.Time               `json:"updated_at"`
}

// Counts is a funnel row with its rates (fractions of the dialogs).
type Counts struct {
	Variant       string  `json:"variant,omitempty"`
	Weight        int     `json:"weight,omitempty"`
	Dialogs       int     `json:"dialogs"`
	Replied       int     `json:"replied"`
	ReplyRate     float64 `json:"reply_rate"`
	Qualified     int     `json:"qualified"`
	QualifiedRate float64 `json:"qualified_rate"`
	Handoff       int     `json:"handoff"`
	HandoffRate   float64 `json:"handoff_rate"`
	OptedOut      int     `json:"opted_out"`
	OptOutRate    float64 `json:"opt_out_rate"`
	Lost          int     `json:"lost"`
	Won           int     `json:"won"`
	// Revenue: the won deals' values by currency; left out when none.
	Revenue []Money `json:"revenue,omitempty"`
}

// Money is an exact amount: a decimal text ("1200.50") and its ISO 4217
// currency.
type Money struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// CountsOf is a funnel row with its rates.
func CountsOf(v projections.VariantCounts) Counts {
	r := func(x int) float64 { return roundTo(projections.Rate(x, v.Dialogs), 4) }
	return Counts{Variant: v.Variant, Dialogs: v.Dialogs, Replied: v.Replied, ReplyRate: r(v.Replied),
		Qualified: v.Qualified, QualifiedRate: r(v.Qualified), Handoff: v.Handoffs, HandoffRate: r(v.Handoffs),
		OptedOut: v.OptedOut, OptOutRate: r(v.OptedOut), Lost: v.Lost, Won: v.Won, Revenue: moneyOf(v.Revenue)}
}

func moneyOf(l []domain.Money) []Money {
	var out []Money
	for _, m := range l {
		out = append(out, Money{Amount: m.Decimal(), Currency: m.Currency})
	}
	return out
}

func roundTo(x float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if x < 0 {
		return -float64(int64(-x*p+0.5)) / p
	}
	return float64(int64(x*p+0.5)) / p
}

// SummaryOf is a campaign with the totals of its funnel rows.
func SummaryOf(c projections.Campaign, rows []projections.VariantCounts) Summary {
	return Summary{ID: c.ID.String(), Short: projections.ShortID(c.ID), Name: c.Name, Status: c.Status,
		Scenario: c.Scenario, Version: c.Version, Variants: c.Variants, Segment: c.Segment, Accounts: append([]uuid.UUID{}, c.Accounts...),
		Schedule: c.Schedule, Caps: c.Caps, Targeted: c.Targeted, Totals: CountsOf(projections.SumVariants(rows)),
		Created: c.CreatedAt, Updated: c.UpdatedAt}
}

// List lists the campaigns with their funnel totals.
func List(ctx context.Context, sink projections.Sink) ([]Summary, error) {
	cs, err := sink.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(cs))
	for _, c := range cs {
		rows, err := sink.VariantFunnel(ctx, c.ID, time.Time{})
		if err != nil {
			return nil, err
		}
		out = append(out, SummaryOf(c, rows))
	}
	return out, nil
}

// Stats is a campaign's funnel per variant (of dialogs started since
// Since; zero: all), ordered as its variants, with each variant tested
// against the first (projections.Compare).
type Stats struct {
	Campaign projections.Campaign
	Since    time.Time
	Rows     []projections.VariantCounts
	Weights  map[string]int // by variant name: the current ones
	Tests    []projections.Comparison
	// Optimizer is a self-optimizing campaign's variants: weights,
	// posteriors, paused (nil: fixed weights).
	Optimizer []projections.BanditArm
	// Objections are the top objections by variant (objections.go).
	Objections []projections.ObjectionCount
}

// ErrMetric: no A/B metric has that name (see projections.MetricByKey).
var ErrMetric = errors.New("campaigns: no such A/B metric")

// Metrics are the names of the metrics an A/B test may run on, the
// defaults first: replied, qualified, handoff, opted_out, won.
func Metrics() []string {
	var out []string
	for _, m := range append(projections.Metrics[:len(projections.Metrics):len(projections.Metrics)], projections.MetricWon) {
		out = append(out, m.Key)
	}
	return out
}

// StatsOf reads the stats of the campaign ref names (Find), with the A/B
// tests on the default metrics (projections.Compare).
func StatsOf(ctx context.Context, sink projections.Sink, ref string, since time.Time) (Stats, error) {
	return StatsOn(ctx, sink, ref, since)
}

// StatsOn is StatsOf with the A/B tests on the metrics named (Metrics;
// e.g. "won": which variant sells); none is the default ones. Errors:
// ErrMetric for a name that is no metric (nothing is read), and
// StatsOf's.
func StatsOn(ctx context.Context, sink projections.Sink, ref string, since time.Time, metrics ...string) (Stats, error) {
	tested := projections.Metrics
	if len(metrics) > 0 {
		tested = nil
		for _, key := range metrics {
			m, ok := projections.MetricByKey(key)
			if !ok {
				return Stats{}, fmt.Errorf("%w: %q (one of %s)", ErrMetric, key, strings.Join(Metrics(), ", "))
			}
			tested = append(tested, m)
		}
	}
	c, err := Find(ctx, sink, ref)
	if err != nil {
		return Stats{}, err
	}
	rows, err := sink.VariantFunnel(ctx, c.ID, since)
	if err != nil {
		return Stats{}, err
	}
	var names []string
	weights := map[string]int{}
	for _, v := range c.Variants {
		names, weights[v.Name] = append(names, v.Name), v.Weight
	}
	if c.Bandit != nil {
		for _, v := range c.Bandit.Weights {
			weights[v.Name] = v.Weight
		}
	}
	rows = projections.OrderVariants(rows, names)
	objections, err := sink.TopObjections(ctx, c.ID)
	if err != nil {
		return Stats{}, err
	}
	return Stats{Campaign: c, Since: since, Rows: rows, Weights: weights, Tests: projections.CompareOn(rows, tested),
		Optimizer: projections.BanditArms(c), Objections: objections}, nil
}

// StatsJSON is Stats as 'campaigns stats --json' prints it.
type StatsJSON struct {
	Campaign Summary    `json:"campaign"`
	Since    *time.Time `json:"since,omitempty"`
	Variants []Counts   `json:"variants"`
	Tests    []Test     `json:"tests"`
	// Optimizer: a self-optimizing campaign's goal, its variants'
	// weights, posteriors and pauses, and its last change.
	Optimizer *OptimizerJSON `json:"optimizer,omitempty"`
	// Objections: the top objections by variant, the most dialogs first.
	Objections []ObjectionJSON `json:"objections"`
}

// OptimizerJSON is a self-optimizing campaign's optimizer.
type OptimizerJSON struct {
	Goal     string                  `json:"goal"`
	Variants []projections.BanditArm `json:"variants"`
	Reason   string                  `json:"reason,omitempty"` // of the last change
	At       *time.Time              `json:"at,omitempty"`     // nil: no change yet
}

// Test is one A/B test of a variant against the control.
type Test struct {
	Metric     string  `json:"metric"`
	Variant    string  `json:"variant"`
	Control    string  `json:"control"`
	Diff       float64 `json:"diff"`
	Z          float64 `json:"z"`
	P          float64 `json:"p"`
	OK         bool    `json:"ok"`
	LikelyReal bool    `json:"likely_real"`
	More       int     `json:"more_dialogs_per_variant,omitempty"`
	Verdict    string  `json:"verdict"`
}

// JSON is the stats in their JSON shape.
func (s Stats) JSON() StatsJSON {
	out := StatsJSON{Campaign: SummaryOf(s.Campaign, s.Rows), Variants: []Counts{}, Tests: []Test{}, Objections: objectionsJSON(s.Objections)}
	if !s.Since.IsZero() {
		since := s.Since
		out.Since = &since
	}
	for _, r := range s.Rows {
		cj := CountsOf(r)
		cj.Weight = s.Weights[r.Variant]
		out.Variants = append(out.Variants, cj)
	}
	if s.Optimizer != nil {
		out.Optimizer = &OptimizerJSON{Goal: s.Campaign.Optimize, Variants: s.Optimizer}
		if b := s.Campaign.Bandit; b != nil {
			at := b.At
			out.Optimizer.Reason, out.Optimizer.At = b.Reason, &at
		}
	}
	for _, t := range s.Tests {
		out.Tests = append(out.Tests, Test{Metric: t.Metric, Variant: t.Variant, Control: t.Control, Diff: roundTo(t.Diff, 4),
			Z: roundTo(t.Z, 3), P: roundTo(t.P, 4), OK: t.OK, LikelyReal: t.Real, More: t.More, Verdict: t.Verdict})
	}
	return out
}
