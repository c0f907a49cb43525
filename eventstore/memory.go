package eventstore

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// MemoryStore is an in-process Store for tests. It stores the same envelopes
// as PebbleStore (same hashing, encryption and upcasting), in memory.
type MemoryStore struct {
	mu      sync.RWMutex
	log     [][]byte            // log[pos-1] = envelope
	streams map[string][]uint64 // stream → positions by version-1
	tip     chainTip
	closed  bool
	secrets map[string][]byte

	id   uuid.UUID
	m    *master
	keys *keyring
	dec  decoder
	now  func() time.Time
	head *headSignal
}

var (
	_ Store   = (*MemoryStore)(nil)
	_ Secrets = (*MemoryStore)(nil)
)

// NewMemory returns an empty MemoryStore. opts.MasterKey may be nil (a fixed
// test key is used); opts.Logger and MaxGroupEvents are ignored.
func NewMemory(opts Options) (*MemoryStore, error) {
	key := opts.MasterKey
	if key == nil {
		key = make([]byte, MasterKeySize)
	}
	m, err := newMaster(key)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("eventstore: new log id: %w", err)
	}
	s := &MemoryStore{
		id:      id,
		streams: make(map[string][]uint64),
		secrets: make(map[string][]byte),
		m:       m,
		now:     opts.Now,
		head:    newHeadSignal(0),
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.keys = newKeyring(m, id, &memKeys{m: make(map[string][]byte)})
	s.dec = decoder{keys: s.keys, upcasters: opts.Upcasters}
	return s, nil
}

// Append implements Store.
func (s *MemoryStore) Append(ctx context.Context, stream string, expected ExpectedVersion, events ...Event) (AppendResult, error) {
	return s.append(ctx, stream, expected, nil, events)
}

// AppendFenced implements Fenced.
func (s *MemoryStore) AppendFenced(ctx context.Context, stream string, expected ExpectedVersion, fence Fence, events ...Event) (AppendResult, error) {
	return s.append(ctx, stream, expected, &fence, events)
}

func (s *MemoryStore) append(ctx context.Context, stream string, expected ExpectedVersion, fence *Fence, events []Event) (AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return AppendResult{}, err
	}
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return AppendResult{}, ErrClosed
	}
	p, err := prepare(s.keys, stream, expected, events)
	if err != nil {
		return AppendResult{}, err
	}
	lc, err := newLeaseCheck(stream, fence, events)
	if err != nil {
		return AppendResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return AppendResult{}, ErrClosed
	}
	positions := s.streams[stream]
	cur := uint64(len(positions))
	if err := checkExpected(stream, expected, cur); err != nil {
		return AppendResult{}, err
	}
	if err := p.checkErased(s.keys, stream); err != nil {
		return AppendResult{}, err
	}
	if err := lc.check(func(key string) (uint64, error) {
		return latestEpoch(key, s.streams[LeaseStream(key)], func(pos uint64) []byte { return s.log[pos-1] })
	}); err != nil {
		return AppendResult{}, err
	}
	var prev uint64
	if cur > 0 {
		prev = positions[cur-1]
	}
	first := s.tip.pos + 1
	s.tip.link(s.m, p, cur+1, prev, s.now())
	for i, b := range p.bodies {
		s.log = append(s.log, b)
		s.streams[stream] = append(s.streams[stream], first+uint64(i))
	}
	for i, subject := range p.erases {
		if subject != "" {
			if err := s.keys.backend.storeKey(subject, s.m.tombstone(s.id, subject, first+uint64(i))); err != nil {
				return AppendResult{}, fmt.Errorf("eventstore: erase subject %q: %w", subject, err)
			}
			s.keys.markErased(subject)
		}
	}
	s.head.publish(s.tip.pos)
	return AppendResult{FirstPosition: first, LastPosition: s.tip.pos, Version: cur + uint64(len(p.bodies))}, nil
}

// ReadAll implements Store.
func (s *MemoryStore) ReadAll(_ context.Context, from uint64, limit int) ([]RecordedEvent, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	from = max(from, 1)
	if limit <= 0 || from > uint64(len(s.log)) {
		return nil, nil
	}
	last := min(uint64(len(s.log)), from+uint64(limit)-1)
	out := make([]RecordedEvent, 0, last-from+1)
	for pos := from; pos <= last; pos++ {
		e, err := s.dec.decode(s.log[pos-1])
		if err != nil {
			return nil, fmt.Errorf("eventstore: decode position %d: %w", pos, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Scan implements Store.
func (s *MemoryStore) Scan(ctx context.Context, from uint64, limit int, fn func(*RecordedEvent) error) error {
	evs, err := s.ReadAll(ctx, from, limit)
	if err != nil {
		return err
	}
	for i := range evs {
		if err := fn(&evs[i]); err != nil {
			return err
		}
	}
	return nil
}

// ReadStream implements Store.
func (s *MemoryStore) ReadStream(_ context.Context, stream string, fromVersion uint64) ([]RecordedEvent, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	positions := s.streams[stream]
	fromVersion = max(fromVersion, 1)
	if fromVersion > uint64(len(positions)) {
		return nil, nil
	}
	out := make([]RecordedEvent, 0, uint64(len(positions))-fromVersion+1)
	for _, pos := range positions[fromVersion-1:] {
		e, err := s.dec.decode(s.log[pos-1])
		if err != nil {
			return nil, fmt.Errorf("eventstore: stream %q: decode position %d: %w", stream, pos, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// StreamVersion implements Store.
func (s *MemoryStore) StreamVersion(_ context.Context, stream string) (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, ErrClosed
	}
	return uint64(len(s.streams[stream])), nil
}

// Head implements Store.
func (s *MemoryStore) Head() uint64 { return s.head.get() }

// WaitHead implements Store.
func (s *MemoryStore) WaitHead(ctx context.Context, after uint64) (uint64, error) {
	return s.head.wait(ctx, after)
}

// LogID implements Store.
func (s *MemoryStore) LogID() uuid.UUID { return s.id }

// IndexKey implements Store.
func (s *MemoryStore) IndexKey() []byte { return bytes.Clone(s.m.indexKey) }

// HashAt implements Store.
func (s *MemoryStore) HashAt(_ context.Context, pos uint64) ([32]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return [32]byte{}, ErrClosed
	}
	if pos == 0 || pos > s.head.get() {
		return [32]byte{}, fmt.Errorf("eventstore: hash at position %d: %w", pos, ErrNotFound)
	}
	env, _, err := splitRecord(s.log[pos-1])
	if err != nil {
		return [32]byte{}, fmt.Errorf("eventstore: hash at position %d: %w", pos, err)
	}
	return envelopeHash(env), nil
}

// Forget implements Store.
func (s *MemoryStore) Forget(_ context.Context, subject string) error {
	if err := s.keys.forget(subject); err != nil {
		return fmt.Errorf("eventstore: %w", err)
	}
	return nil
}

// Verify implements Store.
func (s *MemoryStore) Verify(ctx context.Context, progress func(done, total uint64)) (VerifyReport, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return VerifyReport{}, ErrClosed
	}
	cv := newChainVerifier(s.m)
	for i, raw := range s.log {
		if err := cv.next(uint64(i+1), raw); err != nil {
			return VerifyReport{}, err
		}
	}
	if err := cv.finish(s.tip.pos, s.tip.hash); err != nil {
		return VerifyReport{}, err
	}
	for stream, positions := range s.streams {
		for i, pos := range positions {
			if pos == 0 || pos > uint64(len(s.log)) {
				return VerifyReport{}, &TamperError{Position: pos, Reason: fmt.Sprintf("stream %q index points past the log", stream)}
			}
			if err := checkIndexed([]byte(stream), uint64(i+1), pos, s.log[pos-1]); err != nil {
				return VerifyReport{}, err
			}
		}
	}
	kc := newKeyCheck(s.m, s.id, cv, true)
	if err := s.keys.backend.(*memKeys).each(kc.record); err != nil {
		return VerifyReport{}, err
	}
	if err := kc.finish(); err != nil {
		return VerifyReport{}, err
	}
	if progress != nil {
		progress(cv.tip.pos, s.tip.pos)
	}
	rep := cv.report()
	rep.LogID, rep.Erased, rep.Unbound, rep.Unsigned = s.id, kc.rep.Erased, kc.rep.Unbound, cv.tip.pos
	return rep, ctx.Err()
}

// PutSecret implements Secrets.
func (s *MemoryStore) PutSecret(_ context.Context, name string, value []byte) error {
	if name == "" {
		return fmt.Errorf("%w: empty secret name", ErrInvalidEvent)
	}
	sealed, err := s.m.sealSecret(name, value)
	if err != nil {
		return fmt.Errorf("eventstore: seal secret %q: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[name] = sealed
	return nil
}

// PutSecretNoSync implements Secrets (a memory store has no disk to wait
// for).
func (s *MemoryStore) PutSecretNoSync(ctx context.Context, name string, value []byte) error {
	return s.PutSecret(ctx, name, value)
}

// Secret implements Secrets.
func (s *MemoryStore) Secret(_ context.Context, name string) ([]byte, error) {
	s.mu.RLock()
	sealed, ok := s.secrets[name]
	s.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("eventstore: secret %q: %w", name, ErrNotFound)
	}
	return s.m.openSecret(name, sealed)
}

// DeleteSecret implements Secrets.
func (s *MemoryStore) DeleteSecret(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.secrets, name)
	return nil
}

// SecretNames implements Secrets.
func (s *MemoryStore) SecretNames(_ context.Context, prefix string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for name := range s.secrets {
		if strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Close implements Store.
func (s *MemoryStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.head.close()
	return nil
}

// checkIndexed verifies one stream index entry against the envelope it
// points at.
func checkIndexed(stream []byte, version, pos uint64, raw []byte) error {
	env, err := decodeRecord(raw)
	if err != nil {
		return &TamperError{Position: pos, Reason: "stream index points at an undecodable event: " + err.Error()}
	}
	if !bytes.Equal(env.stream, stream) || env.version != version {
		return &TamperError{Position: pos, Reason: fmt.Sprintf(
			"stream index entry %q version %d points at %q version %d", stream, version, env.stream, env.version)}
	}
	return nil
}

type memKeys struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (k *memKeys) loadKey(subject string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[subject]
	return v, ok, nil
}

// each calls fn for every key record, in subject order, until fn fails.
func (k *memKeys) each(fn func(subject string, v []byte) error) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, subject := range sortedKeys(k.m) {
		if err := fn(subject, k.m[subject]); err != nil {
			return err
		}
	}
	return nil
}

func (k *memKeys) storeKey(subject string, wrapped []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[subject] = wrapped
	return nil
}
