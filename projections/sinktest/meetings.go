package sinktest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// testMeetings: a meeting proposed twice and booked, one offered as a
// link, a dialog without one; the row keeps the dialog's number,
// campaign and variant, the latest slots in UTC to the microsecond and
// no time zone of the lead; the confirmation's message names its file;
// an erasure leaves the rows as they are (none holds personal data);
// the same live and rebuilt.
func testMeetings(t *testing.T, newSink Factory) {
	ctx := t.Context()
	w := newWorld(t)
	campaign := uuid.New()
	c1, d1 := w.addCampaignDialog(t, 1, campaign, "B")
	c2, d2 := w.addDialog(t, 2, "boris")
	_, d3 := w.addDialog(t, 3, "clara")
	msk := time.FixedZone("MSK", 3*3600)
	day := t0.Add(24 * time.Hour).In(msk)
	slots := []domain.Interval{
		{Start: day.Add(999), End: day.Add(30*time.Minute + 999)}, // nanoseconds: rows keep microseconds
		{Start: day.Add(2 * time.Hour), End: day.Add(2*time.Hour + 30*time.Minute)},
		{Start: day.Add(26 * time.Hour), End: day.Add(26*time.Hour + 30*time.Minute)},
	}
	utc := func(l []domain.Interval) []domain.Interval {
		var out []domain.Interval
		for _, s := range l {
			out = append(out, domain.Interval{Start: s.Start.UTC().Truncate(time.Microsecond), End: s.End.UTC().Truncate(time.Microsecond)})
		}
		return out
	}
	at := func(d time.Duration) time.Time {
		w.clock = t0.Add(d + 123456789)
		return w.clock.UTC().Truncate(time.Microsecond)
	}
	first := at(time.Hour)
	w.must(t)(w.h.Dialog(ctx, d1, c1, domain.ProposeMeeting{Slots: slots, Zone: "Europe/Berlin", Text: "Tuesday 10:00 or 12:00?", RandomID: 71}))
	at(time.Hour + time.Minute)
	w.must(t)(w.h.Dialog(ctx, d1, c1, domain.ProposeMeeting{Slots: slots[1:], Zone: "Europe/Berlin", Reason: "taken", Text: "10:00 was just taken: 12:00?", RandomID: 72}))
	booked := at(time.Hour + 2*time.Minute)
	ics := domain.Attachment{Name: "meeting.ics", MIME: "text/calendar", Data: "BEGIN:VCALENDAR\r\nSUMMARY:Call with Lead\r\nEND:VCALENDAR\r\n"}
	w.must(t)(w.h.Dialog(ctx, d1, c1, domain.BookMeeting{Slot: slots[2], Zone: "Europe/Berlin", UID: "m-1@acme.test", Href: "/cal/maria/m-1.ics",
		Manager: "Maria", Text: "Booked: Wednesday 12:00.", File: ics, RandomID: 73}))
	linked := at(2 * time.Hour)
	w.must(t)(w.h.Dialog(ctx, d2, c2, domain.ProposeMeeting{Link: "https://cal.acme.test/book", Zone: "Asia/Tokyo", Text: "Pick a time here.", RandomID: 81}))

	dialogs := []uuid.UUID{d1, d2, d3}
	meetings := func(sink projections.Sink) []any {
		var out []any
		for _, d := range dialogs {
			m, err := sink.Meeting(ctx, d)
			if err != nil && !errors.Is(err, projections.ErrNotFound) {
				t.Fatal(err)
			}
			out = append(out, m)
		}
		return out
	}
	sink := newSink(t)
	r := w.runner(sink)
	r.Batch = 1
	catchUp(t, r)
	row1, row2 := dialogN(t, sink, 1), dialogN(t, sink, 2)
	want1 := projections.Meeting{DialogID: d1, DialogN: 1, AccountID: row1.AccountID, Campaign: campaign, Variant: "B",
		Status: projections.MeetingStatusBooked, Proposals: 2, ProposedAt: first, Slots: utc(slots[1:]),
		Start: slots[2].Start.UTC(), End: slots[2].End.UTC(), Manager: "Maria", UID: "m-1@acme.test", BookedAt: booked}
	want2 := projections.Meeting{DialogID: d2, DialogN: 2, AccountID: row2.AccountID, Variant: "A", Status: projections.MeetingStatusProposed,
		Proposals: 1, ProposedAt: linked, Link: "https://cal.acme.test/book"}
	check := func(when string) {
		t.Helper()
		if m, err := sink.Meeting(ctx, d1); err != nil || !reflect.DeepEqual(m, want1) || !m.Booked() {
			t.Fatalf("%s: meeting of dialog 1\n got %+v (%v)\nwant %+v", when, m, err, want1)
		}
		if m, err := sink.Meeting(ctx, d2); err != nil || !reflect.DeepEqual(m, want2) || m.Booked() {
			t.Fatalf("%s: meeting of dialog 2\n got %+v (%v)\nwant %+v", when, m, err, want2)
		}
		if m, err := sink.Meeting(ctx, d3); !errors.Is(err, projections.ErrNotFound) {
			t.Fatalf("%s: dialog 3 has no meeting, got %+v, %v", when, m, err)
		}
		if m, err := sink.Meeting(ctx, uuid.New()); !errors.Is(err, projections.ErrNotFound) {
			t.Fatalf("%s: an unknown dialog's meeting: %+v, %v", when, m, err)
		}
		for _, c := range []struct {
			from time.Time
			want int
		}{{t0.Add(7 * time.Hour), 1}, {want1.Start, 1}, {want1.End.Add(-time.Microsecond), 1}, {want1.End, 0}} {
			up, err := sink.UpcomingMeetings(ctx, c.from, 0)
			if err != nil || len(up) != c.want || (c.want == 1 && !reflect.DeepEqual(up[0], want1)) {
				t.Fatalf("%s: upcoming from %v: %+v, %v; want %d", when, c.from, up, err, c.want)
			}
		}
		var files []string
		for _, m := range messagesOf(t, sink, d1) {
			files = append(files, m.File)
		}
		if want := []string{"", "", "meeting.ics"}; !reflect.DeepEqual(files, want) {
			t.Fatalf("%s: the messages' files %q, want %q", when, files, want)
		}
	}
	check("live")
	before := meetings(sink)
	// The exported transcript says so too.
	for n, want := range map[int64][]string{
		1: {"Meeting: booked 2026-11-27 12:00:00 – 2026-11-27 12:30:00 UTC, calendar of Maria (booked 2026-11-25 11:02:00)",
			"ai [planned]: Booked: Wednesday 12:00. [file meeting.ics]\n"},
		2: {"Meeting: proposed 2026-11-25 12:00:00, a booking link https://cal.acme.test/book\n"},
	} {
		var b strings.Builder
		if err := projections.ExportDialog(ctx, sink, n, &b); err != nil {
			t.Fatal(err)
		}
		for _, line := range want {
			if !strings.Contains(b.String(), line) {
				t.Errorf("the export of dialog %d lacks %q:\n%s", n, line, b.String())
			}
		}
	}

	// A second booked meeting, earlier (it ends before t0+7h, where
	// check looks from): the list is by start; a limit
	// cuts it.
	c4, d4 := w.addDialog(t, 4, "dmitri")
	at(3 * time.Hour)
	early := domain.Interval{Start: t0.Add(5 * time.Hour), End: t0.Add(6 * time.Hour)}
	w.must(t)(w.h.Dialog(ctx, d4, c4, domain.ProposeMeeting{Slots: []domain.Interval{early}, Text: "5 pm?", RandomID: 91}))
	w.must(t)(w.h.Dialog(ctx, d4, c4, domain.BookMeeting{Slot: early, UID: "m-4@acme.test", Text: "Booked.", File: ics, RandomID: 92}))
	catchUp(t, r)
	if up, err := sink.UpcomingMeetings(ctx, t0, 0); err != nil || len(up) != 2 || up[0].DialogID != d4 || up[1].DialogID != d1 || up[0].Manager != "" {
		t.Fatalf("upcoming by start: %+v, %v", up, err)
	}
	if up, err := sink.UpcomingMeetings(ctx, t0, 1); err != nil || len(up) != 1 || up[0].DialogID != d4 {
		t.Fatalf("upcoming, limit 1: %+v, %v", up, err)
	}

	// Erasing dialog 1's lead leaves its meeting row as it was.
	w.must(t)(w.h.Contact(ctx, c1, domain.ForgetContact{By: "admin:1"}))
	if err := w.store.Forget(ctx, c1.String()); err != nil {
		t.Fatal(err)
	}
	catchUp(t, r)
	check("erased")
	if after := meetings(sink); !reflect.DeepEqual(after, before) {
		t.Fatalf("erasure changed the meetings:\nbefore %+v\nafter  %+v", before, after)
	}
	all := append(meetings(sink), snapshot(t, sink, w))
	if err := sink.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sink.Meeting(ctx, d1); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("a meeting after reset: %v", err)
	}
	r.Batch = 1000
	catchUp(t, r)
	check("rebuilt")
	if rebuilt := append(meetings(sink), snapshot(t, sink, w)); !reflect.DeepEqual(rebuilt, all) {
		t.Fatalf("rebuild differs:\nlive    %+v\nrebuilt %+v", all, rebuilt)
	}
}
