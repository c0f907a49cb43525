package projections

import (
	"fmt"
	"math"
)

// A/B tests of prompt variants. Everything here is pure arithmetic on
// counts: the bot's /stats, the CLI's campaigns stats and an analyst's own
// query of campaign_funnel give the same numbers.
//
// Each variant is compared with the first one (the control: the first
// variant the campaign lists, or the first by name when no campaign says),
// metric by metric, with a two-sided two-proportion z-test, or Fisher's
// exact test when there are too few dialogs for the z-test's normal
// approximation (FewDialogs). A difference with p below Significance is
// called "likely real".

// Significance is the p-value below which a difference is called likely
// real: a 5% chance of calling a difference real when the variants are in
// truth equal.
const Significance = 0.05

// TwoProportion is the pooled two-proportion z-test of x1 successes in n1
// trials against x2 in n2: diff = x1/n1 − x2/n2, z = diff / √(p̂(1−p̂)(1/n1
// + 1/n2)) with the pooled p̂ = (x1+x2)/(n1+n2), and the two-sided p-value
// erfc(|z|/√2). ok is false, and the other results zero except diff, when
// the test cannot be made: a group is empty, counts are out of range, or
// the pooled proportion is 0 or 1 (no variation at all).
func TwoProportion(x1, n1, x2, n2 int) (diff, z, p float64, ok bool) {
	if n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2 {
		return 0, 0, 0, false
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	diff = p1 - p2
	pooled := float64(x1+x2) / float64(n1+n2)
	if pooled <= 0 || pooled >= 1 {
		return diff, 0, 0, false
	}
	se := math.Sqrt(pooled * (1 - pooled) * (1/float64(n1) + 1/float64(n2)))
	z = diff / se
	p = math.Erfc(math.Abs(z) / math.Sqrt2)
	return diff, z, p, true
}

// minExpected is the smallest expected count, in every cell of the 2×2
// table, for which the z-test's normal approximation is trusted (the
// usual rule of thumb).
const minExpected = 5

// FewDialogs says whether the z-test is not to be trusted on x1 of n1
// against x2 of n2: some expected count — the pooled rate × n, or
// (1 − pooled rate) × n, of either group — is below 5. Then use
// FisherExact. False when the test cannot be made at all (empty groups,
// counts out of range).
func FewDialogs(x1, n1, x2, n2 int) bool {
	if n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2 {
		return false
	}
	pooled := float64(x1+x2) / float64(n1+n2)
	for _, n := range []int{n1, n2} {
		if pooled*float64(n) < minExpected || (1-pooled)*float64(n) < minExpected {
			return true
		}
	}
	return false
}

// FisherExact is the two-sided p-value of Fisher's exact test of x1
// successes in n1 trials against x2 in n2: with the margins fixed, the
// sum of the hypergeometric probabilities of every table no more likely
// than the one observed. ok is false, and p zero, when counts are out of
// range or a group is empty.
func FisherExact(x1, n1, x2, n2 int) (p float64, ok bool) {
	if n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2 {
		return 0, false
	}
	k, n := x1+x2, n1+n2
	logChoose := func(a, b int) float64 {
		la, _ := math.Lgamma(float64(a + 1))
		lb, _ := math.Lgamma(float64(b + 1))
		lc, _ := math.Lgamma(float64(a - b + 1))
		return la - lb - lc
	}
	all := logChoose(n, n1)
	prob := func(x int) float64 { // x successes in the first group
		return math.Exp(logChoose(k, x) + logChoose(n-k, n1-x) - all)
	}
	observed := prob(x1) * (1 + 1e-7) // ties within rounding count as as likely
	for x := max(0, k-n2); x <= min(k, n1); x++ {
		if q := prob(x); q <= observed {
			p += q
		}
	}
	return min(p, 1), true
}

// Quantiles of the standard normal distribution for a two-sided test at
// 5% and a power of 80%.
const (
	zAlpha = 1.959963984540054 // Φ⁻¹(0.975)
	zBeta  = 0.841621233572914 // Φ⁻¹(0.80)
)

// SampleSize is roughly how many dialogs each of two variants needs for a
// two-sided test at 5% to detect the difference between proportions p1 and
// p2 with 80% power (the usual normal-approximation formula, without
// continuity correction). ok is false when the proportions are equal or
// outside 0..1: no sample shows a difference that is not there.
func SampleSize(p1, p2 float64) (n int, ok bool) {
	if p1 < 0 || p1 > 1 || p2 < 0 || p2 > 1 || p1 == p2 || math.IsNaN(p1) || math.IsNaN(p2) {
		return 0, false
	}
	mean := (p1 + p2) / 2
	a := zAlpha * math.Sqrt(2*mean*(1-mean))
	b := zBeta * math.Sqrt(p1*(1-p1)+p2*(1-p2))
	need := math.Ceil((a + b) * (a + b) / ((p1 - p2) * (p1 - p2)))
	if need > math.MaxInt32 {
		return math.MaxInt32, true
	}
	return int(need), true
}

// Metric is one funnel step an A/B test compares.
type Metric struct {
	Key   string // replied, qualified, handoff, opted_out, won (as in campaign_funnel)
	Title string // for people: "reply rate", ...
	// LowerIsBetter: fewer is the good direction (opt-outs).
	LowerIsBetter bool
	count         func(VariantCounts) int
}

// Count is the metric's count in a row.
func (m Metric) Count(v VariantCounts) int { return m.count(v) }

// Metrics are what the A/B tests compare, in report order.
var Metrics = []Metric{
	{Key: "replied", Title: "reply rate", count: func(v VariantCounts) int { return v.Replied }},
	{Key: "qualified", Title: "qualified", count: func(v VariantCounts) int { return v.Qualified }},
	{Key: "handoff", Title: "handoff", count: func(v VariantCounts) int { return v.Handoffs }},
	{Key: "opted_out", Title: "opt-out", LowerIsBetter: true, count: func(v VariantCounts) int { return v.OptedOut }},
}

// MetricWon is the conversion to a won deal (domain.RecordOutcome). It is
// not among the default Metrics: the reports stay as they were; a caller
// asks for it with CompareOn.
var MetricWon = Metric{Key: "won", Title: "won", count: func(v VariantCounts) int { return v.Won }}

// MetricByKey is the metric named key: one of Metrics or MetricWon.
func MetricByKey(key string) (Metric, bool) {
	for _, m := range append(Metrics[:len(Metrics):len(Metrics)], MetricWon) {
		if m.Key == key {
			return m, true
		}
	}
	return Metric{}, false
}

// Rate is x of n as a fraction, 0 when n is 0.
func Rate(x, n int) float64 {
	if n <= 0 {
		return 0
	}
	return float64(x) / float64(n)
}

// Comparison is one metric of one variant tested against the control.
type Comparison struct {
	Metric   string  // Metric.Key
	Title    string  // Metric.Title
	Variant  string  // the variant tested
	Control  string  // the first variant
	X, N     int     // the variant's count and dialogs
	ControlX int     // the control's count
	ControlN int     // and dialogs
	Diff     float64 // the variant's rate minus the control's (fraction; 0.15 = 15 points)
	Z, P     float64
	OK       bool // the test could be made
	// Exact: P is Fisher's exact test's, the samples being too small for
	// the z-test (FewDialogs); Z is still the z-test's.
	Exact bool
	// Real: p < Significance.
	Real bool
	// More is about how many more dialogs each variant needs before a
	// difference of the size seen would show (80% power at 5%), when it
	// does not yet; 0 when the difference is likely real or none is seen.
	More int
	// Verdict says it in plain words for a manager.
	Verdict string
}

// Compare tests every variant after the first against the first, on
// every metric. rows are in the order to report, the control first
// (OrderVariants puts them in a campaign's order). Fewer than two rows
// give no comparisons.
func Compare(rows []VariantCounts) []Comparison { return CompareOn(rows, Metrics) }

// CompareOn is Compare on the given metrics, in their order (e.g.
// MetricWon alone: which variant sells).
func CompareOn(rows []VariantCounts, metrics []Metric) []Comparison {
	if len(rows) < 2 {
		return nil
	}
	control := rows[0]
	var out []Comparison
	for _, v := range rows[1:] {
		for _, m := range metrics {
			out = append(out, compare(m, v, control))
		}
	}
	return out
}

func compare(m Metric, v, control VariantCounts) Comparison {
	c := Comparison{Metric: m.Key, Title: m.Title, Variant: v.Variant, Control: control.Variant,
		X: m.count(v), N: v.Dialogs, ControlX: m.count(control), ControlN: control.Dialogs}
	c.Diff, c.Z, c.P, c.OK = TwoProportion(c.X, c.N, c.ControlX, c.ControlN)
	test := ""
	if c.OK && FewDialogs(c.X, c.N, c.ControlX, c.ControlN) {
		c.P, _ = FisherExact(c.X, c.N, c.ControlX, c.ControlN)
		c.Exact, test = true, ", Fisher's exact test, few dialogs"
	}
	switch {
	case c.N == 0 || c.ControlN == 0:
		empty := c.Variant
		if c.ControlN == 0 {
			empty = c.Control
		}
		c.Verdict = fmt.Sprintf("no dialogs yet with variant %s", name(empty))
	case !c.OK:
		c.Verdict = fmt.Sprintf("cannot tell yet: %s is %s in both", m.Title, pct(c.X, c.N))
	case c.P < Significance:
		c.Real = true
		c.Verdict = fmt.Sprintf("likely real (%s%s)", pValue(c.P), test)
	case c.Diff == 0:
		c.Verdict = fmt.Sprintf("no difference so far (%s%s)", pValue(c.P), test)
	default:
		c.Verdict = fmt.Sprintf("not enough evidence yet (%s%s)", pValue(c.P), test)
		if need, ok := SampleSize(Rate(c.X, c.N), Rate(c.ControlX, c.ControlN)); ok {
			c.More = max(need-min(c.N, c.ControlN), 1)
			c.Verdict = fmt.Sprintf("not enough evidence yet (%s%s; need about %d more dialogs per variant)", pValue(c.P), test, c.More)
		}
	}
	return c
}

// Better says whether the variant did better than the control on the
// metric (a higher rate, or a lower one for opt-outs); false when equal.
func (c Comparison) Better() bool {
	if m, ok := MetricByKey(c.Metric); ok && m.LowerIsBetter {
		return c.Diff < 0
	}
	return c.Diff > 0
}

// Points is the difference in percentage points, signed: "+15.0 points".
func (c Comparison) Points() string {
	return fmt.Sprintf("%+.1f points", 100*c.Diff)
}

// pValue prints a p-value as a manager reads it: two decimals, three below
// 0.01, and "p < 0.001" below that.
func pValue(p float64) string {
	switch {
	case p < 0.001:
		return "p < 0.001"
	case p < 0.01:
		return fmt.Sprintf("p = %.3f", p)
	}
	return fmt.Sprintf("p = %.2f", p)
}

func pct(x, n int) string { return fmt.Sprintf("%.1f%%", 100*Rate(x, n)) }

func name(variant string) string {
	if variant == "" {
		return "(none)"
	}
	return variant
}

// OrderVariants puts rows in the order of names (a campaign's variants:
// the first is the control), with a zero row for a named variant that has
// no dialogs yet, followed by any other rows in their given order.
func OrderVariants(rows []VariantCounts, names []string) []VariantCounts {
	out := make([]VariantCounts, 0, len(rows)+len(names))
	used := make([]bool, len(rows))
	for _, n := range names {
		row := VariantCounts{Variant: n}
		for i, r := range rows {
			if !used[i] && r.Variant == n {
				row, used[i] = r, true
				break
			}
		}
		out = append(out, row)
	}
	for i, r := range rows {
		if !used[i] {
			out = append(out, r)
		}
	}
	return out
}

// SumVariants adds rows up into one (Variant empty), revenue by currency.
func SumVariants(rows []VariantCounts) VariantCounts {
	var t VariantCounts
	for _, r := range rows {
		t.Dialogs += r.Dialogs
		t.Replied += r.Replied
		t.Qualified += r.Qualified
		t.Handoffs += r.Handoffs
		t.OptedOut += r.OptedOut
		t.Lost += r.Lost
		t.Won += r.Won
		for _, m := range r.Revenue {
			t.Revenue = addMoney(t.Revenue, m)
		}
	}
	return t
}
