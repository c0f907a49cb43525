package domain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Index streams let command handlers find aggregates by Telegram identity
// without a read model: the stream of a Telegram user links it to its
// contact, the stream of an (account, user) pair to their current dialog.
// Appending with an expected version makes each link unique even when two
// messages from a new user arrive at once. Stream names carry a hash of
// the Telegram user id (username, phone), not the value itself.

// UserStream is the index stream of a Telegram user.
func UserStream(userID int64) string { return "tguser-" + userHash(userID) }

// PeerStream is the index stream of a Telegram user as seen by an account.
func PeerStream(account uuid.UUID, userID int64) string {
	return "peer-" + account.String() + "-" + userHash(userID)
}

func userHash(userID int64) string { return hash("telegram-user:" + strconv.FormatInt(userID, 10)) }

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:16])
}

// UserLinked links a Telegram user to a contact.
type UserLinked struct {
	ContactID uuid.UUID `json:"contact_id"`
}

// PeerLinked makes a dialog the current one between an account and a
// Telegram user.
type PeerLinked struct {
	AccountID uuid.UUID `json:"account_id"`
	DialogID  uuid.UUID `json:"dialog_id"`
	ContactID uuid.UUID `json:"contact_id"`
}

func (UserLinked) EventType() string { return "UserLinked" }
func (PeerLinked) EventType() string { return "PeerLinked" }

// UsernameStream is the index stream of a Telegram username (compared
// case-insensitively, without @).
func UsernameStream(username string) string {
	u := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(username), "@"))
	return "tgusername-" + hash("telegram-username:"+u)
}

// PhoneStream is the index stream of a phone number (its digits: "+49 151
// 1234" and "+491511234" are one number).
func PhoneStream(phone string) string {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
	return "phone-" + hash("phone:"+digits)
}

// UsernameLinked links a Telegram username to a contact.
type UsernameLinked struct {
	ContactID uuid.UUID `json:"contact_id"`
}

// PhoneLinked links a phone number to a contact.
type PhoneLinked struct {
	ContactID uuid.UUID `json:"contact_id"`
}

func (UsernameLinked) EventType() string { return "UsernameLinked" }
func (PhoneLinked) EventType() string    { return "PhoneLinked" }

// The index streams of contacts hold one link each; the first writer
// wins. They carry no personal data and are not erased when a contact is
// forgotten, so an erased person stays findable (as a hash) on the
// do-not-contact list.

// ContactOfUser returns the contact linked to a Telegram user.
func (h Handlers) ContactOfUser(ctx context.Context, userID int64) (id uuid.UUID, found bool, err error) {
	return h.linked(ctx, UserStream(userID))
}

// LinkUser links a Telegram user to contact unless it is linked already;
// it returns the contact the user is linked to afterwards (another
// writer's, if one got there first).
func (h Handlers) LinkUser(ctx context.Context, userID int64, contact uuid.UUID) (uuid.UUID, error) {
	return h.link(ctx, UserStream(userID), contact, UserLinked{ContactID: contact})
}

// ContactOfUsername returns the contact linked to a Telegram username.
func (h Handlers) ContactOfUsername(ctx context.Context, username string) (uuid.UUID, bool, error) {
	if strings.TrimPrefix(strings.TrimSpace(username), "@") == "" {
		return uuid.Nil, false, errorf(EINVALID, "no username to look up")
	}
	return h.linked(ctx, UsernameStream(username))
}

// LinkUsername links a Telegram username to contact unless it is linked
// already, like LinkUser.
func (h Handlers) LinkUsername(ctx context.Context, username string, contact uuid.UUID) (uuid.UUID, error) {
	if strings.TrimPrefix(strings.TrimSpace(username), "@") == "" {
		return uuid.Nil, errorf(EINVALID, "no username to link")
	}
	return h.link(ctx, UsernameStream(username), contact, UsernameLinked{ContactID: contact})
}

// ContactOfPhone returns the contact linked to a phone number.
func (h Handlers) ContactOfPhone(ctx context.Context, phone string) (uuid.UUID, bool, error) {
	if !strings.ContainsAny(phone, "0123456789") {
		return uuid.Nil, false, errorf(EINVALID, "no phone number to look up")
	}
	return h.linked(ctx, PhoneStream(phone))
}

// LinkPhone links a phone number to contact unless it is linked already,
// like LinkUser.
func (h Handlers) LinkPhone(ctx context.Context, phone string, contact uuid.UUID) (uuid.UUID, error) {
	if !strings.ContainsAny(phone, "0123456789") {
		return uuid.Nil, errorf(EINVALID, "no phone number to link")
	}
	return h.link(ctx, PhoneStream(phone), contact, PhoneLinked{ContactID: contact})
}

// linkedContact is the contact a link event points to.
func linkedContact(e Event) (uuid.UUID, bool) {
	switch l := e.(type) {
	case UserLinked:
		return l.ContactID, true
	case UsernameLinked:
		return l.ContactID, true
	case PhoneLinked:
		return l.ContactID, true
	}
	return uuid.Nil, false
}

// linked returns the contact of an index stream: its first link.
func (h Handlers) linked(ctx context.Context, stream string) (uuid.UUID, bool, error) {
	evs, _, err := h.Log.Load(ctx, stream)
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("load contact index: %w", err)
	}
	for _, e := range evs {
		if id, ok := linkedContact(e); ok {
			return id, true, nil
		}
	}
	return uuid.Nil, false, nil
}

// link appends ev (linking contact) to an index stream that has no link
// yet, with its expected version; it returns the contact linked
// afterwards.
func (h Handlers) link(ctx context.Context, stream string, contact uuid.UUID, ev Event) (uuid.UUID, error) {
	for attempt := 0; ; attempt++ {
		evs, v, err := h.Log.Load(ctx, stream)
		if err != nil {
			return uuid.Nil, fmt.Errorf("load contact index: %w", err)
		}
		for _, e := range evs {
			if id, ok := linkedContact(e); ok {
				return id, nil
			}
		}
		err = h.Log.Append(ctx, stream, v, "", []Event{ev})
		if err == nil {
			return contact, nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= h.retries() {
			return uuid.Nil, fmt.Errorf("link contact %s: %w", contact, err)
		}
	}
}

// DialogOfPeer returns the current dialog between an account and a
// Telegram user.
func (h Handlers) DialogOfPeer(ctx context.Context, account uuid.UUID, userID int64) (PeerLinked, bool, error) {
	evs, _, err := h.Log.Load(ctx, PeerStream(account, userID))
	if err != nil {
		return PeerLinked{}, false, fmt.Errorf("load dialog index of account %s: %w", account, err)
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if l, ok := evs[i].(PeerLinked); ok {
			return l, true, nil
		}
	}
	return PeerLinked{}, false, nil
}

// LinkPeer makes link the current dialog between its account and a
// Telegram user, if the index is still at version expected (0: no dialog
// yet); it returns ErrConflict if another dialog was linked meanwhile.
func (h Handlers) LinkPeer(ctx context.Context, userID int64, expected uint64, link PeerLinked) error {
	stream := PeerStream(link.AccountID, userID)
	if err := h.Log.Append(ctx, stream, expected, "", []Event{link}); err != nil {
		return fmt.Errorf("link dialog %s: %w", link.DialogID, err)
	}
	return nil
}

// PeerVersion is the version of the dialog index of an account and user.
func (h Handlers) PeerVersion(ctx context.Context, account uuid.UUID, userID int64) (uint64, error) {
	return h.Log.Version(ctx, PeerStream(account, userID))
}
