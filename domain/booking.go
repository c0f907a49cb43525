package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Meeting booking: the manager's free slots are found from the working
// hours and the calendar's busy intervals (read by an adapter, e.g.
// adapters/caldav); the time is passed in.

// Interval is the half-open span [Start, End).
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Overlaps reports whether i and o share any instant (touching ends do
// not overlap: a meeting may start when the one before it ends).
func (i Interval) Overlaps(o Interval) bool {
	return i.Start.Before(o.End) && o.Start.Before(i.End)
}

// In is i with both ends shown in loc (the same instants).
func (i Interval) In(loc *time.Location) Interval {
	return Interval{Start: i.Start.In(loc), End: i.End.In(loc)}
}

// SlotRules say which meetings the manager takes: Length long, starting
// every Step from the opening of the working hours and ending by their
// close, with Buffer free before and after, no sooner than Notice after
// now and starting within Horizon of now.
type SlotRules struct {
	// TimeZone is the manager's IANA zone; the hours are wall-clock there
	// (a DST day still opens at StartMinute).
	TimeZone string
	// Days are the working days; empty means every day.
	Days []time.Weekday
	// StartMinute, EndMinute: the working hours, minutes after midnight.
	StartMinute, EndMinute int
	// Length of a meeting; Step between candidate starts (0: Length).
	Length, Step time.Duration
	// Buffer: free time required on each side of a meeting.
	Buffer time.Duration
	// Notice: the earliest start is now+Notice.
	Notice time.Duration
	// Horizon: a slot starts before now+Horizon.
	Horizon time.Duration
}

// Validate reports the first unusable rule as an EINVALID *Error.
func (r SlotRules) Validate() error {
	switch {
	case r.StartMinute < 0 || r.EndMinute > 24*60 || r.StartMinute >= r.EndMinute:
		return fieldErrorf(EINVALID, "hours", "working hours %s–%s are not a range within a day", hm(r.StartMinute), hm(r.EndMinute))
	case r.Length <= 0:
		return fieldErrorf(EINVALID, "length", "a meeting's length must be positive")
	case r.Length > time.Duration(r.EndMinute-r.StartMinute)*time.Minute:
		return fieldErrorf(EINVALID, "length", "a %s meeting does not fit in the working hours %s–%s", r.Length, hm(r.StartMinute), hm(r.EndMinute))
	case r.Step < 0 || r.Buffer < 0 || r.Notice < 0:
		return fieldErrorf(EINVALID, "buffer", "step, buffer and notice must not be negative")
	case r.Horizon <= 0:
		return fieldErrorf(EINVALID, "horizon", "the horizon must be positive")
	case r.Horizon > 366*24*time.Hour:
		return fieldErrorf(EINVALID, "horizon", "the horizon must be at most a year")
	}
	if _, err := r.location(); err != nil {
		return err
	}
	for _, d := range r.Days {
		if d < time.Sunday || d > time.Saturday {
			return fieldErrorf(EINVALID, "days", "working day %d is not a weekday (0 = Sunday … 6 = Saturday)", d)
		}
	}
	return nil
}

func (r SlotRules) location() (*time.Location, error) {
	if strings.TrimSpace(r.TimeZone) == "" {
		return nil, fieldErrorf(EINVALID, "time_zone", "a time zone is required (for example Europe/Moscow or UTC)")
	}
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		return nil, fieldErrorf(EINVALID, "time_zone", "unknown time zone %q (for example Europe/Moscow or UTC)", r.TimeZone)
	}
	return loc, nil
}

func (r SlotRules) step() time.Duration {
	if r.Step > 0 {
		return r.Step
	}
	return r.Length
}

func (r SlotRules) workday(d time.Weekday) bool {
	return len(r.Days) == 0 || slices.Contains(r.Days, d)
}

// candidates calls yield with each slot the rules allow from now on, in
// order, until yield returns false or the horizon is passed.
func (r SlotRules) candidates(now time.Time, loc *time.Location, yield func(Interval) bool) {
	earliest, latest := now.Add(r.Notice), now.Add(r.Horizon)
	local := now.In(loc)
	for i := 0; ; i++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+i, 0, 0, 0, 0, loc)
		if !day.Before(latest) {
			return
		}
		if !r.workday(day.Weekday()) {
			continue
		}
		open := time.Date(day.Year(), day.Month(), day.Day(), 0, r.StartMinute, 0, 0, loc)
		closing := time.Date(day.Year(), day.Month(), day.Day(), 0, r.EndMinute, 0, 0, loc)
		for s := open; !s.Add(r.Length).After(closing); s = s.Add(r.step()) {
			if !s.Before(latest) {
				return
			}
			if s.Before(earliest) {
				continue
			}
			if !yield(Interval{Start: s, End: s.Add(r.Length)}) {
				return
			}
		}
	}
}

// free reports whether slot, widened by the buffer, meets no busy span.
func (r SlotRules) free(slot Interval, busy []Interval) bool {
	wide := Interval{Start: slot.Start.Add(-r.Buffer), End: slot.End.Add(r.Buffer)}
	for _, b := range busy {
		if wide.Overlaps(b) {
			return false
		}
	}
	return true
}

// FreeSlots returns the first n slots (in time order, in the manager's
// zone) that the rules allow from now on and that no busy interval
// (widened by the buffer) touches. Fewer than n (or none) means the
// horizon has no more. An unusable rule is an EINVALID *Error.
func FreeSlots(r SlotRules, now time.Time, busy []Interval, n int) ([]Interval, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	loc, _ := r.location()
	var out []Interval
	if n <= 0 {
		return out, nil
	}
	r.candidates(now, loc, func(s Interval) bool {
		if r.free(s, busy) {
			out = append(out, s)
		}
		return len(out) < n
	})
	return out, nil
}

// ErrSlotTaken: the slot asked for meets a busy interval (booked since it
// was proposed, or never free). It comes inside an ESTATE *Error.
var ErrSlotTaken = fmt.Errorf("domain: the slot is taken")

// CheckSlot reports whether slot is one the rules allow at now and free
// of busy: an EINVALID *Error for a slot the rules never propose (wrong
// length, off the step, outside the hours, the notice or the horizon),
// an ESTATE *Error matching ErrSlotTaken for one a busy interval touches.
func CheckSlot(r SlotRules, now time.Time, slot Interval, busy []Interval) error {
	if err := r.Validate(); err != nil {
		return err
	}
	loc, _ := r.location()
	allowed := false
	r.candidates(now, loc, func(s Interval) bool {
		if s.Start.Equal(slot.Start) && s.End.Equal(slot.End) {
			allowed = true
			return false
		}
		return !s.Start.After(slot.Start)
	})
	if !allowed {
		return fieldErrorf(EINVALID, "slot", "%s is not a slot on offer", slot.Start.In(loc).Format("Mon 2 Jan 15:04 MST"))
	}
	if !r.free(slot, busy) {
		return &Error{Code: ESTATE, Field: "slot", Err: ErrSlotTaken,
			Message: fmt.Sprintf("the slot at %s is taken", slot.Start.In(loc).Format("Mon 2 Jan 15:04 MST"))}
	}
	return nil
}

// SlotUID is the calendar object UID for slot on calendar (any string
// naming the calendar, e.g. its URL): the same slot on the same calendar
// always has the same UID, so two bookings of it race for one resource
// and the server lets only one create it.
func SlotUID(calendar string, slot Interval) string {
	sum := sha256.Sum256([]byte(calendar + "\n" + slot.Start.UTC().Format(time.RFC3339) + "\n" + slot.End.UTC().Format(time.RFC3339)))
	return "salesbot-" + hex.EncodeToString(sum[:16])
}

// ParseZone reads a lead's time zone as they might give it: an IANA name
// ("Europe/Moscow", "UTC") or an offset from UTC ("UTC+3", "GMT-05:30",
// "+03:00", "-4"); an offset is a fixed zone named as written in
// canonical form ("UTC+03:00").
func ParseZone(s string) (*time.Location, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fieldErrorf(EINVALID, "time_zone", "a time zone is required (for example Europe/Moscow or UTC+3)")
	}
	if strings.EqualFold(s, "local") {
		return nil, fieldErrorf(EINVALID, "time_zone", "unknown time zone %q (for example Europe/Moscow or UTC+3)", s)
	}
	if strings.Contains(s, "/") || !strings.ContainsAny(s, "+-−") {
		if loc, err := time.LoadLocation(s); err == nil {
			return loc, nil
		}
	}
	off := strings.ToUpper(s)
	for _, p := range []string{"UTC", "GMT"} {
		off = strings.TrimPrefix(off, p)
	}
	sign := 1
	switch {
	case off == "":
		return time.UTC, nil
	case strings.HasPrefix(off, "+"):
		off = off[1:]
	case strings.HasPrefix(off, "-"), strings.HasPrefix(off, "−"):
		sign = -1
		off = strings.TrimLeft(off, "-−")
	default:
		return nil, fieldErrorf(EINVALID, "time_zone", "unknown time zone %q (for example Europe/Moscow or UTC+3)", s)
	}
	hs, ms, _ := strings.Cut(off, ":")
	h, err1 := strconv.Atoi(hs)
	m := 0
	var err2 error
	if ms != "" {
		m, err2 = strconv.Atoi(ms)
	}
	if err1 != nil || err2 != nil || h > 14 || m >= 60 || len(hs) > 2 {
		return nil, fieldErrorf(EINVALID, "time_zone", "unknown time zone %q (for example Europe/Moscow or UTC+3)", s)
	}
	secs := sign * (h*3600 + m*60)
	name := fmt.Sprintf("UTC%s%02d:%02d", map[bool]string{true: "+", false: "-"}[sign > 0], h, m)
	return time.FixedZone(name, secs), nil
}

// SlotLabel shows slot to a lead in loc: "Mon 7 Dec 10:00–10:30 (UTC+03:00)"
// (the zone's abbreviation, or its offset when it has none).
func SlotLabel(slot Interval, loc *time.Location) string {
	s, e := slot.Start.In(loc), slot.End.In(loc)
	zone, off := s.Zone()
	if zone == "" || strings.HasPrefix(zone, "+") || strings.HasPrefix(zone, "-") {
		sign := "+"
		if off < 0 {
			sign, off = "-", -off
		}
		zone = fmt.Sprintf("UTC%s%02d:%02d", sign, off/3600, off%3600/60)
	}
	end := e.Format("15:04")
	if e.YearDay() != s.YearDay() || e.Year() != s.Year() {
		end = e.Format("Mon 2 Jan 15:04")
	}
	return fmt.Sprintf("%s–%s (%s)", s.Format("Mon 2 Jan 15:04"), end, zone)
}
