package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/salesbot/salesbot/adapters/caldav"
	"github.com/salesbot/salesbot/domain"
)

// Calendar is the manager's calendar: its next free slots, and a booking
// of one of them checked again right before it is written (a taken slot
// is an error matching domain.ErrSlotTaken). adapters/caldav.Booker is
// the implementation.
type Calendar interface {
	Propose(ctx context.Context, n int) ([]domain.Interval, error)
	Confirm(ctx context.Context, slot domain.Interval, m domain.Meeting) (caldav.Booking, error)
}

// Meetings is the meeting booking of the engine. With a Calendar it
// proposes the manager's free slots (when a lead asks for a meeting, and
// when a dialog reaches the offer stage if the scenario says so) and
// books the one the lead picks; without one it gives the scenario's
// booking link, if there is one.
type Meetings struct {
	Calendar Calendar
	// Manager is the manager's name as the lead sees it; Email makes
	// them the meeting's organizer; Location is where it takes place.
	Manager, Email, Location string
	// Zone is the manager's zone: a lead whose zone is not known is shown
	// it (and asked for theirs); admins see the booked time in it.
	Zone *time.Location
	// Notify tells admins (a booking, the calendar failing); it must not
	// block for long.
	Notify func(kind string, dialog int64, text string)

	mu      sync.Mutex
	failing bool // the calendar failed its last call: admins were told
}

// meetingFile is the name of the .ics the lead gets.
const meetingFile = "meeting.ics"

// meetingAnswer answers the lead's new messages with the meeting booking
// when they are about it: a pick of a proposed slot (booked), their time
// zone (the slots again, in it), an ask for a meeting (a proposal). done
// is false when the model should answer instead.
func (c *Core) meetingAnswer(ctx context.Context, d domain.Dialog, contact domain.Contact, fresh []string, lang string) (Outcome, bool, error) {
	m := c.Meetings
	if m == nil || d.Meeting.IsBooked() || len(fresh) == 0 {
		return Outcome{}, false, nil
	}
	sc := c.Scenario
	named, hasZone := domain.MentionedZone(fresh...)
	if len(d.Meeting.Proposed) > 0 {
		loc := zoneOrUTC(d.Meeting.Zone)
		if hasZone {
			loc = named
		}
		if i, ok := domain.PickSlot(strings.Join(fresh, "\n"), d.Meeting.Proposed, loc); ok {
			return c.book(ctx, d, contact, d.Meeting.Proposed[i], loc, lang)
		}
		if hasZone && named.String() != d.Meeting.Zone {
			return c.propose(ctx, d, contact, named, lang, d.Inbound, "zone")
		}
		return Outcome{}, false, nil
	}
	if domain.AsksForMeeting(sc.Booking.Phrases, fresh...) && !c.asksForPerson(fresh) {
		var loc *time.Location
		if hasZone {
			loc = named
		}
		return c.propose(ctx, d, contact, loc, lang, d.Inbound, "")
	}
	return Outcome{}, false, nil
}

// asksForPerson: the handoff phrases win over a meeting ("call me" is
// for a person).
func (c *Core) asksForPerson(fresh []string) bool {
	for _, f := range fresh {
		if domain.ContainsPhrase(f, c.Scenario.Handoff.HumanPhrases) != "" {
			return true
		}
	}
	return false
}

// proposeAtOffer proposes a meeting after a turn that moved the dialog
// to the offer stage, if the scenario says so and none was proposed. A
// calendar that fails is told to admins; the turn stands.
func (c *Core) proposeAtOffer(ctx context.Context, before, after domain.Dialog, contact domain.Contact, lang string) []domain.Event {
	m := c.Meetings
	if m == nil || !c.Scenario.ProposesAtOffer() || before.Stage == domain.StageOffer || after.Stage != domain.StageOffer ||
		after.Meeting.IsBooked() || len(after.Meeting.Proposed) > 0 || after.Meeting.Link != "" {
		return nil
	}
	out, _, err := c.propose(ctx, after, contact, nil, lang, 0, "")
	if err != nil {
		c.Log.Warn("engine: a meeting was not proposed at the offer", "dialog", after.N, "err", err)
	}
	return out.Events
}

// propose offers the calendar's next free slots in the lead's zone (loc,
// else the one they gave, else the one inferred from the contact, else
// the manager's, and then they are asked for theirs), or the scenario's
// link without a calendar. done is false when there is nothing to offer.
func (c *Core) propose(ctx context.Context, d domain.Dialog, contact domain.Contact, loc *time.Location, lang string, answered int, reason string) (Outcome, bool, error) {
	m, sc := c.Meetings, c.Scenario
	if m.Calendar == nil {
		link := strings.TrimSpace(sc.Booking.Link)
		if link == "" {
			return Outcome{Dialog: d}, false, nil
		}
		return c.recordMeeting(ctx, d, domain.ProposeMeeting{Link: link, Text: c.firstWords(d, lang) + fmt.Sprintf(meetingText(lang, "link"), link), Answered: answered, RandomID: c.randomID()})
	}
	slots, err := m.Calendar.Propose(ctx, sc.MeetingSlots())
	if err != nil {
		m.calendarFailed(d.N, err)
		return Outcome{Dialog: d}, false, nil // the model answers; nothing is promised
	}
	m.calendarAnswered()
	if len(slots) == 0 {
		m.notify("meeting-no-slots", d.N, fmt.Sprintf("Dialog %d: the lead would book a meeting, but %s's calendar has no free slot in the booking horizon — /view %d", d.N, m.Manager, d.N))
		return Outcome{Dialog: d}, false, nil
	}
	asked := false
	if loc == nil && d.Meeting.Zone != "" {
		loc = zoneOrUTC(d.Meeting.Zone)
	}
	if loc == nil {
		if l, ok := domain.ContactZone(contact); ok {
			loc = l
		} else {
			loc, asked = m.zone(), true
		}
	}
	var b strings.Builder
	b.WriteString(c.firstWords(d, lang))
	if reason == "taken" {
		b.WriteString(meetingText(lang, "taken"))
		b.WriteString(" ")
	}
	fmt.Fprintf(&b, meetingText(lang, "propose"), m.Manager, loc.String())
	for i, s := range slots {
		fmt.Fprintf(&b, "\n%d. %s", i+1, slotLabel(s, loc, lang))
	}
	b.WriteString("\n")
	b.WriteString(meetingText(lang, "pick"))
	if asked {
		b.WriteString(" ")
		b.WriteString(meetingText(lang, "zone"))
	}
	return c.recordMeeting(ctx, d, domain.ProposeMeeting{Slots: slots, Zone: loc.String(), Reason: reason, Text: b.String(), Answered: answered, RandomID: c.randomID()})
}

// firstWords is the scenario's disclosure line and a space when the
// proposal is the first message salesbot sends in the dialog (the lead
// wrote first and asked for a meeting at once), else "".
func (c *Core) firstWords(d domain.Dialog, lang string) string {
	sc := c.Scenario
	if d.Outbound > 0 || len(d.Pending) > 0 || !sc.DisclosureFirst() {
		return ""
	}
	if dl := strings.TrimSpace(sc.T(sc.Disclosure.Text, lang)); dl != "" {
		return dl + " "
	}
	return ""
}

// book books the slot the lead picked, checked again on the calendar: the
// confirmation with the .ics goes to the lead and admins are told. A
// slot taken meanwhile is never confirmed: the lead gets the next free
// ones. A calendar that cannot be reached leaves the dialog waiting (the
// error), and admins are told once.
func (c *Core) book(ctx context.Context, d domain.Dialog, contact domain.Contact, slot domain.Interval, loc *time.Location, lang string) (Outcome, bool, error) {
	m, sc := c.Meetings, c.Scenario
	lead := contact.Name
	if contact.Username != "" {
		lead = strings.TrimSpace(lead + " @" + contact.Username)
	}
	meeting := domain.Meeting{
		Summary:     sc.MeetingTitle(lang),
		Description: fmt.Sprintf("Lead: %s. Booked by %s in a Telegram chat (salesbot dialog %d).", lead, sc.Persona.Name, d.N),
		Location:    m.Location,
	}
	if m.Email != "" {
		meeting.Organizer = &domain.Person{Name: m.Manager, Email: m.Email}
	}
	booking, err := m.Calendar.Confirm(ctx, slot, meeting)
	switch {
	case errors.Is(err, domain.ErrSlotTaken):
		m.calendarAnswered()
		return c.propose(ctx, d, contact, loc, lang, d.Inbound, "taken")
	case err != nil:
		m.calendarFailed(d.N, err)
		return Outcome{Dialog: d}, true, fmt.Errorf("engine: book the meeting the lead of dialog %d picked: %w", d.N, err)
	}
	m.calendarAnswered()
	label := slotLabel(slot, loc, lang)
	out, done, err := c.recordMeeting(ctx, d, domain.BookMeeting{
		Slot: slot, Zone: loc.String(), UID: booking.Meeting.UID, Href: booking.Href, Manager: m.Manager,
		Text:     fmt.Sprintf(meetingText(lang, "booked"), m.Manager, label),
		File:     domain.Attachment{Name: meetingFile, MIME: "text/calendar", Data: booking.ICS},
		Answered: d.Inbound, RandomID: c.randomID(),
	})
	if err == nil && len(out.Events) > 0 {
		m.notify("meeting-booked", d.N, fmt.Sprintf("Dialog %d: a meeting with %s is booked for %s — /view %d", d.N, m.Manager, slotLabel(slot, m.zone(), "en"), d.N))
	}
	return out, done, err
}

// recordMeeting records a proposal or a booking. New messages from the
// lead meanwhile make it stale: the turn is taken again with them.
func (c *Core) recordMeeting(ctx context.Context, d domain.Dialog, cmd domain.DialogCommand) (Outcome, bool, error) {
	evs, err := c.H.Dialog(ctx, d.ID, d.ContactID, cmd)
	if err != nil {
		if code := domain.ErrorCode(err); code == domain.ESTATE || code == domain.EFORBIDDEN {
			now, lerr := c.H.LoadDialog(ctx, d.ID)
			if lerr == nil && now.Inbound > d.Inbound && now.Stage != domain.StageClosed && !now.AISilent() {
				return Outcome{Dialog: now}, true, errStale
			}
			return Outcome{Dialog: now}, true, nil // closed or with a person meanwhile
		}
		return Outcome{Dialog: d}, true, fmt.Errorf("engine: record the meeting of dialog %d: %w", d.N, err)
	}
	after, err := c.H.LoadDialog(ctx, d.ID)
	return Outcome{Dialog: after, Events: evs}, true, err
}

func (m *Meetings) zone() *time.Location {
	if m.Zone == nil {
		return time.UTC
	}
	return m.Zone
}

func (m *Meetings) notify(kind string, n int64, text string) {
	if m.Notify != nil {
		m.Notify(kind, n, text)
	}
}

// calendarFailed tells admins once until the calendar answers again.
func (m *Meetings) calendarFailed(n int64, err error) {
	m.mu.Lock()
	tell := !m.failing
	m.failing = true
	m.mu.Unlock()
	if tell {
		m.notify("calendar-failing", n, fmt.Sprintf("%s's calendar cannot be reached (%v). Meetings are not proposed, and a lead's pick waits and is tried again.", m.Manager, err))
	}
}

func (m *Meetings) calendarAnswered() {
	m.mu.Lock()
	was := m.failing
	m.failing = false
	m.mu.Unlock()
	if was {
		m.notify("calendar-recovered", 0, fmt.Sprintf("%s's calendar answers again.", m.Manager))
	}
}

// zoneOrUTC loads a zone a proposal recorded (an IANA name or a fixed
// offset as domain.ParseZone writes it).
func zoneOrUTC(name string) *time.Location {
	if loc, err := domain.ParseZone(name); err == nil {
		return loc
	}
	return time.UTC
}

// meetingTexts are the booking's own messages, by language and purpose.
var meetingTexts = map[string]map[string]string{
	"en": {
		"propose": "Here are free times for a call with %s, in %s time:",
		"pick":    "Reply with the number of the time that suits you.",
		"zone":    "If you are in another time zone, tell me which (for example UTC+5).",
		"taken":   "Sorry, that time has just been taken.",
		"booked":  "Done: your call with %s is booked for %s. The invitation is attached; add it to your calendar.",
		"link":    "You can pick a time for a call that suits you here: %s",
	},
	"ru": {
		"propose": "Вот свободное время для звонка с %s, по времени %s:",
		"pick":    "Ответьте номером подходящего времени.",
		"zone":    "Если у вас другой часовой пояс, напишите какой (например, UTC+5).",
		"taken":   "Извините, это время только что заняли.",
		"booked":  "Готово: звонок с %s назначен на %s. Приглашение во вложении, добавьте его в календарь.",
		"link":    "Выбрать удобное время для звонка можно здесь: %s",
	},
}

func meetingText(lang, key string) string {
	if t, ok := meetingTexts[lang][key]; ok {
		return t
	}
	return meetingTexts["en"][key]
}

var (
	ruDays   = [...]string{"вс", "пн", "вт", "ср", "чт", "пт", "сб"}
	ruMonths = [...]string{"янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"}
)

// slotLabel shows a slot in loc: domain.SlotLabel in English, with
// Russian day and month names in Russian.
func slotLabel(s domain.Interval, loc *time.Location, lang string) string {
	if lang != "ru" {
		return domain.SlotLabel(s, loc)
	}
	st, en := s.Start.In(loc), s.End.In(loc)
	return fmt.Sprintf("%s %d %s %s–%s (%s)", ruDays[st.Weekday()], st.Day(), ruMonths[st.Month()-1], st.Format("15:04"), en.Format("15:04"), loc.String())
}
