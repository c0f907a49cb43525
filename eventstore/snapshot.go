package eventstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Snapshots keep what a follower of the log (a part that folds the log
// into state in memory at start) derived from it up to a position, so
// that a restart folds only the events after it. A snapshot is derived
// data: versioned by its follower, rebuildable from the log at any time,
// and never trusted over the log. Load gives it back only if it is of
// this log, of the follower's current version, at a position the log
// holds, and the log's event there has the hash the snapshot recorded
// (a log rewritten, restored from an older backup or truncated since is
// folded from the beginning instead).
//
// Snapshots are kept as secrets (sealed by the master key, inside the data
// dir, so a backup carries them) under "snapshot/<name>". Followers put
// ids, numbers, times and states in them, never message texts or names.
type Snapshots struct {
	Store   Store
	Secrets Secrets
	// A follower saves its snapshot after Every events (default
	// DefaultSnapshotEvery), or Interval after its last one if it folded
	// anything since (default DefaultSnapshotInterval), and when it stops.
	Every    uint64
	Interval time.Duration
}

// Snapshot is a follower's state at a position of the log.
type Snapshot struct {
	Position uint64 // the last event folded into State
	State    []byte
}

// ErrNoSnapshot: no usable snapshot; Load's errors say why (none yet,
// another version, the log does not match it) and match it.
var ErrNoSnapshot = errors.New("no usable snapshot")

// StaleSnapshotError: a snapshot exists but does not fit the log or the
// follower. It matches ErrNoSnapshot.
type StaleSnapshotError struct {
	Name   string
	Reason string
}

func (e *StaleSnapshotError) Error() string {
	return fmt.Sprintf("snapshot %s not used: %s", e.Name, e.Reason)
}

func (e *StaleSnapshotError) Is(target error) bool { return target == ErrNoSnapshot }

const snapshotMagic = "salesbot-snapshot\x00"

func snapshotSecret(name string) string { return "snapshot/" + name }

// Save keeps state as the snapshot of follower name at pos (version is
// the follower's format). It replaces the one before; it need not reach
// the disk before it returns (a lost snapshot only means a longer start).
func (s Snapshots) Save(ctx context.Context, name string, version uint32, snap Snapshot) error {
	if snap.Position == 0 {
		return nil // nothing folded yet
	}
	hash, err := s.Store.HashAt(ctx, snap.Position)
	if err != nil {
		return fmt.Errorf("eventstore: snapshot %s at position %d: %w", name, snap.Position, err)
	}
	id := s.Store.LogID()
	var b bytes.Buffer
	b.Grow(len(snapshotMagic) + 4 + 16 + 8 + 32 + len(snap.State))
	b.WriteString(snapshotMagic)
	b.Write(binary.BigEndian.AppendUint32(nil, version))
	b.Write(id[:])
	b.Write(binary.BigEndian.AppendUint64(nil, snap.Position))
	b.Write(hash[:])
	b.Write(snap.State)
	if err := s.Secrets.PutSecretNoSync(ctx, snapshotSecret(name), b.Bytes()); err != nil {
		return fmt.Errorf("eventstore: save snapshot %s at position %d: %w", name, snap.Position, err)
	}
	return nil
}

// Load returns follower name's snapshot of version, checked against the
// log; an error matching ErrNoSnapshot says why there is none to use (the
// follower folds the log from the beginning), any other error is the
// store's.
func (s Snapshots) Load(ctx context.Context, name string, version uint32) (Snapshot, error) {
	v, err := s.Secrets.Secret(ctx, snapshotSecret(name))
	if errors.Is(err, ErrNotFound) {
		return Snapshot{}, &StaleSnapshotError{Name: name, Reason: "none yet"}
	}
	if err != nil {
		return Snapshot{}, err
	}
	stale := func(format string, args ...any) (Snapshot, error) {
		return Snapshot{}, &StaleSnapshotError{Name: name, Reason: fmt.Sprintf(format, args...)}
	}
	const header = len(snapshotMagic) + 4 + 16 + 8 + 32
	if len(v) < header || string(v[:len(snapshotMagic)]) != snapshotMagic {
		return stale("malformed")
	}
	v = v[len(snapshotMagic):]
	if got := binary.BigEndian.Uint32(v); got != version {
		return stale("format %d, this salesbot folds format %d", got, version)
	}
	id := s.Store.LogID()
	if !bytes.Equal(v[4:20], id[:]) {
		return stale("of another log")
	}
	pos := binary.BigEndian.Uint64(v[20:28])
	if head := s.Store.Head(); pos == 0 || pos > head {
		return stale("at position %d, past the log's head %d", pos, head)
	}
	hash, err := s.Store.HashAt(ctx, pos)
	if err != nil {
		return Snapshot{}, err
	}
	if !bytes.Equal(hash[:], v[28:60]) {
		return stale("the log's event at position %d is not the one it was made at", pos)
	}
	return Snapshot{Position: pos, State: v[60:]}, nil
}

// scrub makes the replaced versions of follower name's snapshot leave the
// data files (a Pebble store compacts them away; other stores keep no
// old versions).
func (s Snapshots) scrub(ctx context.Context, name string) error {
	if c, ok := s.Secrets.(interface {
		CompactSecrets(ctx context.Context, prefix string) error
	}); ok {
		return c.CompactSecrets(ctx, snapshotSecret(name))
	}
	return nil
}

// Drop deletes follower name's snapshot.
func (s Snapshots) Drop(ctx context.Context, name string) error {
	return s.Secrets.DeleteSecret(ctx, snapshotSecret(name))
}

// For is a Snapshotter of follower name, whose state has format version,
// on s; nil (no snapshots) when s is nil.
func (s *Snapshots) For(name string, version uint32, now func() time.Time, log *slog.Logger) *Snapshotter {
	if s == nil {
		return nil
	}
	return &Snapshotter{Snapshots: s, Name: name, Version: version, Now: now, Log: log}
}

// EncodeState encodes a follower's state for a snapshot (gob: the
// follower's exported types define the format); DecodeState decodes it.
func EncodeState(name string, state any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(state); err != nil {
		return nil, fmt.Errorf("%s: encode snapshot: %w", name, err)
	}
	return b.Bytes(), nil
}

// DecodeState decodes what EncodeState encoded into state (a pointer).
func DecodeState(name string, b []byte, state any) error {
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(state); err != nil {
		return fmt.Errorf("%s: decode snapshot: %w", name, err)
	}
	return nil
}

// Defaults of Snapshots: a follower saves its snapshot after this many
// events, or this long after the last one if it folded anything since.
const (
	DefaultSnapshotEvery    = 100_000
	DefaultSnapshotInterval = 5 * time.Minute
)

// Snapshotter is one follower's use of Snapshots: it loads the snapshot
// the follower starts from and saves a new one when one is due and when
// the follower stops. A nil *Snapshotter, or one without Snapshots, does
// nothing: the follower folds the whole log. It is not safe for
// concurrent use: the follower's goroutine that folds uses it.
type Snapshotter struct {
	Snapshots *Snapshots
	Name      string
	Version   uint32
	Now       func() time.Time // default time.Now
	Log       *slog.Logger     // hears why a snapshot was not used or saved

	last   uint64 // position of the last snapshot loaded or saved
	lastAt time.Time
	off    bool // Hold was called: save no more
}

func (w *Snapshotter) on() bool { return w != nil && w.Snapshots != nil && !w.off }

func (w *Snapshotter) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Snapshotter) logger() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Start loads the follower's snapshot and hands its state to restore; it
// returns the position to follow the log from: the one after the
// snapshot's, or 1 when there is none to use (or restore refused it:
// the follower must then leave its state as it was).
func (w *Snapshotter) Start(ctx context.Context, restore func(state []byte) error) uint64 {
	if !w.on() {
		return 1
	}
	w.lastAt = w.now()
	snap, err := w.Snapshots.Load(ctx, w.Name, w.Version)
	if err == nil {
		err = restore(snap.State)
	}
	if err != nil {
		w.logger().Info("salesbot: following the log from its beginning", "follower", w.Name, "why", err)
		return 1
	}
	w.last = snap.Position
	w.logger().Debug("salesbot: snapshot loaded", "follower", w.Name, "position", snap.Position)
	return snap.Position + 1
}

// Due says whether a follower that folded the log up to pos saves a
// snapshot now.
func (w *Snapshotter) Due(pos uint64) bool {
	if !w.on() || pos <= w.last {
		return false
	}
	every, interval := w.Snapshots.Every, w.Snapshots.Interval
	if every == 0 {
		every = DefaultSnapshotEvery
	}
	if interval <= 0 {
		interval = DefaultSnapshotInterval
	}
	return pos-w.last >= every || w.now().Sub(w.lastAt) >= interval
}

// Save saves state as the snapshot at pos (state is called only if one
// is due, or force). A failure is logged, not returned: without a
// snapshot the follower only starts slower.
func (w *Snapshotter) Save(ctx context.Context, pos uint64, force bool, state func() ([]byte, error)) {
	if !w.on() || pos <= w.last || (!force && !w.Due(pos)) {
		return
	}
	b, err := state()
	if errors.Is(err, ErrSnapshotLater) {
		return
	}
	if err == nil {
		err = w.Snapshots.Save(ctx, w.Name, w.Version, Snapshot{Position: pos, State: b})
	}
	w.lastAt = w.now()
	if err != nil {
		w.logger().Warn("salesbot: snapshot not saved", "follower", w.Name, "position", pos, "err", err)
		return
	}
	w.last = pos
}

// Scrub saves state as the snapshot at pos now and makes the snapshots it
// replaces leave the data files: the follower folded an erasure, and the
// personal data of the erased must not stay in an older snapshot.
func (w *Snapshotter) Scrub(ctx context.Context, pos uint64, state func() ([]byte, error)) {
	if !w.on() {
		return
	}
	w.Save(ctx, pos, true, state)
	if err := w.Snapshots.scrub(ctx, w.Name); err != nil {
		w.logger().Warn("salesbot: old snapshots not scrubbed", "follower", w.Name, "err", err)
	}
}

// ErrSnapshotLater, returned by Save's state function, skips this
// snapshot: the follower holds something it does not put in snapshots
// (a lead's text it is about to act on).
var ErrSnapshotLater = errors.New("eventstore: no snapshot now")

// Hold stops saving snapshots for the rest of the run: the follower's
// state missed something the log holds (a repair that failed), which a
// start from an earlier snapshot or the beginning tries again.
func (w *Snapshotter) Hold() {
	if w != nil {
		w.off = true
	}
}
