package domain

import (
	"slices"
	"testing"
	"time"
)

func TestParseWeekdays(t *testing.T) {
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
		got, err := ParseWeekdays(c.in)
		if (err != nil) != c.bad || (!c.bad && !slices.Equal(got, c.want)) {
			t.Errorf("ParseWeekdays(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
}

func TestParseHours(t *testing.T) {
	for _, c := range []struct {
		in         string
		start, end int
		bad        bool
	}{
		{"09:00-18:00", 540, 1080, false},
		{"00:00-24:00", 0, 1440, false},
		{" 9:30 - 17:15", 570, 1035, false}, // spaces and a one-digit hour are fine
		{"18:00-09:00", 1080, 540, false},   // the form is fine; the deciders refuse the range
		{"9-5", 0, 0, true},
		{"09:00", 0, 0, true},
		{"25:00-26:00", 0, 0, true},
	} {
		s, e, err := ParseHours(c.in)
		if (err != nil) != c.bad || (!c.bad && (s != c.start || e != c.end)) {
			t.Errorf("ParseHours(%q) = %d, %d, %v; want %d, %d (error %v)", c.in, s, e, err, c.start, c.end, c.bad)
		}
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		got, err := ParseWeekdays(WeekdayName(d))
		if err != nil || len(got) != 1 || got[0] != d {
			t.Errorf("ParseWeekdays(WeekdayName(%v)) = %v, %v", d, got, err)
		}
	}
}
