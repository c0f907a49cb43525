package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/caldav"
	"github.com/salesbot/salesbot/adapters/caldav/radicaletest"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
)

// run --calendar-config on the sandbox with a real Radicale: a person who
// asks for a call gets numbered free slots, picks the second, and gets the
// confirmation with meeting.ics as a Telegram document; the event is on
// the manager's calendar at that slot, and the dialog's log has the
// booking. A bad calendar file is a usage error naming the option.
func TestABookingOnTheSandbox(t *testing.T) {
	t.Parallel()
	rad := radicaletest.Start(t)
	cal, err := caldav.New(caldav.Config{URL: rad.CalendarURL("sales"), Username: rad.User, Password: caldav.NewPassword(rad.Password)})
	if err != nil {
		t.Fatal(err)
	}
	if err := cal.MakeCalendar(t.Context(), "Sales"); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(t.TempDir(), "caldav-password")
	if err := os.WriteFile(pw, []byte(rad.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "calendar.json")
	if err := os.WriteFile(conf, fmt.Appendf(nil, `{"url":%q,"username":%q,"password_file":%q,"manager":"Maria","email":"maria@acme.example",
		"time_zone":"UTC","days":"all","hours":"00:00-23:30","length":"30m","notice":"1h","horizon":"3d"}`, rad.CalendarURL("sales"), rad.User, pw), 0o600); err != nil {
		t.Fatal(err)
	}
	dir, _, sb := startRun(t, "--calendar-config", conf)
	acct, err := sb.Lookup(demo.AccountUsername(2))
	if err != nil {
		t.Fatal(err)
	}
	person, err := sb.AddUser(telegramtest.UserSpec{Username: "booking_person", FirstName: "Dana"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the chat: %+v", sb.Messages(person.ID, acct.ID))
		}
	})
	if _, err := sb.SendAs(person.ID, acct.ID, "Hello! Can we schedule a call this week?"); err != nil {
		t.Fatal(err)
	}
	var proposal string
	waitFor(t, 60*time.Second, "the proposal of free slots", func() bool {
		for _, m := range sb.Messages(person.ID, acct.ID) {
			if !m.Out && strings.Contains(m.Text, "\n2. ") {
				proposal = m.Text
			}
		}
		return proposal != ""
	})
	if !strings.Contains(proposal, "a call with Maria, in UTC time") || !strings.Contains(proposal, "I'm Ada, the AI assistant") {
		t.Errorf("the proposal: %q", proposal)
	}
	if _, err := sb.SendAs(person.ID, acct.ID, "2"); err != nil {
		t.Fatal(err)
	}
	var got telegramtest.Message
	waitFor(t, 60*time.Second, "the confirmation with meeting.ics", func() bool {
		for _, m := range sb.Messages(person.ID, acct.ID) {
			if !m.Out && m.File != nil {
				got = m
			}
		}
		return got.File != nil
	})
	f := got.File
	if f.Name != "meeting.ics" || f.MIME != "text/calendar" || !strings.HasPrefix(string(f.Data), "BEGIN:VCALENDAR\r\n") ||
		!strings.Contains(got.Text, "your call with Maria is booked for") {
		t.Fatalf("the confirmation: %q, file %s %s %q", got.Text, f.Name, f.MIME, f.Data)
	}
	var start string
	for _, l := range strings.Split(string(f.Data), "\r\n") {
		if v, ok := strings.CutPrefix(l, "DTSTART:"); ok {
			start = v
		}
	}
	at, err := time.Parse("20060102T150405Z", start)
	if err != nil {
		t.Fatalf("DTSTART %q: %v", start, err)
	}
	if !strings.Contains(proposal, "2. "+at.Format("Mon 2 Jan 15:04")) {
		t.Errorf("booked %s, not the second slot of\n%s", at, proposal)
	}
	busy, err := cal.Busy(t.Context(), at.Add(-time.Minute), at.Add(time.Hour))
	if err != nil || len(busy) != 1 || !busy[0].Start.Equal(at) || busy[0].End.Sub(busy[0].Start) != 30*time.Minute {
		t.Errorf("the manager's calendar around %s: %+v %v", at, busy, err)
	}
	booked := 0 // the sandbox's own leads have dialogs too: find the person's
	for n := 1; n <= 8 && booked == 0; n++ {
		r := run(t, nil, "replay", "dialog", fmt.Sprint(n), "--data-dir", dir)
		if strings.Contains(r.stdout, "MeetingBooked") && strings.Contains(r.stdout, "MeetingProposed") {
			booked = n
		}
	}
	if booked == 0 {
		t.Error("no dialog's log has the proposal and the booking")
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"url":"http://127.0.0.1:1/x/","manager":"M","time_zone":"UTC","hours":"18:00-09:00","password":"hunter2-pass"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "run", "--sandbox", "--data-dir", t.TempDir(), "--calendar-config", bad); r.code != exitUsage ||
		!strings.Contains(r.stderr, "--calendar-config") || !strings.Contains(r.stderr, `"hours"`) || strings.Contains(r.stderr, "hunter2") {
		t.Errorf("a bad calendar file: %+v", r)
	}
}
