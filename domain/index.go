package domain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
)

// Index streams let command handlers find aggregates by Telegram identity
// without a read model: the stream of a Telegram user links it to its
// contact, the stream of an (account, user) pair to their current dialog.
// Appending with an expected version makes each link unique even when two
// messages from a new user arrive at once. Stream names carry a hash of
// the Telegram user id, not the id itself.

// UserStream is the index stream of a Telegram user.
func UserStream(userID int64) string { return "tguser-" + userHash(userID) }

// PeerStream is the index stream of a Telegram user as seen by an account.
func PeerStream(account uuid.UUID, userID int64) string {
	return "peer-" + account.String() + "-" + userHash(userID)
}

func userHash(userID int64) string {
	h := sha256.Sum256([]byte("telegram-user:" + strconv.FormatInt(userID, 10)))
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

// ContactOfUser returns the contact linked to a Telegram user.
func (h Handlers) ContactOfUser(ctx context.Context, userID int64) (id uuid.UUID, found bool, err error) {
	evs, _, err := h.Log.Load(ctx, UserStream(userID))
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("load contact index: %w", err)
	}
	for _, e := range evs {
		if l, ok := e.(UserLinked); ok {
			id, found = l.ContactID, true
		}
	}
	return id, found, nil
}

// LinkUser links a Telegram user to contact unless it is linked already;
// it returns the contact the user is linked to afterwards (another
// writer's, if one got there first).
func (h Handlers) LinkUser(ctx context.Context, userID int64, contact uuid.UUID) (uuid.UUID, error) {
	stream := UserStream(userID)
	for attempt := 0; ; attempt++ {
		evs, v, err := h.Log.Load(ctx, stream)
		if err != nil {
			return uuid.Nil, fmt.Errorf("load contact index: %w", err)
		}
		for _, e := range evs {
			if l, ok := e.(UserLinked); ok {
				return l.ContactID, nil
			}
		}
		err = h.Log.Append(ctx, stream, v, "", []Event{UserLinked{ContactID: contact}})
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
