package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestMeetingICS(t *testing.T) {
	msk := time.FixedZone("MSK", 3*3600)
	m := Meeting{
		UID:         "salesbot-1",
		Stamp:       time.Date(2026, 12, 2, 21, 0, 0, 0, time.UTC),
		When:        Interval{Start: time.Date(2026, 12, 7, 12, 0, 0, 0, msk), End: time.Date(2026, 12, 7, 12, 30, 0, 0, msk)},
		Summary:     "Demo; pricing, Q&A \\ call",
		Description: "Line one\r\nLine two\nкириллица",
		Organizer:   &Person{Name: `Anna "the manager"`, Email: "anna@example.com"},
		Attendees:   []Person{{Name: "Lead", Email: "lead@example.org"}, {Name: "no email"}},
	}
	got, err := m.ICS()
	if err != nil {
		t.Fatal(err)
	}
	want := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//salesbot//meeting booking//EN\r\nCALSCALE:GREGORIAN\r\n" +
		"BEGIN:VEVENT\r\nUID:salesbot-1\r\nDTSTAMP:20261202T210000Z\r\n" +
		"DTSTART:20261207T090000Z\r\nDTEND:20261207T093000Z\r\n" +
		"SUMMARY:Demo\\; pricing\\, Q&A \\\\ call\r\n" +
		"DESCRIPTION:Line one\\nLine two\\nкириллица\r\n" +
		"ORGANIZER;CN=\"Anna the manager\":mailto:anna@example.com\r\n" +
		"ATTENDEE;CN=\"Lead\";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:lead@examp\r\n le.org\r\n" +
		"STATUS:CONFIRMED\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestICSFolding(t *testing.T) {
	desc := strings.Repeat("Привет, мир! ", 40) // two-byte letters: a fold must not split one
	m := Meeting{UID: "u", Stamp: time.Unix(0, 0), When: Interval{Start: time.Unix(3600, 0), End: time.Unix(7200, 0)}, Description: desc}
	got, err := m.ICS()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ReplaceAll(got, "\r\n", ""), "\n") || strings.Count(got, "\r") != strings.Count(got, "\n") {
		t.Fatal("a line ends other than with CRLF")
	}
	var unfolded []string
	for _, l := range strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Errorf("line of %d octets: %q", len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("a fold split a character: %q", l)
		}
		if strings.HasPrefix(l, " ") {
			unfolded[len(unfolded)-1] += l[1:]
		} else {
			unfolded = append(unfolded, l)
		}
	}
	wantDesc := "DESCRIPTION:" + strings.ReplaceAll(desc, ",", `\,`)
	found := false
	for _, l := range unfolded {
		found = found || l == wantDesc
	}
	if !found {
		t.Errorf("unfolding does not give back the description: %q", unfolded)
	}
}

func TestMeetingInvalid(t *testing.T) {
	ok := Meeting{UID: "u", Stamp: time.Unix(0, 0), When: Interval{Start: time.Unix(3600, 0), End: time.Unix(7200, 0)}}
	cases := map[string]func(*Meeting){
		"no uid":         func(m *Meeting) { m.UID = "" },
		"uid with slash": func(m *Meeting) { m.UID = "../x" },
		"uid two lines":  func(m *Meeting) { m.UID = "a\r\nDTSTART:x" },
		"ends first":     func(m *Meeting) { m.When.End = m.When.Start },
		"no stamp":       func(m *Meeting) { m.Stamp = time.Time{} },
		"bad email":      func(m *Meeting) { m.Attendees = []Person{{Email: "a@b\r\nATTENDEE:mailto:x"}} },
	}
	for name, f := range cases {
		m := ok
		f(&m)
		_, err := m.ICS()
		var de *Error
		if !errors.As(err, &de) || de.Code != EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
}
