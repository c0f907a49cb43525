package projections

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/salesbot/salesbot/domain"
)

// Meetings (domain.MeetingProposed, MeetingBooked): a row per dialog
// that was offered a meeting, the meetings table of migrations/0012.
// The lead's time zone is personal data and is not kept: every time is
// UTC, and a row holds nothing an erasure has to blank.

// Meeting statuses.
const (
	MeetingStatusProposed = "proposed" // slots or a link are on offer
	MeetingStatusBooked   = "booked"   // on the manager's calendar
)

// Meeting is a meetings row.
type Meeting struct {
	DialogID uuid.UUID
	// The dialog's number, account, campaign (uuid.Nil: none) and
	// variant, as on its dialogs row.
	DialogN   int64
	AccountID uuid.UUID
	Campaign  uuid.UUID
	Variant   string
	Status    string // MeetingStatusProposed or MeetingStatusBooked
	// Proposals counts the proposals made (a slot taken meanwhile or the
	// lead's time zone makes another); ProposedAt is the first's time.
	Proposals  int
	ProposedAt time.Time
	// Slots are the latest proposal's slots (UTC), nil when it offered a
	// booking Link instead; they stay after the booking.
	Slots []domain.Interval
	Link  string
	// The booked meeting (zero until booked): its time, whose calendar
	// (Manager) and the calendar event's UID, and when it was booked.
	Start, End time.Time
	Manager    string
	UID        string
	BookedAt   time.Time
}

// Booked reports whether the meeting is on the calendar.
func (m Meeting) Booked() bool { return m.Status == MeetingStatusBooked }

// Changes of the meetings.
type (
	// ProposeMeeting records a proposal of dialog DialogID at At: a new
	// row (copying the dialog's number, account, campaign and variant),
	// or the next proposal of one.
	ProposeMeeting struct {
		DialogID uuid.UUID
		At       time.Time
		Slots    []domain.Interval
		Link     string
	}
	// BookMeeting records the booked meeting of dialog DialogID at At.
	BookMeeting struct {
		DialogID   uuid.UUID
		At         time.Time
		Start, End time.Time
		Manager    string
		UID        string
	}
)

func (ProposeMeeting) change() {}
func (BookMeeting) change()    {}

// meetingChange is the row change of a meeting event; ok is false for
// other events.
func meetingChange(id uuid.UUID, at time.Time, e domain.Event) (c Change, ok bool) {
	switch e := e.(type) {
	case domain.MeetingProposed:
		var slots []domain.Interval
		for _, s := range e.Slots {
			slots = append(slots, domain.Interval{Start: rowTime(s.Start), End: rowTime(s.End)})
		}
		return ProposeMeeting{DialogID: id, At: at, Slots: slots, Link: e.Link}, true
	case domain.MeetingBooked:
		return BookMeeting{DialogID: id, At: at, Start: rowTime(e.Start), End: rowTime(e.End), Manager: e.Manager, UID: e.UID}, true
	}
	return nil, false
}

// UpcomingLimit is UpcomingMeetings' limit when it is given none.
const UpcomingLimit = 100

// applyMeeting applies a meeting change to the memory sink (m.mu held).
func (m *Memory) applyMeeting(c Change) {
	switch c := c.(type) {
	case ProposeMeeting:
		row, ok := m.meetings[c.DialogID]
		if !ok {
			d, ok := m.dialogs[c.DialogID]
			if !ok {
				return // as the INSERT ... SELECT FROM dialogs: no dialog, no row
			}
			row = &Meeting{DialogID: d.ID, DialogN: d.N, AccountID: d.AccountID, Campaign: d.Campaign, Variant: d.Variant,
				Status: MeetingStatusProposed, ProposedAt: c.At}
			m.meetings[c.DialogID] = row
		}
		row.Proposals++
		row.Slots, row.Link = nilIfEmpty(c.Slots), c.Link
	case BookMeeting:
		row, ok := m.meetings[c.DialogID]
		if !ok {
			return // booked without a proposal: the domain allows none
		}
		row.Status = MeetingStatusBooked
		row.Start, row.End, row.Manager, row.UID, row.BookedAt = c.Start, c.End, c.Manager, c.UID, c.At
	}
}

func copyMeeting(r Meeting) Meeting {
	r.Slots = nilIfEmpty(r.Slots)
	return r
}

// Meeting implements Sink.
func (m *Memory) Meeting(_ context.Context, dialog uuid.UUID) (Meeting, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.meetings[dialog]
	if !ok {
		return Meeting{}, fmt.Errorf("meeting of dialog %s: %w", dialog, ErrNotFound)
	}
	return copyMeeting(*r), nil
}

// UpcomingMeetings implements Sink.
func (m *Memory) UpcomingMeetings(_ context.Context, from time.Time, limit int) ([]Meeting, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Meeting
	for _, r := range m.meetings {
		if r.Booked() && r.End.After(from) {
			out = append(out, copyMeeting(*r))
		}
	}
	slices.SortFunc(out, func(a, b Meeting) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.DialogN, b.DialogN))
	})
	if limit <= 0 {
		limit = UpcomingLimit
	}
	return out[:min(len(out), limit)], nil
}

// queueMeeting queues a meeting change for PostgreSQL; false for other
// changes.
func queueMeeting(b *pgx.Batch, c Change) bool {
	switch c := c.(type) {
	case ProposeMeeting:
		b.Queue(`INSERT INTO meetings (dialog_id, dialog_n, account_id, campaign, variant, status, proposals, proposed_at, slots, link)
			SELECT d.id, d.n, d.account_id, d.campaign, d.variant, 'proposed', 1, $2, $3::jsonb, $4 FROM dialogs d WHERE d.id = $1
			ON CONFLICT (dialog_id) DO UPDATE SET proposals = meetings.proposals + 1, slots = EXCLUDED.slots, link = EXCLUDED.link`,
			c.DialogID, c.At, jsonText(orEmpty(c.Slots)), nullText(c.Link))
	case BookMeeting:
		b.Queue(`UPDATE meetings SET status = 'booked', starts_at = $2, ends_at = $3, manager = $4, calendar_uid = $5, booked_at = $6
			WHERE dialog_id = $1`, c.DialogID, c.Start, c.End, nullText(c.Manager), c.UID, c.At)
	default:
		return false
	}
	return true
}

const meetingColumns = `dialog_id, dialog_n, account_id, campaign, variant, status, proposals, proposed_at, slots, link,
	starts_at, ends_at, manager, calendar_uid, booked_at`

func scanMeeting(row pgx.Row) (Meeting, error) {
	var (
		r                          Meeting
		campaign                   *uuid.UUID
		slots                      []byte
		link, manager, uid         *string
		start, end, proposed, book *time.Time
	)
	if err := row.Scan(&r.DialogID, &r.DialogN, &r.AccountID, &campaign, &r.Variant, &r.Status, &r.Proposals, &proposed, &slots, &link,
		&start, &end, &manager, &uid, &book); err != nil {
		return Meeting{}, err
	}
	if campaign != nil {
		r.Campaign = *campaign
	}
	if err := json.Unmarshal(slots, &r.Slots); err != nil {
		return Meeting{}, fmt.Errorf("slots of dialog %s: %w", r.DialogID, err)
	}
	r.Slots = nilIfEmpty(r.Slots)
	for i, s := range r.Slots {
		r.Slots[i] = domain.Interval{Start: s.Start.UTC(), End: s.End.UTC()}
	}
	r.ProposedAt, r.Start, r.End, r.BookedAt = utc(proposed), utc(start), utc(end), utc(book)
	r.Link, r.Manager, r.UID = deref(link), deref(manager), deref(uid)
	return r, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Meeting implements Sink.
func (p *Postgres) Meeting(ctx context.Context, dialog uuid.UUID) (Meeting, error) {
	r, err := scanMeeting(p.pool.QueryRow(ctx, `SELECT `+meetingColumns+` FROM meetings WHERE dialog_id = $1`, dialog))
	if errors.Is(err, pgx.ErrNoRows) {
		return Meeting{}, fmt.Errorf("meeting of dialog %s: %w", dialog, ErrNotFound)
	}
	if err != nil {
		return Meeting{}, fmt.Errorf("meeting of dialog %s: %w", dialog, err)
	}
	return r, nil
}

// UpcomingMeetings implements Sink.
func (p *Postgres) UpcomingMeetings(ctx context.Context, from time.Time, limit int) ([]Meeting, error) {
	if limit <= 0 {
		limit = UpcomingLimit
	}
	rows, err := p.pool.Query(ctx, `SELECT `+meetingColumns+` FROM meetings WHERE status = 'booked' AND ends_at > $1
		ORDER BY starts_at, dialog_n LIMIT $2`, from, limit)
	if err != nil {
		return nil, fmt.Errorf("upcoming meetings: %w", err)
	}
	defer rows.Close()
	var out []Meeting
	for rows.Next() {
		r, err := scanMeeting(rows)
		if err != nil {
			return nil, fmt.Errorf("upcoming meetings: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
