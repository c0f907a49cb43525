package httpapi_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
)

// A dialog's card carries its meeting (null when none was proposed),
// proposed and then booked, in UTC and without the lead's time zone;
// the confirmation's message names its file. Every answer passes the
// OpenAPI document (w.get checks it).
func TestDialogMeeting(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	ctx := t.Context()
	id, found, err := w.h.DialogOfNumber(ctx, 2)
	if err != nil || !found {
		t.Fatalf("dialog 2: %v %v", found, err)
	}
	d, err := w.h.LoadDialog(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	berlin := time.FixedZone("CET", 3600)
	slots := []domain.Interval{
		{Start: time.Date(2026, 12, 3, 10, 0, 0, 0, berlin), End: time.Date(2026, 12, 3, 10, 30, 0, 0, berlin)},
		{Start: time.Date(2026, 12, 4, 15, 0, 0, 0, berlin), End: time.Date(2026, 12, 4, 15, 30, 0, 0, berlin)},
	}
	if _, err := w.h.Dialog(ctx, id, d.ContactID, domain.ProposeMeeting{Slots: slots, Zone: "Europe/Berlin", Text: "Thursday 10:00 or Friday 15:00?", RandomID: 501}); err != nil {
		t.Fatal(err)
	}
	var card httpapi.Card
	w.get(t, "/api/v1/dialogs/2", w.read).json(t, &card)
	want := []httpapi.Slot{{Start: slots[0].Start.UTC(), End: slots[0].End.UTC()}, {Start: slots[1].Start.UTC(), End: slots[1].End.UTC()}}
	if m := card.Meeting; m == nil || m.Status != "proposed" || m.Proposals != 1 || !reflect.DeepEqual(m.Slots, want) || m.Start != nil || m.UID != nil {
		t.Fatalf("proposed: %+v", card.Meeting)
	}
	ics := domain.Attachment{Name: "meeting.ics", MIME: "text/calendar", Data: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}
	if _, err := w.h.Dialog(ctx, id, d.ContactID, domain.BookMeeting{Slot: slots[1], Zone: "Europe/Berlin", UID: "m-2@acme.test", Manager: "Maria",
		Text: "See you on Friday at 15:00.", File: ics, RandomID: 502}); err != nil {
		t.Fatal(err)
	}
	a := w.get(t, "/api/v1/dialogs/2", w.read)
	card = httpapi.Card{}
	a.json(t, &card)
	m := card.Meeting
	if m == nil || m.Status != "booked" || m.Start == nil || !m.Start.Equal(slots[1].Start) || m.End == nil || !m.End.Equal(slots[1].End) ||
		m.Manager == nil || *m.Manager != "Maria" || m.UID == nil || *m.UID != "m-2@acme.test" || m.BookedAt == nil {
		t.Fatalf("booked: %+v", m)
	}
	if b := string(a.body); strings.Contains(b, "Europe/Berlin") || strings.Contains(b, "zone") {
		t.Fatalf("the card shows the lead's time zone: %s", b)
	}
	var msgs struct{ Items []httpapi.Message }
	w.get(t, "/api/v1/dialogs/2/messages", w.read).json(t, &msgs)
	if n := len(msgs.Items); n != 2 || msgs.Items[0].File != nil || msgs.Items[1].File == nil || *msgs.Items[1].File != "meeting.ics" {
		t.Fatalf("messages: %+v", msgs.Items)
	}
	card = httpapi.Card{}
	w.get(t, "/api/v1/dialogs/1", w.read).json(t, &card)
	if card.Meeting != nil {
		t.Fatalf("dialog 1 has no meeting: %+v", card.Meeting)
	}
}
