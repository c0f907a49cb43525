package domain

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Meeting is a booked meeting as an iCalendar event (RFC 5545). Its ICS
// text is both the calendar object stored on the manager's calendar
// (CalDAV PUT) and the .ics file the lead is sent.
type Meeting struct {
	// UID identifies the event for good (SlotUID for a booked slot).
	UID string
	// Stamp is when it was booked (DTSTAMP).
	Stamp time.Time
	// When is the meeting's span; written in UTC.
	When                           Interval
	Summary, Description, Location string
	// Organizer (the manager) and Attendees (the lead) are optional; a
	// person without an email is left out (iCalendar needs an address).
	Organizer *Person
	Attendees []Person
}

// Person is an organizer or attendee: a display name and an email.
type Person struct {
	Name, Email string
}

// ICSProductID is the PRODID of the ICS text salesbot writes.
const ICSProductID = "-//salesbot//meeting booking//EN"

// Validate reports what would make the ICS text unusable, as an EINVALID
// *Error.
func (m Meeting) Validate() error {
	switch {
	case strings.TrimSpace(m.UID) == "" || strings.ContainsAny(m.UID, "\r\n/"):
		return fieldErrorf(EINVALID, "uid", "a meeting needs a UID of one line without /")
	case m.When.Start.IsZero() || !m.When.End.After(m.When.Start):
		return fieldErrorf(EINVALID, "when", "a meeting must end after it starts")
	case m.Stamp.IsZero():
		return fieldErrorf(EINVALID, "stamp", "a meeting needs the time it was booked")
	}
	people := m.Attendees
	if m.Organizer != nil {
		people = append([]Person{*m.Organizer}, people...)
	}
	for _, p := range people {
		if strings.ContainsAny(p.Email, "\r\n\" ;:,<>") {
			return fieldErrorf(EINVALID, "email", "%q is not an email address", p.Email)
		}
	}
	return nil
}

// ICS is the meeting as an iCalendar object: a VCALENDAR with one VEVENT,
// times in UTC, CRLF line endings, lines folded at 75 octets (never
// inside a UTF-8 character), text escaped per RFC 5545 3.3.11. It has no
// METHOD, as CalDAV requires of a stored object; calendar apps import it
// as a file as it is. An invalid meeting is an EINVALID *Error.
func (m Meeting) ICS() (string, error) {
	if err := m.Validate(); err != nil {
		return "", err
	}
	var b strings.Builder
	line := func(s string) { writeFolded(&b, s) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:" + ICSProductID)
	line("CALSCALE:GREGORIAN")
	line("BEGIN:VEVENT")
	line("UID:" + escapeText(m.UID))
	line("DTSTAMP:" + icsUTC(m.Stamp))
	line("DTSTART:" + icsUTC(m.When.Start))
	line("DTEND:" + icsUTC(m.When.End))
	if m.Summary != "" {
		line("SUMMARY:" + escapeText(m.Summary))
	}
	if m.Description != "" {
		line("DESCRIPTION:" + escapeText(m.Description))
	}
	if m.Location != "" {
		line("LOCATION:" + escapeText(m.Location))
	}
	if o := m.Organizer; o != nil && o.Email != "" {
		line("ORGANIZER" + cnParam(o.Name) + ":mailto:" + o.Email)
	}
	for _, a := range m.Attendees {
		if a.Email != "" {
			line("ATTENDEE" + cnParam(a.Name) + ";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:" + a.Email)
		}
	}
	line("STATUS:CONFIRMED")
	line("TRANSP:OPAQUE")
	line("END:VEVENT")
	line("END:VCALENDAR")
	return b.String(), nil
}

func icsUTC(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// escapeText escapes a TEXT value: backslash, semicolon, comma and line
// breaks (CRLF, CR or LF all become \n); other control characters go.
func escapeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ';':
			b.WriteString(`\;`)
		case r == ',':
			b.WriteString(`\,`)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 && r != '\t', r == 0x7f:
			// not allowed in a TEXT value
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// cnParam is ";CN=name" with the name quoted (a parameter value may hold
// no double quote and no control characters), or "" without a name.
func cnParam(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '"' || r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if name == "" {
		return ""
	}
	return `;CN="` + name + `"`
}

// writeFolded writes s as content lines of at most 75 octets each (the
// continuation lines begin with a space, which counts), never cutting a
// UTF-8 character, each ended by CRLF.
func writeFolded(b *strings.Builder, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space is one of the 75
	}
	b.WriteString(s)
	b.WriteString("\r\n")
}
