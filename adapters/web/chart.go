package web

import (
	"math"
	"strconv"
)

// Charts are server-rendered SVG (no script, no library): grouped bars,
// one group per key (a metric, a day), one bar per series (a variant, a
// stage of the funnel), each optionally with a confidence interval's
// whisker. Colours come from the stylesheet by class (s0, s1, ...), so
// the SVG carries no style.

// chart is an SVG bar chart as the template draws it.
type chart struct {
	W, H     int
	Title    string
	Bars     []bar
	Whiskers []whisker
	Labels   []chartLabel
	Ticks    []tick
	Legend   []legend
	BaseY    float64
}

type bar struct {
	X, Y, W, H float64
	Class      string
	Title      string // the bar's value (a tooltip)
}

type whisker struct {
	X, Y1, Y2, X1, X2 float64
}

type chartLabel struct {
	X, Y float64
	Text string
}

type tick struct {
	Y    float64
	Text string
}

type legend struct {
	Class, Text string
}

// seriesValue is one bar's value and, if Lo < Hi, its interval.
type seriesValue struct {
	V, Lo, Hi float64
	Title     string
}

// The chart's geometry, in the viewBox's units.
const (
	chartW      = 640
	chartH      = 240
	chartLeft   = 44
	chartRight  = 8
	chartTop    = 10
	chartBottom = 40
)

// barChart draws groups (their labels) of series (their names) of vals
// (vals[g][s]); pct: values are fractions, drawn as percentages of 0..1
// at most, else counts of 0..the largest.
func barChart(title string, groups, series []string, vals [][]seriesValue, pct bool) chart {
	c := chart{W: chartW, H: chartH, Title: title, BaseY: chartH - chartBottom}
	top := 0.0
	for _, g := range vals {
		for _, v := range g {
			top = math.Max(top, math.Max(v.V, v.Hi))
		}
	}
	top = niceTop(top, pct)
	plotH := float64(chartH - chartTop - chartBottom)
	y := func(v float64) float64 { return chartTop + plotH*(1-v/top) }
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		text := strconv.FormatFloat(v, 'f', -1, 64)
		if pct {
			text = strconv.Itoa(int(math.Round(v*100))) + "%"
		}
		c.Ticks = append(c.Ticks, tick{Y: y(v), Text: text})
	}
	for i, s := range series {
		c.Legend = append(c.Legend, legend{Class: "s" + strconv.Itoa(i%6), Text: s})
	}
	if len(groups) == 0 || len(series) == 0 {
		return c
	}
	groupW := float64(chartW-chartLeft-chartRight) / float64(len(groups))
	barW := groupW * 0.8 / float64(len(series))
	every := 1 + len(groups)/16 // at most about 16 labels under the bars
	for g, name := range groups {
		x0 := chartLeft + float64(g)*groupW + groupW*0.1
		if g%every == 0 {
			c.Labels = append(c.Labels, chartLabel{X: x0 + groupW*0.4, Y: chartH - chartBottom + 16, Text: name})
		}
		for s := range series {
			if s >= len(vals[g]) {
				break
			}
			v := vals[g][s]
			x := x0 + float64(s)*barW
			c.Bars = append(c.Bars, bar{X: round1(x), Y: round1(y(v.V)), W: round1(math.Max(barW-1, 1)), H: round1(y(0) - y(v.V)),
				Class: "s" + strconv.Itoa(s%6), Title: v.Title})
			if v.Hi > v.Lo {
				mid := x + barW/2 - 0.5
				c.Whiskers = append(c.Whiskers, whisker{X: round1(mid), Y1: round1(y(v.Hi)), Y2: round1(y(v.Lo)),
					X1: round1(mid - barW/6), X2: round1(mid + barW/6)})
			}
		}
	}
	return c
}

// niceTop is the top of a chart's scale: 1 for fractions near it, else a
// round number above the largest value.
func niceTop(v float64, pct bool) float64 {
	if pct {
		for _, t := range []float64{0.1, 0.2, 0.4, 0.6, 0.8, 1} {
			if v <= t {
				return t
			}
		}
		return 1
	}
	if v <= 4 {
		return 4
	}
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 4, 5, 8, 10} {
		if v <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// wilson is the 95% Wilson score interval of x successes in n trials:
// unlike the normal approximation it stays within 0..1 and is honest
// for small n and rates near 0 or 1.
func wilson(x, n int) (lo, hi float64) {
	if n <= 0 {
		return 0, 0
	}
	const z = 1.959964
	p, nf := float64(x)/float64(n), float64(n)
	d := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / d
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / d
	return math.Max(0, mid-half), math.Min(1, mid+half)
}

// percent is a fraction as a whole percentage.
func percent(f float64) string { return strconv.Itoa(int(math.Round(f*100))) + "%" }
