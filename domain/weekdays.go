package domain

import (
	"fmt"
	"strings"
	"time"
)

var weekdayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseWeekdays reads days as people type them: "mon-fri", "sat-sun",
// "mon,wed,fri", "tuesday" or "all": day names in full or by their first
// three letters, and ranges (which may wrap: "fri-mon"). "all" and ""
// are every day (nil). Anything else is an error naming the bad part.
func ParseWeekdays(s string) ([]time.Weekday, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "all", "":
		return nil, nil
	}
	var out []time.Weekday
	seen := map[time.Weekday]bool{}
	add := func(d time.Weekday) {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	for _, f := range strings.Split(s, ",") {
		from, to, isRange := strings.Cut(f, "-")
		a, err := weekday(from)
		if err != nil {
			return nil, err
		}
		if !isRange {
			add(a)
			continue
		}
		b, err := weekday(to)
		if err != nil {
			return nil, err
		}
		for d := a; ; d = (d + 1) % 7 {
			add(d)
			if d == b {
				break
			}
		}
	}
	return out, nil
}

func weekday(s string) (time.Weekday, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if d, ok := weekdayNames[name]; ok {
		return d, nil
	}
	for _, d := range weekdayNames {
		if name == strings.ToLower(d.String()) { // "tuesday"
			return d, nil
		}
	}
	return 0, fmt.Errorf("%q is not a day (mon, tue, wed, thu, fri, sat, sun, or a range such as mon-fri)", strings.TrimSpace(s))
}

// WeekdayName is the three-letter name ParseWeekdays reads ("mon"), or
// "" for a value that is no weekday.
func WeekdayName(d time.Weekday) string {
	for name, wd := range weekdayNames {
		if wd == d {
			return name
		}
	}
	return ""
}

// ParseMinuteOfDay reads a time of day, HH:MM ("24:00" is the end of the
// day), as minutes since midnight.
func ParseMinuteOfDay(s string) (int, error) {
	if s == "24:00" {
		return 24 * 60, nil
	}
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// ParseHours reads a range of the day, HH:MM-HH:MM, as minutes since
// midnight. It checks the form only: whether the range ends after it
// starts is the deciders' rule (working hours, campaign hours).
func ParseHours(s string) (start, end int, err error) {
	from, to, ok := strings.Cut(s, "-")
	start, err1 := ParseMinuteOfDay(from)
	end, err2 := ParseMinuteOfDay(to)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("want HH:MM-HH:MM, got %q", s)
	}
	return start, end, nil
}
