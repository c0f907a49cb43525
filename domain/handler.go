package domain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// ErrConflict is returned by EventLog.Append when the stream moved on since
// it was loaded.
var ErrConflict = errors.New("domain: stream changed concurrently")

// EventLog is the port through which command handlers read and write
// aggregate streams.
type EventLog interface {
	// Load returns the stream's events in order and its version (0 for a
	// stream without events).
	Load(ctx context.Context, stream string) ([]Event, uint64, error)
	// LoadFrom returns the stream's events from version from on, and the
	// stream's version.
	LoadFrom(ctx context.Context, stream string, from uint64) ([]Event, uint64, error)
	// Version is the stream's version, without loading its events.
	Version(ctx context.Context, stream string) (uint64, error)
	// Append adds events if the stream is still at version expected; it
	// returns an error matching ErrConflict if not. subject is the contact
	// whose personal data the events carry ("" if none).
	Append(ctx context.Context, stream string, expected uint64, subject string, events []Event) error
}

// Stream names.
func ContactStream(id uuid.UUID) string { return AggregateContact.Stream(id) }
func DialogStream(id uuid.UUID) string  { return AggregateDialog.Stream(id) }
func AccountStream(id uuid.UUID) string { return AggregateAccount.Stream(id) }

// Handlers run commands: load the aggregate, decide, append with the
// expected version, and retry a bounded number of times when another
// writer got there first.
type Handlers struct {
	Log     EventLog
	Now     func() time.Time // the clock; the domain never reads one itself
	Retries int              // extra attempts after a conflict (default 3)
	// Index keys the names of the index streams (NewIndexKey with the
	// store's index key); the index lookups and links need it.
	Index IndexKey
	// Cache, if set, keeps dialog and contact states between commands.
	Cache *StateCache
}

// Contact runs a command on contact id.
func (h Handlers) Contact(ctx context.Context, id uuid.UUID, cmd ContactCommand) ([]Event, error) {
	evs, err := run(ctx, h, h.Cache, ContactStream(id), id.String(), EvolveContact, DecideContact, cmd)
	if _, forget := cmd.(ForgetContact); forget && err == nil {
		h.Cache.dropSubject(id.String()) // cached dialogs hold the erased texts
	}
	return evs, err
}

// Campaign runs a command on campaign id.
func (h Handlers) Campaign(ctx context.Context, id uuid.UUID, cmd CampaignCommand) ([]Event, error) {
	return run(ctx, h, nil, CampaignStream(id), "", EvolveCampaign, DecideCampaign, cmd)
}

// LoadCampaign folds a campaign's stream into its state.
func (h Handlers) LoadCampaign(ctx context.Context, id uuid.UUID) (Campaign, error) {
	c, _, err := load(ctx, h.Log, CampaignStream(id), EvolveCampaign)
	return c, err
}

// Dialog runs a command on dialog id; subject is the dialog's contact (its
// key seals the message texts). A StartDialog first records the dialog in
// the index streams of its number and its contact (IndexDialog).
func (h Handlers) Dialog(ctx context.Context, id, contact uuid.UUID, cmd DialogCommand) ([]Event, error) {
	if s, ok := cmd.(StartDialog); ok && s.N > 0 && id != uuid.Nil && contact != uuid.Nil && s.Contact.Contactable() == nil {
		if err := h.IndexDialog(ctx, DialogIndexed{DialogID: id, ContactID: contact, N: s.N}); err != nil {
			return nil, err
		}
	}
	return run(ctx, h, h.Cache, DialogStream(id), contact.String(), EvolveDialog, DecideDialog, cmd)
}

// Account runs a command on account id; the account's own key seals its
// personal data (the phone number). Reservations (ReserveNewDialog,
// ReserveMessage) are recorded in a usage stream per account and local day
// (UsageStream), so the account's own stream stays small however many
// messages it sends.
func (h Handlers) Account(ctx context.Context, id uuid.UUID, cmd AccountCommand) ([]Event, error) {
	switch c := cmd.(type) {
	case ReserveNewDialog:
		return h.reserve(ctx, id, c.Loc, cmd)
	case ReserveMessage:
		return h.reserve(ctx, id, c.Loc, cmd)
	}
	// Not cached: an account's state holds slices that Evolve appends to.
	return run(ctx, h, nil, AccountStream(id), id.String(), EvolveAccount, DecideAccount, cmd)
}

// UsageStream is the stream of an account's reservations on one local day.
func UsageStream(id uuid.UUID, day string) string { return "usage-" + id.String() + "-" + day }

// reserve decides a reservation on the account's state plus its usage of
// yesterday (pacing windows cross midnight) and today, and appends to
// today's usage stream with its expected version.
func (h Handlers) reserve(ctx context.Context, id uuid.UUID, loc *time.Location, cmd AccountCommand) ([]Event, error) {
	for attempt := 0; ; attempt++ {
		now := h.Now()
		a, today, err := h.accountWithUsage(ctx, id, loc, now)
		if err != nil {
			return nil, err
		}
		evs, err := DecideAccount(a, cmd, now)
		if err != nil || len(evs) == 0 {
			return nil, err
		}
		err = h.Log.Append(ctx, today.stream, today.version, "", evs)
		if err == nil {
			return evs, nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= h.retries() {
			return nil, fmt.Errorf("append to %s: %w", today.stream, err)
		}
	}
}

func (h Handlers) retries() int {
	if h.Retries <= 0 {
		return 3
	}
	return h.Retries
}

// LoadContact and LoadDialog fold a stream into its state.
func (h Handlers) LoadContact(ctx context.Context, id uuid.UUID) (Contact, error) {
	s, _, err := loadCached(ctx, h.Log, h.Cache, ContactStream(id), func(Contact) string { return id.String() }, EvolveContact)
	return s, err
}

func (h Handlers) LoadDialog(ctx context.Context, id uuid.UUID) (Dialog, error) {
	d, _, err := loadCached(ctx, h.Log, h.Cache, DialogStream(id), func(d Dialog) string { return d.ContactID.String() }, EvolveDialog)
	return d, err
}

// loadCached folds a stream into its state, starting from the cached state
// if there is one, and caches the result.
// subject names whose personal data a state holds (its contact).
func loadCached[S any](ctx context.Context, log EventLog, c *StateCache, stream string, subject func(S) string, evolve func(S, Event) S) (S, uint64, error) {
	if st, v, ok := c.get(stream); ok {
		if s, ok := st.(S); ok {
			evs, version, err := log.LoadFrom(ctx, stream, v+1)
			if err != nil {
				return s, 0, fmt.Errorf("load %s: %w", stream, err)
			}
			for _, e := range evs {
				s = evolve(s, e)
			}
			if len(evs) > 0 {
				c.put(stream, subject(s), s, version)
			}
			return s, version, nil
		}
	}
	s, version, err := load(ctx, log, stream, evolve)
	if err == nil && version > 0 {
		c.put(stream, subject(s), s, version)
	}
	return s, version, err
}

func load[S any](ctx context.Context, log EventLog, stream string, evolve func(S, Event) S) (S, uint64, error) {
	var s S
	evs, version, err := log.Load(ctx, stream)
	if err != nil {
		return s, 0, fmt.Errorf("load %s: %w", stream, err)
	}
	for _, e := range evs {
		s = evolve(s, e)
	}
	return s, version, nil
}

func run[S any, C any](ctx context.Context, h Handlers, cache *StateCache, stream, subject string,
	evolve func(S, Event) S, decide func(S, C, time.Time) ([]Event, error), cmd C) ([]Event, error) {
	retries := h.retries()
	for attempt := 0; ; attempt++ {
		s, version, err := loadCached(ctx, h.Log, cache, stream, func(S) string { return subject }, evolve)
		if err != nil {
			return nil, err
		}
		evs, err := decide(s, cmd, h.Now())
		if err != nil || len(evs) == 0 {
			return nil, err
		}
		err = h.Log.Append(ctx, stream, version, subject, evs)
		if err == nil {
			for _, e := range evs {
				s = evolve(s, e)
			}
			cache.put(stream, subject, s, version+uint64(len(evs)))
			return evs, nil
		}
		cache.drop(stream)
		if !errors.Is(err, ErrConflict) || attempt >= retries {
			return nil, fmt.Errorf("append to %s: %w", stream, err)
		}
	}
}

// DialogNumberStream is the stream that hands out dialog numbers.
const DialogNumberStream = "numbers-dialog"

// DialogNumbered allocates the next dialog number, through the log, so
// numbers are unique and stay the same across read-model rebuilds.
type DialogNumbered struct {
	DialogID uuid.UUID `json:"dialog_id"`
	N        int64     `json:"n"`
}

func (DialogNumbered) EventType() string { return "DialogNumbered" }

// NextDialogNumber allocates the number of a new dialog: the version of the
// numbering stream after appending to it, retried on conflicts.
func (h Handlers) NextDialogNumber(ctx context.Context, dialog uuid.UUID) (int64, error) {
	for attempt := 0; ; attempt++ {
		version, err := h.Log.Version(ctx, DialogNumberStream)
		if err != nil {
			return 0, fmt.Errorf("load %s: %w", DialogNumberStream, err)
		}
		n := int64(version) + 1
		err = h.Log.Append(ctx, DialogNumberStream, version, "", []Event{DialogNumbered{DialogID: dialog, N: n}})
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= max(h.Retries, 3)*10 {
			return 0, fmt.Errorf("allocate dialog number: %w", err)
		}
	}
}
