package eventstore

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Signatures let an auditor check the log with a public key alone: the
// master key derives an Ed25519 key pair, and salesbot signs with it
//
//   - the log's head now and then (a signed head: position, hash, time),
//     kept in the log and in the anchor file outside the data dir;
//   - every subject key record and every erasure tombstone, so that a
//     deleted, blanked or transplanted key shows as tampering rather than
//     as an erasure.
//
// Whoever holds the public key can check all of it and can forge none of
// it; reading personal data still needs the master key.

// Domain separation of everything signed.
const (
	sigHead      = "salesbot signed head v1\x00"
	sigKey       = "salesbot subject key v1\x00"
	sigTombstone = "salesbot tombstone v1\x00"
)

// PublicKeyPrefix starts the text form of a public key.
const PublicKeyPrefix = "ed25519:"

// PublicKey returns the log-signing public key of a master key, the key
// `salesbot keys public` prints and `salesbot verify --public-key` takes.
func PublicKey(masterKey []byte) (ed25519.PublicKey, error) {
	m, err := newMaster(masterKey)
	if err != nil {
		return nil, err
	}
	return m.pub, nil
}

// FormatPublicKey is the text form of a public key: "ed25519:" and the
// key in standard base64.
func FormatPublicKey(pub ed25519.PublicKey) string {
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads a public key in its text form ("ed25519:<base64>"),
// as bare base64 or as 64 hex characters; surrounding space is ignored.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	s := strings.TrimSpace(string(b))
	s = strings.TrimPrefix(s, PublicKeyPrefix)
	var raw []byte
	if len(s) == 2*ed25519.PublicKeySize {
		raw, _ = hex.DecodeString(s)
	}
	if raw == nil {
		raw, _ = base64.StdEncoding.DecodeString(s)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("eventstore: not an Ed25519 public key: want %q and %d bytes in base64", PublicKeyPrefix, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// SignedHead is a head of the log signed by its key: the position and
// hash of an event, when it was signed, and the log's id.
type SignedHead struct {
	LogID    uuid.UUID
	Position uint64
	Hash     [32]byte
	Time     time.Time
	Sig      []byte
}

func (h SignedHead) message() []byte {
	b := make([]byte, 0, len(sigHead)+16+8+32+8)
	b = append(b, sigHead...)
	b = append(b, h.LogID[:]...)
	b = binary.BigEndian.AppendUint64(b, h.Position)
	b = append(b, h.Hash[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(h.Time.UnixNano()))
}

// Check verifies the head's signature with pub.
func (h SignedHead) Check(pub ed25519.PublicKey) bool {
	return len(h.Sig) == ed25519.SignatureSize && ed25519.Verify(pub, h.message(), h.Sig)
}

// String names the head for people: position and hash.
func (h SignedHead) String() string {
	return fmt.Sprintf("position %d hash %x", h.Position, h.Hash)
}

// signedHeadLen is the size of an encoded signed head: id, position,
// hash, time, signature.
const signedHeadLen = 16 + 8 + 32 + 8 + ed25519.SignatureSize

func (h SignedHead) encode() []byte {
	b := make([]byte, 0, signedHeadLen)
	b = append(b, h.LogID[:]...)
	b = binary.BigEndian.AppendUint64(b, h.Position)
	b = append(b, h.Hash[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Time.UnixNano()))
	return append(b, h.Sig...)
}

func decodeSignedHead(b []byte) (SignedHead, error) {
	if len(b) != signedHeadLen {
		return SignedHead{}, fmt.Errorf("signed head record is %d bytes, want %d", len(b), signedHeadLen)
	}
	var h SignedHead
	copy(h.LogID[:], b)
	h.Position = binary.BigEndian.Uint64(b[16:])
	copy(h.Hash[:], b[24:56])
	h.Time = time.Unix(0, int64(binary.BigEndian.Uint64(b[56:]))).UTC()
	h.Sig = bytes.Clone(b[64:])
	return h, nil
}

// signHead signs the head (pos, hash) of log id at t.
func (m *master) signHead(id uuid.UUID, pos uint64, hash [32]byte, t time.Time) SignedHead {
	h := SignedHead{LogID: id, Position: pos, Hash: hash, Time: t.UTC().Round(0)}
	h.Sig = ed25519.Sign(m.sign, h.message())
	return h
}

// Subject key records, under k|<subject>:
//
//	0x02 | wrapped key (nonce, ciphertext, tag) | signature   a live key
//	0x03 | position:8 | signature                            a tombstone
//
// A key record's signature covers the log id, the subject and the SHA-256
// of the wrapped key; a tombstone's covers the log id, the subject and the
// position of the event that recorded the erasure (0: an erasure made
// without one, such as Forget called directly or one from before erasures
// were bound). Records of logs made before signatures (a bare wrapped key,
// or an empty value for a tombstone) are signed on the first writable
// open.
const (
	recKey       = 0x02
	recTombstone = 0x03
	wrappedLen   = 12 + 32 + 16
	keyRecLen    = 1 + wrappedLen + ed25519.SignatureSize
	tombRecLen   = 1 + 8 + ed25519.SignatureSize
)

// keyRecord is a decoded k|<subject> value.
type keyRecord struct {
	kind    byte   // recKey, recTombstone, or 0 for an unsigned record of an old log
	wrapped []byte // recKey and old live keys
	erased  bool   // a tombstone (signed or old)
	pos     uint64 // recTombstone: position of the erasure, 0 = unbound
	sig     []byte
}

func decodeKeyRecord(v []byte) (keyRecord, error) {
	switch {
	case len(v) == 0:
		return keyRecord{erased: true}, nil
	case len(v) == wrappedLen:
		return keyRecord{wrapped: v}, nil
	case len(v) == keyRecLen && v[0] == recKey:
		return keyRecord{kind: recKey, wrapped: v[1 : 1+wrappedLen], sig: v[1+wrappedLen:]}, nil
	case len(v) == tombRecLen && v[0] == recTombstone:
		return keyRecord{kind: recTombstone, erased: true, pos: binary.BigEndian.Uint64(v[1:]), sig: v[9:]}, nil
	}
	return keyRecord{}, fmt.Errorf("key record of %d bytes is neither a key nor a tombstone", len(v))
}

func keyMessage(id uuid.UUID, subject string, wrapped []byte) []byte {
	sum := sha256.Sum256(wrapped)
	b := make([]byte, 0, len(sigKey)+16+len(subject)+1+32)
	b = append(append(append(b, sigKey...), id[:]...), subject...)
	return append(append(b, 0), sum[:]...)
}

func tombstoneMessage(id uuid.UUID, subject string, pos uint64) []byte {
	b := make([]byte, 0, len(sigTombstone)+16+len(subject)+1+8)
	b = append(append(append(b, sigTombstone...), id[:]...), subject...)
	return binary.BigEndian.AppendUint64(append(b, 0), pos)
}

// check verifies a signed record's signature for subject in log id.
func (r keyRecord) check(pub ed25519.PublicKey, id uuid.UUID, subject string) bool {
	switch r.kind {
	case recKey:
		return ed25519.Verify(pub, keyMessage(id, subject, r.wrapped), r.sig)
	case recTombstone:
		return ed25519.Verify(pub, tombstoneMessage(id, subject, r.pos), r.sig)
	}
	return false
}

func (m *master) keyRecord(id uuid.UUID, subject string, wrapped []byte) []byte {
	b := make([]byte, 0, keyRecLen)
	b = append(append(b, recKey), wrapped...)
	return append(b, ed25519.Sign(m.sign, keyMessage(id, subject, wrapped))...)
}

func (m *master) tombstone(id uuid.UUID, subject string, pos uint64) []byte {
	b := make([]byte, 0, tombRecLen)
	b = binary.BigEndian.AppendUint64(append(b, recTombstone), pos)
	return append(b, ed25519.Sign(m.sign, tombstoneMessage(id, subject, pos))...)
}
