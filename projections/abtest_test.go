package projections

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/domain"
)

func TestTwoProportion(t *testing.T) {
	for _, c := range []struct {
		name           string
		x1, n1, x2, n2 int
		diff, z, p     float64 // to 3 decimals (z, diff) and 4 (p)
		ok             bool
	}{
		// Textbook values: 45/100 vs 30/100, z ≈ 2.19, p ≈ 0.029.
		{"45 of 100 vs 30 of 100", 45, 100, 30, 100, 0.15, 2.1909, 0.0285, true},
		{"the other way round", 30, 100, 45, 100, -0.15, -2.1909, 0.0285, true},
		{"equal", 20, 100, 20, 100, 0, 0, 1, true},
		// z = 0.02 / √(0.11·0.89·0.002).
		{"small lift, big samples", 120, 1000, 100, 1000, 0.02, 1.4293, 0.1529, true},
		// p̂ = 83/800.
		{"unequal", 52, 400, 31, 400, 0.0525, 2.4348, 0.0149, true},
		// p̂ = 49/230, groups of different sizes.
		{"different sizes", 9, 30, 40, 200, 0.1, 1.2474, 0.2123, true},
		{"empty group", 3, 10, 0, 0, 0, 0, 0, false},
		{"both empty", 0, 0, 0, 0, 0, 0, 0, false},
		{"no successes at all", 0, 50, 0, 60, 0, 0, 0, false},
		{"all successes", 50, 50, 60, 60, 0, 0, 0, false},
		{"more successes than trials", 11, 10, 1, 10, 0, 0, 0, false},
		{"negative", -1, 10, 1, 10, 0, 0, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			diff, z, p, ok := TwoProportion(c.x1, c.n1, c.x2, c.n2)
			if ok != c.ok || !near(diff, c.diff, 5e-4) || !near(z, c.z, 5e-4) || !near(p, c.p, 5e-5) {
				t.Fatalf("TwoProportion(%d, %d, %d, %d) = %.4f, %.4f, %.5f, %v; want %.4f, %.4f, %.5f, %v",
					c.x1, c.n1, c.x2, c.n2, diff, z, p, ok, c.diff, c.z, c.p, c.ok)
			}
			if math.IsNaN(z) || math.IsNaN(p) || math.IsInf(z, 0) {
				t.Fatalf("not a number: z %v p %v", z, p)
			}
		})
	}
}

// Fisher's exact test, two-sided, against known values.
func TestFisherExact(t *testing.T) {
	for _, c := range []struct {
		name           string
		x1, n1, x2, n2 int
		p              float64
		ok             bool
	}{
		{"3 of 3 vs 0 of 3", 3, 3, 0, 3, 0.1, true}, // 2 × 1/20
		{"0 of 3 vs 3 of 3", 0, 3, 3, 3, 0.1, true},
		{"2 of 2 vs 0 of 4", 2, 2, 0, 4, 1.0 / 15, true},
		{"1 of 2 vs 1 of 4", 1, 2, 1, 4, 1, true},
		{"the tea tasting lady: 3 of 4 vs 1 of 4", 3, 4, 1, 4, 0.4857, true}, // 34/70
		{"1 of 9 vs 11 of 14", 1, 9, 11, 14, 0.0028, true},                   // ≈ 0.002759
		{"equal", 2, 10, 2, 10, 1, true},
		{"no successes at all", 0, 5, 0, 7, 1, true},
		{"empty group", 1, 3, 0, 0, 0, false},
		{"more successes than trials", 4, 3, 0, 3, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, ok := FisherExact(c.x1, c.n1, c.x2, c.n2)
			if ok != c.ok || !near(p, c.p, 5e-5) {
				t.Fatalf("FisherExact(%d, %d, %d, %d) = %.5f, %v; want %.5f, %v", c.x1, c.n1, c.x2, c.n2, p, ok, c.p, c.ok)
			}
		})
	}
}

func TestFewDialogs(t *testing.T) {
	for _, c := range []struct {
		x1, n1, x2, n2 int
		few            bool
	}{
		{3, 3, 0, 3, true},
		{2, 2, 0, 4, true},
		{45, 100, 30, 100, false},
		{5, 100, 0, 100, true},  // pooled 2.5% × 100 < 5
		{10, 20, 10, 20, false}, // every expected count is 10
		{9, 20, 10, 20, false},  // 9.5 and 10.5
		{2, 10, 3, 10, true},    // 2.5 expected replies each
		{0, 0, 1, 10, false},
	} {
		if got := FewDialogs(c.x1, c.n1, c.x2, c.n2); got != c.few {
			t.Errorf("FewDialogs(%d, %d, %d, %d) = %v, want %v", c.x1, c.n1, c.x2, c.n2, got, c.few)
		}
	}
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestSampleSize(t *testing.T) {
	for _, c := range []struct {
		p1, p2 float64
		n      int
		ok     bool
	}{
		{0.45, 0.30, 163, true}, // the usual calculators' answer
		{0.30, 0.45, 163, true},
		{0.10, 0.12, 3841, true},
		{0.50, 0.60, 388, true},
		{0.2, 0.2, 0, false},
		{-0.1, 0.2, 0, false},
		{0.2, 1.5, 0, false},
		{math.NaN(), 0.2, 0, false},
	} {
		if n, ok := SampleSize(c.p1, c.p2); n != c.n || ok != c.ok {
			t.Errorf("SampleSize(%v, %v) = %d, %v; want %d, %v", c.p1, c.p2, n, ok, c.n, c.ok)
		}
	}
	// At the size it asks for, the difference it was asked about shows.
	n, _ := SampleSize(0.45, 0.30)
	if _, _, p, _ := TwoProportion(int(0.45*float64(n)), n, int(0.30*float64(n)), n); p >= Significance {
		t.Fatalf("at %d dialogs per variant 45%% vs 30%% gives p = %.3f", n, p)
	}
}

func TestCompare(t *testing.T) {
	rows := []VariantCounts{
		{Variant: "A", Dialogs: 100, Replied: 30, Qualified: 12, Handoffs: 8, OptedOut: 5},
		{Variant: "B", Dialogs: 100, Replied: 45, Qualified: 12, Handoffs: 10, OptedOut: 0},
		{Variant: "C"},
	}
	got := Compare(rows)
	if len(got) != 2*len(Metrics) {
		t.Fatalf("%d comparisons: %+v", len(got), got)
	}
	var verdicts []string
	for _, c := range got {
		verdicts = append(verdicts, c.Variant+" "+c.Title+": "+c.Verdict)
	}
	want := []string{
		"B reply rate: likely real (p = 0.03)",
		"B qualified: no difference so far (p = 1.00)",
		"B handoff: not enough evidence yet (p = 0.62; need about 3113 more dialogs per variant)",
		"B opt-out: not enough evidence yet (p = 0.06, Fisher's exact test, few dialogs; need about 52 more dialogs per variant)", // 5 of 100 vs none: the z-test said p = 0.02
		"C reply rate: no dialogs yet with variant C",
		"C qualified: no dialogs yet with variant C",
		"C handoff: no dialogs yet with variant C",
		"C opt-out: no dialogs yet with variant C",
	}
	if !reflect.DeepEqual(verdicts, want) {
		t.Fatalf("verdicts:\n got %q\nwant %q", verdicts, want)
	}
	if b := got[0]; !b.Real || !b.Better() || b.Points() != "+15.0 points" || b.X != 45 || b.ControlX != 30 || b.Control != "A" {
		t.Fatalf("B's replies: %+v", b)
	}
	if o := got[3]; !o.Better() || o.Points() != "-5.0 points" {
		t.Fatalf("fewer opt-outs are better: %+v", o)
	}
	// Tiny samples: Fisher's exact test, and said so; 3 of 3 against 0 of
	// 3 is no evidence (the z-test would say p = 0.01).
	small := Compare([]VariantCounts{{Variant: "A", Dialogs: 3}, {Variant: "B", Dialogs: 3, Replied: 3, Qualified: 2}})
	if s := small[0]; s.Real || !s.Exact || !near(s.P, 0.1, 1e-9) || !strings.HasPrefix(s.Verdict, "not enough evidence yet (p = 0.10, Fisher's exact test, few dialogs") {
		t.Fatalf("3 of 3 vs 0 of 3: %+v", s)
	}
	if got[0].Exact {
		t.Fatalf("100 dialogs each use the z-test: %+v", got[0])
	}
	if Compare(rows[:1]) != nil || Compare(nil) != nil {
		t.Fatal("one variant has nothing to compare")
	}
	// Nothing happened yet in either: no test, said so.
	if c := Compare([]VariantCounts{{Variant: "A", Dialogs: 5}, {Variant: "B", Dialogs: 7}}); c[0].OK || !strings.HasPrefix(c[0].Verdict, "cannot tell yet: reply rate is 0.0% in both") {
		t.Fatalf("no replies anywhere: %+v", c[0])
	}
}

func TestOrderVariants(t *testing.T) {
	rows := []VariantCounts{{Variant: ""}, {Variant: "A", Dialogs: 1}, {Variant: "B", Dialogs: 2}, {Variant: "Z", Dialogs: 3}}
	got := OrderVariants(rows, []string{"B", "A", "C"})
	want := []VariantCounts{{Variant: "B", Dialogs: 2}, {Variant: "A", Dialogs: 1}, {Variant: "C"}, {Variant: ""}, {Variant: "Z", Dialogs: 3}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ordered\n got %+v\nwant %+v", got, want)
	}
	if s := SumVariants(rows); s.Dialogs != 6 {
		t.Fatalf("sum %+v", s)
	}
}

// The A/B test can run on won deals instead of the default metrics.
func TestCompareOnWon(t *testing.T) {
	rows := []VariantCounts{{Variant: "A", Dialogs: 400, Replied: 100, Won: 8}, {Variant: "B", Dialogs: 400, Replied: 100, Won: 30}}
	won, ok := MetricByKey("won")
	if !ok || won.Key != MetricWon.Key {
		t.Fatalf("MetricByKey(won): %+v, %v", won, ok)
	}
	if _, ok := MetricByKey("revenue"); ok {
		t.Fatal("revenue is no proportion to test")
	}
	got := CompareOn(rows, []Metric{won})
	if len(got) != 1 || got[0].Metric != "won" || got[0].X != 30 || got[0].ControlX != 8 || !got[0].Real || !got[0].Better() {
		t.Fatalf("won: %+v", got)
	}
	for _, c := range Compare(rows) {
		if c.Metric == "won" {
			t.Fatalf("the default metrics changed: %+v", c)
		}
	}
	sum := SumVariants([]VariantCounts{{Revenue: []domain.Money{{Minor: 100, Currency: "USD"}}},
		{Revenue: []domain.Money{{Minor: 5, Currency: "EUR"}, {Minor: 1, Currency: "USD"}}}})
	if want := []domain.Money{{Minor: 5, Currency: "EUR"}, {Minor: 101, Currency: "USD"}}; !reflect.DeepEqual(sum.Revenue, want) {
		t.Fatalf("revenue %+v, want %+v", sum.Revenue, want)
	}
}
