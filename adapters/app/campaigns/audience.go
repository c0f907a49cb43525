package campaigns

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// contactEvents are the events a contact's segment state is folded from.
var contactEvents = []domain.Event{domain.ContactAdded{}, domain.ContactMerged{}, domain.ContactOptedOut{},
	domain.ContactForgotten{}, domain.ContactUnreachable{}}

// foldContact applies one of a contact's events to what segments need of
// it (tags, custom fields, import, whether it exists; no username, phone,
// name, note or user id) and says whether it may be written to
// (domain.Contact.Contactable). The scheduler and CountSegment both fold
// contacts with it, so a campaign targets whom its count said.
func foldContact(c domain.Contact, e domain.Event) (domain.Contact, bool) {
	c = domain.EvolveContact(c, e)
	c.Username, c.Phone, c.Name, c.Note, c.UserID = "", "", "", "", 0 // segments do not need them
	return c, c.Contactable() == nil
}

// Audience is how many contacts of the log a segment selects: Matched in
// all, Contactable of them that may be written to now (not on the
// do-not-contact list, erased or unreachable).
type Audience struct {
	Contactable, Matched int
}

// CountSegment counts the contacts of the log a segment selects, as the
// scheduler folds them; decode is the event log's (eventlog.Log.Decode).
func CountSegment(ctx context.Context, store eventstore.Store, decode func(*eventstore.RecordedEvent) (domain.Event, error), seg domain.Segment) (Audience, error) {
	relevant := map[string]bool{}
	for _, e := range contactEvents {
		relevant[e.EventType()] = true
	}
	type state struct {
		c  domain.Contact
		ok bool
	}
	contacts := map[uuid.UUID]*state{}
	err := scanContacts(ctx, store, decode, relevant, func(id uuid.UUID, e domain.Event) {
		st := contacts[id]
		if st == nil {
			st = &state{}
			contacts[id] = st
		}
		st.c, st.ok = foldContact(st.c, e)
	})
	if err != nil {
		return Audience{}, err
	}
	var a Audience
	for _, st := range contacts {
		if st.c.Exists && seg.Matches(st.c) {
			a.Matched++
			if st.ok {
				a.Contactable++
			}
		}
	}
	return a, nil
}

// scanContacts reads the log's events of the types relevant names that
// belong to contacts' streams, decoded, and hands each to fold with its
// contact's id, in the log's order.
func scanContacts(ctx context.Context, store eventstore.Store, decode func(*eventstore.RecordedEvent) (domain.Event, error), relevant map[string]bool, fold func(uuid.UUID, domain.Event)) error {
	head := store.Head()
	for from := uint64(1); from <= head; from += 5000 {
		err := store.Scan(ctx, from, int(min(5000, head-from+1)), func(r *eventstore.RecordedEvent) error {
			if !relevant[r.Type] {
				return nil
			}
			// r and its strings are valid only during the call: the key
			// is the id parsed out of the stream name, not the name.
			id, ok := domain.AggregateContact.ID(r.Stream)
			if !ok {
				return nil
			}
			e, err := decode(r)
			if err != nil {
				return err
			}
			fold(id, e)
			return nil
		})
		if err != nil {
			return fmt.Errorf("campaigns: read contacts: %w", err)
		}
	}
	return nil
}
