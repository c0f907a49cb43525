package eventstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Appends: the group commit (see PebbleStore).

// Append implements Store.
func (s *PebbleStore) Append(ctx context.Context, stream string, expected ExpectedVersion, events ...Event) (AppendResult, error) {
	return s.append(ctx, stream, expected, nil, events)
}

// AppendFenced implements Fenced. Fenced appends and grants of one lease
// key are made one at a time (see fenceLocks); others are not held up.
func (s *PebbleStore) AppendFenced(ctx context.Context, stream string, expected ExpectedVersion, fence Fence, events ...Event) (AppendResult, error) {
	return s.append(ctx, stream, expected, &fence, events)
}

func (s *PebbleStore) append(ctx context.Context, stream string, expected ExpectedVersion, fence *Fence, events []Event) (AppendResult, error) {
	lc, err := newLeaseCheck(stream, fence, events)
	if err != nil {
		return AppendResult{}, err
	}
	if lc.none() {
		return s.appendNow(ctx, stream, expected, events)
	}
	return s.fences.do(lc, func(key string) (uint64, error) {
		evs, err := s.ReadStream(ctx, LeaseStream(key), 1)
		if err != nil {
			return 0, err
		}
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Type == LeaseGrantedType {
				return grantEpoch(key, evs[i].Position, evs[i].Payload)
			}
		}
		return 0, nil
	}, func() (AppendResult, error) { return s.appendNow(ctx, stream, expected, events) })
}

func (s *PebbleStore) appendNow(ctx context.Context, stream string, expected ExpectedVersion, events []Event) (AppendResult, error) {
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
	start := time.Now()
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
	if f := s.observer.Load(); f != nil {
		types := make([]string, len(events))
		for i, e := range events {
			types[i] = e.Type
		}
		(*f)(AppendStat{Stream: stream, Events: events, Types: types, Group: r.groupEvents, Latency: time.Since(start), Err: r.err})
	}
	return r.res, r.err
}

// AppendStat is what an append observer hears of one append that was
// queued (ObserveAppends): it is told once the append is durable or has
// failed.
type AppendStat struct {
	Stream string // the stream appended to
	// Events are the appended events as the caller gave them (their
	// Personal fields in clear): the observer reads them and must not
	// keep or change them.
	Events  []Event
	Types   []string      // the appended events' types, in order
	Group   int           // events in the group commit that carried it (0: it failed before one)
	Latency time.Duration // from the call to the answer, the fsync included
	Err     error         // the append's error (a version conflict, a failed log), nil if durable
}

// ObserveAppends has f told of every append from now on (nil: no more),
// on the appender's goroutine after its answer is known: f must be
// quick and must not append. Metrics use it; the store knows nothing
// of them.
func (s *PebbleStore) ObserveAppends(f func(AppendStat)) {
	if f == nil {
		s.observer.Store(nil)
		return
	}
	s.observer.Store(&f)
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
		for _, r := range group {
			r.groupEvents = n
		}
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
