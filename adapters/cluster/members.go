package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/salesbot/salesbot/eventstore"
)

// DefaultHeartbeat is how often a node rewrites its record by default.
const DefaultHeartbeat = 2 * time.Second

// NodesBucketName is the key-value bucket of the live nodes of the log
// NAME.
func NodesBucketName(log string) string { return "SALESBOT_NODES_" + log }

// NodeInfo is one live node's record.
type NodeInfo struct {
	ID      string    `json:"id"`
	Label   string    `json:"label,omitempty"` // a version or a name its operator gave it
	Started time.Time `json:"started"`         // when it joined
	Applied uint64    `json:"applied"`         // the log position it has applied
	Seen    time.Time `json:"seen"`            // when the server stored its last heartbeat
}

// MemberOptions tune a Membership; zero values take the defaults.
type MemberOptions struct {
	// NodeID names this node; default a new UUID. Give the Manager's
	// NodeID so that leases and members agree.
	NodeID string
	// Label is shown in status: a version, a host name.
	Label string
	// Heartbeat is how often the record is rewritten; default
	// DefaultHeartbeat. Every node of a log must use the same: the bucket
	// is created with the first one.
	Heartbeat time.Duration
	// Expire is how long a record lives without a heartbeat (the bucket's
	// age limit); default 3 heartbeats.
	Expire time.Duration
	// Applied reports the log position this node has applied (say the
	// store's Head); default none (0).
	Applied func() uint64
	// Now is the clock of Started; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Membership is this node's presence among the nodes of one log: a
// record in SALESBOT_NODES_<NAME> rewritten every heartbeat, which the
// server drops when it is not rewritten for Expire. It also watches the
// other records and tells when the set of live nodes changes.
type Membership struct {
	u       eventstore.LogURL
	nc      *nats.Conn
	kv      jetstream.KeyValue
	self    NodeInfo
	applied func() uint64
	every   time.Duration
	log     *slog.Logger
	where   string

	changes chan []NodeInfo
	poke    chan struct{}
	stop    chan struct{}
	done    chan struct{}

	mu     sync.Mutex
	last   []string // ids of the last set told
	closed bool
}

// Join connects to the server of the log rawURL names, finds or creates
// its nodes bucket, writes this node's record and keeps it alive until
// Close.
func Join(ctx context.Context, rawURL string, opts MemberOptions) (*Membership, error) {
	u, err := eventstore.ParseLogURL(rawURL)
	if err != nil {
		return nil, err
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.Expire <= 0 {
		opts.Expire = 3 * opts.Heartbeat
	}
	if opts.NodeID == "" {
		opts.NodeID = uuid.NewString()
	}
	if opts.Applied == nil {
		opts.Applied = func() uint64 { return 0 }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// Reads from the stream's leader: a replica behind it could still
	// show a node that left.
	nc, kv, err := openBucket(ctx, u, "salesbot-nodes", jetstream.KeyValueConfig{
		Bucket: NodesBucketName(u.Name), History: 1, TTL: opts.Expire, Replicas: max(u.Replicas, 1),
		Storage: jetstream.FileStorage, Description: "salesbot nodes of log " + u.Name,
	})
	if err != nil {
		return nil, err
	}
	m := &Membership{
		u: u, nc: nc, kv: kv, applied: opts.Applied, every: opts.Heartbeat, log: opts.Logger, where: u.String(),
		self:    NodeInfo{ID: opts.NodeID, Label: opts.Label, Started: opts.Now().UTC()},
		changes: make(chan []NodeInfo, 1), poke: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	if err := m.beat(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	w, err := kv.WatchAll(ctx, jetstream.UpdatesOnly())
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: watch %s on %s: %w", NodesBucketName(u.Name), u, err)
	}
	go m.watch(w)
	go m.loop()
	m.refresh(ctx)
	return m, nil
}

// NodeID is this node's id.
func (m *Membership) NodeID() string { return m.self.ID }

// Changes receives the live nodes (sorted by id) each time the set
// changes: a node joins, leaves by Close, or its record expires. Only the
// latest set is kept for a slow reader. It is closed by Close.
func (m *Membership) Changes() <-chan []NodeInfo { return m.changes }

// Members lists the live nodes, sorted by id.
func (m *Membership) Members(ctx context.Context) ([]NodeInfo, error) {
	return listNodes(ctx, m.kv, m.where)
}

func listNodes(ctx context.Context, kv jetstream.KeyValue, where string) ([]NodeInfo, error) {
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("cluster: nodes on %s: %w", where, err)
	}
	defer w.Stop()
	var out []NodeInfo
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster: nodes on %s: %w", where, ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("cluster: nodes on %s: the watch ended", where)
			}
			if e == nil { // all current records delivered
				slices.SortFunc(out, func(a, b NodeInfo) int { return strings.Compare(a.ID, b.ID) })
				return out, nil
			}
			var n NodeInfo
			if json.Unmarshal(e.Value(), &n) != nil || n.ID == "" {
				continue
			}
			n.Seen = e.Created().UTC()
			out = append(out, n)
		}
	}
}

// Status is the package's Status on this membership's connection to the
// servers: a node's reports open no connection of their own.
func (m *Membership) Status(ctx context.Context, head uint64) (Report, error) {
	return statusOn(ctx, m.nc, m.u, head)
}

// beat writes this node's record.
func (m *Membership) beat(ctx context.Context) error {
	rec := m.self
	rec.Applied = m.applied()
	b, _ := json.Marshal(rec)
	if _, err := m.kv.Put(ctx, kvKey(rec.ID), b); err != nil {
		return fmt.Errorf("cluster: heartbeat of node %s on %s: %w", rec.ID, m.where, err)
	}
	return nil
}

// watch pokes the loop on every write or delete of a record: a join or a
// Close is told at once, not at the next heartbeat.
func (m *Membership) watch(w jetstream.KeyWatcher) {
	defer w.Stop()
	for {
		select {
		case <-m.stop:
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil {
				continue
			}
			select {
			case m.poke <- struct{}{}:
			default:
			}
		}
	}
}

func (m *Membership) loop() {
	defer close(m.done)
	t := time.NewTicker(m.every)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), m.every)
			if err := m.beat(ctx); err != nil {
				m.log.Warn("heartbeat failed", "node", m.self.ID, "err", err)
			}
			m.refresh(ctx)
			cancel()
		case <-m.poke:
			ctx, cancel := context.WithTimeout(context.Background(), m.every)
			m.refresh(ctx)
			cancel()
		}
	}
}

// refresh lists the nodes and tells the set when it changed.
func (m *Membership) refresh(ctx context.Context) {
	nodes, err := m.Members(ctx)
	if err != nil {
		m.log.Warn("listing nodes failed", "node", m.self.ID, "err", err)
		return
	}
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.ID
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || (m.last != nil && slices.Equal(ids, m.last)) {
		return
	}
	m.last = ids
	select { // keep only the latest set
	case <-m.changes:
	default:
	}
	m.changes <- nodes
	m.log.Info("nodes changed", "node", m.self.ID, "nodes", len(nodes))
}

// Abandon stops the heartbeats at once without taking the record down:
// it expires after Expire, as a crashed node's does (failover tests).
func (m *Membership) Abandon() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	m.mu.Unlock()
	close(m.stop)
	<-m.done
	m.mu.Lock()
	close(m.changes)
	m.mu.Unlock()
	m.nc.Close()
}

// Close deletes this node's record (the others see it leave at once),
// stops the heartbeats and disconnects.
func (m *Membership) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	close(m.stop)
	<-m.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := m.kv.Delete(ctx, kvKey(m.self.ID))
	m.mu.Lock()
	close(m.changes)
	m.mu.Unlock()
	m.nc.Close()
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("cluster: leave as node %s on %s: %w", m.self.ID, m.where, err)
	}
	return nil
}
