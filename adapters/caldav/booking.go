package caldav

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/salesbot/salesbot/domain"
)

// Booker proposes the manager's free slots on one calendar and books the
// one a lead picks. It is safe for concurrent use.
type Booker struct {
	// Calendar is the manager's calendar.
	Calendar *Client
	// Rules: the working hours, the meeting's length, buffer, notice,
	// horizon (domain.SlotRules).
	Rules domain.SlotRules
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (b *Booker) now() time.Time {
	if b.Now == nil {
		return time.Now()
	}
	return b.Now()
}

// Booking is a booked meeting.
type Booking struct {
	// Href is the event's URL on the calendar (for Calendar.Delete).
	Href string
	// Meeting is what was written; ICS its text, the .ics file for the lead.
	Meeting domain.Meeting
	ICS     string
}

// Propose returns the next n free slots (domain.FreeSlots) from the
// calendar's busy times now, in the manager's zone; show them to the lead
// with domain.SlotLabel in the lead's zone.
func (b *Booker) Propose(ctx context.Context, n int) ([]domain.Interval, error) {
	now := b.now()
	if err := b.Rules.Validate(); err != nil {
		return nil, fmt.Errorf("caldav: propose: %w", err)
	}
	busy, err := b.Calendar.Busy(ctx, now.Add(-b.Rules.Buffer), now.Add(b.Rules.Horizon+b.Rules.Length+b.Rules.Buffer))
	if err != nil {
		return nil, err
	}
	slots, err := domain.FreeSlots(b.Rules, now, busy, n)
	if err != nil {
		return nil, fmt.Errorf("caldav: propose: %w", err)
	}
	return slots, nil
}

// Confirm books slot with the details of m (summary, description,
// location, organizer, attendees; its UID, stamp and time are set here).
//
// It reads the calendar's busy times around the slot right before
// writing and refuses a slot the rules do not offer (the domain's
// EINVALID *Error) or one that is taken (an error matching both
// ErrConflict and domain.ErrSlotTaken). The event's UID is
// domain.SlotUID of the calendar and the slot, and it is written with
// If-None-Match: *, so of two Confirms of one slot racing past the check
// exactly one writes it; the other gets the ErrConflict. After writing,
// it reads the slot again: if another event (written meanwhile under
// another name, e.g. by the manager's app) meets it, it removes its own
// and refuses, so a slot is never confirmed double-booked.
//
// A Confirm retried after its PUT went through but the answer was lost
// finds its own event there and reports the slot as taken; the event
// stays on the calendar (its UID is SlotUID, so a caller can tell).
func (b *Booker) Confirm(ctx context.Context, slot domain.Interval, m domain.Meeting) (Booking, error) {
	now := b.now()
	r := b.Rules
	around := func() ([]event, error) {
		return b.Calendar.busy(ctx, slot.Start.Add(-r.Buffer), slot.End.Add(r.Buffer))
	}
	evs, err := around()
	if err != nil {
		return Booking{}, err
	}
	if err := domain.CheckSlot(r, now, slot, spans(evs)); err != nil {
		return Booking{}, taken("confirm", err)
	}
	m.UID = domain.SlotUID(b.Calendar.URL(), slot)
	m.Stamp = now
	m.When = slot
	text, err := m.ICS()
	if err != nil {
		return Booking{}, fmt.Errorf("caldav: confirm: %w", err)
	}
	href, err := b.Calendar.Book(ctx, m)
	if err != nil {
		return Booking{}, taken("confirm", err)
	}
	evs, err = around()
	if err != nil {
		return Booking{}, fmt.Errorf("caldav: confirm: reading the slot again after booking it (the event stays at %s): %w", href, err)
	}
	for _, e := range evs {
		if hrefPath(e.href) != hrefPath(href) {
			if derr := b.Calendar.Delete(context.WithoutCancel(ctx), href); derr != nil {
				return Booking{}, fmt.Errorf("caldav: confirm: the slot was taken meanwhile, and removing our event failed: %w", errors.Join(ErrConflict, derr))
			}
			return Booking{}, fmt.Errorf("caldav: confirm: %w: %w", ErrConflict, domain.ErrSlotTaken)
		}
	}
	return Booking{Href: href, Meeting: m, ICS: text}, nil
}

// taken makes a taken slot match both ErrConflict and
// domain.ErrSlotTaken; other errors are wrapped as they are.
func taken(op string, err error) error {
	switch {
	case errors.Is(err, domain.ErrSlotTaken) && !errors.Is(err, ErrConflict):
		return fmt.Errorf("caldav: %s: %w: %w", op, ErrConflict, err)
	case errors.Is(err, ErrConflict) && !errors.Is(err, domain.ErrSlotTaken):
		return fmt.Errorf("caldav: %s: %w: %w", op, domain.ErrSlotTaken, err)
	}
	return fmt.Errorf("caldav: %s: %w", op, err)
}

func spans(evs []event) []domain.Interval {
	out := make([]domain.Interval, len(evs))
	for i, e := range evs {
		out[i] = e.span
	}
	return out
}
