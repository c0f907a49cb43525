package contacts

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// Person is what is known of someone: any of a Telegram user id, a
// username and a phone, and maybe a name.
type Person struct {
	UserID   int64
	Username string // without @
	Phone    string // + and digits
	Name     string
}

func (p Person) String() string {
	switch {
	case p.Username != "":
		return "@" + p.Username
	case p.UserID != 0:
		return fmt.Sprintf("Telegram user %d", p.UserID)
	case p.Phone != "":
		return "phone " + p.Phone
	}
	return "nobody"
}

func (p Person) none() bool { return p.UserID == 0 && p.Username == "" && p.Phone == "" }

// Linked returns the contacts the person's identities are linked to in
// the index streams (domain.IndexKey's UserStream, UsernameStream and
// PhoneStream, or the unkeyed ones of an older log): the user id's first,
// then the username's, then the phone's, without repeats. A contact may be linked and not exist yet, when a crash came
// between the link and the contact.
func Linked(ctx context.Context, h domain.Handlers, p Person) ([]uuid.UUID, error) {
	var out []uuid.UUID
	add := func(id uuid.UUID, found bool, err error) error {
		if err != nil || !found {
			return err
		}
		for _, o := range out {
			if o == id {
				return nil
			}
		}
		out = append(out, id)
		return nil
	}
	if p.UserID != 0 {
		if err := add(h.ContactOfUser(ctx, p.UserID)); err != nil {
			return nil, err
		}
	}
	if p.Username != "" {
		if err := add(h.ContactOfUsername(ctx, p.Username)); err != nil {
			return nil, err
		}
	}
	if p.Phone != "" {
		if err := add(h.ContactOfPhone(ctx, p.Phone)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Twins returns the contacts that are one person with contact: contact
// itself first, then every contact its user id, username or phone is
// linked to in the index streams, and theirs in turn (one person can be
// two contacts when an import lists them once by user id and once by
// username). A contact that is another Telegram user (the username or
// phone changed hands, as Record passes over) and a link to a contact that
// does not exist (a crash between the link and the contact) are left out;
// a contact that does not exist itself is returned alone.
func Twins(ctx context.Context, h domain.Handlers, contact uuid.UUID) ([]uuid.UUID, error) {
	return twins(ctx, h, []uuid.UUID{contact}, 0)
}

// twins is Twins from several contacts at once, the first of them
// returned even if it does not exist; userID, if not 0, is the person's
// Telegram user (else the first one a contact has).
func twins(ctx context.Context, h domain.Handlers, from []uuid.UUID, userID int64) ([]uuid.UUID, error) {
	var out []uuid.UUID
	seen := map[uuid.UUID]bool{}
	queue := append([]uuid.UUID(nil), from...)
	for i := 0; i < len(queue); i++ {
		id := queue[i]
		if seen[id] {
			continue
		}
		seen[id] = true
		c, err := h.LoadContact(ctx, id)
		if err != nil {
			return nil, err
		}
		if !c.Exists {
			if i == 0 {
				out = append(out, id)
			}
			continue
		}
		if i > 0 && userID != 0 && c.UserID != 0 && c.UserID != userID {
			continue // another Telegram user: the username or phone changed hands
		}
		if userID == 0 {
			userID = c.UserID
		}
		out = append(out, id)
		linked, err := Linked(ctx, h, Person{UserID: c.UserID, Username: c.Username, Phone: c.Phone})
		if err != nil {
			return nil, err
		}
		queue = append(queue, linked...)
	}
	return out, nil
}

// link links each of the person's identities to contact (the first writer
// wins: one linked to another contact already stays so) and returns the
// contact the first of them is linked to afterwards.
func link(ctx context.Context, h domain.Handlers, p Person, contact uuid.UUID) (uuid.UUID, error) {
	first := uuid.Nil
	keep := func(id uuid.UUID, err error) error {
		if err == nil && first == uuid.Nil {
			first = id
		}
		return err
	}
	if p.UserID != 0 {
		if err := keep(h.LinkUser(ctx, p.UserID, contact)); err != nil {
			return uuid.Nil, err
		}
	}
	if p.Username != "" {
		if err := keep(h.LinkUsername(ctx, p.Username, contact)); err != nil {
			return uuid.Nil, err
		}
	}
	if p.Phone != "" {
		if err := keep(h.LinkPhone(ctx, p.Phone, contact)); err != nil {
			return uuid.Nil, err
		}
	}
	return first, nil
}

// Record returns the person's contact, adding one with add's source,
// basis and note if there is none, and links every identity of the
// person to it. The contact found by the user id wins; one found by
// username or phone that is another Telegram user already is someone
// else (the username changed hands) and is passed over. The links are
// written before the contact, so two writers at once agree on one
// contact and a crash between the steps is repaired by the next call.
// It does not check that the contact may be written to
// (domain.Contact.Contactable).
func Record(ctx context.Context, h domain.Handlers, p Person, add domain.AddContact) (domain.Contact, error) {
	if p.none() {
		return domain.Contact{}, &domain.Error{Code: domain.EINVALID, Message: "a contact needs a Telegram user id, a username or a phone"}
	}
	for attempt := 0; ; attempt++ {
		ids, err := Linked(ctx, h, p)
		if err != nil {
			return domain.Contact{}, err
		}
		var c domain.Contact
		id := uuid.Nil
		for _, cand := range ids {
			if c, err = h.LoadContact(ctx, cand); err != nil {
				return domain.Contact{}, err
			}
			if p.UserID != 0 && c.UserID != 0 && c.UserID != p.UserID {
				continue // another Telegram user: the username or phone changed hands
			}
			id = cand
			break
		}
		if id == uuid.Nil {
			c, id = domain.Contact{}, newID()
		}
		won, err := link(ctx, h, p, id)
		if err != nil {
			return domain.Contact{}, err
		}
		if won != id && attempt < 3 {
			continue // another writer linked the person first: take theirs
		}
		if !c.Exists {
			add.ContactID, add.UserID, add.Username, add.Phone = id, p.UserID, p.Username, p.Phone
			if add.Name == "" {
				add.Name = p.Name
			}
			if _, err := h.Contact(ctx, id, add); err != nil && domain.ErrorCode(err) != domain.ESTATE {
				return domain.Contact{}, fmt.Errorf("add contact for %s: %w", p, err)
			}
		} else if p.UserID != 0 && c.UserID == 0 {
			if _, err := h.Contact(ctx, id, domain.SetTelegramUser{UserID: p.UserID}); err != nil && domain.ErrorCode(err) != domain.ESTATE {
				return domain.Contact{}, fmt.Errorf("set the Telegram user of contact %s: %w", id, err)
			}
		}
		return h.LoadContact(ctx, id)
	}
}

// OptOutRequest is whom OptOut puts on the do-not-contact list, by whom
// and why.
type OptOutRequest struct {
	// Whom: a person by their identities (Person), or by a contact of
	// theirs (Contact: a dialog's contact, when the lead asked in the
	// dialog). With Contact zero, a contact is recorded for Person if none
	// is linked to them yet: a person who asked not to be written to is
	// remembered for exactly that (source manual, basis legitimate
	// interest).
	Person  Person
	Contact uuid.UUID
	// By is who put the person on the list: domain.OptOutByLead, "cli",
	// "admin:<id>"; Reason is why, in their words.
	By, Reason string
	// Open lists a contact's dialogs, so that OptOut ends the open ones at
	// once (an opt-out by By, for Reason; closed ones are passed over).
	// nil leaves them to the dialog engine, which ends the open dialogs of
	// a contact on the list as soon as it sees ContactOptedOut (By
	// "do-not-contact"): the lead's own opt-out is recorded only in the
	// dialog they wrote in.
	Open func(ctx context.Context, contact uuid.UUID) ([]uuid.UUID, error)
}

// OptOut puts a person on the do-not-contact list: the one way every
// caller does it (the dialog engine for a lead's "stop", salesbot
// contacts optout, the admin bot's /optout). The list is of people, not
// of contacts: OptOut opts out the person's contact, every contact their
// identities are linked to, and each of their Twins (but one that is
// another Telegram user, as Record passes over), then ends their open
// dialogs through req.Open. Once begun it finishes even if ctx ends, so a
// person is never left half on the list. It returns the person's contact
// and the numbers of the dialogs it ended.
func OptOut(ctx context.Context, h domain.Handlers, req OptOutRequest) (uuid.UUID, []int64, error) {
	ctx = context.WithoutCancel(ctx)
	var c domain.Contact
	var err error
	if req.Contact != uuid.Nil {
		if c, err = h.LoadContact(ctx, req.Contact); err != nil {
			return uuid.Nil, nil, err
		}
		if !c.Exists {
			return uuid.Nil, nil, fmt.Errorf("opt out contact %s: %w", req.Contact, &domain.Error{Code: domain.EINVALID, Message: "unknown contact"})
		}
	} else if c, err = Record(ctx, h, req.Person, domain.AddContact{Source: domain.SourceManual, Basis: domain.BasisLegitimateInterest,
		Note: "put on the do-not-contact list by " + req.By}); err != nil {
		return uuid.Nil, nil, err
	}
	linked, err := Linked(ctx, h, req.Person)
	if err != nil {
		return uuid.Nil, nil, err
	}
	uid := req.Person.UserID
	if uid == 0 {
		uid = c.UserID
	}
	ids, err := twins(ctx, h, append([]uuid.UUID{c.ID}, linked...), uid)
	if err != nil {
		return c.ID, nil, err
	}
	var ended []int64
	for _, id := range ids {
		if _, err := h.Contact(ctx, id, domain.OptOutContact{Reason: req.Reason, By: req.By}); err != nil {
			return c.ID, ended, fmt.Errorf("opt out contact %s: %w", id, err)
		}
		n, err := endDialogs(ctx, h, id, req.Reason, req.By, req.Open)
		ended = append(ended, n...)
		if err != nil {
			return c.ID, ended, err
		}
	}
	return c.ID, ended, nil
}

// endDialogs ends the contact's open dialogs with an opt-out by by and
// returns their numbers.
func endDialogs(ctx context.Context, h domain.Handlers, contact uuid.UUID, reason, by string, open func(context.Context, uuid.UUID) ([]uuid.UUID, error)) ([]int64, error) {
	if open == nil {
		return nil, nil
	}
	dialogs, err := open(ctx, contact)
	if err != nil {
		return nil, fmt.Errorf("find the dialogs of contact %s: %w", contact, err)
	}
	var ended []int64
	for _, d := range dialogs {
		st, err := h.LoadDialog(ctx, d)
		if err != nil {
			return ended, err
		}
		if !st.Exists || st.Stage == domain.StageClosed {
			continue
		}
		if _, err := h.Dialog(ctx, d, contact, domain.OptOutDialog{Reason: reason, By: by}); err != nil {
			return ended, fmt.Errorf("end dialog %d of opted-out contact %s: %w", st.N, contact, err)
		}
		ended = append(ended, st.N)
	}
	return ended, nil
}

// Shredder deletes a subject's key (eventstore.Store.Forget).
type Shredder interface {
	Forget(ctx context.Context, subject string) error
}

// Forget erases a contact and each of its Twins (the same person): it
// ends their open dialogs, records the erasure (domain.ForgetContact,
// which also puts the contact on the do-not-contact list) and deletes the
// contact's key in the store, so every personal field it sealed (names,
// phones, messages, custom fields) reads as forgotten in exports, read
// models and replays. The index streams stay: the person remains on the
// do-not-contact list as keyed hashes. Forgetting again repeats only the key
// deletion.
func Forget(ctx context.Context, h domain.Handlers, store Shredder, contact uuid.UUID, by string, open func(context.Context, uuid.UUID) ([]uuid.UUID, error)) error {
	c, err := h.LoadContact(ctx, contact)
	if err != nil {
		return err
	}
	if !c.Exists {
		return fmt.Errorf("forget contact %s: %w", contact, &domain.Error{Code: domain.EINVALID, Message: "unknown contact"})
	}
	ids, err := Twins(ctx, h, contact)
	if err != nil {
		return fmt.Errorf("forget contact %s: find its twins: %w", contact, err)
	}
	// The twins first: their identities are gone once they are erased,
	// and a retry after a crash finds them again through contact's.
	for i := len(ids) - 1; i >= 0; i-- {
		if err := forget(ctx, h, store, ids[i], by, open); err != nil {
			return err
		}
	}
	return nil
}

// forget erases one existing contact.
func forget(ctx context.Context, h domain.Handlers, store Shredder, contact uuid.UUID, by string, open func(context.Context, uuid.UUID) ([]uuid.UUID, error)) error {
	c, err := h.LoadContact(ctx, contact)
	if err != nil {
		return err
	}
	if !c.Forgotten { // after the key is gone nothing personal can be sealed
		if _, err := endDialogs(ctx, h, contact, "erased", "erasure", open); err != nil {
			return err
		}
		if _, err := h.Contact(ctx, contact, domain.ForgetContact{By: by}); err != nil {
			return fmt.Errorf("forget contact %s: %w", contact, err)
		}
	}
	if err := store.Forget(ctx, contact.String()); err != nil {
		return fmt.Errorf("forget contact %s: delete its key: %w", contact, err)
	}
	return nil
}

// ErrNotFound: no contact is linked to the person.
var ErrNotFound = errors.New("contacts: no such contact")

func newID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.New()
	}
	return id
}
