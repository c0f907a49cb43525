package campaigns

import (
	"slices"
	"time"

	"github.com/salesbot/salesbot/domain"
)

// Hours are daily open hours: [StartMinute, EndMinute) after local
// midnight in Loc (nil = UTC), on Days (empty = every day). 0/0 is the
// whole day.
type Hours struct {
	Loc         *time.Location
	StartMinute int
	EndMinute   int
	Days        []time.Weekday
}

// AccountHours are an account's working hours (its Limits); an unknown
// time zone is UTC, as domain.Limits.NextOpen has it.
func AccountHours(l domain.Limits) Hours {
	return Hours{Loc: location(l.TimeZone), StartMinute: l.StartMinute, EndMinute: l.EndMinute, Days: l.Days}
}

// CampaignHours are a campaign's own hours and days: in its time zone if
// it has one, else in the account's (accountLoc).
func CampaignHours(s domain.CampaignSchedule, accountLoc *time.Location) Hours {
	loc := accountLoc
	if s.TimeZone != "" {
		loc = location(s.TimeZone)
	}
	return Hours{Loc: loc, StartMinute: s.StartMinute, EndMinute: s.EndMinute, Days: s.Days}
}

// Window is when one account may open dialogs for one campaign: from From
// to To (the campaign's schedule), inside both the campaign's hours and
// the account's working hours.
type Window struct {
	From, To time.Time
	Account  Hours
	Campaign Hours
}

// NewWindow is the window of a campaign on an account.
func NewWindow(s domain.CampaignSchedule, l domain.Limits) Window {
	a := AccountHours(l)
	return Window{From: s.Start, To: s.End, Account: a, Campaign: CampaignHours(s, a.Loc)}
}

// period is an open stretch of time [from, to).
type period struct{ from, to time.Time }

// maxDays bounds how far a window is unrolled into periods (ten years):
// a window longer than that counts as open only within it.
const maxDays = 3660

// Open says whether t is inside the window, and until when it stays open.
func (w Window) Open(t time.Time) (until time.Time, open bool) {
	ps := w.periods(t, t.Add(25*time.Hour))
	if len(ps) == 0 || ps[0].from.After(t) {
		return time.Time{}, false
	}
	return ps[0].to, true
}

// Next is t if the window is open at t, else the start of its next open
// period; false if it never opens again. Hours repeat every week, so a
// week without an open period means none ever comes.
func (w Window) Next(t time.Time) (time.Time, bool) {
	ps := w.periods(t, t.Add(8*24*time.Hour))
	if len(ps) == 0 {
		return time.Time{}, false
	}
	return ps[0].from, true
}

// OpenTime is how long the window is open between from and to.
func (w Window) OpenTime(from, to time.Time) time.Duration {
	var d time.Duration
	for _, p := range w.periods(from, to) {
		d += p.to.Sub(p.from)
	}
	return d
}

// Advance is the time at which the window has been open for d after
// from: spacing openings by open time puts a gap that crosses the evening
// into the next morning instead of into the night. Past the window's end
// it is To.
func (w Window) Advance(from time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return from
	}
	for _, p := range w.periods(from, w.To) {
		span := p.to.Sub(p.from)
		if d <= span {
			return p.from.Add(d)
		}
		d -= span
	}
	return w.To
}

// periods lists the open periods of the window within [from, to), in
// order.
func (w Window) periods(from, to time.Time) []period {
	if from.Before(w.From) {
		from = w.From
	}
	if to.After(w.To) {
		to = w.To
	}
	if !from.Before(to) {
		return nil
	}
	return intersect(w.Account.periods(from, to), w.Campaign.periods(from, to))
}

// periods lists the open periods of h within [from, to), clipped to it.
// Times are wall-clock times of each local day, so a DST day still opens
// at StartMinute (as the domain has it).
func (h Hours) periods(from, to time.Time) []period {
	loc := h.Loc
	if loc == nil {
		loc = time.UTC
	}
	whole := h.StartMinute == 0 && h.EndMinute == 0
	if !whole && (h.StartMinute < 0 || h.EndMinute > 24*60 || h.StartMinute >= h.EndMinute) {
		return nil // not a range within a day (validated upstream): never open
	}
	l := from.In(loc)
	var out []period
	for i := -1; i < maxDays; i++ {
		day := time.Date(l.Year(), l.Month(), l.Day()+i, 0, 0, 0, 0, loc)
		if !day.Before(to) {
			break
		}
		if len(h.Days) > 0 && !slices.Contains(h.Days, day.Weekday()) {
			continue
		}
		start, end := day, time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
		if !whole {
			start = time.Date(day.Year(), day.Month(), day.Day(), 0, h.StartMinute, 0, 0, loc)
			end = time.Date(day.Year(), day.Month(), day.Day(), 0, h.EndMinute, 0, 0, loc)
		}
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		if start.Before(end) {
			out = append(out, period{start, end})
		}
	}
	return out
}

// intersect is the overlap of two ordered lists of disjoint periods.
func intersect(a, b []period) []period {
	var out []period
	for i, j := 0, 0; i < len(a) && j < len(b); {
		from, to := a[i].from, a[i].to
		if b[j].from.After(from) {
			from = b[j].from
		}
		if b[j].to.Before(to) {
			to = b[j].to
		}
		if from.Before(to) {
			out = append(out, period{from, to})
		}
		if a[i].to.Before(b[j].to) {
			i++
		} else {
			j++
		}
	}
	return out
}

// dayEnd is the start of the local day (in loc) after the one of t.
func dayEnd(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
}

func location(tz string) *time.Location {
	if tz == "" {
		return time.UTC
	}
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
