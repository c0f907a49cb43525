package web

import (
	"math"
	"testing"
)

func TestWilsonIntervals(t *testing.T) {
	for _, c := range []struct {
		x, n   int
		lo, hi float64
	}{
		{40, 100, 0.3094, 0.4980},
		{0, 10, 0, 0.2775},  // never below 0, and not empty at 0 successes
		{10, 10, 0.7225, 1}, // nor above 1
		{1, 2, 0.0945, 0.9055},
		{0, 0, 0, 0}, // no trials: no interval
	} {
		lo, hi := wilson(c.x, c.n)
		if math.Abs(lo-c.lo) > 5e-4 || math.Abs(hi-c.hi) > 5e-4 {
			t.Errorf("wilson(%d, %d) = %.4f..%.4f, want %.4f..%.4f", c.x, c.n, lo, hi, c.lo, c.hi)
		}
	}
}

func TestBarChartScalesAndThinsLabels(t *testing.T) {
	groups := make([]string, 30)
	vals := make([][]seriesValue, 30)
	for i := range groups {
		groups[i] = "d"
		vals[i] = []seriesValue{{V: float64(i)}, {V: 1}}
	}
	c := barChart("t", groups, []string{"a", "b"}, vals, false)
	if len(c.Bars) != 60 || len(c.Labels) > 16 || len(c.Labels) < 8 {
		t.Errorf("%d bars, %d labels", len(c.Bars), len(c.Labels))
	}
	// The tallest bar (29) reaches no higher than the top of the scale
	// (40) and no bar goes below the axis (but for rounding).
	for _, b := range c.Bars {
		if b.Y < chartTop || b.Y+b.H > c.BaseY+0.2 {
			t.Errorf("a bar out of the plot: %+v", b)
		}
	}
	if c.Ticks[4].Text != "40" {
		t.Errorf("the scale's top is %s, want 40", c.Ticks[4].Text)
	}
	pct := barChart("t", []string{"m"}, []string{"a"}, [][]seriesValue{{{V: 0.45, Lo: 0.3, Hi: 0.62}}}, true)
	if pct.Ticks[4].Text != "80%" || len(pct.Whiskers) != 1 || pct.Whiskers[0].Y1 >= pct.Whiskers[0].Y2 {
		t.Errorf("a rate chart: top %s, whiskers %+v", pct.Ticks[4].Text, pct.Whiskers)
	}
}
