package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Fencing (see docs/scale-out.md, "Leases and fencing"). A lease on a key
// (an account, say) is recorded in the log itself: each grant is a
// LeaseGranted event in the reserved stream LeaseStream(key), and its
// Epoch is the fencing token. The store keeps two rules, checked against
// the state it has applied at the moment of the write:
//
//   - an append fenced with Fence{Key, Epoch} is written only while the
//     latest LeaseGranted of Key has exactly Epoch; otherwise it fails
//     with a *FencedError and writes nothing;
//   - a LeaseGranted is written only when its epoch is greater than the
//     key's latest one, so a grant that comes late (its holder paused
//     between taking the lease and recording it) cannot bring back an
//     epoch that was already superseded.
//
// On JetStream the check is exact across nodes: the append is published
// on the last sequence the node applied, so no other grant can be stored
// between the check and the write.

// LeaseStreamPrefix starts the names of the reserved lease streams.
const LeaseStreamPrefix = "$lease/"

// LeaseGrantedType is the event type of a lease grant.
const LeaseGrantedType = "LeaseGranted"

// LeaseStream names the stream that records the grants of key's lease.
func LeaseStream(key string) string { return LeaseStreamPrefix + key }

// LeaseGranted is the payload of a LeaseGranted event: Holder (a node id)
// took the lease on Key with the fencing token Epoch.
type LeaseGranted struct {
	Key    string `json:"key"`
	Holder string `json:"holder"`
	Epoch  uint64 `json:"epoch"`
}

// Event returns the event that records the grant; append it to
// LeaseStream(g.Key).
func (g LeaseGranted) Event() Event {
	b, _ := json.Marshal(g) // strings and a number: cannot fail
	return Event{Type: LeaseGrantedType, Payload: b}
}

// Fence is the lease an append is made under: Epoch must be the latest
// granted epoch of Key.
type Fence struct {
	Key   string
	Epoch uint64
}

// ErrFenced: the append was made under a lease epoch that is no longer
// the latest (another node took the lease), or records a grant that is
// not newer than the latest. The returned error is a *FencedError.
var ErrFenced = errors.New("eventstore: fenced off")

// FencedError names the lease, the epoch the append was made under and
// the latest epoch the log holds (0: never granted).
type FencedError struct {
	Key     string
	Epoch   uint64
	Current uint64
	Grant   bool // the append recorded a grant, not newer than Current
}

func (e *FencedError) Error() string {
	if e.Grant {
		return fmt.Sprintf("eventstore: lease %q: grant of epoch %d is not newer than the log's epoch %d", e.Key, e.Epoch, e.Current)
	}
	return fmt.Sprintf("eventstore: lease %q: append under epoch %d fenced off, the log's epoch is %d", e.Key, e.Epoch, e.Current)
}

// Is makes errors.Is(err, ErrFenced) true.
func (e *FencedError) Is(target error) bool { return target == ErrFenced }

// Fenced is a store that takes fenced appends. Every store of this
// package implements it.
type Fenced interface {
	// AppendFenced is Append, made only while fence.Epoch is the latest
	// granted epoch of fence.Key; otherwise it returns a *FencedError
	// (ErrFenced) and writes nothing.
	AppendFenced(ctx context.Context, stream string, expected ExpectedVersion, fence Fence, events ...Event) (AppendResult, error)
}

var (
	_ Fenced = (*MemoryStore)(nil)
	_ Fenced = (*PebbleStore)(nil)
	_ Fenced = (*JetStreamStore)(nil)
)

// leaseCheck is what one append asks of the lease state.
type leaseCheck struct {
	fence     *Fence
	grantKey  string // the key the append grants, "" if none
	grantLow  uint64 // the lowest epoch it grants
	grantHigh uint64 // the highest (the key's epoch after it)
}

func (c leaseCheck) none() bool { return c.fence == nil && c.grantKey == "" }

// newLeaseCheck checks the grants of an append to stream and the fence.
func newLeaseCheck(stream string, fence *Fence, events []Event) (leaseCheck, error) {
	c := leaseCheck{fence: fence}
	if fence != nil && (fence.Key == "" || fence.Epoch == 0) {
		return c, fmt.Errorf("%w: append to stream %q: fence needs a key and an epoch", ErrInvalidEvent, stream)
	}
	key, ok := strings.CutPrefix(stream, LeaseStreamPrefix)
	if !ok {
		return c, nil
	}
	for i, e := range events {
		if e.Type != LeaseGrantedType {
			continue
		}
		var g LeaseGranted
		if err := json.Unmarshal(e.Payload, &g); err != nil || g.Key != key || g.Epoch == 0 || g.Holder == "" {
			return c, fmt.Errorf("%w: event %d for stream %q: a LeaseGranted needs the key %q, a holder and an epoch", ErrInvalidEvent, i, stream, key)
		}
		if g.Epoch <= c.grantHigh {
			return c, fmt.Errorf("%w: event %d for stream %q: epoch %d after epoch %d", ErrInvalidEvent, i, stream, g.Epoch, c.grantHigh)
		}
		if c.grantKey == "" {
			c.grantKey, c.grantLow = key, g.Epoch
		}
		c.grantHigh = g.Epoch
	}
	return c, nil
}

// check holds the append to the rules, epoch giving a key's latest epoch.
func (c leaseCheck) check(epoch func(key string) (uint64, error)) error {
	if c.fence != nil {
		cur, err := epoch(c.fence.Key)
		if err != nil {
			return err
		}
		if cur != c.fence.Epoch {
			return &FencedError{Key: c.fence.Key, Epoch: c.fence.Epoch, Current: cur}
		}
	}
	if c.grantKey != "" {
		cur, err := epoch(c.grantKey)
		if err != nil {
			return err
		}
		if c.grantLow <= cur {
			return &FencedError{Key: c.grantKey, Epoch: c.grantLow, Current: cur, Grant: true}
		}
	}
	return nil
}

// latestEpoch is the epoch of the latest LeaseGranted among a lease
// stream's records (positions in stream order, rec giving the stored
// record at a position); 0 if there is none.
func latestEpoch(key string, positions []uint64, rec func(pos uint64) []byte) (uint64, error) {
	for i := len(positions) - 1; i >= 0; i-- {
		env, err := decodeRecord(rec(positions[i]))
		if err != nil {
			return 0, fmt.Errorf("eventstore: lease %q: position %d: %w", key, positions[i], err)
		}
		if string(env.typ) != LeaseGrantedType {
			continue
		}
		return grantEpoch(key, positions[i], env.payload)
	}
	return 0, nil
}

func grantEpoch(key string, pos uint64, payload []byte) (uint64, error) {
	var g LeaseGranted
	if err := json.Unmarshal(payload, &g); err != nil {
		return 0, fmt.Errorf("%w: lease %q: grant at position %d: %v", ErrCorrupt, key, pos, err)
	}
	return g.Epoch, nil
}

// fenceLocks serialises, per lease key, the fenced appends and the grants
// of a single-process store (PebbleStore), and caches each key's latest
// epoch: with every grant made under the key's lock, the epoch read under
// it is the latest.
type fenceLocks struct {
	mu     sync.Mutex
	locks  map[string]*keyLock
	epochs map[string]uint64 // key → latest epoch, once known
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

// do runs fn with the keys of c locked (in order), after checking c
// against the epochs (load reads a key's epoch from the log the first
// time); a successful fn moves the granted key to its new epoch.
func (l *fenceLocks) do(c leaseCheck, load func(key string) (uint64, error), fn func() (AppendResult, error)) (AppendResult, error) {
	var keys []string
	if c.fence != nil {
		keys = append(keys, c.fence.Key)
	}
	if c.grantKey != "" && (c.fence == nil || c.grantKey != c.fence.Key) {
		keys = append(keys, c.grantKey)
	}
	if len(keys) == 2 && keys[1] < keys[0] {
		keys[0], keys[1] = keys[1], keys[0]
	}
	for _, k := range keys {
		l.lock(k)
		defer l.unlock(k)
	}
	epoch := func(key string) (uint64, error) {
		l.mu.Lock()
		e, ok := l.epochs[key]
		l.mu.Unlock()
		if ok {
			return e, nil
		}
		e, err := load(key)
		if err != nil {
			return 0, err
		}
		l.mu.Lock()
		l.epochs[key] = e
		l.mu.Unlock()
		return e, nil
	}
	if err := c.check(epoch); err != nil {
		return AppendResult{}, err
	}
	res, err := fn()
	if err == nil && c.grantKey != "" {
		l.mu.Lock()
		l.epochs[c.grantKey] = c.grantHigh
		l.mu.Unlock()
	}
	return res, err
}

func (l *fenceLocks) lock(key string) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks, l.epochs = map[string]*keyLock{}, map[string]uint64{}
	}
	k := l.locks[key]
	if k == nil {
		k = &keyLock{}
		l.locks[key] = k
	}
	k.refs++
	l.mu.Unlock()
	k.mu.Lock()
}

func (l *fenceLocks) unlock(key string) {
	l.mu.Lock()
	k := l.locks[key]
	k.refs--
	if k.refs == 0 {
		delete(l.locks, key)
	}
	l.mu.Unlock()
	k.mu.Unlock()
}
