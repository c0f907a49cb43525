package contacts

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// IndexStore is the log Reindex reads, with the secrets it keeps its
// position in (eventstore.PebbleStore and MemoryStore are both).
type IndexStore interface {
	eventstore.Store
	eventstore.Secrets
}

// reindexed is the secret that holds how far Reindex has read the log.
const reindexed = "contacts-reindexed"

// Reindex links the user id, username and phone of every contact recorded
// since its last run (ContactAdded, ContactTelegramUserSet) in the index
// streams, where they are not linked yet, indexes the dialogs started
// since by number and contact (domain.Handlers.IndexDialog: dialogs of a
// log written before those indexes, or a start a crash interrupted), and
// returns how many contacts and dialogs it indexed. Contacts recorded before the username and phone indexes existed,
// or by code that adds contacts without Record, become findable: an
// import then merges into them, and never brings back one on the
// do-not-contact list. It keeps its position in the store's secrets, so a
// later run reads only the new events. The values of an erased contact
// are gone and cannot be linked.
func Reindex(ctx context.Context, store IndexStore, h domain.Handlers) (int, error) {
	from := uint64(1)
	switch b, err := store.Secret(ctx, reindexed); {
	case errors.Is(err, eventstore.ErrNotFound):
	case err != nil:
		return 0, fmt.Errorf("contacts: reindex: read its position: %w", err)
	case len(b) == 8:
		from = binary.BigEndian.Uint64(b) + 1
	}
	head := store.Head()
	if from > head {
		return 0, nil
	}
	type entry struct {
		id uuid.UUID
		p  Person
	}
	var todo []entry
	log := eventlog.New(store)
	added, userSet := (domain.ContactAdded{}).EventType(), (domain.ContactTelegramUserSet{}).EventType()
	err := store.Scan(ctx, from, int(head-from+1), func(r *eventstore.RecordedEvent) error {
		if (r.Type != added && r.Type != userSet) || r.Forgotten {
			return nil
		}
		e, err := log.Decode(r)
		if err != nil {
			return err
		}
		switch e := e.(type) {
		case domain.ContactAdded:
			todo = append(todo, entry{e.ContactID, Person{UserID: e.UserID, Username: e.Username, Phone: e.Phone}})
		case domain.ContactTelegramUserSet:
			if id, ok := domain.AggregateContact.ID(r.Stream); ok && e.UserID != 0 {
				todo = append(todo, entry{id, Person{UserID: e.UserID}})
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("contacts: reindex: read the log: %w", err)
	}
	var (
		mu    sync.Mutex
		n     int
		first error
		wg    sync.WaitGroup
	)
	work := make(chan entry)
	for range 32 {
		wg.Go(func() {
			for e := range work {
				k, err := linkNew(ctx, h, e.p, e.id)
				mu.Lock()
				n += k
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	for _, e := range todo {
		work <- e
	}
	close(work)
	wg.Wait()
	if first != nil {
		return n, fmt.Errorf("contacts: reindex: %w", first)
	}
	if err := store.PutSecret(ctx, reindexed, binary.BigEndian.AppendUint64(nil, head)); err != nil {
		return n, fmt.Errorf("contacts: reindex: save its position: %w", err)
	}
	d, err := indexDialogs(ctx, store, h)
	return n + d, err
}

// Refresh brings the contacts index up to date with the log (Reindex)
// and completes the erasures a crash interrupted (RepairErasures), and
// tells log (nil: no one) what either did. A use case run on a log that
// no running service keeps indexed (the CLI's) calls it first, so the
// people it looks for are findable.
func Refresh(ctx context.Context, store IndexStore, h domain.Handlers, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n, err := Reindex(ctx, store, h)
	if n > 0 {
		log.Info("contacts: indexed the usernames, phones and user ids of earlier contacts", "links", n)
	}
	if err != nil {
		return err
	}
	n, err = RepairErasures(ctx, store)
	if n > 0 {
		log.Info("contacts: completed interrupted erasures", "contacts", n)
	}
	return err
}

// dialogsIndexed is the secret that holds how far indexDialogs has read
// the log.
const dialogsIndexed = "dialogs-indexed"

// indexDialogs indexes every dialog started since its last run by number
// and contact, and returns how many it indexed.
func indexDialogs(ctx context.Context, store IndexStore, h domain.Handlers) (int, error) {
	from, err := position(ctx, store, dialogsIndexed)
	if err != nil {
		return 0, fmt.Errorf("contacts: index dialogs: %w", err)
	}
	head := store.Head()
	if from > head {
		return 0, nil
	}
	var todo []domain.DialogIndexed
	log := eventlog.New(store)
	started := (domain.DialogStarted{}).EventType()
	err = store.Scan(ctx, from, int(head-from+1), func(r *eventstore.RecordedEvent) error {
		if r.Type != started {
			return nil
		}
		e, err := log.Decode(r)
		if err != nil {
			return err
		}
		if d, ok := e.(domain.DialogStarted); ok {
			todo = append(todo, domain.DialogIndexed{DialogID: d.DialogID, ContactID: d.ContactID, N: d.N})
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("contacts: index dialogs: read the log: %w", err)
	}
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	work := make(chan domain.DialogIndexed)
	for range 32 {
		wg.Go(func() {
			for d := range work {
				if err := h.IndexDialog(ctx, d); err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, d := range todo {
		work <- d
	}
	close(work)
	wg.Wait()
	if first != nil {
		return 0, fmt.Errorf("contacts: index dialogs: %w", first)
	}
	if err := store.PutSecret(ctx, dialogsIndexed, binary.BigEndian.AppendUint64(nil, head)); err != nil {
		return 0, fmt.Errorf("contacts: index dialogs: save its position: %w", err)
	}
	return len(todo), nil
}

// position is the log position after the one a secret holds (1 if none).
func position(ctx context.Context, store IndexStore, name string) (uint64, error) {
	b, err := store.Secret(ctx, name)
	switch {
	case errors.Is(err, eventstore.ErrNotFound):
		return 1, nil
	case err != nil:
		return 0, fmt.Errorf("read its position: %w", err)
	case len(b) == 8:
		return binary.BigEndian.Uint64(b) + 1, nil
	}
	return 1, nil
}

// DialogsOf lists a contact's dialogs from the index streams
// (domain.Handlers.DialogsOfContact), for OptOut and Forget; a dialog
// whose start failed may be among them (they pass over it).
func DialogsOf(h domain.Handlers) func(ctx context.Context, contact uuid.UUID) ([]uuid.UUID, error) {
	return h.DialogsOfContact
}

// linkNew links what the person has to contact where nothing is linked,
// and says how many links it wrote.
func linkNew(ctx context.Context, h domain.Handlers, p Person, contact uuid.UUID) (int, error) {
	n := 0
	try := func(of func() (uuid.UUID, bool, error), link func() (uuid.UUID, error)) error {
		if _, found, err := of(); err != nil || found {
			return err
		}
		if _, err := link(); err != nil {
			return err
		}
		n++
		return nil
	}
	if p.UserID != 0 {
		if err := try(func() (uuid.UUID, bool, error) { return h.ContactOfUser(ctx, p.UserID) },
			func() (uuid.UUID, error) { return h.LinkUser(ctx, p.UserID, contact) }); err != nil {
			return n, err
		}
	}
	if u := strings.TrimPrefix(p.Username, "@"); u != "" {
		if err := try(func() (uuid.UUID, bool, error) { return h.ContactOfUsername(ctx, u) },
			func() (uuid.UUID, error) { return h.LinkUsername(ctx, u, contact) }); err != nil {
			return n, err
		}
	}
	if strings.ContainsAny(p.Phone, "0123456789") {
		if err := try(func() (uuid.UUID, bool, error) { return h.ContactOfPhone(ctx, p.Phone) },
			func() (uuid.UUID, error) { return h.LinkPhone(ctx, p.Phone, contact) }); err != nil {
			return n, err
		}
	}
	return n, nil
}

// reshredded is the secret that holds how far RepairErasures has read
// the log.
const reshredded = "contacts-reshredded"

// RepairErasures completes the erasures a crash interrupted: Forget
// records the erasure (ContactForgotten) before it deletes the contact's
// key in the store, and a crash between the two leaves the key. For every
// contact erased since its last run whose key is still there it deletes
// the key (deleting a key that is gone already changes nothing), and
// returns how many it deleted. Like Reindex it keeps its position in the
// store's secrets, so a later run reads only the new events.
func RepairErasures(ctx context.Context, store IndexStore) (int, error) {
	from := uint64(1)
	switch b, err := store.Secret(ctx, reshredded); {
	case errors.Is(err, eventstore.ErrNotFound):
	case err != nil:
		return 0, fmt.Errorf("contacts: repair erasures: read its position: %w", err)
	case len(b) == 8:
		from = binary.BigEndian.Uint64(b) + 1
	}
	head := store.Head()
	if from > head {
		return 0, nil
	}
	var erased []uuid.UUID
	forgotten := (domain.ContactForgotten{}).EventType()
	err := store.Scan(ctx, from, int(head-from+1), func(r *eventstore.RecordedEvent) error {
		if r.Type != forgotten {
			return nil
		}
		if id, ok := domain.AggregateContact.ID(r.Stream); ok {
			erased = append(erased, id)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("contacts: repair erasures: read the log: %w", err)
	}
	n := 0
	for _, id := range erased {
		recs, err := store.ReadStream(ctx, domain.ContactStream(id), 1)
		if err != nil {
			return n, fmt.Errorf("contacts: repair erasures: read contact %s: %w", id, err)
		}
		if shredded(recs) {
			continue
		}
		if err := store.Forget(ctx, id.String()); err != nil {
			return n, fmt.Errorf("contacts: repair erasures: delete the key of contact %s: %w", id, err)
		}
		n++
	}
	if err := store.PutSecret(ctx, reshredded, binary.BigEndian.AppendUint64(nil, head)); err != nil {
		return n, fmt.Errorf("contacts: repair erasures: save its position: %w", err)
	}
	return n, nil
}

// shredded says whether the key of a contact is gone: its first event
// with personal fields reads as forgotten (a contact always has some: a
// user id, a username or a phone).
func shredded(recs []eventstore.RecordedEvent) bool {
	for _, r := range recs {
		if len(r.Personal) > 0 {
			return r.Forgotten
		}
	}
	return false
}
