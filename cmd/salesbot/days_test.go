package main

import (
	"slices"
	"testing"
	"time"
)

func TestParseDays(t *testing.T) {
	wd := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	for _, c := range []struct {
		in   string
		want []time.Weekday
		bad  bool
	}{
		{"mon-fri", wd, false},
		{"Mon-Fri", wd, false},
		{"sat-sun", []time.Weekday{time.Saturday, time.Sunday}, false},
		{"tue-thu", []time.Weekday{time.Tuesday, time.Wednesday, time.Thursday}, false},
		{"fri-mon", []time.Weekday{time.Friday, time.Saturday, time.Sunday, time.Monday}, false},
		{"mon,wed,friday", []time.Weekday{time.Monday, time.Wednesday, time.Friday}, false},
		{"all", nil, false},
		{"mondayish", nil, true},
		{"mon – fri", nil, true}, // an en dash is not a range
		{"funday", nil, true},
		{"K", nil, true},
		{"", nil, false},
	} {
		got, err := parseDays(c.in)
		if (err != nil) != c.bad || (!c.bad && !slices.Equal(got, c.want)) {
			t.Errorf("parseDays(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
}
