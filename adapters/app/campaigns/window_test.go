package campaigns

import (
	"testing"
	"time"

	"github.com/salesbot/salesbot/domain"
)

func TestWindow(t *testing.T) {
	week := domain.CampaignSchedule{Start: monday, End: monday.AddDate(0, 0, 7)}
	moscow := domain.Limits{TimeZone: "Europe/Moscow", StartMinute: 9 * 60, EndMinute: 18 * 60, Days: weekdays}
	// The campaign's own hours, 10:00–14:00 in Berlin (UTC+1 in November),
	// on Monday and Friday.
	berlin := week
	berlin.TimeZone, berlin.StartMinute, berlin.EndMinute = "Europe/Berlin", 10*60, 14*60
	berlin.Days = []time.Weekday{time.Monday, time.Friday}
	// The campaign's hours without a zone are the account's: 12:00–13:00
	// Moscow time.
	noon := week
	noon.StartMinute, noon.EndMinute = 12*60, 13*60
	// The campaign starts on Monday at 12:00 UTC and ends on Wednesday at
	// 08:00 UTC.
	short := domain.CampaignSchedule{Start: at(0, "12:00"), End: at(2, "08:00")}

	for _, c := range []struct {
		name     string
		w        Window
		t        time.Time
		open     bool
		until    time.Time // if open
		next     time.Time
		never    bool
		openTime time.Duration // from t to the window's end
	}{
		{"before the day (Moscow)", NewWindow(week, moscow), at(0, "05:00"), false, time.Time{}, at(0, "06:00"), false, 45 * time.Hour},
		{"in the day (Moscow)", NewWindow(week, moscow), at(0, "14:00"), true, at(0, "15:00"), at(0, "14:00"), false, 37 * time.Hour},
		{"after the day", NewWindow(week, moscow), at(0, "15:00"), false, time.Time{}, at(1, "06:00"), false, 36 * time.Hour},
		{"the weekend", NewWindow(week, moscow), at(5, "10:00"), false, time.Time{}, time.Time{}, true, 0},
		{"Berlin hours inside Moscow hours", NewWindow(berlin, moscow), at(0, "08:00"), false, time.Time{}, at(0, "09:00"), false, 8 * time.Hour},
		{"Berlin hours end before Moscow's", NewWindow(berlin, moscow), at(0, "12:00"), true, at(0, "13:00"), at(0, "12:00"), false, 5 * time.Hour},
		{"Berlin: Monday, then Friday", NewWindow(berlin, moscow), at(0, "13:00"), false, time.Time{}, at(4, "09:00"), false, 4 * time.Hour},
		{"campaign hours in the account's zone", NewWindow(noon, moscow), at(0, "08:30"), false, time.Time{}, at(0, "09:00"), false, 5 * time.Hour},
		{"a schedule starting mid-day", NewWindow(short, moscow), at(0, "10:00"), false, time.Time{}, at(0, "12:00"), false, 3*time.Hour + 9*time.Hour + 2*time.Hour},
		{"a schedule ending in the morning", NewWindow(short, moscow), at(2, "07:00"), true, at(2, "08:00"), at(2, "07:00"), false, time.Hour},
		{"after the schedule", NewWindow(short, moscow), at(2, "08:00"), false, time.Time{}, time.Time{}, true, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			until, open := c.w.Open(c.t)
			if open != c.open || (open && !until.Equal(c.until)) {
				t.Errorf("Open = %v until %v, want %v until %v", open, until, c.open, c.until)
			}
			next, ok := c.w.Next(c.t)
			if ok == c.never || (ok && !next.Equal(c.next)) {
				t.Errorf("Next = %v %v, want %v (never: %v)", next, ok, c.next, c.never)
			}
			if got := c.w.OpenTime(c.t, c.w.To); got != c.openTime {
				t.Errorf("OpenTime = %v, want %v", got, c.openTime)
			}
			if c.openTime > 0 {
				// Advancing by all the open time left ends where the last
				// period ends.
				last := c.w.periods(c.t, c.w.To)
				if got, end := c.w.Advance(c.t, c.openTime), last[len(last)-1].to; !got.Equal(end) {
					t.Errorf("Advance by all = %v, want %v", got, end)
				}
			}
		})
	}
}

// Without the campaign's own hours the window opens exactly when the
// domain says the account's working hours do.
func TestWindowAgreesWithLimits(t *testing.T) {
	for _, tz := range []string{"UTC", "Europe/Moscow", "Asia/Novosibirsk", "America/New_York", "Europe/Berlin"} {
		l := domain.Limits{TimeZone: tz, StartMinute: 9*60 + 30, EndMinute: 18 * 60, Days: weekdays}
		// Across a DST change (New York: 2026-11-01; Berlin: 2026-10-25).
		s := domain.CampaignSchedule{Start: time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
		w := NewWindow(s, l)
		for tt := s.Start; tt.Before(s.End.Add(-8 * 24 * time.Hour)); tt = tt.Add(37 * time.Minute) {
			next, ok := w.Next(tt)
			if want := l.NextOpen(tt); !ok || !next.Equal(want) {
				t.Fatalf("%s at %v: Next = %v %v, Limits.NextOpen = %v", tz, tt, next, ok, want)
			}
		}
	}
}

func TestAdvance(t *testing.T) {
	w := NewWindow(domain.CampaignSchedule{Start: monday, End: monday.AddDate(0, 0, 7)},
		domain.Limits{TimeZone: "UTC", StartMinute: 9 * 60, EndMinute: 18 * 60, Days: weekdays})
	for _, c := range []struct {
		from time.Time
		d    time.Duration
		want time.Time
	}{
		{at(0, "10:00"), 0, at(0, "10:00")},
		{at(0, "10:00"), time.Hour, at(0, "11:00")},
		{at(0, "17:30"), time.Hour, at(1, "09:30")},
		{at(0, "20:00"), time.Hour, at(1, "10:00")},
		{at(4, "17:30"), time.Hour, monday.AddDate(0, 0, 7)}, // past the end
		{at(4, "12:00"), 9 * time.Hour, monday.AddDate(0, 0, 7)},
	} {
		if got := w.Advance(c.from, c.d); !got.Equal(c.want) {
			t.Errorf("Advance(%v, %v) = %v, want %v", c.from, c.d, got, c.want)
		}
	}
}

// Broken hours never open (and never loop).
func TestWindowBrokenHours(t *testing.T) {
	w := Window{From: monday, To: monday.AddDate(100, 0, 0), Account: Hours{StartMinute: 600, EndMinute: 500}}
	if _, ok := w.Next(monday); ok {
		t.Fatal("broken hours open")
	}
	if d := w.OpenTime(monday, w.To); d != 0 {
		t.Fatalf("open for %v", d)
	}
	w = Window{From: monday, To: monday.AddDate(100, 0, 0)} // always open, for a century
	if d := w.OpenTime(monday, w.To); d <= 0 {
		t.Fatalf("open for %v", d)
	}
}
