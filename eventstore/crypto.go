package eventstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// MasterKeySize is the length of the master key in bytes.
const MasterKeySize = 32

// LoadOrCreateMasterKey reads the master key file at path: 32 raw bytes, or
// 64 hexadecimal characters (optionally followed by a newline). If the file
// does not exist it creates one with 32 random bytes and mode 0600 and
// reports created = true.
func LoadOrCreateMasterKey(path string) (key []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, MasterKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, false, fmt.Errorf("generate master key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, false, fmt.Errorf("create master key dir for %s: %w", path, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("create master key %s: %w", path, err)
		}
		if _, err := f.Write(key); err != nil {
			f.Close()
			return nil, false, fmt.Errorf("write master key %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, false, fmt.Errorf("sync master key %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, false, fmt.Errorf("close master key %s: %w", path, err)
		}
		return key, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read master key %s: %w", path, err)
	}
	key, err = ParseMasterKey(b)
	if err != nil {
		return nil, false, fmt.Errorf("master key %s: %w", path, err)
	}
	return key, false, nil
}

// ParseMasterKey accepts 32 raw bytes or 64 hex characters.
func ParseMasterKey(b []byte) ([]byte, error) {
	if len(b) == MasterKeySize {
		return slices.Clone(b), nil
	}
	s := strings.TrimSpace(string(b))
	if len(s) == 2*MasterKeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("want %d raw bytes or %d hex characters, got %d bytes", MasterKeySize, 2*MasterKeySize, len(b))
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func seal(a cipher.AEAD, plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, a.NonceSize(), a.NonceSize()+len(plaintext)+a.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return a.Seal(out, out, plaintext, aad), nil
}

func open(a cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < a.NonceSize()+a.Overhead() {
		return nil, errors.New("sealed value too short")
	}
	return a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], aad)
}

// master derives the purpose keys of the master key. A master made from a
// public key alone (publicOnly) can check signatures and nothing else.
type master struct {
	aead     cipher.AEAD        // wraps subject keys and secrets
	tipKey   []byte             // authenticates the chain tip
	macKey   []byte             // authenticates each event
	indexKey []byte             // keys blind indexes (Store.IndexKey)
	sign     ed25519.PrivateKey // signs heads, key records and tombstones
	pub      ed25519.PublicKey
}

func newMaster(key []byte) (*master, error) {
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("eventstore: master key must be %d bytes, got %d", MasterKeySize, len(key))
	}
	a, err := newAEAD(derive(key, "salesbot wrap v1"))
	if err != nil {
		return nil, fmt.Errorf("eventstore: master key: %w", err)
	}
	priv := ed25519.NewKeyFromSeed(derive(key, "salesbot sign v1"))
	return &master{aead: a, tipKey: derive(key, "salesbot tip v1"), macKey: derive(key, "salesbot event v1"),
		indexKey: derive(key, "salesbot blind index v1"), sign: priv, pub: priv.Public().(ed25519.PublicKey)}, nil
}

// publicOnly: the master holds no secret, only the public key.
func (m *master) publicOnly() bool { return m.aead == nil }

// eventMAC authenticates an envelope by its hash.
func (m *master) eventMAC(hash [32]byte) []byte {
	mac := hmac.New(sha256.New, m.macKey)
	mac.Write(hash[:])
	return mac.Sum(nil)
}

func derive(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// Chain tip record: position, hash of that event, HMAC over both. It is
// written in the same batch as the events, so a rewrite of the log through
// Pebble's API without the master key shows as a tip mismatch.
const tipLen = 8 + 32 + 32

func (m *master) encodeTip(pos uint64, hash [32]byte) []byte {
	b := make([]byte, 40, tipLen)
	binary.BigEndian.PutUint64(b, pos)
	copy(b[8:], hash[:])
	mac := hmac.New(sha256.New, m.tipKey)
	mac.Write(b)
	return mac.Sum(b)
}

func (m *master) decodeTip(b []byte) (pos uint64, hash [32]byte, err error) {
	if len(b) != tipLen {
		return 0, hash, fmt.Errorf("chain tip record is %d bytes, want %d", len(b), tipLen)
	}
	mac := hmac.New(sha256.New, m.tipKey)
	mac.Write(b[:40])
	// Only the master key can check the tip; a public-key verify relies on
	// the signed head instead.
	if !m.publicOnly() && !hmac.Equal(mac.Sum(nil), b[40:]) {
		return 0, hash, errors.New("chain tip record fails its MAC (altered, or a different master key)")
	}
	copy(hash[:], b[8:40])
	return binary.BigEndian.Uint64(b), hash, nil
}

func (m *master) sealSecret(name string, value []byte) ([]byte, error) {
	return seal(m.aead, value, []byte("secret\x00"+name))
}

func (m *master) openSecret(name string, sealed []byte) ([]byte, error) {
	v, err := open(m.aead, sealed, []byte("secret\x00"+name))
	if err != nil {
		return nil, fmt.Errorf("%w: secret %q does not decrypt: %v", ErrCorrupt, name, err)
	}
	return v, nil
}

// keyBackend persists wrapped subject keys. A tombstone (empty value) marks a
// forgotten subject. Writes must be durable when they return.
type keyBackend interface {
	loadKey(subject string) (wrapped []byte, found bool, err error)
	storeKey(subject string, wrapped []byte) error
}

// keyring hands out per-subject AEADs, creating keys on first use. Key
// records and tombstones are signed (see sign.go) for the log id.
type keyring struct {
	m       *master
	id      uuid.UUID
	backend keyBackend

	// slow serialises loading, creating and forgetting the key of one
	// subject (I/O), so a cached key is never waited for behind an fsync.
	// Subjects share 256 stripes: new keys of different subjects are
	// written at once, and Pebble syncs concurrent writes together (one
	// lock for all made a bulk import of new contacts wait for one fsync
	// per contact: 0.6k contacts/s).
	slow  [256]sync.Mutex
	mu    sync.RWMutex
	cache map[string]cipher.AEAD // nil value: forgotten
	// erased holds the subjects erased by this process (never evicted), so
	// that a key loaded before its erasure committed is never used after.
	erased map[string]bool
}

const keyCacheMax = 16384

func newKeyring(m *master, id uuid.UUID, b keyBackend) *keyring {
	return &keyring{m: m, id: id, backend: b, cache: make(map[string]cipher.AEAD), erased: make(map[string]bool)}
}

func (k *keyring) cached(subject string) (cipher.AEAD, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.erased[subject] {
		return nil, true
	}
	a, ok := k.cache[subject]
	return a, ok
}

// markErased records that subject's erasure was written: from now on its
// key is never handed out.
func (k *keyring) markErased(subject string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.erased[strings.Clone(subject)] = true
	delete(k.cache, subject)
}

// isErased says whether this process erased subject.
func (k *keyring) isErased(subject string) bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.erased[subject]
}

// remember caches a (nil: forgotten). The subject is copied: callers may
// pass a string that aliases a reader's buffer.
func (k *keyring) remember(subject string, a cipher.AEAD) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.cache) >= keyCacheMax {
		n := 0
		for s := range k.cache { // random order: drop about a quarter
			delete(k.cache, s)
			if n++; n >= keyCacheMax/4 {
				break
			}
		}
	}
	k.cache[strings.Clone(subject)] = a
}

// aead returns the subject's cipher; forgotten subjects return ErrForgotten.
// With create, a subject without a key gets a new one, durable before use.
func (k *keyring) aead(subject string, create bool) (cipher.AEAD, error) {
	if a, ok := k.cached(subject); ok {
		if a == nil {
			return nil, ErrForgotten
		}
		return a, nil
	}
	if k.m.publicOnly() {
		return nil, fmt.Errorf("key of subject %q: %w", subject, ErrNoMasterKey)
	}
	slow := k.stripe(subject)
	slow.Lock()
	defer slow.Unlock()
	if a, ok := k.cached(subject); ok { // loaded meanwhile
		if a == nil {
			return nil, ErrForgotten
		}
		return a, nil
	}
	a, err := k.load(subject, create)
	if errors.Is(err, errKeyTaken) { // another node made the subject's key first: use that one
		a, err = k.load(subject, false)
	}
	if err != nil {
		return nil, err
	}
	k.remember(subject, a)
	if a == nil {
		return nil, ErrForgotten
	}
	return a, nil
}

// errKeyTaken: a key backend shared by several nodes refused a new key
// because another node stored one for the subject first.
var errKeyTaken = errors.New("eventstore: the subject has a key already")

// load reads the subject's key record (nil cipher: a tombstone), creating
// a key when it has none and create is set. The caller holds its stripe.
func (k *keyring) load(subject string, create bool) (cipher.AEAD, error) {
	raw, found, err := k.backend.loadKey(subject)
	if err != nil {
		return nil, fmt.Errorf("load key of subject %q: %w", subject, err)
	}
	var rec keyRecord
	if found {
		if rec, err = decodeKeyRecord(raw); err != nil {
			return nil, fmt.Errorf("%w: subject %q: %v", ErrCorrupt, subject, err)
		}
	}
	var a cipher.AEAD
	switch {
	case found && rec.kind == recTombstone && !rec.check(k.m.pub, k.id, subject):
		return nil, &TamperError{Reason: fmt.Sprintf("the erasure record of subject %q is not signed by this log's key", subject)}
	case found && rec.erased:
		// tombstone: a == nil
	case found:
		key, err := open(k.m.aead, rec.wrapped, []byte("subject\x00"+subject))
		if err != nil {
			return nil, fmt.Errorf("%w: key of subject %q does not unwrap: %v", ErrCorrupt, subject, err)
		}
		if a, err = newAEAD(key); err != nil {
			return nil, fmt.Errorf("key of subject %q: %w", subject, err)
		}
	case !create:
		return nil, fmt.Errorf("%w: subject %q has no key", ErrCorrupt, subject)
	default:
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate key of subject %q: %w", subject, err)
		}
		w, err := seal(k.m.aead, key, []byte("subject\x00"+subject))
		if err != nil {
			return nil, fmt.Errorf("wrap key of subject %q: %w", subject, err)
		}
		if err := k.backend.storeKey(subject, k.m.keyRecord(k.id, subject, w)); err != nil {
			return nil, fmt.Errorf("store key of subject %q: %w", subject, err)
		}
		if a, err = newAEAD(key); err != nil {
			return nil, fmt.Errorf("key of subject %q: %w", subject, err)
		}
	}
	return a, nil
}

// stripe is the lock of a subject's key.
func (k *keyring) stripe(subject string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(subject))
	return &k.slow[h.Sum32()%uint32(len(k.slow))]
}

// forget writes the subject's tombstone, dropping its key, unless it has
// one already (a bound one, written with the event that recorded the
// erasure, is kept). The tombstone written here is bound to no event.
func (k *keyring) forget(subject string) error {
	if subject == "" {
		return fmt.Errorf("%w: empty subject", ErrInvalidEvent)
	}
	slow := k.stripe(subject)
	slow.Lock()
	defer slow.Unlock()
	raw, found, err := k.backend.loadKey(subject)
	if err != nil {
		return fmt.Errorf("forget subject %q: load its key: %w", subject, err)
	}
	if found {
		if rec, err := decodeKeyRecord(raw); err == nil && rec.kind == recTombstone && rec.check(k.m.pub, k.id, subject) {
			k.markErased(subject)
			return nil
		}
	}
	if err := k.backend.storeKey(subject, k.m.tombstone(k.id, subject, 0)); err != nil {
		return fmt.Errorf("forget subject %q: %w", subject, err)
	}
	k.markErased(subject)
	return nil
}

// sealPersonal encrypts e.Personal under the subject key. It returns the
// field names (sorted) and nonce||ciphertext of their values.
func (k *keyring) sealPersonal(e *Event) ([]string, []byte, error) {
	if len(e.Personal) == 0 {
		return nil, nil, nil
	}
	a, err := k.aead(e.Subject, true)
	if err != nil {
		return nil, nil, fmt.Errorf("seal personal fields of event %s for subject %q: %w", e.ID, e.Subject, err)
	}
	names := sortedKeys(e.Personal)
	var plain []byte
	for _, n := range names {
		plain = appendString(plain, e.Personal[n])
	}
	sealed, err := seal(a, plain, personalAAD(e.ID, e.Subject))
	if err != nil {
		return nil, nil, fmt.Errorf("seal personal fields of event %s: %w", e.ID, err)
	}
	return names, sealed, nil
}

// openPersonal decrypts personal values; forgotten subjects give markers.
func (k *keyring) openPersonal(id uuid.UUID, subject string, names []string, sealed []byte) (map[string]string, bool, error) {
	out := make(map[string]string, len(names))
	a, err := k.aead(subject, false)
	if errors.Is(err, ErrForgotten) {
		for _, n := range names {
			out[n] = ForgottenMarker
		}
		return out, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	plain, err := open(a, sealed, personalAAD(id, subject))
	if err != nil {
		return nil, false, fmt.Errorf("%w: personal fields of event %s do not decrypt: %v", ErrCorrupt, id, err)
	}
	r := reader{b: plain}
	for _, n := range names {
		out[n] = string(r.bytes())
	}
	if r.err != "" || r.off != len(plain) {
		return nil, false, fmt.Errorf("%w: personal fields of event %s are malformed", ErrCorrupt, id)
	}
	return out, false, nil
}

func personalAAD(id uuid.UUID, subject string) []byte {
	return append(id[:len(id):len(id)], subject...)
}
