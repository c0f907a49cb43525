package eventstore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
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
//
// Its methods are in a file per concern: opening and closing here,
// appends (the group commit) in pebble_append.go, reads in
// pebble_read.go, Verify in pebble_verify.go, subject keys and secrets in
// pebble_secrets.go, signed heads and the anchor in pebble_trust.go.
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

	// backupMu lets one Backup run at a time (backup.go).
	backupMu sync.Mutex

	// observer hears of every append (ObserveAppends); nil: none.
	observer atomic.Pointer[func(AppendStat)]
	// fences serialises fenced appends and grants per lease key.
	fences   fenceLocks
	stopSign context.CancelFunc
	signDone chan struct{}
	floor    uint64    // free bytes to keep
	disk     diskWatch // leader-owned
	keys     *keyring
	dec      decoder
	now      func() time.Time
	max      int

	// closeMu is held shared for the whole of every Append; Close takes it
	// exclusively, so it waits for appends under way.
	closeMu sync.RWMutex
	closed  bool
	holders int // Retain's holders, besides the opener, not yet closed

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
	// groupEvents is how many events the group that committed the
	// request held (for the append observer).
	groupEvents int
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

// Retain adds a holder of the open store (a command the running server
// runs for a client on its log): each Retain is matched by one Close,
// and only the last holder's Close, the opener's included, closes it.
// It returns s.
func (s *PebbleStore) Retain() *PebbleStore {
	s.closeMu.Lock()
	s.holders++
	s.closeMu.Unlock()
	return s
}

// Close waits for the calls under way (appends until durable, reads,
// verifies), then closes the database. Every call after Close returns
// ErrClosed. While the store has other holders (Retain), Close only
// lets go of one.
func (s *PebbleStore) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	if s.holders > 0 {
		s.holders--
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
