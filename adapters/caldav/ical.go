package caldav

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The iCalendar reading Busy needs (RFC 5545): VEVENTs' times, their
// durations and recurrences. Nothing else of an event is read.

type prop struct {
	name   string
	params map[string]string
	value  string
}

type vevent struct {
	props []prop
}

func (v vevent) get(name string) (prop, bool) {
	for _, p := range v.props {
		if p.name == name {
			return p, true
		}
	}
	return prop{}, false
}

func (v vevent) all(name string) []prop {
	var out []prop
	for _, p := range v.props {
		if p.name == name {
			out = append(out, p)
		}
	}
	return out
}

// parseEvents returns the VEVENTs of an iCalendar text (their own
// properties; those of nested components such as VALARM are left out).
func parseEvents(text string) ([]vevent, error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\n ", "")
	text = strings.ReplaceAll(text, "\n\t", "")
	var out []vevent
	var stack []string
	var cur *vevent
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		p, err := parseProp(line)
		if err != nil {
			return nil, err
		}
		switch p.name {
		case "BEGIN":
			stack = append(stack, strings.ToUpper(p.value))
			if len(stack) == 2 && stack[1] == "VEVENT" {
				cur = &vevent{}
			}
			continue
		case "END":
			if len(stack) == 0 {
				return nil, fmt.Errorf("%w: END:%s without BEGIN", ErrUnsupported, p.value)
			}
			if len(stack) == 2 && stack[1] == "VEVENT" && cur != nil {
				out = append(out, *cur)
				cur = nil
			}
			stack = stack[:len(stack)-1]
			continue
		}
		if cur != nil && len(stack) == 2 {
			cur.props = append(cur.props, p)
		}
	}
	return out, nil
}

// parseProp splits a content line into name, parameters and value.
func parseProp(line string) (prop, error) {
	inQuote := false
	colon := -1
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			inQuote = !inQuote
		case ':':
			if !inQuote {
				colon = i
			}
		}
		if colon >= 0 {
			break
		}
	}
	if colon < 0 {
		return prop{}, fmt.Errorf("%w: a content line without a value", ErrUnsupported)
	}
	head, value := line[:colon], line[colon+1:]
	parts := splitUnquoted(head, ';')
	p := prop{name: strings.ToUpper(parts[0]), value: value, params: map[string]string{}}
	for _, kv := range parts[1:] {
		k, v, _ := strings.Cut(kv, "=")
		p.params[strings.ToUpper(k)] = strings.Trim(v, `"`)
	}
	return p, nil
}

func splitUnquoted(s string, sep byte) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			inQuote = !inQuote
		case s[i] == sep && !inQuote:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// when is a DATE or DATE-TIME value read.
type when struct {
	t      time.Time
	allDay bool
}

// parseWhen reads a DTSTART, DTEND, RECURRENCE-ID, EXDATE or RDATE value
// (one of its comma-separated values: v): UTC ("Z"), in its TZID, or
// floating (in zone); a DATE is midnight in zone.
func parseWhen(p prop, v string, zone *time.Location) (when, error) {
	loc := zone
	if tz := p.params["TZID"]; tz != "" {
		l, err := loadTZID(tz)
		if err != nil {
			return when{}, err
		}
		loc = l
	}
	if p.params["VALUE"] == "DATE" || len(v) == 8 {
		t, err := time.ParseInLocation("20060102", v, zone)
		if err != nil {
			return when{}, fmt.Errorf("%w: date %q", ErrUnsupported, v)
		}
		return when{t: t, allDay: true}, nil
	}
	if strings.HasSuffix(v, "Z") {
		t, err := time.Parse("20060102T150405Z", v)
		if err != nil {
			return when{}, fmt.Errorf("%w: time %q", ErrUnsupported, v)
		}
		return when{t: t}, nil
	}
	t, err := time.ParseInLocation("20060102T150405", v, loc)
	if err != nil {
		return when{}, fmt.Errorf("%w: time %q", ErrUnsupported, v)
	}
	return when{t: t}, nil
}

// loadTZID finds an IANA zone for a TZID, also inside the prefixed names
// some clients write ("/mozilla.org/20070129_1/Europe/Berlin").
func loadTZID(tz string) (*time.Location, error) {
	tz = strings.Trim(tz, `"`)
	if l, err := time.LoadLocation(tz); err == nil && tz != "Local" {
		return l, nil
	}
	parts := strings.Split(tz, "/")
	for n := 3; n >= 1; n-- {
		if len(parts) >= n {
			cand := strings.Join(parts[len(parts)-n:], "/")
			if l, err := time.LoadLocation(cand); err == nil && cand != "Local" && cand != "" {
				return l, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: time zone %q is not an IANA zone", ErrUnsupported, tz)
}

// parseDuration reads an iCalendar DURATION ("PT1H30M", "P1D", "-P1W").
func parseDuration(s string) (days int, d time.Duration, err error) {
	bad := fmt.Errorf("%w: duration %q", ErrUnsupported, s)
	sign := 1
	switch {
	case strings.HasPrefix(s, "-"):
		sign, s = -1, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return 0, 0, bad
	}
	s = s[1:]
	inTime := false
	num := ""
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			num += string(r)
		case r == 'T':
			inTime = true
		default:
			n, err := strconv.Atoi(num)
			if err != nil {
				return 0, 0, bad
			}
			num = ""
			switch {
			case r == 'W' && !inTime:
				days += 7 * n
			case r == 'D' && !inTime:
				days += n
			case r == 'H' && inTime:
				d += time.Duration(n) * time.Hour
			case r == 'M' && inTime:
				d += time.Duration(n) * time.Minute
			case r == 'S' && inTime:
				d += time.Duration(n) * time.Second
			default:
				return 0, 0, bad
			}
		}
	}
	if num != "" {
		return 0, 0, bad
	}
	return sign * days, time.Duration(sign) * d, nil
}

// busySpans reads the busy spans of an iCalendar text that meet window.
func busySpans(text string, window Interval, zone *time.Location) ([]Interval, error) {
	evs, err := parseEvents(text)
	if err != nil {
		return nil, err
	}
	// Overridden occurrences: UID → the RECURRENCE-ID instants.
	overridden := map[string][]time.Time{}
	for _, e := range evs {
		if rid, ok := e.get("RECURRENCE-ID"); ok {
			w, err := parseWhen(rid, rid.value, zone)
			if err != nil {
				return nil, err
			}
			uid, _ := e.get("UID")
			overridden[uid.value] = append(overridden[uid.value], w.t)
		}
	}
	var out []Interval
	for _, e := range evs {
		if st, ok := e.get("STATUS"); ok && strings.EqualFold(st.value, "CANCELLED") {
			continue
		}
		if tr, ok := e.get("TRANSP"); ok && strings.EqualFold(tr.value, "TRANSPARENT") {
			continue
		}
		spans, err := eventSpans(e, window, zone, overridden)
		if err != nil {
			return nil, err
		}
		out = append(out, spans...)
	}
	return out, nil
}

// eventSpans is one VEVENT's spans (its occurrences, if it recurs) that
// meet window.
func eventSpans(e vevent, window Interval, zone *time.Location, overridden map[string][]time.Time) ([]Interval, error) {
	ds, ok := e.get("DTSTART")
	if !ok {
		return nil, fmt.Errorf("%w: an event without DTSTART", ErrUnsupported)
	}
	start, err := parseWhen(ds, ds.value, zone)
	if err != nil {
		return nil, err
	}
	// length: a wall-clock span of days plus a duration.
	var days int
	var dur time.Duration
	switch de, hasEnd := e.get("DTEND"); {
	case hasEnd:
		end, err := parseWhen(de, de.value, zone)
		if err != nil {
			return nil, err
		}
		if start.allDay && end.allDay {
			days = int(end.t.Sub(start.t).Round(24*time.Hour) / (24 * time.Hour))
		} else {
			dur = end.t.Sub(start.t)
		}
	default:
		if du, ok := e.get("DURATION"); ok {
			if days, dur, err = parseDuration(du.value); err != nil {
				return nil, err
			}
		} else if start.allDay {
			days = 1
		}
	}
	endOf := func(s time.Time) time.Time { return s.AddDate(0, 0, days).Add(dur) }
	var out []Interval
	add := func(s time.Time) {
		iv := Interval{Start: s, End: endOf(s)}
		if iv.End.After(iv.Start) && iv.Overlaps(window) {
			out = append(out, iv)
		}
	}
	_, recurs := e.get("RRULE")
	_, isOverride := e.get("RECURRENCE-ID")
	if !recurs || isOverride {
		if len(e.all("RDATE")) == 0 || isOverride {
			add(start.t)
			return out, nil
		}
	}
	// A recurring master: its occurrences, less EXDATEs and overrides.
	uid, _ := e.get("UID")
	skip := slices.Clone(overridden[uid.value])
	for _, ex := range e.all("EXDATE") {
		for _, v := range strings.Split(ex.value, ",") {
			w, err := parseWhen(ex, v, zone)
			if err != nil {
				return nil, err
			}
			skip = append(skip, w.t)
		}
	}
	skipped := func(t time.Time) bool {
		return slices.ContainsFunc(skip, func(s time.Time) bool { return s.Equal(t) })
	}
	// Occurrences starting before this cannot reach the window.
	first := window.Start.AddDate(0, 0, -days).Add(-dur)
	occ := []time.Time{start.t}
	if rr, ok := e.get("RRULE"); ok {
		if occ, err = expand(rr.value, start.t, first, window.End); err != nil {
			return nil, err
		}
	}
	for _, rd := range e.all("RDATE") {
		if rd.params["VALUE"] == "PERIOD" {
			return nil, fmt.Errorf("%w: RDATE periods", ErrUnsupported)
		}
		for _, v := range strings.Split(rd.value, ",") {
			w, err := parseWhen(rd, v, zone)
			if err != nil {
				return nil, err
			}
			occ = append(occ, w.t)
		}
	}
	for _, s := range occ {
		if !skipped(s) {
			add(s)
		}
	}
	return out, nil
}

// maxSteps bounds the steps of one rule's expansion.
const maxSteps = 200000

// expand returns the occurrences of an RRULE from dtstart (itself the
// first) that start in [from-ish, to): those before from may be left out.
// It keeps dtstart's wall clock in its zone across DST.
func expand(rule string, dtstart, from, to time.Time) ([]time.Time, error) {
	r := map[string]string{}
	for _, kv := range strings.Split(rule, ";") {
		k, v, _ := strings.Cut(kv, "=")
		r[strings.ToUpper(k)] = strings.ToUpper(v)
	}
	unsupported := func(what string) error { return fmt.Errorf("%w: RRULE %s", ErrUnsupported, what) }
	for k := range r {
		switch k {
		case "FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "WKST":
		default:
			return nil, unsupported(k)
		}
	}
	interval := 1
	if v, ok := r["INTERVAL"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, unsupported("INTERVAL=" + v)
		}
		interval = n
	}
	count := -1
	if v, ok := r["COUNT"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, unsupported("COUNT=" + v)
		}
		count = n
	}
	until := to
	if v, ok := r["UNTIL"]; ok {
		w, err := parseWhen(prop{params: map[string]string{}}, v, dtstart.Location())
		if err != nil {
			return nil, err
		}
		u := w.t
		if w.allDay {
			u = u.AddDate(0, 0, 1).Add(-time.Nanosecond)
		}
		if u.Before(until) {
			until = u.Add(time.Nanosecond) // UNTIL is inclusive
		}
	}
	var byday []time.Weekday
	if v, ok := r["BYDAY"]; ok {
		for _, d := range strings.Split(v, ",") {
			wd, ok := map[string]time.Weekday{"SU": 0, "MO": 1, "TU": 2, "WE": 3, "TH": 4, "FR": 5, "SA": 6}[d]
			if !ok {
				return nil, unsupported("BYDAY=" + v)
			}
			byday = append(byday, wd)
		}
	}
	freq := r["FREQ"]
	if len(byday) > 0 && freq != "WEEKLY" && freq != "DAILY" {
		return nil, unsupported("BYDAY with FREQ=" + freq)
	}
	wkst := time.Monday
	if v, ok := r["WKST"]; ok {
		d, ok := map[string]time.Weekday{"SU": 0, "MO": 1, "TU": 2, "WE": 3, "TH": 4, "FR": 5, "SA": 6}[v]
		if !ok {
			return nil, unsupported("WKST=" + v)
		}
		wkst = d
	}
	y, mo, d := dtstart.Date()
	hh, mm, ss := dtstart.Clock()
	loc := dtstart.Location()
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, hh, mm, ss, 0, loc) }

	var out []time.Time
	n := 0 // occurrences so far, for COUNT
	emit := func(t time.Time) bool {
		if t.Before(dtstart) {
			return true
		}
		if !t.Before(until) || (count >= 0 && n >= count) {
			return false
		}
		n++
		if !t.Before(from) || count >= 0 {
			out = append(out, t)
		}
		return true
	}
	for step := 0; step < maxSteps; step++ {
		k := step * interval
		switch freq {
		case "DAILY":
			t := at(y, mo, d+k)
			if len(byday) > 0 && !slices.Contains(byday, t.Weekday()) {
				if !t.Before(until) {
					return out, nil
				}
				continue
			}
			if !emit(t) {
				return out, nil
			}
		case "WEEKLY":
			days := byday
			if len(days) == 0 {
				days = []time.Weekday{dtstart.Weekday()}
			}
			back := (int(dtstart.Weekday()) - int(wkst) + 7) % 7
			weekStart := at(y, mo, d-back+7*k)
			var week []time.Time
			for _, wd := range days {
				week = append(week, weekStart.AddDate(0, 0, (int(wd)-int(wkst)+7)%7))
			}
			slices.SortFunc(week, func(a, b time.Time) int { return a.Compare(b) })
			for _, t := range week {
				if !emit(t) {
					return out, nil
				}
			}
		case "MONTHLY":
			t := at(y, mo+time.Month(k), d)
			if t.Day() != d { // no such day this month: skipped
				continue
			}
			if !emit(t) {
				return out, nil
			}
		case "YEARLY":
			t := at(y+k, mo, d)
			if t.Day() != d {
				continue
			}
			if !emit(t) {
				return out, nil
			}
		default:
			return nil, unsupported("FREQ=" + freq)
		}
	}
	return nil, unsupported("with too many occurrences")
}
