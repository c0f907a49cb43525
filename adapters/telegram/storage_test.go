package telegram

import (
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/eventstore"
)

func hashBytes(h int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(h)) }

// Peers' access hashes are stored under keyed names; those stored under
// the user id in clear (before) move to them when an account starts.
func TestPeerNamesAreKeyedAndMigrated(t *testing.T) {
	ctx := context.Background()
	st, err := eventstore.NewMemory(eventstore.Options{MasterKey: make([]byte, eventstore.MasterKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acc, other := uuid.New(), uuid.New()
	p := peers{secrets: st, key: st.IndexKey(), account: acc}

	// New access hashes: keyed names that hold nothing of the user.
	if err := p.put(ctx, 777000123, 42); err != nil {
		t.Fatal(err)
	}
	names, err := st.SecretNames(ctx, "tg/")
	if err != nil || len(names) != 1 {
		t.Fatalf("names %q, %v", names, err)
	}
	if strings.Contains(names[0], "777000123") || !strings.HasPrefix(names[0], peerPrefix(acc)) {
		t.Fatalf("the peer's name %q shows the user id", names[0])
	}
	if peerName(p.key, acc, 777000123) == peerName(p.key, other, 777000123) {
		t.Fatal("two accounts name the same user alike: the names link them")
	}
	if h, found, err := p.get(ctx, 777000123); err != nil || !found || h != 42 {
		t.Fatalf("get: %d %v %v", h, found, err)
	}

	// Names from before: user 501 only under the old name; user 502 under
	// both (a crash after the copy: the keyed one is kept); another
	// account's and other secrets stay as they are.
	for name, v := range map[string][]byte{
		peerPrefix(acc) + "501":   hashBytes(5010),
		peerPrefix(acc) + "502":   hashBytes(1),
		peerPrefix(other) + "501": hashBytes(9),
		sessionName(acc):          []byte("session"),
	} {
		if err := st.PutSecret(ctx, name, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.put(ctx, 502, 5020); err != nil {
		t.Fatal(err)
	}
	n, err := p.migrate(ctx)
	if err != nil || n != 2 {
		t.Fatalf("migrate: %d, %v; want 2", n, err)
	}
	for user, want := range map[int64]int64{501: 5010, 502: 5020, 777000123: 42} {
		if h, found, err := p.get(ctx, user); err != nil || !found || h != want {
			t.Errorf("user %d after the migration: %d %v %v; want %d", user, h, found, err, want)
		}
	}
	for _, gone := range []string{peerPrefix(acc) + "501", peerPrefix(acc) + "502"} {
		if _, err := st.Secret(ctx, gone); !errors.Is(err, eventstore.ErrNotFound) {
			t.Errorf("the old name %s is still there: %v", gone, err)
		}
	}
	names, err = st.SecretNames(ctx, peerPrefix(acc))
	if err != nil || len(names) != 3 {
		t.Fatalf("the account's peers after the migration: %q, %v", names, err)
	}
	for _, name := range names {
		if _, legacy := legacyPeerUser(acc, name); legacy {
			t.Errorf("%s still names a user in clear", name)
		}
	}
	for _, kept := range []string{peerPrefix(other) + "501", sessionName(acc)} {
		if _, err := st.Secret(ctx, kept); err != nil {
			t.Errorf("%s: %v", kept, err)
		}
	}
	// Again: nothing to move.
	if n, err := p.migrate(ctx); err != nil || n != 0 {
		t.Fatalf("migrate again: %d, %v", n, err)
	}
}

func TestLegacyPeerUser(t *testing.T) {
	acc := uuid.New()
	for name, want := range map[string]int64{
		peerPrefix(acc) + "501":                          501,
		peerPrefix(acc) + strconv.FormatInt(1<<62, 10):   1 << 62,
		peerPrefix(acc) + "":                             0,
		peerPrefix(acc) + "-5":                           0,
		peerPrefix(acc) + "99999999999999999999":         0, // past int64
		peerName(make([]byte, 32), acc, 501):             0,
		"tg/" + uuid.NewString() + "/peer/501":           0,
		peerPrefix(acc) + strings.Repeat("1", 64):        0,
		peerPrefix(acc) + "0":                            0,
		strings.TrimSuffix(peerPrefix(acc), "/") + "501": 0,
		peerPrefix(acc) + "12a":                          0,
	} {
		got, ok := legacyPeerUser(acc, name)
		if ok != (want != 0) || got != want {
			t.Errorf("%q: %d %v, want %d", name, got, ok, want)
		}
	}
}
