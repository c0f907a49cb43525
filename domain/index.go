package domain

import (
	"context"
	"crypto/hmac"
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
// messages from a new user arrive at once. Stream names carry a keyed hash
// of the Telegram user id (username, phone), never the value itself: HMAC-
// SHA256 under the IndexKey, so whoever holds the log but not the master
// key cannot test a guessed phone number or user id against them (a blind
// index).
//
// Logs written before the key was used have index streams named by an
// unkeyed SHA-256 of the value (the Legacy... names). They are read, never
// written: a lookup that finds no link under the keyed name looks under the
// unkeyed one, so a person indexed (or erased) then stays findable, and on
// the do-not-contact list, for good.

// ErrNoIndexKey: Handlers.Index is not set (or its key is shorter than 32
// bytes), so index streams cannot be named.
var ErrNoIndexKey = errors.New("domain: no index key to name index streams (Handlers.Index)")

// IndexKey is the key of the index streams' names. Make it with
// NewIndexKey from the store's index key (eventstore.Store.IndexKey); the
// zero value has no key and names nothing.
type IndexKey struct {
	key string // 32 bytes or more; "" when unset
}

// NewIndexKey returns an IndexKey holding a copy of key. A key shorter
// than 32 bytes gives one without a key: the handlers' index lookups and
// links then fail with ErrNoIndexKey.
func NewIndexKey(key []byte) IndexKey {
	if len(key) < 32 {
		return IndexKey{}
	}
	return IndexKey{key: string(key)}
}

// Valid says whether k holds a key.
func (k IndexKey) Valid() bool { return k.key != "" }

// String never shows the key, so printing handlers (%v, %+v) cannot leak
// it.
func (k IndexKey) String() string {
	if !k.Valid() {
		return "IndexKey(none)"
	}
	return "IndexKey(set)"
}

// GoString is String, for %#v.
func (k IndexKey) GoString() string { return k.String() }

// hash is the keyed hash of s, hex: half of its HMAC-SHA256. Without a
// key it is "" (no stream is named so).
func (k IndexKey) hash(s string) string {
	if !k.Valid() {
		return ""
	}
	m := hmac.New(sha256.New, []byte(k.key))
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// UserStream is the index stream of a Telegram user ("" without a key).
func (k IndexKey) UserStream(userID int64) string {
	return named("tguser-", k.hash(userKey(userID)))
}

// PeerStream is the index stream of a Telegram user as seen by an account
// ("" without a key).
func (k IndexKey) PeerStream(account uuid.UUID, userID int64) string {
	return named("peer-"+account.String()+"-", k.hash(userKey(userID)))
}

// UsernameStream is the index stream of a Telegram username (compared
// case-insensitively, without @; "" without a key).
func (k IndexKey) UsernameStream(username string) string {
	return named("tgusername-", k.hash(usernameKey(username)))
}

// PhoneStream is the index stream of a phone number, by its digits ("+49
// 151 1234" and "+491511234" are one number; "" without a key).
func (k IndexKey) PhoneStream(phone string) string {
	return named("phone-", k.hash(phoneKey(phone)))
}

func named(prefix, hash string) string {
	if hash == "" {
		return ""
	}
	return prefix + hash
}

// The values the index hashes, each with its kind.
func userKey(userID int64) string { return "telegram-user:" + strconv.FormatInt(userID, 10) }

func usernameKey(username string) string {
	return "telegram-username:" + strings.ToLower(strings.TrimPrefix(strings.TrimSpace(username), "@"))
}

func phoneKey(phone string) string {
	return "phone:" + strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
}

// The unkeyed names of logs written before the index key: read only.

// LegacyUserStream is the unkeyed index stream of a Telegram user.
func LegacyUserStream(userID int64) string { return "tguser-" + legacyHash(userKey(userID)) }

// LegacyPeerStream is the unkeyed index stream of a Telegram user as seen
// by an account.
func LegacyPeerStream(account uuid.UUID, userID int64) string {
	return "peer-" + account.String() + "-" + legacyHash(userKey(userID))
}

// LegacyUsernameStream is the unkeyed index stream of a Telegram username.
func LegacyUsernameStream(username string) string {
	return "tgusername-" + legacyHash(usernameKey(username))
}

// LegacyPhoneStream is the unkeyed index stream of a phone number.
func LegacyPhoneStream(phone string) string { return "phone-" + legacyHash(phoneKey(phone)) }

func legacyHash(s string) string {
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
// wins (a link under the legacy, unkeyed name counts as first). They carry
// no personal data and are not erased when a contact is forgotten, so an
// erased person stays findable (as a keyed hash) on the do-not-contact
// list.

// ContactOfUser returns the contact linked to a Telegram user.
func (h Handlers) ContactOfUser(ctx context.Context, userID int64) (id uuid.UUID, found bool, err error) {
	return h.linked(ctx, h.Index.UserStream(userID), LegacyUserStream(userID))
}

// LinkUser links a Telegram user to contact unless it is linked already;
// it returns the contact the user is linked to afterwards (another
// writer's, if one got there first).
func (h Handlers) LinkUser(ctx context.Context, userID int64, contact uuid.UUID) (uuid.UUID, error) {
	return h.link(ctx, h.Index.UserStream(userID), LegacyUserStream(userID), contact, UserLinked{ContactID: contact})
}

// ContactOfUsername returns the contact linked to a Telegram username.
func (h Handlers) ContactOfUsername(ctx context.Context, username string) (uuid.UUID, bool, error) {
	if strings.TrimPrefix(strings.TrimSpace(username), "@") == "" {
		return uuid.Nil, false, errorf(EINVALID, "no username to look up")
	}
	return h.linked(ctx, h.Index.UsernameStream(username), LegacyUsernameStream(username))
}

// LinkUsername links a Telegram username to contact unless it is linked
// already, like LinkUser.
func (h Handlers) LinkUsername(ctx context.Context, username string, contact uuid.UUID) (uuid.UUID, error) {
	if strings.TrimPrefix(strings.TrimSpace(username), "@") == "" {
		return uuid.Nil, errorf(EINVALID, "no username to link")
	}
	return h.link(ctx, h.Index.UsernameStream(username), LegacyUsernameStream(username), contact, UsernameLinked{ContactID: contact})
}

// ContactOfPhone returns the contact linked to a phone number.
func (h Handlers) ContactOfPhone(ctx context.Context, phone string) (uuid.UUID, bool, error) {
	if !strings.ContainsAny(phone, "0123456789") {
		return uuid.Nil, false, errorf(EINVALID, "no phone number to look up")
	}
	return h.linked(ctx, h.Index.PhoneStream(phone), LegacyPhoneStream(phone))
}

// LinkPhone links a phone number to contact unless it is linked already,
// like LinkUser.
func (h Handlers) LinkPhone(ctx context.Context, phone string, contact uuid.UUID) (uuid.UUID, error) {
	if !strings.ContainsAny(phone, "0123456789") {
		return uuid.Nil, errorf(EINVALID, "no phone number to link")
	}
	return h.link(ctx, h.Index.PhoneStream(phone), LegacyPhoneStream(phone), contact, PhoneLinked{ContactID: contact})
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

// firstLink returns the contact of an index stream (its first link) and
// the stream's version.
func (h Handlers) firstLink(ctx context.Context, stream string) (uuid.UUID, bool, uint64, error) {
	evs, v, err := h.Log.Load(ctx, stream)
	if err != nil {
		return uuid.Nil, false, 0, fmt.Errorf("load contact index: %w", err)
	}
	for _, e := range evs {
		if id, ok := linkedContact(e); ok {
			return id, true, v, nil
		}
	}
	return uuid.Nil, false, v, nil
}

// linked returns the contact of an index stream: its first link, else the
// first link of its legacy (unkeyed) stream.
func (h Handlers) linked(ctx context.Context, stream, legacy string) (uuid.UUID, bool, error) {
	if !h.Index.Valid() {
		return uuid.Nil, false, ErrNoIndexKey
	}
	for _, s := range []string{stream, legacy} {
		if id, found, _, err := h.firstLink(ctx, s); err != nil || found {
			return id, found, err
		}
	}
	return uuid.Nil, false, nil
}

// link appends ev (linking contact) to an index stream that has no link
// yet, with its expected version, unless its legacy stream has one; it
// returns the contact linked afterwards.
func (h Handlers) link(ctx context.Context, stream, legacy string, contact uuid.UUID, ev Event) (uuid.UUID, error) {
	if !h.Index.Valid() {
		return uuid.Nil, ErrNoIndexKey
	}
	// Nothing writes to a legacy stream any more: one look is enough.
	if id, found, _, err := h.firstLink(ctx, legacy); err != nil || found {
		return id, err
	}
	for attempt := 0; ; attempt++ {
		id, found, v, err := h.firstLink(ctx, stream)
		if err != nil || found {
			return id, err
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
// Telegram user: the last link of the peer's index stream, else of its
// legacy (unkeyed) stream.
func (h Handlers) DialogOfPeer(ctx context.Context, account uuid.UUID, userID int64) (PeerLinked, bool, error) {
	if !h.Index.Valid() {
		return PeerLinked{}, false, ErrNoIndexKey
	}
	for _, stream := range []string{h.Index.PeerStream(account, userID), LegacyPeerStream(account, userID)} {
		evs, _, err := h.Log.Load(ctx, stream)
		if err != nil {
			return PeerLinked{}, false, fmt.Errorf("load dialog index of account %s: %w", account, err)
		}
		for i := len(evs) - 1; i >= 0; i-- {
			if l, ok := evs[i].(PeerLinked); ok {
				return l, true, nil
			}
		}
	}
	return PeerLinked{}, false, nil
}

// LinkPeer makes link the current dialog between its account and a
// Telegram user, if the (keyed) index is still at version expected (0: no
// dialog yet; see PeerVersion); it returns ErrConflict if another dialog
// was linked meanwhile.
func (h Handlers) LinkPeer(ctx context.Context, userID int64, expected uint64, link PeerLinked) error {
	if !h.Index.Valid() {
		return ErrNoIndexKey
	}
	stream := h.Index.PeerStream(link.AccountID, userID)
	if err := h.Log.Append(ctx, stream, expected, "", []Event{link}); err != nil {
		return fmt.Errorf("link dialog %s: %w", link.DialogID, err)
	}
	return nil
}

// PeerVersion is the version of the (keyed) dialog index of an account and
// user: what LinkPeer expects.
func (h Handlers) PeerVersion(ctx context.Context, account uuid.UUID, userID int64) (uint64, error) {
	if !h.Index.Valid() {
		return 0, ErrNoIndexKey
	}
	return h.Log.Version(ctx, h.Index.PeerStream(account, userID))
}
