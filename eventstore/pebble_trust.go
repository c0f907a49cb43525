package eventstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// What the Pebble store keeps besides events, under m|:
//
//	m|keys  "signed": every key record of the log is signed (see sign.go)
//	m|sth   the latest signed head (SignedHead.encode)
var (
	keyKeysSigned  = []byte("m|keys")
	keySignedHead  = []byte("m|sth")
	keysSignedMark = []byte("signed")
)

// DefaultSignInterval is how often, at most, a store that is being written
// signs its head and moves its anchor.
const DefaultSignInterval = 100 * time.Millisecond

// DefaultMinFreeBytes is the free space a store keeps on its disk: below it
// Open refuses to start and appends fail with ErrDiskFull, before Pebble
// itself runs out of room.
const DefaultMinFreeBytes = 64 << 20

// storeFS is the filesystem under a Pebble store: on the operating
// system's (private) files are made readable by their owner only and
// directories 0700; opened read-only, a directory that cannot be locked
// because the medium is read-only is read without the lock (nobody can
// write there either).
type storeFS struct {
	vfs.FS
	private  bool
	readOnly bool
}

func (f storeFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	file, err := f.FS.Create(name, category)
	if err == nil && f.private {
		_ = os.Chmod(name, 0o600) // best effort: the umask may have allowed more
	}
	return file, err
}

func (f storeFS) MkdirAll(dir string, _ os.FileMode) error { return f.FS.MkdirAll(dir, 0o700) }

func (f storeFS) Lock(name string) (io.Closer, error) {
	c, err := f.FS.Lock(name)
	if err != nil && f.readOnly && (errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)) {
		return io.NopCloser(nil), nil
	}
	if err != nil && lockHeld(err) {
		return nil, fmt.Errorf("%w: %w", ErrLocked, err)
	}
	if err == nil && f.private && !f.readOnly {
		_ = os.Chmod(name, 0o600)
	}
	return c, err
}

func (f storeFS) Unwrap() vfs.FS { return f.FS }

// lockHeld says whether an error of vfs.FS.Lock means that someone holds
// the lock: fcntl's EAGAIN (EACCES on some systems) when another process
// does, or Pebble's refusal to lock a file again in the process that holds
// it, which is an error of no particular type. A lock file that cannot be
// created is an *fs.PathError, another failure of fcntl another errno.
func lockHeld(err error) bool {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return false
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno == syscall.EAGAIN || errno == syscall.EWOULDBLOCK || errno == syscall.EACCES
	}
	return true
}

// tightenModes makes an existing data dir 0700 and its files 0600 (logs
// made before salesbot set modes have 0755 and 0644).
func tightenModes(dir string) {
	_ = os.Chmod(dir, 0o700)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			_ = os.Chmod(filepath.Join(dir, e.Name()), 0o600)
		}
	}
}

// freeBytes is the free space of the disk holding dir (or its nearest
// existing parent); ok is false when the filesystem cannot tell.
func freeBytes(fs vfs.FS, dir string) (free uint64, ok bool) {
	for d := dir; ; d = filepath.Dir(d) {
		u, err := fs.GetDiskUsage(d)
		if err == nil {
			return u.AvailBytes, true
		}
		if errors.Is(err, vfs.ErrUnsupported) || filepath.Dir(d) == d {
			return 0, false
		}
	}
}

// checkFree returns a *DiskFullError when dir's disk is below floor.
func checkFree(fs vfs.FS, dir string, floor uint64) error {
	if floor == 0 {
		return nil
	}
	if free, ok := freeBytes(fs, dir); ok && free < floor {
		return &DiskFullError{Dir: dir, Free: free, Floor: floor}
	}
	return nil
}

// diskWatch decides when the leader looks at the free space again: every
// quarter second, and after every eighth of the floor written.
type diskWatch struct {
	last    time.Time
	written uint64
}

func (w *diskWatch) due(now time.Time, wrote uint64, floor uint64) bool {
	w.written += wrote
	if now.Sub(w.last) < 250*time.Millisecond && w.written < floor/8 {
		return false
	}
	w.last, w.written = now, 0
	return true
}

// signKeys signs the key records of a log made before they were signed
// (bare wrapped keys, empty tombstones) and marks the log as signed, in one
// synced batch.
func (s *PebbleStore) signKeys() error {
	switch _, c, err := s.db.Get(keyKeysSigned); {
	case err == nil:
		c.Close()
		s.keysSigned = true
		return nil
	case !errors.Is(err, pebble.ErrNotFound):
		return fmt.Errorf("eventstore: open %s: read key format: %w", s.dir, err)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefixKey, UpperBound: prefixEnd(prefixKey)})
	if err != nil {
		return fmt.Errorf("eventstore: open %s: sign key records: %w", s.dir, err)
	}
	b := s.db.NewBatch()
	defer b.Close()
	for ok := it.First(); ok; ok = it.Next() {
		subject := string(it.Key()[len(prefixKey):])
		rec, err := decodeKeyRecord(it.Value())
		if err != nil {
			it.Close()
			return fmt.Errorf("eventstore: open %s: %w", s.dir, &TamperError{Reason: fmt.Sprintf("key of subject %q: %v", subject, err)})
		}
		switch {
		case rec.kind != 0:
		case rec.erased:
			b.Set(it.Key(), s.m.tombstone(s.id, subject, 0), nil)
		default:
			b.Set(it.Key(), s.m.keyRecord(s.id, subject, rec.wrapped), nil)
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("eventstore: open %s: sign key records: %w", s.dir, err)
	}
	b.Set(keyKeysSigned, keysSignedMark, nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("eventstore: open %s: sign key records: %w", s.dir, err)
	}
	s.keysSigned = true
	return nil
}

// loadSignedHead reads the latest signed head the log holds, if any.
func (s *PebbleStore) loadSignedHead(r pebble.Reader) (*SignedHead, error) {
	v, c, err := r.Get(keySignedHead)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("eventstore: read signed head: %w", err)
	}
	defer c.Close()
	h, err := decodeSignedHead(v)
	if err != nil {
		return nil, &TamperError{Reason: err.Error()}
	}
	return &h, nil
}

// hashAt is the hash of the stored event at pos (no durability check).
func (s *PebbleStore) hashAt(r pebble.Reader, pos uint64) ([32]byte, error) {
	v, c, err := r.Get(eventKey(pos))
	if err != nil {
		return [32]byte{}, fmt.Errorf("eventstore: read position %d: %w", pos, err)
	}
	defer c.Close()
	env, _, err := splitRecord(v)
	if err != nil {
		return [32]byte{}, fmt.Errorf("eventstore: position %d: %w", pos, err)
	}
	return envelopeHash(env), nil
}

// checkAnchor compares the log with its anchor file: the anchor must be
// signed by the log's key, be of this log, and name an event the log holds
// with the same hash. No anchor file is no error (found false).
func (s *PebbleStore) checkAnchor() (h SignedHead, found bool, err error) {
	if s.anchor == "" {
		return SignedHead{}, false, nil
	}
	h, found, err = LoadAnchor(s.anchor)
	if err != nil || !found {
		return h, found, err
	}
	head := s.tip.pos
	fail := func(reason string) (SignedHead, bool, error) {
		return h, true, &AnchorError{File: s.anchor, Anchor: h, LogHead: head, LogHash: s.tip.hash, Reason: reason}
	}
	switch {
	case !h.Check(s.m.pub):
		return fail("does not match its anchor, which is not signed by this log's key (another master key, or the anchor was altered)")
	case s.id != h.LogID:
		return fail(fmt.Sprintf("(id %s) is not the log of its anchor (log id %s)", s.id, h.LogID))
	case h.Position > head:
		return fail("is behind its anchor: an older copy of the data dir was restored or its newest events were removed")
	case h.Position == 0:
		return h, true, nil
	}
	hash, err := s.hashAt(s.db, h.Position)
	if err != nil {
		return h, true, err
	}
	if hash != h.Hash {
		return fail("diverges from its anchor: it was rewritten")
	}
	return h, true, nil
}

// signHead signs the durable head, keeps it in the log (m|sth) and moves
// the anchor file to it. The anchor is written after the log, so it is
// never ahead of it.
func (s *PebbleStore) signHead(pos uint64) error {
	var hash [32]byte
	if pos > 0 {
		var err error
		if hash, err = s.hashAt(s.db, pos); err != nil {
			return err
		}
	}
	h := s.m.signHead(s.id, pos, hash, s.now())
	if err := s.db.Set(keySignedHead, h.encode(), pebble.Sync); err != nil {
		return fmt.Errorf("eventstore: store signed head at position %d: %w", pos, err)
	}
	if s.anchor != "" {
		if err := writeAnchor(s.anchor, h); err != nil {
			return err
		}
	}
	s.signedPos.Store(pos)
	return nil
}

// signLoop signs new durable heads, at most one per interval, until the
// store closes.
func (s *PebbleStore) signLoop(ctx context.Context, interval time.Duration) {
	defer close(s.signDone)
	backoff := interval
	for {
		signed := s.signedPos.Load()
		if _, err := s.head.wait(ctx, signed); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if s.failed.Load() != nil {
			return
		}
		if err := s.signHead(s.head.get()); err != nil {
			if s.log != nil {
				s.log.Error("eventstore: sign the log's head", "err", err)
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = interval
	}
}

// ballastName is a file of zeros the store keeps in its directory, removed
// when the disk fills up so that Pebble can finish what it is writing.
const ballastName = "BALLAST"

// ballastSize is the ballast for a free-space floor: a quarter of it, at
// most 16 MiB.
func ballastSize(floor uint64) int64 { return int64(min(floor/4, 16<<20)) }

// makeBallast writes the ballast file if it is missing.
func (s *PebbleStore) makeBallast() error {
	size := ballastSize(s.floor)
	if size == 0 {
		return nil
	}
	path := s.fs.PathJoin(s.dir, ballastName)
	if fi, err := s.fs.Stat(path); err == nil && fi.Size() >= size {
		return nil
	}
	f, err := s.fs.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("eventstore: open %s: create ballast: %w", s.dir, err)
	}
	zeros := make([]byte, 1<<20)
	for n := int64(0); n < size && err == nil; n += int64(len(zeros)) {
		_, err = f.Write(zeros[:min(int64(len(zeros)), size-n)])
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = s.fs.Remove(path)
		if errors.Is(err, syscall.ENOSPC) {
			free, _ := freeBytes(s.fs, s.dir)
			return &DiskFullError{Dir: s.dir, Free: free, Floor: s.floor}
		}
		return fmt.Errorf("eventstore: open %s: write ballast: %w", s.dir, err)
	}
	return nil
}

// diskFull runs when a write meets ENOSPC: it frees the ballast and stops
// the store. Every write waits while it runs, so it must be quick.
func (s *PebbleStore) diskFull() {
	_ = s.fs.Remove(s.fs.PathJoin(s.dir, ballastName))
	free, _ := freeBytes(s.fs, s.dir)
	s.fail(&DiskFullError{Dir: s.dir, Free: free, Floor: s.floor})
	if s.log != nil {
		s.log.Error("eventstore: the disk is full; the log stops taking appends", "dir", s.dir, "free", FormatBytes(free))
	}
}
