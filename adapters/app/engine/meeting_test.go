package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/caldav"
	"github.com/salesbot/salesbot/domain"
)

// calendar is a Calendar test double: fixed free slots; a slot in taken
// is refused as taken, fail fails every call.
type calendar struct {
	mu     sync.Mutex
	slots  []domain.Interval
	taken  map[time.Time]bool
	fail   error
	booked []domain.Meeting
}

func (c *calendar) Propose(ctx context.Context, n int) ([]domain.Interval, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return nil, c.fail
	}
	var out []domain.Interval
	for _, s := range c.slots {
		if !c.taken[s.Start] && len(out) < n {
			out = append(out, s)
		}
	}
	return out, nil
}

func (c *calendar) Confirm(ctx context.Context, slot domain.Interval, m domain.Meeting) (caldav.Booking, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.fail != nil:
		return caldav.Booking{}, c.fail
	case c.taken[slot.Start]:
		return caldav.Booking{}, fmt.Errorf("caldav: confirm: %w", domain.ErrSlotTaken)
	}
	m.UID, m.Stamp, m.When = domain.SlotUID("cal", slot), slot.Start.Add(-time.Hour), slot
	text, err := m.ICS()
	if err != nil {
		return caldav.Booking{}, err
	}
	c.booked = append(c.booked, m)
	c.taken[slot.Start] = true
	return caldav.Booking{Href: "/maria/sales/" + m.UID + ".ics", Meeting: m, ICS: text}, nil
}

// Mon 7 Dec 2026 10:00, 11:00, Tue 8 Dec 10:00 in Moscow (UTC+3).
var freeSlots = []domain.Interval{
	{Start: time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 7, 7, 30, 0, 0, time.UTC)},
	{Start: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 7, 8, 30, 0, 0, time.UTC)},
	{Start: time.Date(2026, 12, 8, 7, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 8, 7, 30, 0, 0, time.UTC)},
	{Start: time.Date(2026, 12, 8, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 8, 8, 30, 0, 0, time.UTC)},
}

type notices struct {
	mu   sync.Mutex
	list []string
}

func (n *notices) add(kind string, dialog int64, text string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.list = append(n.list, kind+": "+text)
}

func (n *notices) kinds() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var k []string
	for _, s := range n.list {
		k = append(k, s[:strings.Index(s, ":")])
	}
	return strings.Join(k, ",")
}

func meetingCore(t *testing.T, cal engine.Calendar) (*engine.Core, *notices) {
	t.Helper()
	core := talkCore(t)
	msk, _ := time.LoadLocation("Europe/Moscow")
	n := &notices{}
	core.Meetings = &engine.Meetings{Calendar: cal, Manager: "Maria", Email: "maria@acme.example", Location: "Zoom", Zone: msk, Notify: n.add}
	return core, n
}

func say(t *testing.T, conv *engine.Conversation, text string) engine.Turn {
	t.Helper()
	turn, err := conv.Say(t.Context(), text)
	if err != nil {
		t.Fatalf("say %q: %v", text, err)
	}
	return turn
}

func only[E domain.Event](evs []domain.Event) (E, bool) {
	var zero E
	for _, e := range evs {
		if x, ok := e.(E); ok {
			return x, true
		}
	}
	return zero, false
}

// A lead who asks for a call gets the free slots in the manager's zone
// (asked for theirs: nothing tells it), picks one by its number, and gets
// the confirmation with the .ics; admins are told. No model turn is
// taken for either.
func TestALeadBooksAProposedSlot(t *testing.T) {
	cal := &calendar{slots: freeSlots, taken: map[time.Time]bool{}}
	core, n := meetingCore(t, cal)
	conv, _, err := engine.StartConversation(t.Context(), core, engine.ConversationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	turn := say(t, conv, "Hi! Can we schedule a call to see a demo?")
	p, ok := only[domain.MeetingProposed](turn.Events)
	if !ok || turn.Taken != nil || len(p.Slots) != 3 || p.Zone != "Europe/Moscow" || p.Answered != 1 || len(turn.Sent) != 1 {
		t.Fatalf("the proposal: %+v", turn)
	}
	text := turn.Sent[0].Text
	for _, want := range []string{"I'm Ada, the AI assistant of Acme Analytics. Here are free times for a call with Maria, in Europe/Moscow time", "1. Mon 7 Dec 10:00–10:30 (MSK)", "2. Mon 7 Dec 11:00–11:30", "3. Tue 8 Dec 10:00–10:30", "another time zone"} {
		if !strings.Contains(text, want) {
			t.Errorf("the proposal lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Tue 8 Dec 11:00") {
		t.Errorf("a fourth slot in the proposal:\n%s", text)
	}

	turn = say(t, conv, "2")
	b, ok := only[domain.MeetingBooked](turn.Events)
	if !ok || turn.Taken != nil || !b.Start.Equal(freeSlots[1].Start) || b.Manager != "Maria" || len(turn.Sent) != 1 || turn.Sent[0].File == nil {
		t.Fatalf("the booking: %+v", turn)
	}
	f := turn.Sent[0].File
	if f.Name != "meeting.ics" || f.MIME != "text/calendar" || !strings.Contains(f.Data, "DTSTART:20261207T080000Z") ||
		!strings.Contains(f.Data, "ORGANIZER;CN=\"Maria\":mailto:maria@acme.example") || !strings.Contains(f.Data, "LOCATION:Zoom") {
		t.Errorf("the .ics: %+v", f)
	}
	if !strings.Contains(turn.Sent[0].Text, "Mon 7 Dec 11:00–11:30 (MSK)") || !turn.Dialog.Meeting.IsBooked() || turn.Dialog.Answered != 2 {
		t.Errorf("the confirmation: %q; dialog %+v", turn.Sent[0].Text, turn.Dialog.Meeting)
	}
	if len(cal.booked) != 1 || !strings.Contains(cal.booked[0].Description, "salesbot dialog") {
		t.Errorf("the calendar got %+v", cal.booked)
	}
	if n.kinds() != "meeting-booked" || !strings.Contains(n.list[0], "Mon 7 Dec 11:00–11:30 (MSK)") {
		t.Errorf("admins were told %v", n.list)
	}

	// Booked: what the lead says next goes to the model again.
	if turn = say(t, conv, "Thanks! What does the Team plan cost?"); turn.Taken == nil {
		t.Errorf("after the booking the model did not answer: %+v", turn)
	}
}

// A slot taken since it was proposed is never confirmed: the lead gets
// the next free slots, and a time named in their own zone picks the one
// meant.
func TestATakenSlotIsProposedAgainAndAZoneIsFollowed(t *testing.T) {
	cal := &calendar{slots: freeSlots, taken: map[time.Time]bool{}}
	core, _ := meetingCore(t, cal)
	conv, _, err := engine.StartConversation(t.Context(), core, engine.ConversationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	say(t, conv, "давайте созвонимся")
	turn := say(t, conv, "я живу в часовом поясе UTC+5")
	p, ok := only[domain.MeetingProposed](turn.Events)
	if !ok || p.Zone != "UTC+05:00" || p.Reason != "zone" || !strings.Contains(turn.Sent[0].Text, "пн 7 дек 12:00–12:30 (UTC+05:00)") {
		t.Fatalf("the proposal in the lead's zone: %+v %+v", p, turn.Sent)
	}
	if strings.Contains(turn.Sent[0].Text, "часовой пояс") {
		t.Errorf("asked for the zone the lead gave: %q", turn.Sent[0].Text)
	}
	cal.mu.Lock()
	cal.taken[freeSlots[0].Start] = true // booked by someone else meanwhile
	cal.mu.Unlock()
	turn = say(t, conv, "Первый")
	p, ok = only[domain.MeetingProposed](turn.Events)
	if _, booked := only[domain.MeetingBooked](turn.Events); booked || !ok || p.Reason != "taken" || p.Slots[0].Start.Equal(freeSlots[0].Start) ||
		!strings.HasPrefix(turn.Sent[0].Text, "Извините, это время только что заняли.") {
		t.Fatalf("a taken slot: %+v %+v", turn.Events, turn.Sent)
	}
	turn = say(t, conv, "вт 12:00") // Tue 8 Dec 10:00 in Moscow
	b, ok := only[domain.MeetingBooked](turn.Events)
	if !ok || !b.Start.Equal(freeSlots[2].Start) || b.Zone != "UTC+05:00" {
		t.Fatalf("the pick by time: %+v", turn.Events)
	}
}

// A calendar that cannot be reached: no proposal (the model answers), a
// pick waits (an error, nothing recorded) and admins are told once, then
// that it recovered.
func TestACalendarThatFails(t *testing.T) {
	cal := &calendar{slots: freeSlots, taken: map[time.Time]bool{}}
	core, n := meetingCore(t, cal)
	conv, _, err := engine.StartConversation(t.Context(), core, engine.ConversationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	say(t, conv, "Can we book a call?")
	down := errors.New("caldav: busy: 503 Service Unavailable")
	cal.mu.Lock()
	cal.fail = down
	cal.mu.Unlock()
	if _, err := conv.Say(t.Context(), "3"); !errors.Is(err, down) {
		t.Fatalf("a pick with the calendar down: %v", err)
	}
	if _, err := core.Turn(t.Context(), conv.ID, domain.TurnReply, time.Now()); !errors.Is(err, down) {
		t.Fatalf("the retry: %v", err)
	}
	cal.mu.Lock()
	cal.fail = nil
	cal.mu.Unlock()
	out, err := core.Turn(t.Context(), conv.ID, domain.TurnReply, time.Now())
	if _, ok := only[domain.MeetingBooked](out.Events); err != nil || !ok {
		t.Fatalf("the pick once the calendar is back: %+v %v", out.Events, err)
	}
	if n.kinds() != "calendar-failing,calendar-recovered,meeting-booked" {
		t.Errorf("admins were told %v", n.list)
	}

	cal2 := &calendar{fail: down}
	core2, _ := meetingCore(t, cal2)
	conv2, _, err := engine.StartConversation(t.Context(), core2, engine.ConversationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if turn := say(t, conv2, "Can we book a call?"); turn.Taken == nil || len(turn.Sent) != 1 {
		t.Errorf("with the calendar down the model did not answer: %+v", turn)
	}
}

// Without a calendar the scenario's booking link is given; without
// either the model answers. "Call me" is for a person, not a booking.
func TestABookingLinkAndAPersonFirst(t *testing.T) {
	core, _ := meetingCore(t, nil)
	core.Meetings.Calendar = nil
	sc := *core.Scenario
	sc.Booking.Link = "https://cal.example/acme/demo"
	core.Scenario = &sc
	conv, _, err := engine.StartConversation(t.Context(), core, engine.ConversationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	turn := say(t, conv, "Could we set up a call next week?")
	p, ok := only[domain.MeetingProposed](turn.Events)
	if !ok || p.Link != "https://cal.example/acme/demo" || !strings.Contains(turn.Sent[0].Text, "https://cal.example/acme/demo") {
		t.Fatalf("the link: %+v", turn)
	}

	core2, _ := meetingCore(t, &calendar{slots: freeSlots, taken: map[time.Time]bool{}})
	conv2, _, err := engine.StartConversation(t.Context(), core2, engine.ConversationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	turn = say(t, conv2, "Call me, please")
	if _, ok := only[domain.MeetingProposed](turn.Events); ok || turn.Handoff == "" {
		t.Errorf("call me: %+v", turn)
	}
}

// offerModel moves the dialog to the offer stage at its first turn.
type offerModel struct{}

func (offerModel) Turn(ctx context.Context, in domain.TurnInput) (domain.TurnOutput, domain.Usage, error) {
	return domain.TurnOutput{Reply: "The Team plan fits a team like yours.", NextStage: domain.StageOffer, Score: 40}, domain.Usage{Engine: "llm", Model: "fake"}, nil
}

// A turn that reaches the offer is followed by a proposal, once.
func TestAProposalFollowsTheOffer(t *testing.T) {
	core, _ := meetingCore(t, &calendar{slots: freeSlots, taken: map[time.Time]bool{}})
	core.Model = offerModel{}
	conv, _, err := engine.StartConversation(t.Context(), core, engine.ConversationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	turn := say(t, conv, "We are 12 people in sales")
	if _, ok := only[domain.MeetingProposed](turn.Events); !ok || turn.Taken == nil || len(turn.Sent) != 2 || turn.Sent[1].Kind != domain.KindMeeting {
		t.Fatalf("the offer turn: %+v", turn)
	}
	turn = say(t, conv, "Sounds good, tell me more")
	if _, ok := only[domain.MeetingProposed](turn.Events); ok || len(turn.Sent) != 1 {
		t.Errorf("proposed again: %+v", turn.Sent)
	}

	no := false
	sc := *core.Scenario
	sc.Booking.AtOffer = &no
	core.Scenario = &sc
	conv2, _, err := engine.StartConversation(t.Context(), core, engine.ConversationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if turn := say(t, conv2, "We are 12 people in sales"); len(turn.Sent) != 1 {
		t.Errorf("at_offer false still proposed: %+v", turn.Sent)
	}
}

// salesbot chat shows the proposal, the booking and the file.
func TestTalkShowsTheMeeting(t *testing.T) {
	core, _ := meetingCore(t, &calendar{slots: freeSlots, taken: map[time.Time]bool{}})
	var out strings.Builder
	if _, err := engine.Talk(t.Context(), core, strings.NewReader("Can we schedule a call?\n1\n"), &out, engine.TalkOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  meeting: proposed 3 slot(s)\n", "           1. Mon 7 Dec 10:00–10:30 (MSK)\n",
		"  meeting: booked Mon 7 Dec 07:00–07:30 UTC with Maria\n", "           [file meeting.ics, text/calendar, "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("chat lacks %q:\n%s", want, out.String())
		}
	}
}
