package caldav

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/domain"
)

func cal(events ...string) string {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
	for _, e := range events {
		b.WriteString("BEGIN:VEVENT\r\n" + strings.ReplaceAll(e, "\n", "\r\n") + "\r\nEND:VEVENT\r\n")
	}
	b.WriteString("END:VCALENDAR\r\n")
	return b.String()
}

func TestBusySpans(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	b := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, berlin) }
	iv := func(s time.Time, d time.Duration) domain.Interval { return domain.Interval{Start: s, End: s.Add(d)} }
	year := domain.Interval{Start: b(2026, 1, 1, 0, 0), End: b(2027, 1, 1, 0, 0)}
	cases := []struct {
		name   string
		text   string
		window domain.Interval
		want   []domain.Interval
	}{
		{"daily across the DST change keeps the wall clock",
			cal("UID:a\nDTSTART;TZID=Europe/Berlin:20260328T090000\nDTEND;TZID=Europe/Berlin:20260328T100000\nRRULE:FREQ=DAILY;COUNT=3"),
			year, []domain.Interval{iv(b(2026, 3, 28, 9, 0), time.Hour), iv(b(2026, 3, 29, 9, 0), time.Hour), iv(b(2026, 3, 30, 9, 0), time.Hour)}},
		{"monthly on the 31st skips short months",
			cal("UID:a\nDTSTART;TZID=Europe/Berlin:20260131T090000\nDURATION:PT30M\nRRULE:FREQ=MONTHLY;COUNT=3"),
			year, []domain.Interval{iv(b(2026, 1, 31, 9, 0), 30*time.Minute), iv(b(2026, 3, 31, 9, 0), 30*time.Minute), iv(b(2026, 5, 31, 9, 0), 30*time.Minute)}},
		{"until is inclusive; only the window's occurrences",
			cal("UID:a\nDTSTART:20260105T080000Z\nDTEND:20260105T090000Z\nRRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=20260202T080000Z"),
			domain.Interval{Start: b(2026, 1, 10, 0, 0), End: b(2026, 12, 1, 0, 0)},
			[]domain.Interval{iv(time.Date(2026, 1, 19, 8, 0, 0, 0, time.UTC), time.Hour), iv(time.Date(2026, 2, 2, 8, 0, 0, 0, time.UTC), time.Hour)}},
		{"count counts occurrences before the window",
			cal("UID:a\nDTSTART:20260105T080000Z\nDTEND:20260105T090000Z\nRRULE:FREQ=DAILY;COUNT=5"),
			domain.Interval{Start: time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)},
			[]domain.Interval{iv(time.Date(2026, 1, 8, 8, 0, 0, 0, time.UTC), time.Hour), iv(time.Date(2026, 1, 9, 8, 0, 0, 0, time.UTC), time.Hour)}},
		{"daily on weekdays only",
			cal("UID:a\nDTSTART:20260109T080000Z\nDTEND:20260109T081500Z\nRRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=2"),
			year, []domain.Interval{iv(time.Date(2026, 1, 9, 8, 0, 0, 0, time.UTC), 15*time.Minute), iv(time.Date(2026, 1, 12, 8, 0, 0, 0, time.UTC), 15*time.Minute)}},
		{"an overridden occurrence moves",
			cal("UID:a\nDTSTART:20260105T080000Z\nDTEND:20260105T090000Z\nRRULE:FREQ=DAILY;COUNT=2",
				"UID:a\nRECURRENCE-ID:20260106T080000Z\nDTSTART:20260106T150000Z\nDTEND:20260106T160000Z"),
			year, []domain.Interval{iv(time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC), time.Hour), iv(time.Date(2026, 1, 6, 15, 0, 0, 0, time.UTC), time.Hour)}},
		{"a cancelled occurrence is free",
			cal("UID:a\nDTSTART:20260105T080000Z\nDTEND:20260105T090000Z\nRRULE:FREQ=DAILY;COUNT=2",
				"UID:a\nRECURRENCE-ID:20260106T080000Z\nDTSTART:20260106T080000Z\nDTEND:20260106T090000Z\nSTATUS:CANCELLED"),
			year, []domain.Interval{iv(time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC), time.Hour)}},
		{"a client's prefixed TZID, folded lines, an alarm's trigger ignored",
			cal("UID:a\nDTSTART;TZID=/mozilla.org/20070129_1/Europe/Berlin:20260105T0900\n 00\nDURATION:P1DT1H\nBEGIN:VALARM\nTRIGGER:-PT15M\nDTSTART:20300101T000000Z\nEND:VALARM"),
			year, []domain.Interval{iv(b(2026, 1, 5, 9, 0), 25*time.Hour)}},
		{"an all-day event without an end lasts the day; floating times are the calendar's zone",
			cal("UID:a\nDTSTART;VALUE=DATE:20260105", "UID:b\nDTSTART:20260106T090000\nDTEND:20260106T093000"),
			year, []domain.Interval{iv(b(2026, 1, 5, 0, 0), 24*time.Hour), iv(b(2026, 1, 6, 9, 0), 30*time.Minute)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := busySpans(c.text, c.window, berlin)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if !got[i].Start.Equal(c.want[i].Start) || !got[i].End.Equal(c.want[i].End) {
					t.Errorf("%d: %v – %v, want %v – %v", i, got[i].Start, got[i].End, c.want[i].Start, c.want[i].End)
				}
			}
		})
	}
}

func TestBusySpansUnsupported(t *testing.T) {
	window := domain.Interval{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	for name, text := range map[string]string{
		"BYSETPOS":            cal("UID:a\nDTSTART:20260105T080000Z\nRRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1"),
		"ordinal BYDAY":       cal("UID:a\nDTSTART:20260105T080000Z\nRRULE:FREQ=MONTHLY;BYDAY=1MO"),
		"HOURLY":              cal("UID:a\nDTSTART:20260105T080000Z\nRRULE:FREQ=HOURLY"),
		"a Windows zone name": cal("UID:a\nDTSTART;TZID=W. Europe Standard Time:20260105T080000\nDURATION:PT1H"),
		"no DTSTART":          cal("UID:a\nSUMMARY:x"),
		"bad duration":        cal("UID:a\nDTSTART:20260105T080000Z\nDURATION:1 hour"),
	} {
		if _, err := busySpans(text, window, time.UTC); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
}
