package domain

import (
	"strings"
	"time"
)

// Meetings in a dialog: at the offer stage (or when the lead asks for a
// call) the engine proposes the manager's free slots, shown in the lead's
// time zone, or a booking link when no calendar is connected; the lead
// picks one, the slot is checked again on the calendar and booked, and the
// lead gets the confirmation with an .ics file. The proposal and the
// confirmation are the code's own texts (times and the link come from the
// calendar and the configuration, not from a model), so they go through
// these commands and not through the turn's guards.

// KindMeeting is an outbound message of the meeting booking: a proposal
// of slots or a link, or a booking's confirmation.
const KindMeeting OutboundKind = "meeting"

// Attachment is a file sent with a message, e.g. a meeting's .ics. Data
// is the file's content (text files only); it may name the lead, so it is
// personal data.
type Attachment struct {
	Name string `json:"name"`
	MIME string `json:"mime"`
	Data string `json:"data" personal:"file"`
	// Knowledge: the file is the knowledge base's file of Name; its
	// bytes are read when it is sent, not kept in the log (Data is
	// empty).
	Knowledge bool `json:"knowledge,omitempty"`
}

// Meeting commands.
type (
	// ProposeMeeting offers the lead free slots (shown in Zone, the lead's
	// time zone as asked or inferred) or, without a calendar, a booking
	// Link, with Text as the message. Answered > 0 says the proposal
	// answers the lead's messages up to that count (the lead asked for a
	// meeting, picked a taken slot, or named their zone), as a turn
	// does; 0 means it follows a turn. Reason says why it is made again
	// ("taken": the slot picked was taken meanwhile; "zone": the lead
	// named their time zone).
	ProposeMeeting struct {
		Slots    []Interval
		Zone     string
		Link     string
		Reason   string
		Text     string
		RandomID int64
		Answered int
	}
	// BookMeeting records a slot booked on the manager's calendar (the
	// adapter checked it again right before): the confirmation Text with
	// the .ics File goes to the lead.
	BookMeeting struct {
		Slot Interval
		Zone string
		// UID and Href name the event on the calendar; Manager is whose
		// calendar it is.
		UID, Href, Manager string
		Text               string
		File               Attachment
		RandomID           int64
		Answered           int
	}
)

func (ProposeMeeting) dialogCommand() {}
func (BookMeeting) dialogCommand()    {}

// Meeting events, in the dialog's stream.
type (
	// MeetingProposed: slots (in UTC; Zone is the lead's, as shown) or a
	// booking link were offered. A later proposal replaces an earlier.
	MeetingProposed struct {
		Slots    []Interval `json:"slots,omitempty"`
		Zone     string     `json:"zone,omitempty" personal:"zone"` // where the lead is
		Link     string     `json:"link,omitempty"`
		Reason   string     `json:"reason,omitempty"`
		Answered int        `json:"answered,omitempty"`
	}
	// MeetingBooked: the lead's meeting is on the manager's calendar.
	MeetingBooked struct {
		Start    time.Time `json:"start"`
		End      time.Time `json:"end"`
		Zone     string    `json:"zone,omitempty" personal:"zone"`
		UID      string    `json:"uid"`
		Href     string    `json:"href,omitempty"`
		Manager  string    `json:"manager,omitempty"`
		Answered int       `json:"answered,omitempty"`
	}
)

func (MeetingProposed) EventType() string { return "MeetingProposed" }
func (MeetingBooked) EventType() string   { return "MeetingBooked" }

// Span is the booked meeting's time.
func (e MeetingBooked) Span() Interval { return Interval{Start: e.Start, End: e.End} }

// DialogMeeting is what a dialog knows of its meeting.
type DialogMeeting struct {
	// Proposed are the slots on offer (UTC), in the lead's Zone; empty
	// when none are (never proposed, a link, or booked).
	Proposed []Interval
	Zone     string
	Link     string // the booking link offered, if one was
	// Booked is the booked meeting (zero when none).
	Booked Interval
	UID    string
}

// Offered reports whether slot is one of the proposed slots.
func (m DialogMeeting) Offered(slot Interval) bool {
	for _, s := range m.Proposed {
		if s.Start.Equal(slot.Start) && s.End.Equal(slot.End) {
			return true
		}
	}
	return false
}

// IsBooked reports whether the dialog has a booked meeting.
func (m DialogMeeting) IsBooked() bool { return !m.Booked.Start.IsZero() }

// decideMeetingTurn checks what a proposal and a booking have in common:
// an open dialog the AI may write in, a message to send, and the lead's
// messages it answers (a retry of a recorded answer records nothing).
func decideMeetingTurn(d Dialog, text string, randomID int64, answered int) (skip bool, err error) {
	switch {
	case d.Stage == StageClosed:
		return false, errorf(ESTATE, "dialog %d is closed (%s)", d.N, d.Outcome)
	case d.AISilent():
		return false, errorf(EFORBIDDEN, "dialog %d is with a manager; the AI stays silent until it is released", d.N)
	case strings.TrimSpace(text) == "":
		return false, errorf(EINVALID, "a meeting message needs text")
	case randomID == 0:
		return false, errorf(EINVALID, "a meeting message needs a random_id")
	case d.Pending[randomID] != "":
		return true, nil // planned already: a retry
	case answered > 0 && answered <= d.Answered:
		return true, nil // answered already
	case answered > 0 && answered != d.Inbound:
		return false, errorf(ESTATE, "dialog %d has %d messages from the lead, the meeting answered %d: take it again", d.N, d.Inbound, answered)
	}
	return false, nil
}

func decideProposeMeeting(d Dialog, cmd ProposeMeeting) ([]Event, error) {
	if skip, err := decideMeetingTurn(d, cmd.Text, cmd.RandomID, cmd.Answered); skip || err != nil {
		return nil, err
	}
	switch {
	case d.Meeting.IsBooked():
		return nil, errorf(ESTATE, "dialog %d has a meeting booked already", d.N)
	case len(cmd.Slots) == 0 && strings.TrimSpace(cmd.Link) == "":
		return nil, fieldErrorf(EINVALID, "slots", "a proposal needs free slots or a booking link")
	case len(cmd.Slots) > 0 && cmd.Link != "":
		return nil, fieldErrorf(EINVALID, "link", "a proposal gives slots or a link, not both")
	}
	var slots []Interval
	for i, s := range cmd.Slots {
		if !s.End.After(s.Start) {
			return nil, fieldErrorf(EINVALID, "slots", "slot %d ends before it starts", i+1)
		}
		slots = append(slots, Interval{Start: s.Start.UTC(), End: s.End.UTC()})
	}
	return []Event{
		MeetingProposed{Slots: slots, Zone: cmd.Zone, Link: strings.TrimSpace(cmd.Link), Reason: cmd.Reason, Answered: cmd.Answered},
		OutboundPlanned{RandomID: cmd.RandomID, Text: strings.TrimSpace(cmd.Text), By: ActorAI, Kind: KindMeeting},
	}, nil
}

func decideBookMeeting(d Dialog, cmd BookMeeting) ([]Event, error) {
	if skip, err := decideMeetingTurn(d, cmd.Text, cmd.RandomID, cmd.Answered); skip || err != nil {
		return nil, err
	}
	switch {
	case d.Meeting.IsBooked() && d.Meeting.UID == cmd.UID:
		return nil, nil // recorded already
	case d.Meeting.IsBooked():
		return nil, errorf(ESTATE, "dialog %d has a meeting booked already", d.N)
	case !d.Meeting.Offered(cmd.Slot):
		return nil, fieldErrorf(EINVALID, "slot", "the slot was not proposed to the lead of dialog %d", d.N)
	case strings.TrimSpace(cmd.UID) == "":
		return nil, fieldErrorf(EINVALID, "uid", "a booked meeting needs the calendar event's UID")
	case cmd.File.Name == "" || cmd.File.Data == "":
		return nil, fieldErrorf(EINVALID, "file", "a booked meeting's confirmation needs its .ics file")
	}
	file := cmd.File
	return []Event{
		MeetingBooked{Start: cmd.Slot.Start.UTC(), End: cmd.Slot.End.UTC(), Zone: cmd.Zone, UID: cmd.UID, Href: cmd.Href, Manager: cmd.Manager, Answered: cmd.Answered},
		OutboundPlanned{RandomID: cmd.RandomID, Text: strings.TrimSpace(cmd.Text), By: ActorAI, Kind: KindMeeting, File: &file},
	}, nil
}

// evolveMeeting applies a meeting event.
func evolveMeeting(d Dialog, e Event) Dialog {
	switch e := e.(type) {
	case MeetingProposed:
		d.Meeting.Proposed = append([]Interval(nil), e.Slots...)
		d.Meeting.Zone, d.Meeting.Link = e.Zone, e.Link
		d.Answered = max(d.Answered, e.Answered)
	case MeetingBooked:
		d.Meeting = DialogMeeting{Booked: e.Span(), Zone: e.Zone, UID: e.UID}
		d.Answered = max(d.Answered, e.Answered)
	}
	return d
}
