// Package cluster is what lets several salesbot nodes share one log on
// NATS JetStream: leases on keys (a Telegram account, say), each held by
// one node at a time, with a fencing token the log enforces (see
// docs/scale-out.md, "Leases and fencing").
//
// A lease lives in the key-value bucket SALESBOT_LEASES_<NAME> of the
// log's server (one revision kept, the lease's TTL as the bucket's age
// limit, so the server drops a lease nobody renews). Acquire creates the
// key (a compare-and-set on "absent"); Renew rewrites it on the revision
// the node last wrote (a compare-and-set: if it fails the lease is gone);
// Release deletes it on that revision. The revision that created the key
// is the lease's epoch: Acquire records it in the log as a
// eventstore.LeaseGranted, and every append made under the lease carries
// it as an eventstore.Fence, which the store refuses once a newer grant
// is in the log.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/salesbot/salesbot/eventstore"
)

// Defaults of Options.
const (
	DefaultTTL = 10 * time.Second
)

// ErrHeld: another node holds the lease. The returned error is a
// *HeldError.
var ErrHeld = errors.New("cluster: lease held by another node")

// ErrLost: the lease is no longer this node's (a renewal found it taken
// or expired, or it was released).
var ErrLost = errors.New("cluster: lease lost")

// HeldError names the key and the node that holds it.
type HeldError struct {
	Key    string
	Holder string
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("cluster: lease %q is held by node %s", e.Key, e.Holder)
}

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// Store is what leases need of the log: appends (to record grants) and
// fenced appends. Every eventstore store is one.
type Store interface {
	eventstore.Store
	eventstore.Fenced
}

// Options tune a Manager; zero values take the defaults.
type Options struct {
	// NodeID names this node in leases and grants; default a new UUID
	// (one per process).
	NodeID string
	// TTL is how long a lease lives without a renewal (the bucket's age
	// limit); default DefaultTTL. Every node of a log must use the same:
	// the bucket is created with the first one.
	TTL time.Duration
	// RenewEvery is how often a held lease is renewed; default TTL/3.
	RenewEvery time.Duration
	// Now is the clock (default time.Now): a lease whose renewals fail
	// for a TTL less RenewEvery by it is given up as lost (a renewal
	// period before another node can take it).
	Now    func() time.Time
	Logger *slog.Logger
}

// Manager takes leases for one node on one log.
type Manager struct {
	nc    *nats.Conn
	kv    jetstream.KeyValue
	store Store
	node  string
	ttl   time.Duration
	every time.Duration
	now   func() time.Time
	log   *slog.Logger
	where string // the server, without credentials

	mu     sync.Mutex
	held   map[*Lease]struct{}
	closed bool
}

// BucketName is the key-value bucket of the leases of the log NAME.
func BucketName(log string) string { return "SALESBOT_LEASES_" + log }

// Open connects to the server of the log rawURL names (nats://host/NAME,
// see eventstore.ParseLogURL) and finds or creates its lease bucket.
// store is the same log, opened by this node.
func Open(ctx context.Context, rawURL string, store Store, opts Options) (*Manager, error) {
	u, err := eventstore.ParseLogURL(rawURL)
	if err != nil {
		return nil, err
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.RenewEvery <= 0 {
		opts.RenewEvery = opts.TTL / 3
	}
	if opts.NodeID == "" {
		opts.NodeID = uuid.NewString()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// Reads from the leader: a replica behind it could show a released
	// lease as held.
	nc, kv, err := openBucket(ctx, u, "salesbot-leases", jetstream.KeyValueConfig{
		Bucket: BucketName(u.Name), History: 1, TTL: opts.TTL, Replicas: max(u.Replicas, 1),
		Storage: jetstream.FileStorage, Description: "salesbot leases of log " + u.Name,
	})
	if err != nil {
		return nil, err
	}
	return &Manager{
		nc: nc, kv: kv, store: store, node: opts.NodeID, ttl: opts.TTL, every: opts.RenewEvery,
		now: opts.Now, log: opts.Logger, where: u.String(), held: map[*Lease]struct{}{},
	}, nil
}

// NodeID is this node's id.
func (m *Manager) NodeID() string { return m.node }

// TTL is how long a lease lives without a renewal.
func (m *Manager) TTL() time.Duration { return m.ttl }

// leaseValue is what the bucket holds under a key.
type leaseValue struct {
	Holder string `json:"holder"`
	Epoch  uint64 `json:"epoch"`
}

// kvKey maps a lease key to a bucket key (which allows fewer characters).
func kvKey(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

// Acquire takes the lease on key when no node holds it (never taken,
// released, or expired: not renewed for a TTL), records the grant in the
// log and keeps renewing it until Release, Close or a failed renewal
// (then Lost is closed). It returns a *HeldError (ErrHeld) when another
// node holds it, or this node already does.
func (m *Manager) Acquire(ctx context.Context, key string) (*Lease, error) {
	if key == "" {
		return nil, errors.New("cluster: acquire: empty key")
	}
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("cluster: acquire %q: %w", key, eventstore.ErrClosed)
	}
	// The epoch is the revision of the create, known only after it:
	// write the holder first, then the epoch on that revision.
	k := kvKey(key)
	var rev uint64
	var err error
	for try := 1; ; try++ {
		rev, err = m.kv.Create(ctx, k, m.value(0))
		if !casFailed(err) {
			break
		}
		// Create reads the key from any replica: one that has not seen
		// the latest write makes it answer "exists" or try a stale
		// revision. A holder the read finds is an answer; none is worth
		// another try.
		he := m.heldError(ctx, key)
		if he.Holder != "" || try == 3 {
			return nil, he
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: acquire %q on %s: %w", key, m.where, err)
	}
	epoch := rev
	if rev, err = m.kv.Update(ctx, k, m.value(epoch), rev); err != nil {
		return nil, fmt.Errorf("cluster: acquire %q on %s: %w", key, m.where, err)
	}
	l := &Lease{m: m, key: key, kvKey: k, epoch: epoch, rev: rev, renewed: m.now(), lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	_, err = m.store.Append(ctx, eventstore.LeaseStream(key), eventstore.Any,
		eventstore.LeaseGranted{Key: key, Holder: m.node, Epoch: epoch}.Event())
	if err != nil {
		// A newer grant is in the log (this node was paused past the
		// TTL), or the log failed: the lease is of no use.
		_ = m.kv.Delete(context.WithoutCancel(ctx), k, jetstream.LastRevision(rev))
		return nil, fmt.Errorf("cluster: acquire %q: record the grant of epoch %d: %w", key, epoch, err)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		_ = m.kv.Delete(context.WithoutCancel(ctx), k, jetstream.LastRevision(rev))
		return nil, fmt.Errorf("cluster: acquire %q: %w", key, eventstore.ErrClosed)
	}
	m.held[l] = struct{}{}
	m.mu.Unlock()
	m.log.Info("lease acquired", "key", key, "epoch", epoch, "node", m.node)
	go l.renewLoop()
	return l, nil
}

func (m *Manager) value(epoch uint64) []byte {
	b, _ := json.Marshal(leaseValue{Holder: m.node, Epoch: epoch})
	return b
}

func (m *Manager) heldError(ctx context.Context, key string) *HeldError {
	he := &HeldError{Key: key}
	if e, err := m.kv.Get(ctx, kvKey(key)); err == nil {
		var v leaseValue
		if json.Unmarshal(e.Value(), &v) == nil {
			he.Holder = v.Holder
		}
	}
	return he
}

// Holder returns the node holding key's lease and its epoch, or "" when
// no node does.
func (m *Manager) Holder(ctx context.Context, key string) (node string, epoch uint64, err error) {
	e, err := m.kv.Get(ctx, kvKey(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("cluster: lease %q on %s: %w", key, m.where, err)
	}
	var v leaseValue
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return "", 0, fmt.Errorf("cluster: lease %q on %s: %w", key, m.where, err)
	}
	return v.Holder, v.Epoch, nil
}

// Abandon stops the manager at once without releasing its leases: they
// expire after the TTL, as a crashed node's do. For a node that must stop
// without another write (its log failed), and for failover tests.
func (m *Manager) Abandon() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.nc.Close()
}

// Close releases the leases this node holds (so that other nodes take
// them at once rather than after the TTL) and disconnects.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	held := make([]*Lease, 0, len(m.held))
	for l := range m.held {
		held = append(held, l)
	}
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, l := range held {
		if err := l.Release(ctx); err != nil && !errors.Is(err, ErrLost) {
			errs = append(errs, err)
		}
	}
	m.nc.Close()
	return errors.Join(errs...)
}

// Lease is one key's lease held by this node.
type Lease struct {
	m     *Manager
	key   string
	kvKey string
	epoch uint64

	mu      sync.Mutex
	rev     uint64    // the bucket revision this node last wrote
	renewed time.Time // when it was last written
	gone    bool
	lost    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// Key is the leased key.
func (l *Lease) Key() string { return l.key }

// Epoch is the lease's fencing token.
func (l *Lease) Epoch() uint64 { return l.epoch }

// Fence is what appends made under the lease carry
// (eventstore.Fenced.AppendFenced).
func (l *Lease) Fence() eventstore.Fence { return eventstore.Fence{Key: l.key, Epoch: l.epoch} }

// Lost is closed when the lease is no longer this node's: a renewal
// failed (taken or expired) or it was released. The log fences off the
// appends made under it from the next grant on even if this node has not
// noticed yet.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Append appends under the lease (AppendFenced with its Fence).
func (l *Lease) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.Event) (eventstore.AppendResult, error) {
	return l.m.store.AppendFenced(ctx, stream, expected, l.Fence(), events...)
}

// Renew rewrites the lease on the revision this node last wrote, which
// restarts its TTL. It returns an error matching ErrLost (and closes
// Lost) when the lease is gone: expired, taken by another node, released.
// The lease renews itself every RenewEvery; Renew is for callers that
// want to know now.
func (l *Lease) Renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gone {
		return fmt.Errorf("cluster: renew %q epoch %d: %w", l.key, l.epoch, ErrLost)
	}
	sent := l.m.now() // the server counts the TTL from when it stored the renewal: no later than this
	rev, err := l.m.kv.Update(ctx, l.kvKey, l.m.value(l.epoch), l.rev)
	if err == nil {
		l.rev, l.renewed = rev, sent
		return nil
	}
	if casFailed(err) || errors.Is(err, jetstream.ErrKeyNotFound) {
		l.loseLocked("taken or expired")
		return fmt.Errorf("cluster: renew %q epoch %d: %w", l.key, l.epoch, ErrLost)
	}
	// The server did not answer: the lease may still be ours until a TTL
	// has passed since the last renewal. It is given up a renewal period
	// before that, so that this node has stopped what runs under it by
	// the time another node can take it.
	if l.m.now().Sub(l.renewed) >= l.m.ttl-l.m.every {
		l.loseLocked("not renewed for a TTL less a renewal period")
		return fmt.Errorf("cluster: renew %q epoch %d: %w (%v)", l.key, l.epoch, ErrLost, err)
	}
	return fmt.Errorf("cluster: renew %q epoch %d on %s: %w", l.key, l.epoch, l.m.where, err)
}

func (l *Lease) loseLocked(why string) {
	if l.gone {
		return
	}
	l.gone = true
	close(l.lost)
	l.m.mu.Lock()
	delete(l.m.held, l)
	l.m.mu.Unlock()
	l.m.log.Warn("lease lost", "key", l.key, "epoch", l.epoch, "node", l.m.node, "why", why)
}

// Release gives the lease up: deletes it on the revision this node last
// wrote (so that it never deletes another node's) and stops renewing.
func (l *Lease) Release(ctx context.Context) error {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gone {
		return fmt.Errorf("cluster: release %q epoch %d: %w", l.key, l.epoch, ErrLost)
	}
	err := l.m.kv.Delete(ctx, l.kvKey, jetstream.LastRevision(l.rev))
	l.loseLocked("released")
	if err != nil {
		return fmt.Errorf("cluster: release %q epoch %d on %s: %w", l.key, l.epoch, l.m.where, err)
	}
	return nil
}

// renewLoop renews every RenewEvery until the lease is lost or released.
func (l *Lease) renewLoop() {
	defer close(l.done)
	t := time.NewTicker(l.m.every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.lost:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), l.m.every)
			err := l.Renew(ctx)
			cancel()
			if errors.Is(err, ErrLost) {
				return
			}
			if err != nil {
				l.m.log.Warn("lease renewal failed", "key", l.key, "epoch", l.epoch, "err", err)
			}
		}
	}
}

// casFailed: the server refused a write on a revision (the key moved on),
// as opposed to not answering.
func casFailed(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) || errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
