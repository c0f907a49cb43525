package telegram

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram/updates"

	"github.com/salesbot/salesbot/eventstore"
)

// Secret names. Everything an account needs to reconnect lives under
// "tg/<account id>/".
func sessionName(account uuid.UUID) string { return "tg/" + account.String() + "/session" }
func stateName(account uuid.UUID) string   { return "tg/" + account.String() + "/state" }
func peerPrefix(account uuid.UUID) string  { return "tg/" + account.String() + "/peer/" }

// peerName names the access hash of a user as an account saw it:
// "tg/<account>/peer/" and the hex HMAC-SHA256 of the account and the
// user id under the store's index key, so the name (a key in the store,
// in clear) reveals nothing of the user, not even that two accounts saw
// the same one.
func peerName(key []byte, account uuid.UUID, user int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("telegram-peer:" + account.String() + ":" + strconv.FormatInt(user, 10)))
	return peerPrefix(account) + hex.EncodeToString(m.Sum(nil))
}

// legacyPeerUser is the user of a name from before peerName was keyed
// ("tg/<account>/peer/<user id>"); false for any other name.
func legacyPeerUser(account uuid.UUID, name string) (int64, bool) {
	rest, ok := strings.CutPrefix(name, peerPrefix(account))
	if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" {
		return 0, false
	}
	user, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || user <= 0 {
		return 0, false
	}
	return user, true
}

// errNoIndexKey: the Dialer has no IndexKey to name peers with.
var errNoIndexKey = errors.New("telegram: Dialer.IndexKey (32 bytes, eventstore.Store.IndexKey) is required")

// sessionStorage is gotd's session.Storage on the store's secrets.
type sessionStorage struct {
	secrets eventstore.Secrets
	account uuid.UUID
	log     *slog.Logger // a failed write is told here: gotd does not say
}

var _ session.Storage = sessionStorage{}

func (s sessionStorage) LoadSession(ctx context.Context) ([]byte, error) {
	b, err := s.secrets.Secret(ctx, sessionName(s.account))
	if errors.Is(err, eventstore.ErrNotFound) {
		return nil, session.ErrNotFound
	}
	return b, err
}

func (s sessionStorage) StoreSession(ctx context.Context, data []byte) error {
	err := s.secrets.PutSecret(ctx, sessionName(s.account), data)
	if err != nil && s.log != nil {
		s.log.Error("telegram: store the session", "account", s.account, "err", err)
	}
	return err
}

// HasSession reports whether an account has a stored session.
func HasSession(ctx context.Context, secrets eventstore.Secrets, account uuid.UUID) (bool, error) {
	_, err := secrets.Secret(ctx, sessionName(account))
	switch {
	case errors.Is(err, eventstore.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("telegram: load session of account %s: %w", account, err)
	}
	return true, nil
}

// DeleteSession forgets everything stored for an account: its session,
// updates state and known peers' access hashes are not needed again. Peers
// are left to be overwritten: their names are keyed hashes and the access
// hashes harmless alone.
func DeleteSession(ctx context.Context, secrets eventstore.Secrets, account uuid.UUID) error {
	for _, name := range []string{sessionName(account), stateName(account)} {
		if err := secrets.DeleteSecret(ctx, name); err != nil {
			return fmt.Errorf("telegram: delete %s: %w", name, err)
		}
	}
	return nil
}

// stateStorage is gotd's updates.StateStorage for one account on the
// store's secrets. Private chats need only the common state (pts, qts,
// date, seq); channel state is kept in memory only.
//
// Exactly-once delivery rests on it: gotd advances and saves pts after the
// handler ran even when the handler failed, so after a handler failure the
// storage stops saving (hold). The failed message stays beyond the saved
// pts, and the next connection fetches it again with getDifference.
type stateStorage struct {
	secrets eventstore.Secrets
	account uuid.UUID

	mu       sync.Mutex
	held     bool
	channels map[int64]int
}

var _ updates.StateStorage = (*stateStorage)(nil)

// errHeld is returned while the state must not advance.
var errHeld = errors.New("telegram: updates state is held after a handler failure")

func (s *stateStorage) hold() {
	s.mu.Lock()
	s.held = true
	s.mu.Unlock()
}

func (s *stateStorage) GetState(ctx context.Context, _ int64) (updates.State, bool, error) {
	b, err := s.secrets.Secret(ctx, stateName(s.account))
	if errors.Is(err, eventstore.ErrNotFound) {
		return updates.State{}, false, nil
	}
	if err != nil {
		return updates.State{}, false, err
	}
	var st updates.State
	if err := json.Unmarshal(b, &st); err != nil {
		return updates.State{}, false, fmt.Errorf("telegram: decode updates state of account %s: %w", s.account, err)
	}
	return st, true, nil
}

func (s *stateStorage) SetState(ctx context.Context, _ int64, st updates.State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held {
		return errHeld
	}
	return s.put(ctx, st)
}

// put saves the state without waiting for the disk: losing the latest
// state to a power cut only means fetching a few messages again, which
// the handler recognises (by Telegram message id) and records once.
func (s *stateStorage) put(ctx context.Context, st updates.State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return s.secrets.PutSecretNoSync(ctx, stateName(s.account), b)
}

// update changes the stored state under the lock.
func (s *stateStorage) update(ctx context.Context, f func(*updates.State)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held {
		return errHeld
	}
	st, found, err := s.GetState(ctx, 0)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("telegram: no updates state for account %s", s.account)
	}
	f(&st)
	return s.put(ctx, st)
}

func (s *stateStorage) SetPts(ctx context.Context, _ int64, pts int) error {
	return s.update(ctx, func(st *updates.State) { st.Pts = pts })
}

func (s *stateStorage) SetQts(ctx context.Context, _ int64, qts int) error {
	return s.update(ctx, func(st *updates.State) { st.Qts = qts })
}

func (s *stateStorage) SetDate(ctx context.Context, _ int64, date int) error {
	return s.update(ctx, func(st *updates.State) { st.Date = date })
}

func (s *stateStorage) SetSeq(ctx context.Context, _ int64, seq int) error {
	return s.update(ctx, func(st *updates.State) { st.Seq = seq })
}

func (s *stateStorage) SetDateSeq(ctx context.Context, _ int64, date, seq int) error {
	return s.update(ctx, func(st *updates.State) { st.Date, st.Seq = date, seq })
}

func (s *stateStorage) GetChannelPts(_ context.Context, _, channel int64) (int, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pts, ok := s.channels[channel]
	return pts, ok, nil
}

func (s *stateStorage) SetChannelPts(_ context.Context, _, channel int64, pts int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.channels == nil {
		s.channels = map[int64]int{}
	}
	s.channels[channel] = pts
	return nil
}

func (s *stateStorage) ForEachChannels(ctx context.Context, _ int64, f func(context.Context, int64, int) error) error {
	s.mu.Lock()
	chans := make(map[int64]int, len(s.channels))
	for k, v := range s.channels {
		chans[k] = v
	}
	s.mu.Unlock()
	for id, pts := range chans {
		if err := f(ctx, id, pts); err != nil {
			return err
		}
	}
	return nil
}

// peers keeps the access hashes one account has seen, each under a keyed
// name (peerName).
type peers struct {
	secrets eventstore.Secrets
	key     []byte // the store's index key
	account uuid.UUID
}

func (p peers) put(ctx context.Context, user, hash int64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(hash))
	return p.secrets.PutSecret(ctx, peerName(p.key, p.account, user), b[:])
}

func (p peers) get(ctx context.Context, user int64) (int64, bool, error) {
	b, err := p.secrets.Secret(ctx, peerName(p.key, p.account, user))
	switch {
	case errors.Is(err, eventstore.ErrNotFound):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case len(b) != 8:
		return 0, false, fmt.Errorf("telegram: an access hash on account %s is corrupt", p.account)
	}
	return int64(binary.BigEndian.Uint64(b)), true, nil
}

// migrate moves the access hashes stored before their names were keyed
// (the user id in clear) to their keyed names, and returns how many it
// moved. Each is written under its new name before the old one is
// deleted, so a crash in between leaves a copy that the next start
// finishes moving; an access hash stored under the new name already is
// newer and is kept.
func (p peers) migrate(ctx context.Context) (int, error) {
	names, err := p.secrets.SecretNames(ctx, peerPrefix(p.account))
	if err != nil {
		return 0, fmt.Errorf("telegram: list the peers of account %s: %w", p.account, err)
	}
	n := 0
	for _, old := range names {
		user, ok := legacyPeerUser(p.account, old)
		if !ok {
			continue // a keyed name
		}
		name := peerName(p.key, p.account, user)
		switch _, err := p.secrets.Secret(ctx, name); {
		case errors.Is(err, eventstore.ErrNotFound):
			v, err := p.secrets.Secret(ctx, old)
			if errors.Is(err, eventstore.ErrNotFound) {
				continue
			}
			if err != nil {
				return n, fmt.Errorf("telegram: read a peer of account %s: %w", p.account, err)
			}
			if err := p.secrets.PutSecret(ctx, name, v); err != nil {
				return n, fmt.Errorf("telegram: move a peer of account %s: %w", p.account, err)
			}
		case err != nil:
			return n, fmt.Errorf("telegram: read a peer of account %s: %w", p.account, err)
		}
		if err := p.secrets.DeleteSecret(ctx, old); err != nil {
			return n, fmt.Errorf("telegram: delete the old name of a peer of account %s: %w", p.account, err)
		}
		n++
	}
	// The old names held user ids in clear: have them leave the data files
	// too, where the store can.
	if c, ok := p.secrets.(interface {
		CompactSecrets(ctx context.Context, prefix string) error
	}); ok && n > 0 {
		if err := c.CompactSecrets(ctx, peerPrefix(p.account)); err != nil {
			return n, fmt.Errorf("telegram: compact the old peer names of account %s: %w", p.account, err)
		}
	}
	return n, nil
}
