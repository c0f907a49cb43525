package domain

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// MeetingPhrases are how leads ask for a meeting (EN/RU), matched as
// ContainsPhrase matches (words, a prefix of 4+ letters); a scenario may
// add its own.
var MeetingPhrases = []string{
	"book a call", "book a meeting", "book a demo", "schedule a call", "schedule a meeting", "schedule a demo",
	"set up a call", "set up a meeting", "arrange a call", "arrange a meeting", "have a call", "jump on a call",
	"a quick call", "a short call", "a demo call", "meet online", "free slots", "free time slots", "when are you free",
	"созвониться", "созвон", "назначить встречу", "договориться о встрече", "встретиться", "записаться на демо",
	"записаться на звонок", "провести демо", "удобное время для звонка", "когда вам удобно",
}

// AsksForMeeting reports whether any of texts asks for a meeting, in
// MeetingPhrases or extra.
func AsksForMeeting(extra []string, texts ...string) bool {
	for _, t := range texts {
		if ContainsPhrase(t, MeetingPhrases) != "" || ContainsPhrase(t, extra) != "" {
			return true
		}
	}
	return false
}

var (
	clockRe   = regexp.MustCompile(`\b([01]?\d|2[0-3])[:.]([0-5]\d)\b`)
	zoneRe    = regexp.MustCompile(`(?i)\b(?:utc|gmt)\s?[+\-−]\s?\d{1,2}(?::?[0-5]\d)?\b|\b[A-Z][a-z]+/[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_]+)?\b`)
	numberRe  = regexp.MustCompile(`\d+`)
	ordinalOf = map[string]int{
		"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5, "5th": 5,
		"первый": 1, "первое": 1, "первая": 1, "первую": 1, "второй": 2, "второе": 2, "вторая": 2, "вторую": 2,
		"третий": 3, "третье": 3, "третья": 3, "третью": 3, "четвёртый": 4, "четвертый": 4, "четвёртое": 4, "четвертое": 4,
		"пятый": 5, "пятое": 5,
	}
	weekdayOf = map[string]time.Weekday{
		"mon": time.Monday, "monday": time.Monday, "tue": time.Tuesday, "tuesday": time.Tuesday, "wed": time.Wednesday,
		"wednesday": time.Wednesday, "thu": time.Thursday, "thursday": time.Thursday, "fri": time.Friday, "friday": time.Friday,
		"sat": time.Saturday, "saturday": time.Saturday, "sun": time.Sunday, "sunday": time.Sunday,
		"пн": time.Monday, "понедельник": time.Monday, "вт": time.Tuesday, "вторник": time.Tuesday, "ср": time.Wednesday,
		"среда": time.Wednesday, "среду": time.Wednesday, "чт": time.Thursday, "четверг": time.Thursday, "пт": time.Friday,
		"пятница": time.Friday, "пятницу": time.Friday, "сб": time.Saturday, "суббота": time.Saturday, "субботу": time.Saturday,
		"вс": time.Sunday, "воскресенье": time.Sunday,
	}
	zoneWords = map[string]string{"msk": "Europe/Moscow", "мск": "Europe/Moscow", "cet": "Europe/Berlin", "cest": "Europe/Berlin"}
)

// PickSlot reads which of the proposed slots (shown numbered from 1, in
// loc) a lead's answer picks: its number ("2", "№2", "the second"), or
// its time ("10:30", "tue 10:30"), when that names exactly one slot. ok
// is false when the answer picks none or is ambiguous (then the lead is
// asked again or the model answers).
func PickSlot(text string, slots []Interval, loc *time.Location) (int, bool) {
	if len(slots) == 0 {
		return 0, false
	}
	lower := strings.ToLower(text)
	if loc == nil {
		loc = time.UTC
	}
	if times := clockRe.FindAllStringSubmatch(lower, -1); len(times) == 1 {
		h, _ := strconv.Atoi(times[0][1])
		m, _ := strconv.Atoi(times[0][2])
		var days []time.Weekday
		for _, w := range strings.FieldsFunc(lower, notLetter) {
			if d, ok := weekdayOf[w]; ok {
				days = append(days, d)
			}
		}
		dates := map[int]bool{}
		for _, n := range numberRe.FindAllString(clockRe.ReplaceAllString(lower, " "), -1) {
			if v, err := strconv.Atoi(n); err == nil && v >= 1 && v <= 31 {
				dates[v] = true
			}
		}
		found := -1
		for i, s := range slots {
			st := s.Start.In(loc)
			if st.Hour() != h || st.Minute() != m {
				continue
			}
			if len(days) > 0 && !containsWeekday(days, st.Weekday()) {
				continue
			}
			if len(dates) > 0 && len(days) == 0 && !dates[st.Day()] {
				continue
			}
			if found >= 0 {
				return 0, false // the time names several slots
			}
			found = i
		}
		return found, found >= 0
	}
	words := strings.FieldsFunc(lower, func(r rune) bool { return notLetter(r) && !unicode.IsDigit(r) })
	if len(words) > 8 {
		return 0, false // a sentence about something else
	}
	pick := 0
	for _, w := range words {
		n, ok := ordinalOf[w]
		if !ok {
			v, err := strconv.Atoi(w)
			if err != nil {
				continue
			}
			n = v
		}
		if pick != 0 && pick != n {
			return 0, false // two numbers
		}
		pick = n
	}
	if pick < 1 || pick > len(slots) {
		return 0, false
	}
	return pick - 1, true
}

func notLetter(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

func containsWeekday(days []time.Weekday, d time.Weekday) bool {
	for _, x := range days {
		if x == d {
			return true
		}
	}
	return false
}

// MentionedZone finds a time zone a lead names in text: an offset
// ("UTC+5", "GMT-03:00"), an IANA name ("Asia/Almaty") or MSK/МСК.
func MentionedZone(texts ...string) (*time.Location, bool) {
	for _, t := range texts {
		for _, m := range zoneRe.FindAllString(t, -1) {
			if loc, err := ParseZone(strings.Join(strings.Fields(m), "")); err == nil {
				return loc, true
			}
		}
		for _, w := range strings.FieldsFunc(strings.ToLower(t), notLetter) {
			if name, ok := zoneWords[w]; ok {
				if loc, err := time.LoadLocation(name); err == nil {
					return loc, true
				}
			}
		}
	}
	return nil, false
}

// phoneZones are the time zones of calling codes that have one zone (or
// one most people live in), longest code first where they nest.
var phoneZones = []struct{ prefix, zone string }{
	{"+77", "Asia/Almaty"}, {"+7", "Europe/Moscow"}, {"+375", "Europe/Minsk"}, {"+380", "Europe/Kyiv"},
	{"+374", "Asia/Yerevan"}, {"+994", "Asia/Baku"}, {"+995", "Asia/Tbilisi"}, {"+996", "Asia/Bishkek"},
	{"+998", "Asia/Tashkent"}, {"+992", "Asia/Dushanbe"}, {"+373", "Europe/Chisinau"}, {"+371", "Europe/Riga"},
	{"+370", "Europe/Vilnius"}, {"+372", "Europe/Tallinn"}, {"+48", "Europe/Warsaw"}, {"+49", "Europe/Berlin"},
	{"+44", "Europe/London"}, {"+33", "Europe/Paris"}, {"+34", "Europe/Madrid"}, {"+39", "Europe/Rome"},
	{"+31", "Europe/Amsterdam"}, {"+90", "Europe/Istanbul"}, {"+971", "Asia/Dubai"}, {"+972", "Asia/Jerusalem"},
	{"+420", "Europe/Prague"}, {"+36", "Europe/Budapest"}, {"+40", "Europe/Bucharest"}, {"+359", "Europe/Sofia"},
	{"+381", "Europe/Belgrade"}, {"+41", "Europe/Zurich"}, {"+43", "Europe/Vienna"}, {"+46", "Europe/Stockholm"},
	{"+47", "Europe/Oslo"}, {"+45", "Europe/Copenhagen"}, {"+358", "Europe/Helsinki"}, {"+353", "Europe/Dublin"},
	{"+351", "Europe/Lisbon"}, {"+30", "Europe/Athens"}, {"+91", "Asia/Kolkata"}, {"+65", "Asia/Singapore"},
	{"+81", "Asia/Tokyo"}, {"+82", "Asia/Seoul"}, {"+86", "Asia/Shanghai"}, {"+66", "Asia/Bangkok"},
}

// ContactZone infers a contact's time zone: a custom field time_zone,
// timezone or tz that reads as one (ParseZone), else the zone of the
// phone's calling code when the code has one; ok is false when neither
// tells (the proposal then shows the manager's zone and asks).
func ContactZone(c Contact) (*time.Location, bool) {
	for _, name := range []string{"time_zone", "timezone", "tz"} {
		if v, ok := c.Field(name); ok {
			if loc, err := ParseZone(v); err == nil {
				return loc, true
			}
		}
	}
	phone := strings.TrimSpace(c.Phone)
	if phone != "" && !strings.HasPrefix(phone, "+") {
		phone = "+" + phone
	}
	for _, p := range phoneZones {
		if phone != "" && strings.HasPrefix(phone, p.prefix) {
			if loc, err := time.LoadLocation(p.zone); err == nil {
				return loc, true
			}
		}
	}
	return nil, false
}
