package caldav_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/caldav"
	"github.com/salesbot/salesbot/adapters/caldav/radicaletest"
	"github.com/salesbot/salesbot/domain"
)

// rules: 30-minute meetings 10:00–12:00 Berlin time on weekdays, 15
// minutes' buffer, a week ahead.
var rules = domain.SlotRules{TimeZone: "Europe/Berlin", Days: []time.Weekday{1, 2, 3, 4, 5},
	StartMinute: 10 * 60, EndMinute: 12 * 60, Length: 30 * time.Minute, Buffer: 15 * time.Minute,
	Horizon: 7 * 24 * time.Hour}

// monday 7 December 2026, 08:00 Berlin: the booker's fixed clock.
var monday = time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC)

func booker(c *caldav.Client) *caldav.Booker {
	return &caldav.Booker{Calendar: c, Rules: rules, Now: func() time.Time { return monday }}
}

func berlin(d, h, m int) time.Time {
	loc, _ := time.LoadLocation("Europe/Berlin")
	return time.Date(2026, 12, d, h, m, 0, 0, loc)
}

func slot(d, h, m int) domain.Interval {
	return span(berlin(d, h, m), berlin(d, h, m).Add(30*time.Minute))
}

func starts(s []domain.Interval) []time.Time {
	var out []time.Time
	for _, x := range s {
		out = append(out, x.Start)
	}
	return out
}

func TestBooker(t *testing.T) {
	srv := radicaletest.Start(t)
	ctx := context.Background()
	lead := domain.Meeting{Summary: "Demo call", Description: "Lead wants 40 seats",
		Attendees: []domain.Person{{Name: "Lead", Email: "lead@example.org"}}}

	t.Run("propose skips busy times, confirm books, a taken slot is refused", func(t *testing.T) {
		c := calendar(t, srv, "flow", nil, nil)
		b := booker(c)
		// The manager is busy 10:30–11:00 Berlin: with the buffer, 10:00 and 11:00 go too.
		put(t, srv, "flow", "standup", vevent("standup", "DTSTART;TZID=Europe/Berlin:20261207T103000\nDTEND;TZID=Europe/Berlin:20261207T110000"))
		got, err := b.Propose(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		sameSpans(t, got, []domain.Interval{slot(7, 11, 30), slot(8, 10, 0), slot(8, 10, 30)})

		bk, err := b.Confirm(ctx, got[0], lead)
		if err != nil {
			t.Fatal(err)
		}
		if bk.Meeting.UID != domain.SlotUID(c.URL(), got[0]) || !strings.HasSuffix(bk.Href, bk.Meeting.UID+".ics") {
			t.Errorf("booking %+v: UID or href not the slot's", bk)
		}
		if !strings.Contains(bk.ICS, "DTSTART:20261207T103000Z\r\n") || !strings.Contains(bk.ICS, "SUMMARY:Demo call\r\n") {
			t.Errorf("the .ics text:\n%s", bk.ICS)
		}
		busy, err := c.Busy(ctx, berlin(7, 11, 30), berlin(7, 12, 0))
		if err != nil {
			t.Fatal(err)
		}
		sameSpans(t, busy, []domain.Interval{got[0]})

		again, err := b.Propose(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		sameSpans(t, again, []domain.Interval{slot(8, 10, 0), slot(8, 10, 30), slot(8, 11, 0)})

		for name, s := range map[string]domain.Interval{"just booked": got[0], "the stand-up's": slot(7, 10, 30), "within the buffer": slot(7, 11, 0)} {
			_, err := b.Confirm(ctx, s, lead)
			if !errors.Is(err, caldav.ErrConflict) || !errors.Is(err, domain.ErrSlotTaken) {
				t.Errorf("confirm %s slot: %v, want ErrConflict and ErrSlotTaken", name, err)
			}
		}
		_, err = b.Confirm(ctx, span(berlin(8, 10, 10), berlin(8, 10, 40)), lead)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.EINVALID {
			t.Errorf("confirm a slot never offered: %v, want EINVALID", err)
		}
		busy, err = c.Busy(ctx, berlin(7, 0, 0), berlin(9, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		if len(busy) != 2 {
			t.Errorf("the refused confirms wrote events: %v", busy)
		}
	})

	t.Run("concurrent confirms of one slot: exactly one books it", func(t *testing.T) {
		c := calendar(t, srv, "race", nil, nil)
		const n = 6
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, errs[i] = booker(c).Confirm(ctx, slot(9, 10, 0), lead)
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, caldav.ErrConflict):
				t.Errorf("a losing confirm: %v, want ErrConflict", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d confirms succeeded, want 1", ok)
		}
		busy, err := c.Busy(ctx, berlin(9, 0, 0), berlin(10, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		sameSpans(t, busy, []domain.Interval{slot(9, 10, 0)})
	})

	t.Run("an event written meanwhile under another name: refused, ours removed", func(t *testing.T) {
		// As the booker's PUT goes out, the manager's app writes a meeting
		// over the slot: the check before the PUT saw it free.
		var once sync.Once
		rt := roundTrip(func(req *http.Request) (*http.Response, error) {
			if req.Method == http.MethodPut {
				once.Do(func() {
					put(t, srv, "meanwhile", "manual", vevent("manual", "DTSTART:20261210T090000Z\nDTEND:20261210T100000Z"))
				})
			}
			return http.DefaultTransport.RoundTrip(req)
		})
		c := calendar(t, srv, "meanwhile", nil, rt)
		_, err := booker(c).Confirm(ctx, slot(10, 10, 0), lead)
		if !errors.Is(err, caldav.ErrConflict) || !errors.Is(err, domain.ErrSlotTaken) {
			t.Fatalf("confirm: %v, want ErrConflict", err)
		}
		busy, err := c.Busy(ctx, berlin(10, 0, 0), berlin(11, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		sameSpans(t, busy, []domain.Interval{span(utc(2026, 12, 10, 9, 0), utc(2026, 12, 10, 10, 0))})
	})

	t.Run("a calendar that does not answer right is an error, not free time", func(t *testing.T) {
		c, err := caldav.New(caldav.Config{URL: srv.CalendarURL("missing"), Username: srv.User, Password: caldav.NewPassword(srv.Password)})
		if err != nil {
			t.Fatal(err)
		}
		if s, err := booker(c).Propose(ctx, 3); err == nil {
			t.Errorf("propose on a missing calendar: %v, no error", s)
		}
	})
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
