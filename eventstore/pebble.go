package eventstore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/google/uuid"
)

// Key layout in the one Pebble database (big-endian numbers keep scans in
// order):
//
//	e|<position:8>                   → envelope
//	h|<stream>                       → version:8, position:8 of the stream's
//	                                   last event (stream head)
//	m|tip                            → chain tip record (position, hash, MAC)
//	m|id                             → the log's id (16 bytes), made with it
//	k|<subject>                      → subject key wrapped by the master key;
//	                                   empty value = forgotten
//	x|<name>                         → secret sealed by the master key
var (
	prefixEvent  = []byte("e|")
	prefixHead   = []byte("h|")
	prefixKey    = []byte("k|")
	prefixSecret = []byte("x|")
	keyTip       = []byte("m|tip")
	keyLogID     = []byte("m|id")
)

func eventKey(pos uint64) []byte {
	k := make([]byte, 10)
	copy(k, prefixEvent)
	binary.BigEndian.PutUint64(k[2:], pos)
	return k
}

func prefixed(p []byte, s string) []byte { return append(append([]byte(nil), p...), s...) }

// prefixEnd is the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// Options configure a PebbleStore.
type Options struct {
	// MasterKey (32 bytes) wraps subject keys and secrets and authenticates
	// the chain tip. Required.
	MasterKey []byte
	// Upcasters migrate old payload schemas on read. Optional.
	Upcasters *Upcasters
	// Now is the clock for recorded-at times; nil means time.Now.
	Now func() time.Time
	// Logger receives Pebble's own log lines at debug level; nil discards.
	Logger *slog.Logger
	// MaxGroupEvents caps the events one group commit gathers (default 4096).
	MaxGroupEvents int
	// MustExist makes Open fail with ErrNoLog instead of creating a new log.
	MustExist bool
	// CacheSize is the block cache in bytes (default DefaultCacheSize).
	// Loading a stream reads its events by position, scattered over the
	// log; the cache keeps the blocks of live dialogs in memory.
	CacheSize int64
	// ForAudit opens a log whose chain tip does not check out (altered, or
	// a different master key) instead of refusing it; appends then fail and
	// Verify reports the damage. Use it only to verify.
	ForAudit bool
	// ReadOnly opens an existing log without writing a byte to its
	// directory (verify, replay, a read-only copy): appends and secrets
	// fail with ErrReadOnly. It implies MustExist.
	ReadOnly bool
	// FS is the filesystem the log lives on; nil means the operating
	// system's. Tests pass Pebble's in-memory or fault-injecting ones.
	FS vfs.FS
	// PublicKey opens the log with its public key instead of the master
	// key, to verify it and nothing else: nothing is decrypted, event MACs
	// and the chain tip are not checked, the signed heads and key records
	// are. It requires ReadOnly and no MasterKey.
	PublicKey ed25519.PublicKey
	// AnchorFile is where the latest signed head is kept outside the data
	// dir. Open refuses a log that is behind its anchor or diverges from
	// it (an *AnchorError; with ForAudit, Verify reports it instead); a
	// writable store creates the file and moves it forward as the log
	// grows. Empty: no anchor.
	AnchorFile string
	// SignInterval is how often at most the head is signed and the anchor
	// moved while appends go on (default DefaultSignInterval); Close signs
	// the last head.
	SignInterval time.Duration
	// MinFreeBytes is the free disk space the store keeps (default
	// DefaultMinFreeBytes; negative: no floor): below it Open refuses and
	// appends fail with a *DiskFullError, and the store stops.
	MinFreeBytes int64
}

// DefaultCacheSize is the block cache of a store opened without
// Options.CacheSize: 256 MiB.
const DefaultCacheSize = 256 << 20

// PebbleStore is the durable event log on Pebble.
//
// Group commit without a committer goroutine: appenders queue their
// requests, and one of them at a time is the leader. The leader takes
// everything queued as one group, checks expected versions (also against
// earlier requests of the group), assigns positions, links the hash chain
// and applies the group as one Pebble batch with ApplyNoSyncWait, so the WAL
// holds groups in position order. It then hands leadership to the first
// request queued meanwhile and, like every appender, waits for its group's
// fsync. No lock is held across a sync; the durable head advances over
// synced groups in order, and readers never see past it. Leading from an
// appender's own goroutine avoids a hand-off to a committer goroutine that
// the scheduler may not run for hundreds of microseconds under load.
type PebbleStore struct {
	db       *pebble.DB
	dir      string
	fs       vfs.FS
	readOnly bool
	id       uuid.UUID
	log      *slog.Logger
	m        *master

	// trust (pebble_trust.go)
	anchor     string        // anchor file; "" = none
	keysSigned bool          // m|keys: every key record is signed
	signedPos  atomic.Uint64 // position of the latest signed head
	stopSign   context.CancelFunc
	signDone   chan struct{}
	floor      uint64    // free bytes to keep
	disk       diskWatch // leader-owned
	keys       *keyring
	dec        decoder
	now        func() time.Time
	max        int

	// closeMu is held shared for the whole of every Append; Close takes it
	// exclusively, so it waits for appends under way.
	closeMu sync.RWMutex
	closed  bool

	qmu     sync.Mutex
	queue   []*appendReq
	leading bool // a leader is committing; the next is handed the queue

	head     *headSignal
	failed   atomic.Pointer[error]
	failedCh chan struct{} // closed when failed is set

	// leader-owned
	tip        chainTip
	lastFlight *flight
	flightSeq  uint64

	// heads holds the version of the streams this process appended to (or
	// looked up), as the leaders see it, including groups not yet durable.
	// Only the leader writes it; entries already durable may be evicted.
	headsMu   sync.RWMutex
	heads     map[string]streamHead
	maxHeads  int
	evictions uint64 // how many times heads was pruned
	// complete: heads holds every stream of the log (loaded at Open, never
	// pruned since), so a stream missing from it has no events.
	complete bool

	// durable orders group completions into head advances.
	durMu   sync.Mutex
	durNext uint64            // sequence of the next group to publish
	durDone map[uint64]uint64 // synced groups waiting for earlier ones: seq → last position
}

var (
	_ Store   = (*PebbleStore)(nil)
	_ Secrets = (*PebbleStore)(nil)
)

type appendReq struct {
	stream   string
	expected ExpectedVersion
	p        prepared
	// stored is the stream's head read from Pebble by the appender when the
	// stream was not in the heads cache (see currentHead).
	stored    streamHead
	hasStored bool
	epoch     uint64 // heads' evictions count when stored was read
	res       AppendResult
	err       error
	wait      *flight // the group whose fsync makes the answer durable
	// wake tells the request's goroutine its role (roleLead, roleSettle,
	// roleDone); group is set for roleSettle.
	wake  chan int
	group []*appendReq
}

// flight is one applied group on its way to disk.
type flight struct {
	batch *pebble.Batch
	seq   uint64 // 1, 2, ... in apply order
	last  uint64 // last position in the batch
	once  sync.Once
	err   error
}

// Open opens (creating if needed) the log in dir. Among its errors:
// ErrNoLog (MustExist and no log), ErrLocked (the log is in use),
// ErrDiskFull, ErrTampered (the log does not match its tip or anchor).
func Open(dir string, opts Options) (*PebbleStore, error) {
	var m *master
	var err error
	switch {
	case opts.PublicKey != nil:
		if opts.MasterKey != nil || !opts.ReadOnly {
			return nil, errors.New("eventstore: a public key opens a log read-only and without the master key")
		}
		if len(opts.PublicKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("eventstore: public key must be %d bytes, got %d", ed25519.PublicKeySize, len(opts.PublicKey))
		}
		m = &master{pub: opts.PublicKey}
	default:
		if m, err = newMaster(opts.MasterKey); err != nil {
			return nil, err
		}
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	fs := storeFS{FS: opts.FS, private: opts.FS == nil, readOnly: opts.ReadOnly}
	if fs.FS == nil {
		fs.FS = vfs.Default
	}
	floor := uint64(DefaultMinFreeBytes)
	if opts.MinFreeBytes != 0 {
		floor = uint64(max(opts.MinFreeBytes, 0))
	}
	if !opts.ReadOnly {
		// Below the floor Pebble may not even finish opening (it flushes
		// the WAL it replays, retrying forever on a full disk).
		if err := checkFree(fs, dir, floor); err != nil {
			return nil, err
		}
	}
	cache := pebble.NewCache(opts.CacheSize)
	defer cache.Unref() // the DB holds its own reference
	// When the disk fills up anyway (another process wrote it full), the
	// first write that meets ENOSPC removes the ballast, so that what
	// Pebble has under way can finish, and stops the store.
	var self atomic.Pointer[PebbleStore]
	po := &pebble.Options{
		Logger:           pebbleLogger{opts.Logger},
		MemTableSize:     64 << 20,
		ErrorIfNotExists: opts.MustExist || opts.ReadOnly,
		ReadOnly:         opts.ReadOnly,
		Cache:            cache,
		FS: vfs.OnDiskFull(fs, func() {
			if s := self.Load(); s != nil {
				s.diskFull()
			}
		}),
	}
	// 32 KiB blocks: a sequential scan of the log reads an eighth of the
	// blocks it would with the 4 KiB default (measured: 1.0M → 2.1M events/s
	// decoded), at a small cost to point lookups.
	// Bloom filters make the stream-head lookup of a new stream (a miss)
	// skip every sstable.
	for i := range po.Levels {
		po.Levels[i].BlockSize = 32 << 10
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, po)
	if errors.Is(err, pebble.ErrDBDoesNotExist) {
		return nil, fmt.Errorf("eventstore: open %s: %w", dir, ErrNoLog)
	}
	if err != nil {
		return nil, fmt.Errorf("eventstore: open %s: %w", dir, err)
	}
	if fs.private && !opts.ReadOnly {
		tightenModes(dir)
	}
	s := &PebbleStore{
		db:       db,
		dir:      dir,
		fs:       fs,
		readOnly: opts.ReadOnly,
		log:      opts.Logger,
		m:        m,
		now:      opts.Now,
		max:      opts.MaxGroupEvents,
		heads:    make(map[string]streamHead),
		maxHeads: defaultMaxHeads,
		durNext:  1,
		durDone:  make(map[uint64]uint64),
		anchor:   opts.AnchorFile,
		floor:    floor,
		failedCh: make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.max <= 0 {
		s.max = 4096
	}
	self.Store(s)
	if err := s.open(opts); err != nil {
		s.stop()
		db.Close()
		return nil, err
	}
	return s, nil
}

// stop ends the signing goroutine, if it runs.
func (s *PebbleStore) stop() {
	if s.stopSign != nil {
		s.stopSign()
		<-s.signDone
	}
}

// open loads what the store keeps in memory and checks the log against
// its tip and anchor; a writable store then signs what is unsigned and
// starts signing heads.
func (s *PebbleStore) open(opts Options) error {
	if err := s.loadLogID(); err != nil {
		return err
	}
	s.keys = newKeyring(s.m, s.id, pebbleKeys{s.db})
	s.dec = decoder{keys: s.keys, upcasters: opts.Upcasters}
	err := s.loadTip()
	s.head = newHeadSignal(s.tip.pos)
	if err == nil {
		err = s.loadHeads()
	}
	if err == nil && !s.readOnly {
		err = s.signKeys()
	} else if err == nil {
		switch _, c, gerr := s.db.Get(keyKeysSigned); {
		case gerr == nil:
			c.Close()
			s.keysSigned = true
		case !errors.Is(gerr, pebble.ErrNotFound):
			err = fmt.Errorf("eventstore: open %s: read key format: %w", s.dir, gerr)
		}
	}
	var sth *SignedHead
	if err == nil {
		if sth, err = s.loadSignedHead(s.db); sth != nil {
			s.signedPos.Store(sth.Position)
		}
	}
	if err == nil {
		var anchored SignedHead
		var found bool
		anchored, found, err = s.checkAnchor()
		if err == nil && !s.readOnly && (!found || anchored.Position < s.tip.pos || sth == nil || sth.Position < s.tip.pos) {
			// Sign the head now: a new anchor is written at once, so an
			// anchor file that cannot be written fails the start.
			err = s.signHead(s.tip.pos)
		}
	}
	if err == nil && !s.readOnly {
		err = s.makeBallast()
	}
	if err != nil {
		if !opts.ForAudit || !errors.Is(err, ErrTampered) {
			return err
		}
		s.fail(err) // appends fail; Verify reports the damage
		return nil
	}
	if !s.readOnly {
		interval := opts.SignInterval
		if interval <= 0 {
			interval = DefaultSignInterval
		}
		ctx, stop := context.WithCancel(context.Background())
		s.stopSign, s.signDone = stop, make(chan struct{})
		go s.signLoop(ctx, interval)
	}
	return nil
}

// loadLogID reads the log's id, making one for a log that has none (a new
// log, or one made before logs had ids).
func (s *PebbleStore) loadLogID() error {
	v, closer, err := s.db.Get(keyLogID)
	switch {
	case err == nil:
		defer closer.Close()
		id, perr := uuid.FromBytes(v)
		if perr != nil {
			return fmt.Errorf("eventstore: open %s: %w", s.dir, &TamperError{Reason: "the log id record is malformed"})
		}
		s.id = id
		return nil
	case !errors.Is(err, pebble.ErrNotFound):
		return fmt.Errorf("eventstore: open %s: read log id: %w", s.dir, err)
	case s.readOnly:
		return nil // uuid.Nil: a log from before ids, opened read-only
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("eventstore: open %s: new log id: %w", s.dir, err)
	}
	if err := s.db.Set(keyLogID, id[:], pebble.Sync); err != nil {
		return fmt.Errorf("eventstore: open %s: store log id: %w", s.dir, err)
	}
	s.id = id
	return nil
}

// LogID implements Store.
func (s *PebbleStore) LogID() uuid.UUID { return s.id }

// IndexKey implements Store.
func (s *PebbleStore) IndexKey() []byte { return bytes.Clone(s.m.indexKey) }

// HashAt implements Store.
func (s *PebbleStore) HashAt(_ context.Context, pos uint64) ([32]byte, error) {
	if err := s.enter(); err != nil {
		return [32]byte{}, err
	}
	defer s.closeMu.RUnlock()
	if pos == 0 || pos > s.head.get() {
		return [32]byte{}, fmt.Errorf("eventstore: hash at position %d (head %d): %w", pos, s.head.get(), ErrNotFound)
	}
	rec, err := s.get(eventKey(pos))
	if err != nil {
		return [32]byte{}, fmt.Errorf("eventstore: hash at position %d: %w", pos, err)
	}
	env, _, err := splitRecord(rec)
	if err != nil {
		return [32]byte{}, fmt.Errorf("eventstore: hash at position %d: %w", pos, err)
	}
	return envelopeHash(env), nil
}

// loadTip reads and authenticates the chain tip, and checks that nothing
// follows it.
func (s *PebbleStore) loadTip() error {
	v, closer, err := s.db.Get(keyTip)
	if errors.Is(err, pebble.ErrNotFound) {
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefixEvent, UpperBound: prefixEnd(prefixEvent)})
		if err != nil {
			return fmt.Errorf("eventstore: open %s: %w", s.dir, err)
		}
		defer it.Close()
		if it.First() {
			return fmt.Errorf("eventstore: open %s: %w", s.dir, &TamperError{Position: 1, Reason: "events exist but the chain tip record is missing"})
		}
		return it.Error()
	}
	if err != nil {
		return fmt.Errorf("eventstore: open %s: read chain tip: %w", s.dir, err)
	}
	pos, hash, err := s.m.decodeTip(v)
	closer.Close()
	if err != nil {
		return fmt.Errorf("eventstore: open %s: %w", s.dir, &TamperError{Position: 0, Reason: err.Error()})
	}
	s.tip = chainTip{pos: pos, hash: hash}
	if pos > 0 {
		rec, c, err := s.db.Get(eventKey(pos))
		if errors.Is(err, pebble.ErrNotFound) {
			return fmt.Errorf("eventstore: open %s: %w", s.dir, &TamperError{Position: pos, Reason: "the event at the authenticated chain tip is missing"})
		}
		if err != nil {
			return fmt.Errorf("eventstore: open %s: read position %d: %w", s.dir, pos, err)
		}
		env, _, err := splitRecord(rec)
		ok := err == nil && envelopeHash(env) == hash
		c.Close()
		if !ok {
			return fmt.Errorf("eventstore: open %s: %w", s.dir, &TamperError{Position: pos, Reason: "the last event does not match the authenticated chain tip"})
		}
	}
	switch _, c, err := s.db.Get(eventKey(pos + 1)); {
	case err == nil:
		c.Close()
		return fmt.Errorf("eventstore: open %s: %w", s.dir, &TamperError{Position: pos + 1, Reason: "an event follows the authenticated chain tip"})
	case !errors.Is(err, pebble.ErrNotFound):
		return fmt.Errorf("eventstore: open %s: read position %d: %w", s.dir, pos+1, err)
	}
	return nil
}

// Append implements Store.
func (s *PebbleStore) Append(ctx context.Context, stream string, expected ExpectedVersion, events ...Event) (AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return AppendResult{}, err
	}
	if err := s.enter(); err != nil {
		return AppendResult{}, err
	}
	defer s.closeMu.RUnlock()
	if s.readOnly {
		return AppendResult{}, fmt.Errorf("eventstore: append to %q: %w", stream, ErrReadOnly)
	}
	p, err := prepare(s.keys, stream, expected, events)
	if err != nil {
		return AppendResult{}, err
	}
	r := &appendReq{stream: stream, expected: expected, p: p, wake: make(chan int, 1)}
	s.headsMu.RLock()
	_, known := s.heads[stream]
	r.epoch = s.evictions
	complete := s.complete
	s.headsMu.RUnlock()
	if !known && complete {
		r.hasStored = true // a new stream: version 0
	} else if !known {
		// Look the stream up here, in parallel with other appenders, rather
		// than in the leader.
		if r.stored, err = s.lastHead(stream); err != nil {
			return AppendResult{}, fmt.Errorf("eventstore: read head of stream %q: %w", stream, err)
		}
		r.hasStored = true
	}
	s.qmu.Lock()
	s.queue = append(s.queue, r)
	role := roleDone
	if !s.leading {
		s.leading, role = true, roleLead
	}
	s.qmu.Unlock()
	if role != roleLead {
		role = <-r.wake
	}
	if role == roleLead {
		s.lead(r)
	} else if role == roleSettle {
		s.settleGroup(r.group)
	}
	// Once queued the append runs to its end, durable or failed; waiting
	// keeps the outcome unambiguous for the caller.
	return r.res, r.err
}

// What a queued request's goroutine is woken to do.
const (
	roleDone   = iota // the request is answered
	roleLead          // commit queued groups (see lead)
	roleSettle        // wait for the request's group to be durable and answer it
)

// maxLeadRounds bounds how many groups one leader commits before handing
// leadership on, so that its own append is answered.
const maxLeadRounds = 16

// lead commits queued requests group by group (up to max events or
// maxGroupBytes each). The first member of every group it commits, other
// than its own, is woken to wait for that group's fsync and answer it, so
// the leader goes straight on to the next group: no hand-off between groups
// while appends keep coming. When the queue is empty, or after
// maxLeadRounds groups, it stops (handing leadership to the first queued
// request) and settles its own group.
func (s *PebbleStore) lead(me *appendReq) {
	// Let the appenders that are runnable (typically a whole group just
	// woken by an fsync) queue their requests first, so that one batch
	// carries them all.
	runtime.Gosched()
	var mine []*appendReq
	for round := 1; ; round++ {
		s.qmu.Lock()
		n, size, k := 0, 0, 0
		for k < len(s.queue) && (k == 0 || n+len(s.queue[k].p.bodies) <= s.max && size+s.queue[k].p.size() <= maxGroupBytes) {
			n += len(s.queue[k].p.bodies)
			size += s.queue[k].p.size()
			k++
		}
		group := s.queue[:k:k]
		s.queue = s.queue[k:]
		s.qmu.Unlock()

		s.commitGroupSafe(group)
		if group[0] == me {
			mine = group
		} else {
			group[0].group = group
			group[0].wake <- roleSettle
		}

		s.qmu.Lock()
		if len(s.queue) == 0 {
			s.leading = false
			s.queue = nil
			s.qmu.Unlock()
			break
		}
		if round >= maxLeadRounds {
			s.queue[0].wake <- roleLead
			s.qmu.Unlock()
			break
		}
		s.qmu.Unlock()
	}
	s.settleGroup(mine)
}

// settleGroup waits until a committed group is durable and answers its
// members; the caller is group[0].
func (s *PebbleStore) settleGroup(group []*appendReq) {
	if f := group[0].wait; f != nil {
		if err := s.settle(f); err != nil {
			for _, r := range group {
				r.res, r.err = AppendResult{}, err
			}
		}
	}
	for _, r := range group[1:] {
		r.wake <- roleDone
	}
}

// settle waits until flight f and every group before it are durable. The
// first caller for a flight waits for its fsync (a batch allows only one
// SyncWait) and reports it; the others wait on the same sync.Once.
func (s *PebbleStore) settle(f *flight) error {
	f.once.Do(func() {
		err := f.batch.SyncWait()
		f.batch.Close()
		if err != nil {
			f.err = s.fail(fmt.Errorf("sync batch ending at position %d: %w", f.last, err))
			return
		}
		s.durMu.Lock()
		s.durDone[f.seq] = f.last
		var publish uint64
		for {
			last, ok := s.durDone[s.durNext]
			if !ok {
				break
			}
			delete(s.durDone, s.durNext)
			s.durNext++
			publish = last
		}
		s.durMu.Unlock()
		if publish > 0 {
			s.head.publish(publish)
		}
	})
	if f.err != nil {
		return f.err
	}
	if _, err := s.head.wait(context.Background(), f.last-1); err != nil {
		if errp := s.failed.Load(); errp != nil {
			return *errp
		}
		return err
	}
	return nil
}

// Err is why the store stopped taking appends (a disk full, a failed
// write), or nil while it works.
func (s *PebbleStore) Err() error {
	if errp := s.failed.Load(); errp != nil {
		return *errp
	}
	return nil
}

// Failed is closed when the store stops taking appends; see Err.
func (s *PebbleStore) Failed() <-chan struct{} { return s.failedCh }

// fail puts the store in a failed state: a write to Pebble failed, so what
// is in memory may no longer match the disk. Every later append returns the
// error and waiters for durability are released.
func (s *PebbleStore) fail(err error) error {
	err = fmt.Errorf("%w: store failed: %w", ErrClosed, err)
	if s.failed.CompareAndSwap(nil, &err) {
		close(s.failedCh)
	}
	s.head.close()
	return *s.failed.Load()
}

// loadHeads fills the heads cache with every stream head of the log, so
// that appending to a new stream needs no lookup. Past maxHeads streams it
// stops and heads is left incomplete: lookups then go to Pebble.
func (s *PebbleStore) loadHeads() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefixHead, UpperBound: prefixEnd(prefixHead)})
	if err != nil {
		return fmt.Errorf("eventstore: open %s: load stream heads: %w", s.dir, err)
	}
	defer it.Close()
	s.complete = true
	for ok := it.First(); ok; ok = it.Next() {
		if len(s.heads) >= s.maxHeads {
			clear(s.heads)
			s.complete = false
			break
		}
		stream := string(it.Key()[len(prefixHead):])
		h, err := decodeHead(stream, it.Value())
		if err != nil {
			return fmt.Errorf("eventstore: open %s: %w", s.dir, &TamperError{Reason: err.Error()})
		}
		s.heads[stream] = h
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("eventstore: open %s: load stream heads: %w", s.dir, err)
	}
	return nil
}

// streamHead is a stream's version and the position of its last event; its
// h| key holds both, 8 bytes each, big-endian.
type streamHead struct{ version, pos uint64 }

func (h streamHead) encode() []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, 16), h.version), h.pos)
}

func decodeHead(stream string, v []byte) (streamHead, error) {
	if len(v) != 16 {
		return streamHead{}, fmt.Errorf("%w: head of stream %q is %d bytes", ErrCorrupt, stream, len(v))
	}
	return streamHead{version: binary.BigEndian.Uint64(v), pos: binary.BigEndian.Uint64(v[8:])}, nil
}

// defaultMaxHeads bounds the heads cache; past it durable entries are
// dropped.
const defaultMaxHeads = 1 << 20

// commitGroupSafe is commitGroup that turns a panic (Pebble panics on some
// misuse, such as a batch past its size limit) into a failed store, so that
// the group is answered and leadership handed on instead of every appender
// hanging.
func (s *PebbleStore) commitGroupSafe(group []*appendReq) {
	defer func() {
		if p := recover(); p != nil {
			err := s.fail(fmt.Errorf("commit panicked: %v", p))
			for _, r := range group {
				r.res, r.err, r.wait = AppendResult{}, err, nil
			}
		}
	}()
	s.commitGroup(group)
}

// maxGroupBytes caps the bytes of one group's batch (a single append may
// exceed it alone: it is then a group of one).
const maxGroupBytes = 64 << 20

// tombEntry is an erasure to write: the subject's tombstone, bound to the
// position of the event that records it.
type tombEntry struct {
	subject string
	pos     uint64
}

// headEntry is a stream head to write.
type headEntry struct {
	stream string
	head   streamHead
}

func (s *PebbleStore) commitGroup(group []*appendReq) {
	if errp := s.failed.Load(); errp != nil {
		for _, r := range group {
			r.err = *errp
		}
		return
	}
	at := s.now()
	if s.floor > 0 {
		size := 0
		for _, r := range group {
			size += r.p.size()
		}
		if s.disk.due(at, uint64(size), s.floor) {
			if err := checkFree(s.fs, s.dir, s.floor); err != nil {
				err = s.fail(err)
				for _, r := range group {
					r.err = err
				}
				return
			}
		}
	}
	var b *pebble.Batch
	var heads []headEntry
	var tombs []tombEntry
	// The locked part runs in its own function so that a panic (caught by
	// commitGroupSafe) cannot leave headsMu held.
	func() {
		s.headsMu.Lock()
		defer s.headsMu.Unlock()
		if len(s.heads) > s.maxHeads {
			durable := s.head.get()
			for k, h := range s.heads {
				if h.pos <= durable {
					delete(s.heads, k)
				}
			}
			s.evictions++
			s.complete = false
		}
		for _, r := range group {
			// Until this group is applied, a request that fails waits for the
			// previous group: the state it was judged against is then durable.
			r.wait = s.lastFlight
			cur, err := s.currentHead(r)
			if err != nil {
				r.err = err
				continue
			}
			if err := checkExpected(r.stream, r.expected, cur.version); err != nil {
				r.err = err
				continue
			}
			if err := r.p.checkErased(s.keys, r.stream); err != nil {
				r.err = err
				continue
			}
			if b == nil {
				b = s.db.NewBatch()
			}
			first := s.tip.pos + 1
			s.tip.link(s.m, r.p, cur.version+1, cur.pos, at)
			// Event keys first, in order, then the heads: Pebble inserts a batch
			// into its memtable with one splice hint, which makes runs of
			// ascending keys cheap.
			for i, body := range r.p.bodies {
				b.Set(eventKey(first+uint64(i)), body, nil)
			}
			for i, subject := range r.p.erases {
				if subject != "" {
					tombs = append(tombs, tombEntry{subject, first + uint64(i)})
					s.keys.markErased(subject)
				}
			}
			h := streamHead{version: cur.version + uint64(len(r.p.bodies)), pos: s.tip.pos}
			s.heads[r.stream] = h
			heads = append(heads, headEntry{r.stream, h})
			r.res = AppendResult{FirstPosition: first, LastPosition: s.tip.pos, Version: h.version}
		}
	}()
	if b == nil {
		return
	}
	slices.SortStableFunc(heads, func(x, y headEntry) int { return strings.Compare(x.stream, y.stream) })
	for i, e := range heads {
		if i+1 < len(heads) && heads[i+1].stream == e.stream {
			continue // a stream twice in the group: keep its last head
		}
		b.Set(prefixed(prefixHead, e.stream), e.head.encode(), nil)
	}
	for _, t := range tombs {
		b.Set(prefixed(prefixKey, t.subject), s.m.tombstone(s.id, t.subject, t.pos), nil)
	}
	b.Set(keyTip, s.m.encodeTip(s.tip.pos, s.tip.hash), nil)
	if err := s.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
		err = s.fail(fmt.Errorf("apply batch ending at position %d: %w", s.tip.pos, err))
		for _, r := range group {
			r.err, r.wait = err, nil
		}
		return
	}
	s.flightSeq++
	f := &flight{batch: b, seq: s.flightSeq, last: s.tip.pos}
	s.lastFlight = f
	for _, r := range group {
		r.wait = f // conflicts too: they may have been judged against this group
	}
}

// currentHead is the stream's head as the leader knows it. The caller
// holds headsMu.
//
// A stream missing from heads has no write of this process that is not yet
// in Pebble. If heads was not pruned since the appender read the stream's
// head from Pebble (before queueing), no write can have come between, so
// that read is still the truth; otherwise read again: every applied write
// is visible in Pebble now.
func (s *PebbleStore) currentHead(r *appendReq) (streamHead, error) {
	if h, ok := s.heads[r.stream]; ok {
		return h, nil
	}
	if !r.hasStored || r.epoch != s.evictions {
		h, err := s.lastHead(r.stream)
		if err != nil {
			return streamHead{}, fmt.Errorf("eventstore: read head of stream %q: %w", r.stream, err)
		}
		r.stored = h
	}
	return r.stored, nil
}

// lastHead reads the stream's head key; a stream without one has none.
func (s *PebbleStore) lastHead(stream string) (streamHead, error) {
	v, c, err := s.db.Get(prefixed(prefixHead, stream))
	if errors.Is(err, pebble.ErrNotFound) {
		return streamHead{}, nil
	}
	if err != nil {
		return streamHead{}, err
	}
	defer c.Close()
	return decodeHead(stream, v)
}

// Head implements Store.
func (s *PebbleStore) Head() uint64 { return s.head.get() }

// WaitHead implements Store.
func (s *PebbleStore) WaitHead(ctx context.Context, after uint64) (uint64, error) {
	return s.head.wait(ctx, after)
}

// ReadAll implements Store.
func (s *PebbleStore) ReadAll(ctx context.Context, from uint64, limit int) ([]RecordedEvent, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	var out []RecordedEvent
	var slab []byte
	err := s.records(ctx, from, limit, func(n int, pos uint64, rec []byte) error {
		if out == nil {
			out = make([]RecordedEvent, 0, n)
		}
		if cap(slab)-len(slab) < len(rec) {
			slab = make([]byte, 0, max(64<<10, len(rec)))
		}
		start := len(slab)
		slab = append(slab, rec...)
		e, err := s.dec.decode(slab[start:len(slab):len(slab)])
		if err != nil {
			return fmt.Errorf("eventstore: decode position %d: %w", pos, err)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// Scan implements Store.
func (s *PebbleStore) Scan(ctx context.Context, from uint64, limit int, fn func(*RecordedEvent) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	e := new(RecordedEvent) // one per call, reused: fn may not keep it
	return s.records(ctx, from, limit, func(_ int, pos uint64, rec []byte) error {
		var err error
		if *e, err = s.dec.decode(rec); err != nil {
			return fmt.Errorf("eventstore: decode position %d: %w", pos, err)
		}
		return fn(e)
	})
}

// records calls fn with each stored record of up to limit durable events
// from position from on; n is how many records the call will visit. rec is
// valid only during fn.
func (s *PebbleStore) records(ctx context.Context, from uint64, limit int, fn func(n int, pos uint64, rec []byte) error) error {
	head := s.head.get()
	from = max(from, 1)
	if limit <= 0 || from > head {
		return nil
	}
	last := min(head, from+uint64(limit)-1)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: eventKey(from), UpperBound: eventKey(last + 1)})
	if err != nil {
		return fmt.Errorf("eventstore: read from position %d: %w", from, err)
	}
	defer it.Close()
	n := int(last - from + 1)
	want := from
	for ok := it.First(); ok; ok = it.Next() {
		pos := binary.BigEndian.Uint64(it.Key()[2:])
		if pos != want {
			return fmt.Errorf("%w: position %d missing", ErrCorrupt, want)
		}
		want++
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("eventstore: read position %d: %w", pos, err)
		}
		if err := fn(n, pos, v); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("eventstore: read from position %d: %w", from, err)
	}
	if want != last+1 {
		return fmt.Errorf("%w: position %d missing", ErrCorrupt, want)
	}
	return nil
}

// ReadStream implements Store. It reads the stream's head key (written in
// the same batch as the stream's last events, so it never points at an
// event not yet in Pebble), walks back along each event's pointer to the
// stream's previous event, skipping events not yet durable, and returns
// the rest in order.
func (s *PebbleStore) ReadStream(ctx context.Context, stream string, fromVersion uint64) ([]RecordedEvent, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	durable := s.head.get()
	h, err := s.lastHead(stream)
	if err != nil {
		return nil, fmt.Errorf("eventstore: read stream %q: %w", stream, err)
	}
	fromVersion = max(fromVersion, 1)
	var out []RecordedEvent
	for pos, want := h.pos, h.version; pos != 0 && want >= fromVersion; want-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		raw, err := s.get(eventKey(pos))
		if err != nil {
			return nil, fmt.Errorf("eventstore: stream %q: read position %d: %w", stream, pos, err)
		}
		e, err := s.dec.decode(raw)
		if err != nil {
			return nil, fmt.Errorf("eventstore: stream %q: decode position %d: %w", stream, pos, err)
		}
		if e.Stream != stream || e.Version != want {
			return nil, fmt.Errorf("%w: stream %q: position %d holds %q version %d, want version %d", ErrCorrupt, stream, pos, e.Stream, e.Version, want)
		}
		if pos <= durable {
			out = append(out, e)
		}
		pos = binary.BigEndian.Uint64(raw[offStreamPrev:])
	}
	slices.Reverse(out)
	return out, nil
}

// StreamVersion implements Store: the head key, walked back past events
// not yet durable.
func (s *PebbleStore) StreamVersion(ctx context.Context, stream string) (uint64, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.closeMu.RUnlock()
	durable := s.head.get()
	h, err := s.lastHead(stream)
	if err != nil {
		return 0, fmt.Errorf("eventstore: version of stream %q: %w", stream, err)
	}
	for h.pos > durable {
		raw, err := s.get(eventKey(h.pos))
		if err != nil {
			return 0, fmt.Errorf("eventstore: version of stream %q: read position %d: %w", stream, h.pos, err)
		}
		h = streamHead{version: h.version - 1, pos: binary.BigEndian.Uint64(raw[offStreamPrev:])}
	}
	return h.version, nil
}

// Forget implements Store. Besides writing the tombstone it flushes and
// compacts the key's range so the old wrapped key leaves the sstables.
func (s *PebbleStore) Forget(ctx context.Context, subject string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	if s.readOnly {
		return fmt.Errorf("eventstore: forget %q: %w", subject, ErrReadOnly)
	}
	if err := s.keys.forget(subject); err != nil {
		return fmt.Errorf("eventstore: %w", err)
	}
	k := prefixed(prefixKey, subject)
	if err := s.db.Flush(); err != nil {
		return fmt.Errorf("eventstore: forget %q: flush: %w", subject, err)
	}
	if err := s.db.Compact(ctx, k, append(k, 0), false); err != nil {
		return fmt.Errorf("eventstore: forget %q: compact: %w", subject, err)
	}
	return nil
}

// Verify implements Store. It reads a consistent snapshot, so it may run
// while appends go on. Besides the chain it checks the subject key
// records, the latest signed head and the anchor file (if the store has
// one); with the public key alone (Options.PublicKey) it checks everything
// but the event MACs and the chain tip, which need the master key, and
// reports how many events follow the signed head.
func (s *PebbleStore) Verify(ctx context.Context, progress func(done, total uint64)) (VerifyReport, error) {
	if err := s.enter(); err != nil {
		return VerifyReport{}, err
	}
	defer s.closeMu.RUnlock()
	snap := s.db.NewSnapshot()
	defer snap.Close()
	var tipPos uint64
	var tipHash [32]byte
	switch v, closer, err := snap.Get(keyTip); {
	case errors.Is(err, pebble.ErrNotFound):
	case err != nil:
		return VerifyReport{}, fmt.Errorf("eventstore: verify: read chain tip: %w", err)
	default:
		tipPos, tipHash, err = s.m.decodeTip(v)
		closer.Close()
		if err != nil {
			return VerifyReport{}, &TamperError{Position: 0, Reason: err.Error()}
		}
	}
	sth, err := s.loadSignedHead(snap)
	if err != nil {
		return VerifyReport{}, err
	}
	anchor, hasAnchor, err := s.loadAnchorForVerify()
	if err != nil {
		return VerifyReport{}, err
	}
	cv := newChainVerifier(s.m)
	var sthHash, anchorHash [32]byte
	if sth != nil {
		cv.hashAt(sth.Position, &sthHash)
	}
	if hasAnchor {
		cv.hashAt(anchor.Position, &anchorHash)
	}
	it, err := snap.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefixEvent, UpperBound: prefixEnd(prefixEvent)})
	if err != nil {
		return VerifyReport{}, fmt.Errorf("eventstore: verify: %w", err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != 10 {
			return VerifyReport{}, &TamperError{Position: cv.tip.pos + 1, Reason: fmt.Sprintf("foreign key %q in the event range", k)}
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return VerifyReport{}, fmt.Errorf("eventstore: verify: read after position %d: %w", cv.tip.pos, err)
		}
		if err := cv.next(binary.BigEndian.Uint64(k[2:]), v); err != nil {
			return VerifyReport{}, err
		}
		if progress != nil && cv.tip.pos%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return VerifyReport{}, err
			}
			progress(cv.tip.pos, tipPos)
		}
	}
	if err := it.Error(); err != nil {
		return VerifyReport{}, fmt.Errorf("eventstore: verify: %w", err)
	}
	if s.m.publicOnly() {
		// The tip is not authenticated without the master key: it only has
		// to agree with the chain; the signed head vouches for the rest.
		tipHash = cv.tip.hash
	}
	if err := cv.finish(tipPos, tipHash); err != nil {
		return VerifyReport{}, err
	}
	if err := verifyHeads(ctx, snap, cv.streams); err != nil {
		return VerifyReport{}, err
	}
	rep := cv.report()
	rep.LogID, rep.PublicKeyOnly = s.id, s.m.publicOnly()
	kc := newKeyCheck(s.m, s.id, cv, s.keysSigned)
	if err := s.checkKeys(ctx, snap, kc); err != nil {
		return VerifyReport{}, err
	}
	rep.Erased, rep.Unbound, rep.UnsignedKeys = kc.rep.Erased, kc.rep.Unbound, kc.rep.UnsignedKeys
	if hasAnchor {
		if err := checkSignedHead(s.m.pub, s.id, anchor, cv.tip.pos, anchorHash, "anchor"); err != nil {
			reason := "is behind its anchor: an older copy of the data dir was restored or its newest events were removed"
			var te *TamperError
			if anchor.Position <= cv.tip.pos && errors.As(err, &te) {
				reason = "does not match its anchor: " + te.Reason
			}
			return VerifyReport{}, &AnchorError{File: s.anchor, Anchor: anchor, LogHead: cv.tip.pos, LogHash: cv.tip.hash, Reason: reason}
		}
		rep.Anchor = &anchor
	}
	switch {
	case sth != nil:
		if err := checkSignedHead(s.m.pub, s.id, *sth, cv.tip.pos, sthHash, "signed head"); err != nil {
			return VerifyReport{}, err
		}
		rep.SignedHead, rep.Unsigned = sth, cv.tip.pos-sth.Position
	case s.m.publicOnly() && cv.tip.pos > 0:
		return VerifyReport{}, fmt.Errorf("eventstore: verify %s: the log holds no signed head, so the public key can vouch for none of its %d events: open it once with salesbot and the master key (it signs its head), then verify again", s.dir, cv.tip.pos)
	default:
		rep.Unsigned = cv.tip.pos
	}
	if progress != nil {
		progress(cv.tip.pos, tipPos)
	}
	return rep, nil
}

// loadAnchorForVerify reads the store's anchor file, if it has one.
func (s *PebbleStore) loadAnchorForVerify() (SignedHead, bool, error) {
	if s.anchor == "" {
		return SignedHead{}, false, nil
	}
	return LoadAnchor(s.anchor)
}

// checkKeys runs the key records of the snapshot through kc.
func (s *PebbleStore) checkKeys(ctx context.Context, snap *pebble.Snapshot, kc *keyCheck) error {
	it, err := snap.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefixKey, UpperBound: prefixEnd(prefixKey)})
	if err != nil {
		return fmt.Errorf("eventstore: verify keys: %w", err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("eventstore: verify keys: %w", err)
		}
		if err := kc.record(string(it.Key()[len(prefixKey):]), v); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("eventstore: verify keys: %w", err)
	}
	return kc.finish()
}

// verifyHeads checks that every stream has a head key with its version and
// last position, and that no head key names a stream without events.
func verifyHeads(ctx context.Context, snap *pebble.Snapshot, streams map[string]streamHead) error {
	it, err := snap.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefixHead, UpperBound: prefixEnd(prefixHead)})
	if err != nil {
		return fmt.Errorf("eventstore: verify stream heads: %w", err)
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		stream := string(it.Key()[len(prefixHead):])
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("eventstore: verify stream heads: %w", err)
		}
		want, exists := streams[stream]
		if got, err := decodeHead(stream, v); err != nil || !exists || got != want {
			return &TamperError{Position: want.pos, Reason: fmt.Sprintf("head of stream %q does not match its %d events ending at position %d", stream, want.version, want.pos)}
		}
		n++
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("eventstore: verify stream heads: %w", err)
	}
	if n != len(streams) {
		return &TamperError{Position: 0, Reason: fmt.Sprintf("%d stream heads for %d streams", n, len(streams))}
	}
	return nil
}

// PutSecret implements Secrets.
func (s *PebbleStore) PutSecret(_ context.Context, name string, value []byte) error {
	return s.putSecret(name, value, pebble.Sync)
}

// PutSecretNoSync implements Secrets.
func (s *PebbleStore) PutSecretNoSync(_ context.Context, name string, value []byte) error {
	return s.putSecret(name, value, pebble.NoSync)
}

func (s *PebbleStore) putSecret(name string, value []byte, opts *pebble.WriteOptions) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	if s.readOnly {
		return fmt.Errorf("eventstore: store secret %q: %w", name, ErrReadOnly)
	}
	if name == "" {
		return fmt.Errorf("%w: empty secret name", ErrInvalidEvent)
	}
	sealed, err := s.m.sealSecret(name, value)
	if err != nil {
		return fmt.Errorf("eventstore: seal secret %q: %w", name, err)
	}
	if err := s.db.Set(prefixed(prefixSecret, name), sealed, opts); err != nil {
		return fmt.Errorf("eventstore: store secret %q: %w", name, err)
	}
	return nil
}

// Secret implements Secrets.
func (s *PebbleStore) Secret(_ context.Context, name string) ([]byte, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	v, closer, err := s.db.Get(prefixed(prefixSecret, name))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("eventstore: secret %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("eventstore: read secret %q: %w", name, err)
	}
	defer closer.Close()
	return s.m.openSecret(name, v)
}

// DeleteSecret implements Secrets; deleting a missing secret is not an error.
func (s *PebbleStore) DeleteSecret(_ context.Context, name string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	if s.readOnly {
		return fmt.Errorf("eventstore: delete secret %q: %w", name, ErrReadOnly)
	}
	if err := s.db.Delete(prefixed(prefixSecret, name), pebble.Sync); err != nil {
		return fmt.Errorf("eventstore: delete secret %q: %w", name, err)
	}
	return nil
}

// CompactSecrets flushes the log and compacts the secrets whose names
// start with prefix, so that deleted ones (and their names) leave the data
// files, as Forget does for keys.
func (s *PebbleStore) CompactSecrets(ctx context.Context, prefix string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.closeMu.RUnlock()
	if s.readOnly {
		return fmt.Errorf("eventstore: compact secrets %q: %w", prefix, ErrReadOnly)
	}
	lo := prefixed(prefixSecret, prefix)
	if err := s.db.Flush(); err != nil {
		return fmt.Errorf("eventstore: compact secrets %q: flush: %w", prefix, err)
	}
	if err := s.db.Compact(ctx, lo, prefixEnd(lo), false); err != nil {
		return fmt.Errorf("eventstore: compact secrets %q: %w", prefix, err)
	}
	return nil
}

// SecretNames implements Secrets.
func (s *PebbleStore) SecretNames(ctx context.Context, prefix string) ([]string, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.closeMu.RUnlock()
	lo := prefixed(prefixSecret, prefix)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, fmt.Errorf("eventstore: list secrets %q: %w", prefix, err)
	}
	defer it.Close()
	var out []string
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, string(it.Key()[len(prefixSecret):]))
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("eventstore: list secrets %q: %w", prefix, err)
	}
	return out, nil
}

// enter admits a call while the store is open: it holds closeMu shared
// (release with closeMu.RUnlock) so that Close waits for the call.
func (s *PebbleStore) enter() error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	return nil
}

// Close waits for the calls under way (appends until durable, reads,
// verifies), then closes the database. Every call after Close returns
// ErrClosed.
func (s *PebbleStore) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	s.closeMu.Unlock()
	// Every append has returned, so each group was settled by its own.
	var errs []error
	if s.stopSign != nil {
		s.stop()
		if head := s.head.get(); s.failed.Load() == nil && head > s.signedPos.Load() {
			if err := s.signHead(head); err != nil {
				errs = append(errs, err)
			}
		}
	}
	s.head.close()
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("eventstore: close %s: %w", s.dir, err))
	}
	return errors.Join(errs...)
}

// get returns a copy of the value at key.
func (s *PebbleStore) get(key []byte) ([]byte, error) {
	v, c, err := s.db.Get(key)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return bytes.Clone(v), nil
}

// pebbleKeys stores wrapped subject keys.
type pebbleKeys struct{ db *pebble.DB }

func (p pebbleKeys) loadKey(subject string) ([]byte, bool, error) {
	v, closer, err := p.db.Get(prefixed(prefixKey, subject))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer closer.Close()
	return bytes.Clone(v), true, nil
}

func (p pebbleKeys) storeKey(subject string, wrapped []byte) error {
	return p.db.Set(prefixed(prefixKey, subject), wrapped, pebble.Sync)
}

// pebbleLogger sends Pebble's log lines to slog at debug level.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	if p.l != nil {
		p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	if p.l != nil {
		p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	if p.l != nil {
		p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	}
	panic(fmt.Sprintf("pebble: "+format, args...))
}
