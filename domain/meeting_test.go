package domain

import (
	"testing"
	"time"
)

var (
	slot1 = Interval{Start: time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 30, 7, 30, 0, 0, time.UTC)}
	slot2 = Interval{Start: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 30, 8, 30, 0, 0, time.UTC)}
	slot3 = Interval{Start: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC)}
	ics   = Attachment{Name: "meeting.ics", MIME: "text/calendar", Data: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"}
)

func TestMeetingCommands(t *testing.T) {
	asked := append(at(StageOffer), InboundReceived{TelegramMessageID: 5, Text: "can we book a call?"})
	proposed := append(append([]Event{}, asked...),
		MeetingProposed{Slots: []Interval{slot1, slot2}, Zone: "Europe/Moscow", Answered: 1},
		OutboundPlanned{RandomID: 11, Text: "Free times: 1. … 2. …", By: ActorAI, Kind: KindMeeting})
	picked := append(append([]Event{}, proposed...), InboundReceived{TelegramMessageID: 6, Text: "2"})
	booked := append(append([]Event{}, picked...),
		MeetingBooked{Start: slot2.Start, End: slot2.End, Zone: "Europe/Moscow", UID: "salesbot-2", Href: "/m/salesbot-2.ics", Manager: "Maria", Answered: 2},
		OutboundPlanned{RandomID: 12, Text: "Booked.", By: ActorAI, Kind: KindMeeting, File: &ics})
	book := BookMeeting{Slot: slot2, Zone: "Europe/Moscow", UID: "salesbot-2", Href: "/m/salesbot-2.ics", Manager: "Maria", Text: "Booked.", File: ics, RandomID: 12, Answered: 2}
	runDialogCases(t, []dialogCase{
		{name: "a proposal answers the lead's ask", given: asked,
			when: ProposeMeeting{Slots: []Interval{slot1, slot2}, Zone: "Europe/Moscow", Text: "Free times: 1. … 2. …", RandomID: 11, Answered: 1},
			then: proposed[len(asked):]},
		{name: "a proposal with a link", given: at(StageOffer),
			when: ProposeMeeting{Link: " https://cal.example/acme ", Text: "Pick a time: https://cal.example/acme", RandomID: 13},
			then: []Event{MeetingProposed{Link: "https://cal.example/acme"}, OutboundPlanned{RandomID: 13, Text: "Pick a time: https://cal.example/acme", By: ActorAI, Kind: KindMeeting}}},
		{name: "a retried proposal records nothing", given: proposed,
			when: ProposeMeeting{Slots: []Interval{slot1}, Text: "again", RandomID: 11, Answered: 1}},
		{name: "a proposal behind the lead's newer messages is stale", given: append(append([]Event{}, picked...), InboundReceived{TelegramMessageID: 7, Text: "or UTC+5"}),
			when: ProposeMeeting{Slots: []Interval{slot3}, Text: "x", RandomID: 14, Answered: 2}, err: ESTATE},
		{name: "a proposal needs slots or a link", given: at(StageOffer),
			when: ProposeMeeting{Text: "x", RandomID: 14}, err: EINVALID},
		{name: "not in a dialog with a manager", given: at(StageHandoff),
			when: ProposeMeeting{Slots: []Interval{slot1}, Text: "x", RandomID: 14}, err: EFORBIDDEN},
		{name: "not in a closed dialog", given: at(StageClosed),
			when: ProposeMeeting{Slots: []Interval{slot1}, Text: "x", RandomID: 14}, err: ESTATE},
		{name: "the lead's pick is booked with its .ics", given: picked, when: book, then: booked[len(picked):]},
		{name: "a booking recorded already records nothing", given: booked, when: book},
		{name: "a slot never proposed is not booked", given: picked,
			when: BookMeeting{Slot: slot3, UID: "salesbot-3", Text: "Booked.", File: ics, RandomID: 12, Answered: 2}, err: EINVALID},
		{name: "a booking needs its .ics", given: picked,
			when: BookMeeting{Slot: slot2, UID: "salesbot-2", Text: "Booked.", RandomID: 12, Answered: 2}, err: EINVALID},
		{name: "no second meeting", given: booked,
			when: ProposeMeeting{Slots: []Interval{slot3}, Text: "x", RandomID: 15}, err: ESTATE},
	})
}

func TestMeetingFolds(t *testing.T) {
	var d Dialog
	for _, e := range append(at(StageOffer), InboundReceived{Text: "call?"},
		MeetingProposed{Slots: []Interval{slot1, slot2}, Zone: "UTC+03:00", Answered: 1},
		OutboundPlanned{RandomID: 12, Text: "Booked.", By: ActorAI, Kind: KindMeeting, File: &ics}) {
		d = EvolveDialog(d, e)
	}
	if d.Answered != 1 || !d.Meeting.Offered(slot2) || d.Meeting.Offered(slot3) || d.Meeting.Zone != "UTC+03:00" || d.Meeting.IsBooked() {
		t.Fatalf("after the proposal: %+v", d)
	}
	if d.Files[12] != ics {
		t.Fatalf("the pending file: %+v", d.Files)
	}
	d = EvolveDialog(d, OutboundSent{RandomID: 12, TelegramMessageID: 40})
	d = EvolveDialog(d, MeetingBooked{Start: slot1.Start, End: slot1.End, UID: "u"})
	if len(d.Files) != 0 || !d.Meeting.IsBooked() || d.Meeting.Booked != slot1 || len(d.Meeting.Proposed) != 0 {
		t.Fatalf("after sending and booking: %+v", d)
	}
}

func TestPickSlot(t *testing.T) {
	msk, _ := time.LoadLocation("Europe/Moscow")
	slots := []Interval{slot1, slot2, slot3} // Mon 30 Nov 10:00, Mon 30 Nov 11:00, Tue 1 Dec 11:00 in Moscow
	for _, c := range []struct {
		text string
		want int // -1: none
	}{
		{"2", 1}, {"№3", 2}, {"#1 please", 0}, {"the second one", 1}, {"давайте второй вариант", 1}, {"Третий", 2},
		{"10:00", 0}, {"10.00 works", 0}, {"11:00", -1}, {"tue 11:00", 2}, {"вторник 11:00", 2}, {"1 Dec at 11:00", 2},
		{"5", -1}, {"0", -1}, {"1 or 2", -1}, {"12:00", -1}, {"", -1},
		{"we have 2 offices and 40 people in sales, what does the plan cost for a team like ours?", -1},
	} {
		got, ok := PickSlot(c.text, slots, msk)
		if !ok {
			got = -1
		}
		if got != c.want {
			t.Errorf("PickSlot(%q) = %d, want %d", c.text, got, c.want)
		}
	}
	if _, ok := PickSlot("1", nil, msk); ok {
		t.Error("a pick without slots")
	}
}

func TestMentionedZone(t *testing.T) {
	for text, want := range map[string]string{
		"I'm in UTC+5":             "UTC+05:00",
		"gmt -3 here":              "UTC-03:00",
		"я в Asia/Almaty":          "Asia/Almaty",
		"время по мск":             "Europe/Moscow",
		"America/Argentina/Salta?": "America/Argentina/Salta",
		"the second one":           "",
		"call me at 10:00":         "",
	} {
		loc, ok := MentionedZone(text)
		got := ""
		if ok {
			got = loc.String()
		}
		if got != want {
			t.Errorf("MentionedZone(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestContactZone(t *testing.T) {
	for _, c := range []struct {
		contact Contact
		want    string
	}{
		{Contact{Phone: "+79161234567"}, "Europe/Moscow"},
		{Contact{Phone: "77011234567"}, "Asia/Almaty"},
		{Contact{Phone: "+12025550100"}, ""}, // +1 spans six zones: not guessed
		{Contact{Phone: "+79161234567", Fields: []ContactField{{Name: "tz", Value: "UTC+4"}}}, "UTC+04:00"},
		{Contact{Fields: []ContactField{{Name: "time_zone", Value: "Mars/Olympus"}}}, ""},
		{Contact{}, ""},
	} {
		loc, ok := ContactZone(c.contact)
		got := ""
		if ok {
			got = loc.String()
		}
		if got != c.want {
			t.Errorf("ContactZone(%+v) = %q, want %q", c.contact, got, c.want)
		}
	}
}

func TestAsksForMeeting(t *testing.T) {
	for text, want := range map[string]bool{
		"Can we schedule a call next week?":  true,
		"давайте созвонимся":                 true,
		"Можно назначить встречу на четверг": true,
		"What does it cost?":                 false,
		"Call me":                            false, // a person, not a booking: the handoff phrases decide
		"I'm busy, maybe later":              false,
	} {
		if got := AsksForMeeting(nil, text); got != want {
			t.Errorf("AsksForMeeting(%q) = %v", text, got)
		}
	}
	if !AsksForMeeting([]string{"let's talk"}, "OK, let's talk tomorrow") {
		t.Error("a scenario's own phrase")
	}
}
