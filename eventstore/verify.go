package eventstore

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// keyCheck checks the subject key records against what the chain walk
// found: every subject whose personal data an event seals has a key
// record or a tombstone signed with the log's key; every tombstone bound
// to a position is bound to an event that records the erasure of that
// subject; every recorded erasure left a tombstone.
type keyCheck struct {
	pub      ed25519.PublicKey
	id       uuid.UUID
	subjects map[string]struct{}
	erasures map[string][]uint64
	// signed: the log's key records were all signed (m|keys), so an
	// unsigned record is tampering rather than a record of an old log.
	signed bool

	seen map[string]bool // subject → erased
	rep  VerifyReport
}

func newKeyCheck(m *master, id uuid.UUID, cv *chainVerifier, signed bool) *keyCheck {
	return &keyCheck{pub: m.pub, id: id, subjects: cv.subjects, erasures: cv.erasures, signed: signed, seen: make(map[string]bool)}
}

// record checks one k|<subject> record.
func (k *keyCheck) record(subject string, v []byte) error {
	rec, err := decodeKeyRecord(v)
	if err != nil {
		return &TamperError{Reason: fmt.Sprintf("key of subject %q: %v", subject, err)}
	}
	switch {
	case rec.kind == 0 && k.signed:
		return &TamperError{Reason: fmt.Sprintf("key record of subject %q is unsigned (blanked, or written outside salesbot)", subject)}
	case rec.kind == 0:
		k.rep.UnsignedKeys++
	case !rec.check(k.pub, k.id, subject):
		return &TamperError{Reason: fmt.Sprintf("key record of subject %q fails its signature (altered, forged or copied from another log)", subject)}
	}
	k.seen[subject] = rec.erased
	if !rec.erased {
		return nil
	}
	k.rep.Erased++
	if rec.kind == 0 || rec.pos == 0 {
		k.rep.Unbound++
		return nil
	}
	for _, p := range k.erasures[subject] {
		if p == rec.pos {
			return nil
		}
	}
	return &TamperError{Position: rec.pos, Reason: fmt.Sprintf("the tombstone of subject %q is bound to position %d, which records no erasure of it", subject, rec.pos)}
}

// finish checks what must have a record.
func (k *keyCheck) finish() error {
	for _, subject := range sortedKeys(k.subjects) {
		if _, ok := k.seen[subject]; !ok {
			return &TamperError{Reason: fmt.Sprintf("the key of subject %q is missing: its personal data can neither be read nor shown to be erased (deleted outside salesbot)", subject)}
		}
	}
	for _, subject := range sortedKeys(k.erasures) {
		if !k.seen[subject] {
			return &TamperError{Position: k.erasures[subject][0], Reason: fmt.Sprintf("position %d records the erasure of subject %q but its key is still there", k.erasures[subject][0], subject)}
		}
	}
	return nil
}

// checkSignedHead checks a signed head against the chain: its signature,
// its log, and the hash the walk noted at its position (hash; end is the
// walk's last position).
// signedHead checks the log's signed head sth (nil: none), whose
// position's chain hash is sthHash, against a chain walked to end, and
// records it in rep with the events after it. A log without one fails a
// verify with the public key alone: it vouches for none of its events.
// where names the log.
func signedHead(rep *VerifyReport, m *master, id uuid.UUID, sth *SignedHead, sthHash [32]byte, end uint64, where string) error {
	switch {
	case sth != nil:
		if err := checkSignedHead(m.pub, id, *sth, end, sthHash, "signed head"); err != nil {
			return err
		}
		rep.SignedHead, rep.Unsigned = sth, end-sth.Position
	case m.publicOnly() && end > 0:
		return fmt.Errorf("eventstore: verify %s: the log holds no signed head, so the public key can vouch for none of its %d events: open it once with salesbot and the master key (it signs its head), then verify again", where, end)
	default:
		rep.Unsigned = end
	}
	return nil
}

func checkSignedHead(pub ed25519.PublicKey, id uuid.UUID, h SignedHead, end uint64, hash [32]byte, what string) error {
	if !h.Check(pub) {
		return &TamperError{Reason: what + " fails its signature (altered, or made with another key)"}
	}
	if h.LogID != id {
		return &TamperError{Reason: fmt.Sprintf("%s is of log %s, this log is %s", what, h.LogID, id)}
	}
	if h.Position > end {
		return &TamperError{Position: end + 1, Reason: fmt.Sprintf("the log ends at position %d, before its %s at %s (events removed)", end, what, h)}
	}
	if h.Position > 0 && hash != h.Hash {
		return &TamperError{Position: h.Position, Reason: fmt.Sprintf("the event at position %d hashes to %x, its %s says %x (rewritten)", h.Position, hash, what, h.Hash)}
	}
	return nil
}

// AnchorError says how the log disagrees with its anchor: it is behind it
// (an older copy of the data dir restored, or its newest events removed)
// or it diverges (rewritten). It matches ErrAnchor and ErrTampered.
type AnchorError struct {
	File    string
	Anchor  SignedHead
	LogHead uint64
	LogHash [32]byte // hash of the log's event at LogHead (its head)
	Reason  string
}

func (e *AnchorError) Error() string {
	return fmt.Sprintf("eventstore: the log %s (%s): the log's head is position %d hash %x, the anchor holds position %d hash %x",
		e.Reason, e.File, e.LogHead, e.LogHash, e.Anchor.Position, e.Anchor.Hash)
}

// Is makes errors.Is(err, ErrAnchor) and errors.Is(err, ErrTampered) true.
func (e *AnchorError) Is(target error) bool { return target == ErrAnchor || target == ErrTampered }

// DiskFullError: the disk of the log's directory has too little free
// space to write safely.
type DiskFullError struct {
	Dir         string
	Free, Floor uint64 // bytes
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("eventstore: %s has %s free, below the %s salesbot keeps free to write safely; free disk space and start again",
		e.Dir, FormatBytes(e.Free), FormatBytes(e.Floor))
}

// Is makes errors.Is(err, ErrDiskFull) true.
func (e *DiskFullError) Is(target error) bool { return target == ErrDiskFull }

// FormatBytes is a size for people: 812 KiB, 3.4 GiB.
func FormatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// ParseBytes reads a size such as 64MiB, 1GiB, 512KB or 1048576 (bytes);
// K, M and G alone are KiB, MiB and GiB.
func ParseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || n*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q is not a size such as 64MiB or 1GiB", s)
	}
	return int64(n * float64(mult)), nil
}

// anchorFile is the anchor's JSON form: a signed head, readable by people.
type anchorFile struct {
	LogID     uuid.UUID `json:"log_id"`
	Position  uint64    `json:"position"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	Signature string    `json:"signature"`
}

// anchorOf is the anchor file's JSON form of a signed head.
func anchorOf(h SignedHead) anchorFile {
	return anchorFile{LogID: h.LogID, Position: h.Position, Hash: hex.EncodeToString(h.Hash[:]),
		Time: h.Time, Signature: base64.StdEncoding.EncodeToString(h.Sig)}
}

// signedHead decodes the anchor file's JSON form (its signature is not
// checked here).
func (a anchorFile) signedHead() (SignedHead, error) {
	hash, err := hex.DecodeString(a.Hash)
	if err != nil || len(hash) != 32 {
		return SignedHead{}, fmt.Errorf("hash %q is not 64 hex characters", a.Hash)
	}
	sig, err := base64.StdEncoding.DecodeString(a.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return SignedHead{}, fmt.Errorf("the signature is not %d bytes of base64", ed25519.SignatureSize)
	}
	h := SignedHead{LogID: a.LogID, Position: a.Position, Time: a.Time, Sig: sig}
	copy(h.Hash[:], hash)
	return h, nil
}

// LoadAnchor reads the anchor file at path; found is false when there is
// none. A malformed file is an error; its signature is not checked here.
func LoadAnchor(path string) (h SignedHead, found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return SignedHead{}, false, nil
	}
	if err != nil {
		return SignedHead{}, false, fmt.Errorf("eventstore: read anchor %s: %w", path, err)
	}
	var a anchorFile
	if err := json.Unmarshal(b, &a); err != nil {
		return SignedHead{}, false, fmt.Errorf("eventstore: anchor %s is malformed: %w", path, err)
	}
	h, err = a.signedHead()
	if err != nil {
		return SignedHead{}, false, fmt.Errorf("eventstore: anchor %s: %w", path, err)
	}
	return h, true, nil
}

// writeAnchor replaces the anchor file at path with h, atomically and
// durably (a temporary file synced, renamed over the old one, the
// directory synced). The file is readable by its owner only.
func writeAnchor(path string, h SignedHead) error {
	b, err := json.MarshalIndent(anchorOf(h), "", "  ")
	if err != nil {
		return fmt.Errorf("eventstore: encode anchor: %w", err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("eventstore: write anchor %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("eventstore: write anchor %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("eventstore: sync anchor %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("eventstore: write anchor %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("eventstore: replace anchor %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the rename is durable once the directory is
		d.Close()
	}
	return nil
}
