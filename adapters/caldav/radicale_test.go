package caldav_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/caldav"
	"github.com/salesbot/salesbot/adapters/caldav/radicaletest"
	"github.com/salesbot/salesbot/domain"
)

// calendar starts a Radicale and makes the calendar name on it.
func calendar(t *testing.T, srv *radicaletest.Server, name string, zone *time.Location, rt http.RoundTripper) *caldav.Client {
	t.Helper()
	c, err := caldav.New(caldav.Config{URL: srv.CalendarURL(name), Username: srv.User,
		Password: caldav.NewPassword(srv.Password), Zone: zone, HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MakeCalendar(context.Background(), "Manager's "+name); err != nil {
		t.Fatalf("mkcalendar: %v", err)
	}
	return c
}

// put stores raw iCalendar text on the calendar as name.ics, as another
// calendar app would.
func put(t *testing.T, srv *radicaletest.Server, cal, name, ics string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, srv.CalendarURL(cal)+name+".ics", strings.NewReader(strings.ReplaceAll(ics, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(srv.User, srv.Password)
	req.Header.Set("Content-Type", "text/calendar")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
		t.Fatalf("put %s: %s", name, resp.Status)
	}
}

// berlinTZ is the VTIMEZONE a calendar app sends with Europe/Berlin
// times (Radicale refuses a recurring event in a zone it does not define).
const berlinTZ = `BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
`

func vevent(uid, body string) string {
	return "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//test//EN\n" + berlinTZ + "BEGIN:VEVENT\nUID:" + uid +
		"\nDTSTAMP:20261201T000000Z\n" + body + "\nEND:VEVENT\nEND:VCALENDAR\n"
}

func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func span(a, b time.Time) domain.Interval { return domain.Interval{Start: a, End: b} }

func sameSpans(t *testing.T, got, want []domain.Interval) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d spans %v, want %v", len(got), got, want)
	}
	for i := range got {
		if !got[i].Start.Equal(want[i].Start) || !got[i].End.Equal(want[i].End) {
			t.Errorf("span %d = %v – %v, want %v – %v", i, got[i].Start.UTC(), got[i].End.UTC(), want[i].Start.UTC(), want[i].End.UTC())
		}
	}
}

func TestRadicale(t *testing.T) {
	srv := radicaletest.Start(t)
	ctx := context.Background()

	t.Run("book, busy, conflict, delete", func(t *testing.T) {
		c := calendar(t, srv, "book", nil, nil)
		m := domain.Meeting{UID: "salesbot-test-1", Stamp: utc(2026, 12, 1, 9, 0),
			When:    span(utc(2026, 12, 7, 10, 0), utc(2026, 12, 7, 10, 30)),
			Summary: "Demo, with the lead", Description: "Asked about pricing; wants a call"}
		href, err := c.Book(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		busy, err := c.Busy(ctx, utc(2026, 12, 7, 0, 0), utc(2026, 12, 8, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		sameSpans(t, busy, []domain.Interval{m.When})
		if busy, err := c.Busy(ctx, utc(2026, 12, 7, 10, 30), utc(2026, 12, 7, 12, 0)); err != nil || len(busy) != 0 {
			t.Errorf("a range after the event: %v, %v", busy, err)
		}

		m.Summary = "someone else's"
		_, err = c.Book(ctx, m)
		var se *caldav.StatusError
		if !errors.Is(err, caldav.ErrConflict) || !errors.As(err, &se) || se.Status != http.StatusPreconditionFailed || se.Op != "book" {
			t.Fatalf("a second PUT of the same UID: %v, want a 412 ErrConflict", err)
		}
		if !strings.Contains(err.Error(), "book") || !strings.Contains(err.Error(), "412") {
			t.Errorf("the error names neither the operation nor the status: %v", err)
		}

		if err := c.Delete(ctx, href); err != nil {
			t.Fatal(err)
		}
		if busy, err := c.Busy(ctx, utc(2026, 12, 7, 0, 0), utc(2026, 12, 8, 0, 0)); err != nil || len(busy) != 0 {
			t.Errorf("after delete: %v, %v", busy, err)
		}
		if err := c.Delete(ctx, href); !errors.Is(err, caldav.ErrNotFound) {
			t.Errorf("deleting again: %v, want ErrNotFound", err)
		}
		if err := c.Delete(ctx, "http://elsewhere.example/x.ics"); err == nil {
			t.Error("deleted an href on another server")
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		calendar(t, srv, "auth", nil, nil)
		const wrong = "not-the-password-42"
		c, err := caldav.New(caldav.Config{URL: srv.CalendarURL("auth"), Username: srv.User, Password: caldav.NewPassword(wrong)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Busy(ctx, utc(2026, 12, 7, 0, 0), utc(2026, 12, 8, 0, 0))
		if !errors.Is(err, caldav.ErrUnauthorized) {
			t.Fatalf("busy with a wrong password: %v, want ErrUnauthorized", err)
		}
		_, err2 := c.Book(ctx, domain.Meeting{UID: "x", Stamp: utc(2026, 1, 1, 0, 0), When: span(utc(2026, 12, 7, 10, 0), utc(2026, 12, 7, 11, 0))})
		if !errors.Is(err2, caldav.ErrUnauthorized) {
			t.Fatalf("book with a wrong password: %v, want ErrUnauthorized", err2)
		}
		for _, e := range []error{err, err2} {
			if s := fmt.Sprintf("%v %+v %#v", e, e, e); strings.Contains(s, wrong) || strings.Contains(s, srv.Password) {
				t.Errorf("the error shows a password: %s", s)
			}
		}
	})

	t.Run("TZID, all-day, recurring, free and cancelled events", func(t *testing.T) {
		berlin, _ := time.LoadLocation("Europe/Berlin")
		ny, _ := time.LoadLocation("America/New_York")
		c := calendar(t, srv, "parse", berlin, nil)
		put(t, srv, "parse", "tzid", vevent("tzid", "DTSTART;TZID=America/New_York:20261207T090000\nDTEND;TZID=America/New_York:20261207T100000"))
		put(t, srv, "parse", "allday", vevent("allday", "DTSTART;VALUE=DATE:20261208\nDTEND;VALUE=DATE:20261209\nSUMMARY:Conference"))
		put(t, srv, "parse", "duration", vevent("duration", "DTSTART:20261209T080000Z\nDURATION:PT1H30M"))
		put(t, srv, "parse", "weekly", vevent("weekly",
			"DTSTART;TZID=Europe/Berlin:20261130T090000\nDTEND;TZID=Europe/Berlin:20261130T093000\n"+
				"RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6\nEXDATE;TZID=Europe/Berlin:20261209T090000"))
		put(t, srv, "parse", "free", vevent("free", "DTSTART:20261207T120000Z\nDTEND:20261207T130000Z\nTRANSP:TRANSPARENT"))
		put(t, srv, "parse", "cancelled", vevent("cancelled", "DTSTART:20261207T140000Z\nDTEND:20261207T150000Z\nSTATUS:CANCELLED"))
		put(t, srv, "parse", "outside", vevent("outside", "DTSTART:20261220T140000Z\nDTEND:20261220T150000Z"))

		busy, err := c.Busy(ctx, time.Date(2026, 12, 7, 0, 0, 0, 0, berlin), time.Date(2026, 12, 12, 0, 0, 0, 0, berlin))
		if err != nil {
			t.Fatal(err)
		}
		b := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, berlin) }
		sameSpans(t, busy, []domain.Interval{
			span(b(7, 9, 0), b(7, 9, 30)), // weekly: Monday
			span(time.Date(2026, 12, 7, 9, 0, 0, 0, ny), time.Date(2026, 12, 7, 10, 0, 0, 0, ny)), // 15:00 Berlin
			span(b(8, 0, 0), b(9, 0, 0)),                          // all-day, in the calendar's zone
			span(utc(2026, 12, 9, 8, 0), utc(2026, 12, 9, 9, 30)), // DURATION; Wednesday's weekly is an EXDATE
			// the sixth occurrence (Mon 14 Dec) is outside the range; the count
			// ends it anyway
		})
	})
}

func TestPasswordRedacted(t *testing.T) {
	const secret = "hunter2-very-secret"
	cfg := caldav.Config{URL: "https://dav.example/cal/", Username: "u", Password: caldav.NewPassword(secret)}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "password", cfg.Password, "cfg", cfg)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "password", cfg.Password, "cfg", cfg)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg.Password), string(js), logged.String()} {
		if strings.Contains(s, secret) {
			t.Errorf("the password shows: %s", s)
		}
	}
	if cfg.Password.Reveal() != secret {
		t.Error("Reveal does not give the password back")
	}
	if _, err := caldav.New(caldav.Config{URL: "https://u:" + secret + "@dav.example/cal/"}); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("a URL with a password: %v", err)
	}
}
