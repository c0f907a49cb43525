package system

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/clock"
	"github.com/salesbot/salesbot/adapters/cluster"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/eventstore"
)

// Cluster makes the system one node of several on one log on NATS
// JetStream (docs/scale-out.md): each account runs on the node that
// holds its lease, the parts that must run once (the read models'
// projector, the campaign scheduler, insights, webhook and CRM delivery,
// the admin bot's updates) run on the node that holds the leader lease,
// and every node serves the API and the web console.
type Cluster struct {
	URL    string // the log's nats:// URL; Config.Store is that log, opened
	NodeID string // default a new UUID
	Label  string // shown in status: a host name, a version
	// TTL is the leases' (default cluster.DefaultTTL): a crashed node's
	// accounts move after it. Heartbeat is the members' (default
	// cluster.DefaultHeartbeat). Every node of a log must use the same.
	TTL, Heartbeat time.Duration
}

// NodeOf is the Cluster of a node on the log at logURL, labelled with
// the host's name; nil when logURL is empty (the log is in a data dir).
func NodeOf(logURL string) *Cluster {
	if logURL == "" {
		return nil
	}
	host, _ := os.Hostname()
	return &Cluster{URL: logURL, Label: host}
}

// LeaderKey is the lease of the parts that run on one node at a time.
const LeaderKey = "leader"

// node is the system's part in a cluster.
type node struct {
	mgr *cluster.Manager
	mem *cluster.Membership

	mu   sync.Mutex
	lead bool // this node holds the leader lease
}

// joinCluster takes the node's place among the log's members.
func (s *System) joinCluster(ctx context.Context, c Cluster, st eventstore.Log) (*node, error) {
	mgr, err := cluster.Open(ctx, c.URL, st, cluster.Options{NodeID: c.NodeID, TTL: c.TTL, Logger: s.log})
	if err != nil {
		return nil, err
	}
	mem, err := cluster.Join(ctx, c.URL, cluster.MemberOptions{NodeID: mgr.NodeID(), Label: c.Label, Heartbeat: c.Heartbeat, Applied: st.Head, Logger: s.log})
	if err != nil {
		mgr.Close()
		return nil, err
	}
	s.log.Info("salesbot: joined the cluster", "node", mgr.NodeID(), "label", c.Label)
	return &node{mgr: mgr, mem: mem}, nil
}

// leads says whether this node holds the leader lease.
func (n *node) leads() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lead
}

// reporter reads the cluster's status for the API and the web console;
// nil on a single node (they say so).
func (s *System) reporter() httpapi.Cluster {
	c := s.cfg.Cluster
	if c == nil {
		return nil
	}
	return cluster.StatusFunc(func(ctx context.Context) (cluster.Report, error) {
		r := cluster.Reporter{URL: c.URL, Head: s.cfg.Store.Head}
		if n := s.node; n != nil { // joined after the API was made, before it serves
			r.Node, r.Read = n.mgr.NodeID(), n.mem.Status
		}
		return r.Status(ctx)
	})
}

// clusterStatus is the metrics' reading of the cluster's status; nil on
// a single node.
func (s *System) clusterStatus() func(context.Context) (cluster.Report, error) {
	if r := s.reporter(); r != nil {
		return r.Status
	}
	return nil
}

// NodeID is this node's id in the cluster, "" on a single node.
func (s *System) NodeID() string {
	if s.node == nil {
		return ""
	}
	return s.node.mgr.NodeID()
}

// Leads says whether this node runs the parts that run once: always on a
// single node.
func (s *System) Leads() bool { return s.node == nil || s.node.leads() }

// balance holds the leases of the accounts placed on this node until ctx
// ends, starting and stopping them as leases come and go, and follows
// the accounts added and removed meanwhile.
func (s *System) balance(ctx context.Context) error {
	n := s.node
	bal, err := cluster.NewBalancer(n.mgr, n.mem, s.accountKeys(), cluster.BalanceOptions{Logger: s.log, Stop: s.stopAccount})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- bal.Run(ctx) }()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case c, ok := <-bal.Changes():
			if !ok { // Run ended and released every lease
				return <-done
			}
			id, err := uuid.Parse(c.Account)
			if err != nil {
				continue
			}
			if c.Held {
				f := c.Lease.Fence()
				s.svc.SetLease(id, &f)
				s.log.Info("salesbot: account lease taken", "account", id, "epoch", f.Epoch)
			} else {
				s.svc.SetLease(id, nil)
				s.log.Info("salesbot: account lease given up", "account", id)
			}
		case <-t.C:
			bal.SetAccounts(s.accountKeys())
		}
	}
}

// stopAccount stops an account whose lease this node is about to
// release, waiting for its client and sender to stop (at most 30 s: a
// client that hangs is cut off by the lease's fence anyway).
func (s *System) stopAccount(key string) {
	id, err := uuid.Parse(key)
	if err != nil {
		return
	}
	select {
	case <-s.svc.SetLease(id, nil):
	case <-time.After(30 * time.Second):
		s.log.Warn("salesbot: account still running when its lease is released", "account", id)
	}
}

// accountKeys are the lease keys of the accounts that may run.
func (s *System) accountKeys() []string {
	var out []string
	for _, a := range s.svc.Accounts() {
		if !a.Lost {
			out = append(out, a.ID.String())
		}
	}
	return out
}

// leader runs parts while this node holds the leader lease, and tries to
// take it while another node does, until ctx ends. Losing the lease stops
// the parts; they start again when it is taken again.
func (s *System) leader(ctx context.Context, parts []func(context.Context) error) error {
	n := s.node
	retry := max(n.mgr.TTL()/3, 100*time.Millisecond)
	for ctx.Err() == nil {
		l, err := n.mgr.Acquire(ctx, LeaderKey)
		if err != nil {
			if !errors.Is(err, cluster.ErrHeld) && ctx.Err() == nil {
				s.log.Warn("salesbot: leader lease", "node", n.mgr.NodeID(), "err", err)
			}
			if clock.Sleep(ctx, retry) != nil {
				return nil
			}
			continue
		}
		s.log.Info("salesbot: leading", "node", n.mgr.NodeID(), "epoch", l.Epoch())
		if err := s.lead(ctx, l, parts); err != nil {
			return err
		}
	}
	return nil
}

// lead runs parts until ctx ends or l is lost; a part's failure is
// returned.
func (s *System) lead(ctx context.Context, l *cluster.Lease, parts []func(context.Context) error) error {
	n := s.node
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n.mu.Lock()
	n.lead = true
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		n.lead = false
		n.mu.Unlock()
	}()
	errs := make(chan error, len(parts))
	for _, f := range parts {
		go func() { errs <- f(lctx) }()
	}
	var first error
	got := 0
	select {
	case <-ctx.Done():
	case <-l.Lost():
		s.log.Warn("salesbot: leader lease lost; the parts that run once stop here", "node", n.mgr.NodeID())
	case first = <-errs: // a part stopped by itself: a failure, or nil
		got++
	}
	cancel()
	for ; got < len(parts); got++ {
		<-errs // stopped by cancel: what they return then is no failure
	}
	select {
	case <-l.Lost():
	default: // stopping or failed: the next leader need not wait for the TTL
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer rcancel()
		_ = l.Release(rctx)
	}
	if first != nil && ctx.Err() == nil {
		return fmt.Errorf("leader: %w", first)
	}
	return nil
}

// refresh reads, every second, what other nodes wrote to the registries
// this node serves from memory (tokens, web sessions, webhook
// subscriptions), so any node answers with them.
func (s *System) refresh(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for name, f := range map[string]func(context.Context) error{"tokens": s.tokens.Refresh, "web sessions": s.signins.Refresh, "webhooks": s.hooks.Refresh} {
			if err := f(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("salesbot: read what other nodes wrote", "registry", name, "err", err)
			}
		}
	}
}

// close leaves the members and closes the lease manager.
func (n *node) close() {
	n.mem.Close()
	n.mgr.Close()
}

// named are parts whose failure names them.
func named(parts map[string]func(context.Context) error) []func(context.Context) error {
	out := make([]func(context.Context) error, 0, len(parts))
	for name, f := range parts {
		out = append(out, func(ctx context.Context) error {
			if err := f(ctx); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		})
	}
	return out
}

// owns says whether this node takes the turns of account's dialogs:
// always on a single node.
func (s *System) owns(account uuid.UUID) bool { return s.svc.Holds(account) }

// abandon stops the node's leases and heartbeats at once without giving
// them up, as a crash does (failover tests).
func (n *node) abandon() {
	n.mem.Abandon()
	n.mgr.Abandon()
}
