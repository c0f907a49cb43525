package telegramtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"unsafe"

	"github.com/gotd/td/crypto"
	"github.com/gotd/td/tgtest"
)

// savedState is what a sandbox keeps between runs (Options.StateFile):
// users with their counters, the access-hash secret and the auth keys, so
// clients reconnect with their stored sessions instead of paying for new
// keys. Messages are not kept.
type savedState struct {
	Secret []byte      `json:"secret"`
	NextID int64       `json:"next_id"`
	Users  []savedUser `json:"users"`
	Keys   []savedKey  `json:"keys"`
}

type savedUser struct {
	ID        int64  `json:"id"`
	Username  string `json:"username,omitempty"`
	Phone     string `json:"phone,omitempty"`
	First     string `json:"first,omitempty"`
	Last      string `json:"last,omitempty"`
	Pts       int    `json:"pts"`
	LastMsgID int    `json:"last_msg_id"`
}

type savedKey struct {
	ID    [8]byte `json:"id"`
	Value []byte  `json:"value"`
	User  int64   `json:"user"`
}

// save writes the state file (0600: it holds auth keys).
func (s *Sandbox) save(path string) error {
	s.mu.Lock()
	st := savedState{Secret: s.secret[:], NextID: s.nextID}
	for _, u := range s.users {
		st.Users = append(st.Users, savedUser{ID: u.id, Username: u.username, Phone: u.phone, First: u.first, Last: u.last, Pts: u.pts, LastMsgID: u.lastMsgID})
	}
	for id, k := range s.keys {
		if k.user == 0 || k.value == nil {
			continue
		}
		st.Keys = append(st.Keys, savedKey{ID: id, Value: k.value[:], User: k.user})
	}
	s.mu.Unlock()
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("sandbox: save state: %w", err)
	}
	return os.Rename(tmp, path)
}

// load reads the state file, if there is one, before the server starts.
func (s *Sandbox) load(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox: load state: %w", err)
	}
	var st savedState
	if err := json.Unmarshal(b, &st); err != nil || len(st.Secret) != len(s.secret) {
		return fmt.Errorf("sandbox: state file %s is corrupt: %v", path, err)
	}
	copy(s.secret[:], st.Secret)
	s.nextID = st.NextID
	for _, su := range st.Users {
		u := &user{id: su.ID, username: su.Username, phone: su.Phone, first: su.First, last: su.Last, pts: su.Pts, lastMsgID: su.LastMsgID,
			random: map[int64]int{}, received: map[int64]int{}, blocked: map[int64]bool{}}
		s.users[u.id] = u
		if u.username != "" {
			s.byName[lower(u.username)] = u
		}
		if u.phone != "" {
			s.byPhone[u.phone] = u
		}
	}
	for _, sk := range st.Keys {
		var k crypto.AuthKey
		if len(sk.Value) != len(k.Value) {
			return fmt.Errorf("sandbox: state file %s has a bad key", path)
		}
		copy(k.Value[:], sk.Value)
		k.ID = sk.ID
		if err := addServerKey(s.srv, k); err != nil {
			return err
		}
		v := k.Value
		s.keys[k.ID] = &key{user: sk.User, value: &v, sessions: map[int64]tgtest.Session{}}
	}
	return nil
}

// addServerKey makes tgtest's server know an auth key from an earlier run.
// tgtest keeps its keys unexported and offers no way to add one, so this
// reaches into Server.users.sessions (gotd/td v0.162.0 layout); the sandbox
// test checks that a restored key works, so a layout change fails loudly.
func addServerKey(srv *tgtest.Server, k crypto.AuthKey) error {
	users := reflect.ValueOf(srv).Elem().FieldByName("users")
	if !users.IsValid() || users.Kind() != reflect.Pointer {
		return errors.New("sandbox: this gotd version's tgtest cannot restore keys")
	}
	sessions := users.Elem().FieldByName("sessions")
	if !sessions.IsValid() || sessions.Type() != reflect.TypeOf(map[[8]byte]crypto.AuthKey{}) {
		return errors.New("sandbox: this gotd version's tgtest cannot restore keys")
	}
	m := *(*map[[8]byte]crypto.AuthKey)(unsafe.Pointer(sessions.UnsafeAddr()))
	m[k.ID] = k
	return nil
}
