package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Change is one account's lease gained or given up by this node.
type Change struct {
	Account string
	// Lease is the new lease when Held, nil when the account left.
	Lease *Lease
	Held  bool
}

// BalanceOptions tune a Balancer; zero values take the defaults.
type BalanceOptions struct {
	// Retry is how often accounts placed here but still held elsewhere
	// (a departing node whose lease has not yet expired) are tried
	// again, and lost leases noticed; default the Manager's RenewEvery,
	// at most 1 s (an account whose holder crashed is taken within a
	// second of its lease's expiry).
	Retry  time.Duration
	Logger *slog.Logger
	// Stop, if set, is called before a lease this node holds is released
	// (placed elsewhere now, or Run ending) and must return once what
	// runs under it has stopped: the next holder takes it only then, so
	// two nodes never run one account.
	Stop func(account string)
}

// Balancer holds the leases of the accounts Place puts on this node
// among the live members, and gives up the others, each time the members
// change: it releases first (so the node they now belong to can take
// them at once), then acquires, and tries again every Retry the accounts
// another node still holds.
type Balancer struct {
	mgr      *Manager
	mem      *Membership
	accounts []string
	retry    time.Duration
	log      *slog.Logger
	changes  chan Change

	kick chan struct{} // SetAccounts: balance now
	stop func(account string)

	mu    sync.Mutex
	held  map[string]*Lease
	nodes []string
}

// NewBalancer balances accounts for the node of mgr and mem (which must
// be the same node).
func NewBalancer(mgr *Manager, mem *Membership, accounts []string, opts BalanceOptions) (*Balancer, error) {
	if mgr.NodeID() != mem.NodeID() {
		return nil, fmt.Errorf("cluster: balancer: the lease manager is node %s, the membership node %s", mgr.NodeID(), mem.NodeID())
	}
	if opts.Retry <= 0 {
		opts.Retry = min(mgr.every, time.Second)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Balancer{
		mgr: mgr, mem: mem, accounts: sortedSet(accounts), retry: opts.Retry, log: opts.Logger,
		changes: make(chan Change, 64), held: map[string]*Lease{}, kick: make(chan struct{}, 1), stop: opts.Stop,
	}, nil
}

func sortedSet(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

// SetAccounts replaces the accounts to balance (one was added or
// removed) and balances them at once.
func (b *Balancer) SetAccounts(accounts []string) {
	as := sortedSet(accounts)
	b.mu.Lock()
	same := slices.Equal(as, b.accounts)
	b.accounts = as
	b.mu.Unlock()
	if !same {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

// Changes receives each lease this node gains or gives up, in order. Read
// it: the balancer waits for room.
func (b *Balancer) Changes() <-chan Change { return b.changes }

// Held lists the accounts whose lease this node holds, sorted.
func (b *Balancer) Held() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, 0, len(b.held))
	for a := range b.held {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Lease is the lease this node holds on account, if any.
func (b *Balancer) Lease(account string) (*Lease, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.held[account]
	return l, ok
}

// Run balances until ctx is done, then releases every lease it holds and
// closes Changes.
func (b *Balancer) Run(ctx context.Context) error {
	defer close(b.changes)
	defer b.releaseAll()
	nodes, err := b.mem.Members(ctx)
	if err != nil {
		return err
	}
	b.setNodes(nodes)
	memCh := b.mem.Changes()
	t := time.NewTicker(b.retry)
	defer t.Stop()
	for {
		b.balance(ctx)
		select {
		case <-ctx.Done():
			return nil
		case ns, ok := <-memCh:
			if !ok { // the membership closed: keep the last placement
				memCh = nil
				continue
			}
			b.setNodes(ns)
		case <-t.C:
		case <-b.kick:
		}
	}
}

func (b *Balancer) setNodes(ns []NodeInfo) {
	ids := make([]string, 0, len(ns)+1)
	self := false
	for _, n := range ns {
		ids = append(ids, n.ID)
		self = self || n.ID == b.mgr.NodeID()
	}
	if !self { // a missed heartbeat is no reason to give everything up
		ids = append(ids, b.mgr.NodeID())
	}
	b.mu.Lock()
	b.nodes = ids
	b.mu.Unlock()
}

// balance releases what is placed elsewhere, forgets leases lost, and
// acquires what is placed here.
func (b *Balancer) balance(ctx context.Context) {
	b.mu.Lock()
	accounts := b.accounts
	place := Place(accounts, b.nodes)
	var release []*Lease
	var lost []string
	for a, l := range b.held {
		select {
		case <-l.Lost():
			delete(b.held, a)
			lost = append(lost, a)
			continue
		default:
		}
		if place[a] != b.mgr.NodeID() {
			release = append(release, l)
		}
	}
	b.mu.Unlock()
	slices.Sort(lost)
	for _, a := range lost {
		b.log.Warn("account lease lost", "account", a, "node", b.mgr.NodeID())
		b.send(ctx, Change{Account: a})
	}
	for _, l := range release {
		if b.stop != nil {
			b.stop(l.Key())
		}
		if err := l.Release(ctx); err != nil && !errors.Is(err, ErrLost) {
			b.log.Warn("account lease release failed", "account", l.Key(), "node", b.mgr.NodeID(), "err", err)
		}
		b.mu.Lock()
		delete(b.held, l.Key())
		b.mu.Unlock()
		b.send(ctx, Change{Account: l.Key()})
	}
	for _, a := range accounts {
		if place[a] != b.mgr.NodeID() || ctx.Err() != nil {
			continue
		}
		b.mu.Lock()
		_, have := b.held[a]
		b.mu.Unlock()
		if have {
			continue
		}
		l, err := b.mgr.Acquire(ctx, a)
		if errors.Is(err, ErrHeld) {
			continue // the node leaving still holds it: next Retry
		}
		if err != nil {
			b.log.Warn("account lease acquire failed", "account", a, "node", b.mgr.NodeID(), "err", err)
			continue
		}
		b.mu.Lock()
		b.held[a] = l
		b.mu.Unlock()
		b.send(ctx, Change{Account: a, Lease: l, Held: true})
	}
}

func (b *Balancer) send(ctx context.Context, c Change) {
	select {
	case b.changes <- c:
	case <-ctx.Done():
	}
}

func (b *Balancer) releaseAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.mu.Lock()
	held := b.held
	b.held = map[string]*Lease{}
	b.mu.Unlock()
	for a, l := range held {
		if b.stop != nil {
			b.stop(a)
		}
		if err := l.Release(ctx); err != nil && !errors.Is(err, ErrLost) {
			b.log.Warn("account lease release failed", "account", a, "node", b.mgr.NodeID(), "err", err)
		}
		select {
		case b.changes <- Change{Account: a}:
		default:
		}
	}
}
