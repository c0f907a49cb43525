package eventstore

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// openAnchored opens dir with an anchor file; the store is closed at the
// end of the test.
func openAnchored(t *testing.T, dir, anchor string, extra ...func(*Options)) (*PebbleStore, error) {
	t.Helper()
	opts := Options{MasterKey: key32(), AnchorFile: anchor}
	for _, f := range extra {
		f(&opts)
	}
	s, err := Open(dir, opts)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

func appendN(t *testing.T, s *PebbleStore, stream string, n int) {
	t.Helper()
	for i := range n {
		ev := Event{Type: "E", Payload: fmt.Appendf(nil, "%s %d", stream, i), Subject: "c1", Personal: map[string]string{"text": "hello"}}
		if _, err := s.Append(t.Context(), stream, Any, ev); err != nil {
			t.Fatal(err)
		}
	}
}

// copyDir copies a closed data dir (a backup).
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", from+"/.", to).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v: %s", from, err, out)
	}
}

// A restored backup and a log whose newest events were removed (with an
// old, valid tip put back) open and verify as intact on their own; the
// anchor outside the data dir catches both, naming both heads.
func TestAnchorCatchesRollback(t *testing.T) {
	base := t.TempDir()
	dir, backup, anchor := filepath.Join(base, "data"), filepath.Join(base, "backup"), filepath.Join(base, "keys", "anchor.json")
	os.MkdirAll(filepath.Dir(anchor), 0o700)
	s, err := openAnchored(t, dir, anchor)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "dialog-1", 5)
	s.Close()
	copyDir(t, dir, backup)
	var oldTip []byte
	rawEdit(t, dir, func(db *pebble.DB) { oldTip = get(t, db, keyTip) })

	s, err = openAnchored(t, dir, anchor)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "dialog-1", 3) // the opt-out that must not vanish
	s.Close()
	a, found, err := LoadAnchor(anchor)
	if err != nil || !found || a.Position != 8 {
		t.Fatalf("anchor after close: %+v %v %v, want position 8", a, found, err)
	}

	// 1. The backup restored in place of the log.
	if _, err := verifyDir(t, backup); err != nil {
		t.Fatalf("the backup alone verifies: %v (it is a valid older log)", err)
	}
	_, err = openAnchored(t, backup, anchor)
	var ae *AnchorError
	if !errors.As(err, &ae) || !errors.Is(err, ErrTampered) || ae.Anchor.Position != 8 || ae.LogHead != 5 {
		t.Fatalf("open of a restored backup: %v, want an AnchorError naming log head 5 and anchor 8", err)
	}
	// 2. The newest events deleted and the old tip put back.
	rawEdit(t, dir, func(db *pebble.DB) {
		for p := uint64(6); p <= 8; p++ {
			if err := db.Delete(eventKey(p), pebble.Sync); err != nil {
				t.Fatal(err)
			}
		}
		set(t, db, keyTip, oldTip)
		set(t, db, prefixed(prefixHead, "dialog-1"), streamHead{version: 5, pos: 5}.encode())
	})
	_, err = openAnchored(t, dir, anchor)
	if !errors.As(err, &ae) || ae.LogHead != 5 {
		t.Fatalf("open after truncation: %v, want an AnchorError", err)
	}
	// Verify (read-only, for audit) reports it too.
	v, err := Open(dir, Options{MasterKey: key32(), AnchorFile: anchor, ReadOnly: true, ForAudit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := v.Verify(t.Context(), nil); !errors.As(err, &ae) {
		t.Fatalf("verify after truncation: %v, want an AnchorError", err)
	}
}

// Another log under the same anchor (same master key) is refused, and so
// is a log that diverges from its anchor at the anchored position.
func TestAnchorOfAnotherLog(t *testing.T) {
	base := t.TempDir()
	anchor := filepath.Join(base, "anchor.json")
	s, err := openAnchored(t, filepath.Join(base, "a"), anchor)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "dialog-1", 2)
	s.Close()
	_, err = openAnchored(t, filepath.Join(base, "b"), anchor)
	if !errors.Is(err, ErrAnchor) {
		t.Fatalf("a new log under another log's anchor: %v", err)
	}
}

// The anchor follows the log while it is written, never ahead of what is
// durable.
func TestAnchorFollowsAppends(t *testing.T) {
	base := t.TempDir()
	anchor := filepath.Join(base, "anchor.json")
	s, err := openAnchored(t, filepath.Join(base, "a"), anchor, func(o *Options) { o.SignInterval = 1 })
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "dialog-1", 20)
	for range 1000 {
		if a, _, _ := LoadAnchor(anchor); a.Position == 20 {
			h, _ := s.HashAt(t.Context(), 20)
			if a.Hash != h || !a.Check(s.m.pub) {
				t.Fatalf("anchor at 20 with hash %x, the log's is %x (or a bad signature)", a.Hash, h)
			}
			s.Close()
			v, err := Open(filepath.Join(base, "a"), Options{MasterKey: key32(), AnchorFile: anchor, ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			rep, err := v.Verify(t.Context(), nil)
			if err != nil || rep.Anchor == nil || rep.SignedHead == nil || rep.Anchor.Position != 20 || rep.SignedHead.Position != 20 {
				t.Fatalf("verify with the anchor and the signed head at one position: %+v %v", rep, err)
			}
			return
		}
		waitABit()
	}
	t.Fatal("the anchor did not reach the head while the store was open")
}

// An auditor with the public key alone verifies the chain, the key
// records and the signed head, reads no personal data, and catches a
// rewrite that a forger without the master key recomputed end to end.
func TestVerifyWithPublicKeyOnly(t *testing.T) {
	dir := t.TempDir()
	fill(t, dir, 20)
	pub, err := PublicKey(key32())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{PublicKey: pub, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Verify(t.Context(), nil)
	if err != nil || !rep.PublicKeyOnly || rep.Events != 20 || rep.SignedHead == nil || rep.SignedHead.Position != 20 || rep.Unsigned != 0 || rep.Subjects != 1 {
		t.Fatalf("public-key verify: %+v %v", rep, err)
	}
	if _, err := s.ReadAll(t.Context(), 1, 1); !errors.Is(err, ErrNoMasterKey) {
		t.Fatalf("reading personal data with the public key: %v, want ErrNoMasterKey", err)
	}
	s.Close()
	if _, err := Open(dir, Options{PublicKey: pub}); err == nil {
		t.Fatal("a public key opened the log for writing")
	}
	// A forger rewrites event 20 and recomputes its hash: the chain is
	// consistent, the tip cannot be checked without the master key, the
	// signed head catches it.
	rawEdit(t, dir, func(db *pebble.DB) {
		v := get(t, db, eventKey(20))
		body := v[:len(v)-macLen]
		i := bytes.Index(body, []byte("payload 19"))
		body[i+8] = 'X'
		set(t, db, eventKey(20), v)
		tip := get(t, db, keyTip)
		h := envelopeHash(body)
		copy(tip[8:40], h[:])
		set(t, db, keyTip, tip)
	})
	s, err = Open(dir, Options{PublicKey: pub, ReadOnly: true, ForAudit: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var te *TamperError
	if _, err := s.Verify(t.Context(), nil); !errors.As(err, &te) || te.Position != 20 {
		t.Fatalf("public-key verify of a rewritten event: %v, want tampering at 20", err)
	}
}

// An erasure recorded by an event (MetaErases) shreds the key in the same
// write, binds the tombstone to that event, and refuses new personal data
// of the subject; verify counts it as a bound erasure.
func TestErasureBoundToItsEvent(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "dialog-1", 2)
	r, err := s.Append(t.Context(), "contact-c1", Any, Event{Type: "ContactForgotten", Metadata: map[string]string{MetaErases: "c1"}})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.ReadStream(t.Context(), "dialog-1", 1)
	if err != nil || !evs[0].Forgotten {
		t.Fatalf("personal data after the erasure: %+v %v", evs, err)
	}
	if _, err := s.Append(t.Context(), "dialog-1", Any, Event{Type: "E", Subject: "c1", Personal: map[string]string{"text": "again"}}); !errors.Is(err, ErrForgotten) {
		t.Fatalf("personal data of an erased subject: %v, want ErrForgotten", err)
	}
	if err := s.Forget(t.Context(), "c1"); err != nil { // keeps the bound tombstone
		t.Fatal(err)
	}
	rep, err := s.Verify(t.Context(), nil)
	if err != nil || rep.Erased != 1 || rep.Unbound != 0 {
		t.Fatalf("verify after a bound erasure: %+v %v", rep, err)
	}
	s.Close()
	var tomb keyRecord
	rawEdit(t, dir, func(db *pebble.DB) { tomb, _ = decodeKeyRecord(get(t, db, prefixed(prefixKey, "c1"))) })
	if tomb.kind != recTombstone || tomb.pos != r.FirstPosition {
		t.Fatalf("tombstone %+v, want one bound to position %d", tomb, r.FirstPosition)
	}
	// A tombstone moved to another event is caught.
	rawEdit(t, dir, func(db *pebble.DB) {
		m, _ := newMaster(key32())
		set(t, db, prefixed(prefixKey, "c1"), m.tombstone(logIDOf(t, db), "c1", 1))
	})
	if _, err := verifyDir(t, dir); !errors.Is(err, ErrTampered) {
		t.Fatalf("tombstone bound to an event that erases nothing: %v", err)
	}
}

// hashFiles maps every file under dir to the SHA-256 of its content.
func hashFiles(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = sha256.Sum256(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Verify and reads of a store opened read-only change no byte of the data
// dir (a log with an unflushed WAL included), and work on a medium that
// refuses every write.
func TestReadOnlyChangesNothing(t *testing.T) {
	dir := t.TempDir()
	fill(t, dir, 30)
	before := hashFiles(t, dir)
	s, err := Open(dir, Options{MasterKey: key32(), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadStream(t.Context(), "dialog-0", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(t.Context(), "x", Any, Event{Type: "E"}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("append to a read-only store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	after := hashFiles(t, dir)
	if len(after) != len(before) {
		t.Fatalf("files before %d, after %d", len(before), len(after))
	}
	for p, h := range before {
		if after[p] != h {
			t.Fatalf("%s changed", p)
		}
	}
	// Every write refused, as on a read-only mount.
	ro := errorfs.Wrap(vfs.Default, errorfs.InjectorFunc(func(op errorfs.Op) error {
		if op.Kind.ReadOrWrite() == errorfs.OpIsWrite {
			return &os.PathError{Op: "write", Path: op.Path, Err: syscall.EROFS}
		}
		return nil
	}))
	s, err = Open(dir, Options{MasterKey: key32(), ReadOnly: true, FS: ro})
	if err != nil {
		t.Fatalf("open on a read-only medium: %v", err)
	}
	defer s.Close()
	if rep, err := s.Verify(t.Context(), nil); err != nil || rep.Events != 30 {
		t.Fatalf("verify on a read-only medium: %+v %v", rep, err)
	}
}

// A log made before key records were signed (bare wrapped keys, empty
// tombstones, no m|keys) verifies read-only with the records counted as
// unsigned, and its first writable open signs them.
func TestOldKeyRecordsAreSigned(t *testing.T) {
	dir := t.TempDir()
	fill(t, dir, 8)
	s, err := Open(dir, Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(t.Context(), "c1"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	rawEdit(t, dir, func(db *pebble.DB) { // back to the old format
		m, _ := newMaster(key32())
		key := make([]byte, 32)
		w, _ := seal(m.aead, key, []byte("subject\x00c2"))
		set(t, db, prefixed(prefixKey, "c1"), []byte{})
		set(t, db, prefixed(prefixKey, "c2"), w)
		if err := db.Delete(keyKeysSigned, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	})
	rep, err := verifyDir(t, dir)
	if err != nil || rep.UnsignedKeys != 2 {
		t.Fatalf("read-only verify of an old log: %+v %v", rep, err)
	}
	s, err = Open(dir, Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	rep, err = verifyDir(t, dir)
	if err != nil || rep.UnsignedKeys != 0 || rep.Erased != 1 || rep.Unbound != 1 {
		t.Fatalf("verify after the first writable open: %+v %v", rep, err)
	}
}

// The data dir is 0700 and the store's files 0600, whatever the umask.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	fill(t, dir, 3)
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v, %v", fi.Mode().Perm(), err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fi, _ := e.Info()
		if fi.Mode().IsRegular() && fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s has mode %v", e.Name(), fi.Mode().Perm())
		}
	}
}

func waitABit() { time.Sleep(5 * time.Millisecond) }

// CompactSecrets has deleted secrets, names included, leave the sstables.
func TestCompactSecretsDropsDeletedNames(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	for _, name := range []string{"tg/a/peer/123456789", "tg/a/peer/keyed-1"} {
		if err := s.PutSecret(ctx, name, []byte("hash")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Flush(); err != nil { // the name reaches an sstable
		t.Fatal(err)
	}
	if err := s.DeleteSecret(ctx, "tg/a/peer/123456789"); err != nil {
		t.Fatal(err)
	}
	if err := s.CompactSecrets(ctx, "tg/a/peer/"); err != nil {
		t.Fatal(err)
	}
	// Pebble deletes the files a compaction made obsolete in the
	// background, shortly after.
	holds := func() string {
		ssts, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
		for _, f := range ssts {
			if b, _ := os.ReadFile(f); bytes.Contains(b, []byte("123456789")) {
				return f
			}
		}
		return ""
	}
	for i := 0; holds() != "" && i < 200; i++ {
		waitABit()
	}
	if f := holds(); f != "" {
		t.Fatalf("%s still holds the deleted name", f)
	}
	if v, err := s.Secret(ctx, "tg/a/peer/keyed-1"); err != nil || string(v) != "hash" {
		t.Fatalf("a secret kept: %q %v", v, err)
	}
}
