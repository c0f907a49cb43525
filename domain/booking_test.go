package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFreeSlots(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(day, h, m int) time.Time { return time.Date(2026, 12, day, h, m, 0, 0, berlin) }
	span := func(a, b time.Time) Interval { return Interval{Start: a, End: b} }
	// Mon 7 Dec 2026 .. ; working hours 10:00-12:00 Mon-Fri, 30 min meetings.
	base := SlotRules{TimeZone: "Europe/Berlin", Days: []time.Weekday{1, 2, 3, 4, 5},
		StartMinute: 10 * 60, EndMinute: 12 * 60, Length: 30 * time.Minute, Horizon: 14 * 24 * time.Hour}
	with := func(f func(*SlotRules)) SlotRules {
		r := base
		r.Days = append([]time.Weekday(nil), base.Days...)
		f(&r)
		return r
	}
	cases := []struct {
		name  string
		rules SlotRules
		now   time.Time
		busy  []Interval
		n     int
		want  []time.Time // starts; each slot is rules.Length long
	}{
		{"free morning", base, at(7, 8, 0), nil, 3, []time.Time{at(7, 10, 0), at(7, 10, 30), at(7, 11, 0)}},
		{"a busy hour is skipped", base, at(7, 8, 0), []Interval{span(at(7, 10, 15), at(7, 11, 0))}, 3,
			[]time.Time{at(7, 11, 0), at(7, 11, 30), at(8, 10, 0)}},
		{"touching ends are free", base, at(7, 8, 0), []Interval{span(at(7, 9, 0), at(7, 10, 0))}, 1, []time.Time{at(7, 10, 0)}},
		{"buffer keeps distance", with(func(r *SlotRules) { r.Buffer = 15 * time.Minute }), at(7, 8, 0),
			[]Interval{span(at(7, 9, 0), at(7, 10, 0))}, 2, []time.Time{at(7, 10, 30), at(7, 11, 0)}},
		{"now inside the hours: no slot in the past", base, at(7, 10, 40), nil, 2, []time.Time{at(7, 11, 0), at(7, 11, 30)}},
		{"notice", with(func(r *SlotRules) { r.Notice = 2 * time.Hour }), at(7, 9, 30), nil, 1, []time.Time{at(7, 11, 30)}},
		{"weekend skipped (Fri evening → Mon)", base, at(11, 18, 0), nil, 1, []time.Time{at(14, 10, 0)}},
		{"step between starts", with(func(r *SlotRules) { r.Step = 45 * time.Minute }), at(7, 8, 0), nil, 3,
			[]time.Time{at(7, 10, 0), at(7, 10, 45), at(7, 11, 30)}},
		{"horizon ends the search", with(func(r *SlotRules) { r.Horizon = 26 * time.Hour }), at(7, 9, 0), nil, 10,
			[]time.Time{at(7, 10, 0), at(7, 10, 30), at(7, 11, 0), at(7, 11, 30), at(8, 10, 0), at(8, 10, 30)}},
		{"all busy", with(func(r *SlotRules) { r.Horizon = 48 * time.Hour }), at(7, 8, 0),
			[]Interval{span(at(1, 0, 0), at(20, 0, 0))}, 3, nil},
		{"busy given in another zone", base, at(7, 8, 0),
			[]Interval{span(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC), time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))}, 2,
			[]time.Time{at(7, 11, 0), at(7, 11, 30)}}, // 09:00-10:00 UTC is 10:00-11:00 in Berlin
		{"n = 0", base, at(7, 8, 0), nil, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := FreeSlots(c.rules, c.now, c.busy, c.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %d slots %v, want %v", len(got), got, c.want)
			}
			for i, s := range got {
				if !s.Start.Equal(c.want[i]) || !s.End.Equal(c.want[i].Add(c.rules.Length)) {
					t.Errorf("slot %d = %v–%v, want start %v", i, s.Start, s.End, c.want[i])
				}
				if s.Start.Location().String() != "Europe/Berlin" {
					t.Errorf("slot %d in %s, want the manager's zone", i, s.Start.Location())
				}
			}
		})
	}
}

func TestFreeSlotsDST(t *testing.T) {
	// Sunday 29 March 2026 Berlin moves to summer time; that day still opens at 09:00 local.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	r := SlotRules{TimeZone: "Europe/Berlin", StartMinute: 9 * 60, EndMinute: 10 * 60, Length: time.Hour, Horizon: 72 * time.Hour}
	got, err := FreeSlots(r, time.Date(2026, 3, 28, 8, 0, 0, 0, berlin), nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Start.UTC().Hour() != 8 || got[1].Start.UTC().Hour() != 7 {
		t.Fatalf("got %v, want 09:00 local on 28 (08:00 UTC) and 29 March (07:00 UTC)", got)
	}
}

func TestSlotRulesInvalid(t *testing.T) {
	ok := SlotRules{TimeZone: "UTC", StartMinute: 600, EndMinute: 700, Length: time.Hour, Horizon: time.Hour}
	cases := map[string]func(*SlotRules){
		"hours reversed":  func(r *SlotRules) { r.StartMinute, r.EndMinute = 700, 600 },
		"no length":       func(r *SlotRules) { r.Length = 0 },
		"length too long": func(r *SlotRules) { r.Length = 2 * time.Hour },
		"no horizon":      func(r *SlotRules) { r.Horizon = 0 },
		"bad zone":        func(r *SlotRules) { r.TimeZone = "Mars/Olympus" },
		"no zone":         func(r *SlotRules) { r.TimeZone = "" },
		"bad day":         func(r *SlotRules) { r.Days = []time.Weekday{9} },
		"negative buffer": func(r *SlotRules) { r.Buffer = -time.Minute },
	}
	if _, err := FreeSlots(ok, time.Unix(0, 0), nil, 1); err != nil {
		t.Fatalf("valid rules: %v", err)
	}
	for name, f := range cases {
		r := ok
		f(&r)
		_, err := FreeSlots(r, time.Unix(0, 0), nil, 1)
		var de *Error
		if !errors.As(err, &de) || de.Code != EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
}

func TestCheckSlot(t *testing.T) {
	r := SlotRules{TimeZone: "UTC", StartMinute: 600, EndMinute: 720, Length: 30 * time.Minute, Horizon: 7 * 24 * time.Hour}
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	at := func(h, m int) Interval {
		s := time.Date(2026, 12, 7, h, m, 0, 0, time.UTC)
		return Interval{Start: s, End: s.Add(30 * time.Minute)}
	}
	busy := []Interval{at(11, 0)}
	cases := []struct {
		name  string
		slot  Interval
		code  Code
		taken bool
	}{
		{"free slot", at(10, 30), "", false},
		{"taken slot", at(11, 0), ESTATE, true},
		{"off the step", at(10, 10), EINVALID, false},
		{"outside the hours", at(12, 0), EINVALID, false},
		{"wrong length", Interval{Start: at(10, 0).Start, End: at(10, 0).Start.Add(time.Hour)}, EINVALID, false},
		{"in the past", Interval{Start: now.Add(-22 * time.Hour), End: now.Add(-22*time.Hour + 30*time.Minute)}, EINVALID, false},
	}
	for _, c := range cases {
		err := CheckSlot(r, now, c.slot, busy)
		var de *Error
		switch {
		case c.code == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.code != "" && (!errors.As(err, &de) || de.Code != c.code):
			t.Errorf("%s: err = %v, want %s", c.name, err, c.code)
		case errors.Is(err, ErrSlotTaken) != c.taken:
			t.Errorf("%s: errors.Is(ErrSlotTaken) = %v", c.name, !c.taken)
		}
	}
}

func TestParseZoneAndLabel(t *testing.T) {
	slot := Interval{Start: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)}
	cases := []struct{ in, label string }{
		{"Europe/Moscow", "Mon 7 Dec 12:00–12:30 (MSK)"},
		{"UTC", "Mon 7 Dec 09:00–09:30 (UTC)"},
		{"utc", "Mon 7 Dec 09:00–09:30 (UTC)"},
		{"UTC+3", "Mon 7 Dec 12:00–12:30 (UTC+03:00)"},
		{"GMT-05:30", "Mon 7 Dec 03:30–04:00 (UTC-05:30)"},
		{"+10", "Mon 7 Dec 19:00–19:30 (UTC+10:00)"},
		{"America/New_York", "Mon 7 Dec 04:00–04:30 (EST)"},
		{"Asia/Yekaterinburg", "Mon 7 Dec 14:00–14:30 (UTC+05:00)"}, // the zone's name is "+05"
		{"Pacific/Kiritimati", "Mon 7 Dec 23:00–23:30 (UTC+14:00)"},
		{"Pacific/Tongatapu", "Mon 7 Dec 22:00–22:30 (UTC+13:00)"},
	}
	for _, c := range cases {
		loc, err := ParseZone(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := SlotLabel(slot, loc); got != c.label {
			t.Errorf("%q: label %q, want %q", c.in, got, c.label)
		}
	}
	for _, bad := range []string{"", "Local", "Mars/Olympus", "UTC+15", "+3:75", "soon"} {
		if _, err := ParseZone(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestSlotUID(t *testing.T) {
	a := Interval{Start: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if SlotUID("cal", a) != SlotUID("cal", a.In(berlin)) {
		t.Error("the same instants in another zone give another UID")
	}
	b := a
	b.End = b.End.Add(time.Minute)
	if SlotUID("cal", a) == SlotUID("cal", b) || SlotUID("cal", a) == SlotUID("cal2", a) {
		t.Error("different slots or calendars share a UID")
	}
	if !strings.HasPrefix(SlotUID("cal", a), "salesbot-") {
		t.Error(SlotUID("cal", a))
	}
}
