package cluster_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/cluster"
)

const (
	balTTL       = 1500 * time.Millisecond
	balHeartbeat = 300 * time.Millisecond
)

// bnode is a node running a Balancer.
type bnode struct {
	node
	id     string
	mem    *cluster.Membership
	bal    *cluster.Balancer
	cancel context.CancelFunc
	done   chan error
	// changes is the last Change seen per account (read by the drain).
	changes chan map[string]bool
}

func startBalanced(t *testing.T, url, id string, accounts []string) *bnode {
	t.Helper()
	n := newNode(t, url, id, cluster.Options{TTL: balTTL})
	mem := join(t, url, id, cluster.MemberOptions{Heartbeat: balHeartbeat, Applied: n.store.Head})
	bal, err := cluster.NewBalancer(n.mgr, mem, accounts, cluster.BalanceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &bnode{node: n, id: id, mem: mem, bal: bal, cancel: cancel, done: make(chan error, 1), changes: make(chan map[string]bool, 1)}
	go func() { b.done <- bal.Run(ctx) }()
	go func() { // drain Changes, keeping the last state of each account
		last := map[string]bool{}
		for c := range bal.Changes() {
			if c.Held != (c.Lease != nil) {
				t.Errorf("node %s: change %+v: Held and Lease disagree", id, c)
			}
			last[c.Account] = c.Held
		}
		b.changes <- last
	}()
	t.Cleanup(func() { b.stop(t) })
	return b
}

// stop ends the balancer (which releases its leases) and leaves.
func (b *bnode) stop(t *testing.T) {
	if b.cancel == nil {
		return
	}
	b.cancel()
	b.cancel = nil
	if err := <-b.done; err != nil {
		t.Errorf("node %s: Run: %v", b.id, err)
	}
	b.mem.Close()
}

// waitBalanced waits until every account is held by exactly one of
// nodes, where Place puts it among them, and the lease bucket agrees.
func waitBalanced(t *testing.T, nodes []*bnode, accounts []string, within time.Duration) {
	t.Helper()
	var ids []string
	for _, n := range nodes {
		ids = append(ids, n.id)
	}
	want := cluster.Place(accounts, ids)
	deadline := time.Now().Add(within)
	var problem string
	for time.Now().Before(deadline) {
		problem = ""
		got := map[string]string{}
		for _, n := range nodes {
			for _, a := range n.bal.Held() {
				if other, ok := got[a]; ok {
					problem = fmt.Sprintf("%s held by %s and %s", a, other, n.id)
				}
				got[a] = n.id
			}
		}
		if problem == "" && !maps.Equal(got, want) {
			problem = fmt.Sprintf("held %d accounts, %v; want %v", len(got), got, want)
		}
		if problem == "" {
			for _, a := range accounts {
				holder, _, err := nodes[0].mgr.Holder(t.Context(), a)
				if err != nil {
					t.Fatal(err)
				}
				if holder != want[a] {
					problem = fmt.Sprintf("the lease bucket says %s holds %s, want %s", holder, a, want[a])
					break
				}
			}
		}
		if problem == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not balanced over %v after %v: %s", ids, within, problem)
}

func spread(nodes []*bnode) string {
	var b strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&b, "%s:%d ", n.id, len(n.bal.Held()))
	}
	return b.String()
}

func TestBalancer(t *testing.T) {
	url := newLog(t)
	balancerStory(t, func(int) string { return url })
}

// balancerStory: three nodes balance 30 accounts, one leaves, one
// joins. Node i talks to the log at at(i).
func balancerStory(t *testing.T, at func(i int) string) {
	accts := accounts(30)
	a := startBalanced(t, at(0), "node-a", accts)
	b := startBalanced(t, at(1), "node-b", accts)
	c := startBalanced(t, at(2), "node-c", accts)
	waitBalanced(t, []*bnode{a, b, c}, accts, 10*time.Second)
	for _, n := range []*bnode{a, b, c} {
		if h := len(n.bal.Held()); h < 5 || h > 15 {
			t.Errorf("node %s holds %d of 30 accounts: not spread (%s)", n.id, h, spread([]*bnode{a, b, c}))
		}
	}
	t.Logf("3 nodes: %s", spread([]*bnode{a, b, c}))

	// c leaves the members first, still holding its leases for a while
	// (as a node stopping, or paused): the others retry until it lets go.
	cHeld := c.bal.Held()
	c.mem.Close()
	time.Sleep(balTTL / 2)
	for _, acct := range cHeld {
		if holder, _, _ := a.mgr.Holder(t.Context(), acct); holder != "node-c" {
			t.Fatalf("%s is held by %q while node-c still holds its lease", acct, holder)
		}
	}
	start := time.Now()
	c.stop(t)
	waitBalanced(t, []*bnode{a, b}, accts, balTTL+2*time.Second)
	t.Logf("node-c's %d accounts moved %v after it released them: %s", len(cHeld), time.Since(start), spread([]*bnode{a, b}))
	if last := <-c.changes; len(last) == 0 {
		t.Error("node-c told no changes")
	} else {
		for acct, held := range last {
			if held {
				t.Errorf("node-c's last change for %s says held after it stopped", acct)
			}
		}
	}

	// A joining node takes its share, from both.
	d := startBalanced(t, at(2), "node-d", accts)
	waitBalanced(t, []*bnode{a, b, d}, accts, balTTL+5*time.Second)
	if h := len(d.bal.Held()); h < 5 {
		t.Errorf("the joiner holds %d of 30", h)
	}
	t.Logf("after node-d joined: %s", spread([]*bnode{a, b, d}))
}

// TestBalancerCrashedNode: node-c holds its share and stops renewing and
// heartbeating without releasing (a crash, or a pause): the server drops
// its record and, within the lease TTL, its leases; the other two then
// hold all the accounts.
func TestBalancerCrashedNode(t *testing.T) {
	url := newLog(t)
	accts := accounts(30)
	// node-c takes its share by hand and never renews; it leaves the
	// members by Close (its record's expiry is TestMembership's): what
	// matters here is that its leases are never released.
	c := newNode(t, url, "node-c", cluster.Options{TTL: balTTL, RenewEvery: time.Hour})
	cmem := join(t, url, "node-c", cluster.MemberOptions{Heartbeat: balHeartbeat})
	var mine []string
	for acct, n := range cluster.Place(accts, []string{"node-a", "node-b", "node-c"}) {
		if n == "node-c" {
			if _, err := c.mgr.Acquire(t.Context(), acct); err != nil {
				t.Fatal(err)
			}
			mine = append(mine, acct)
		}
	}
	a := startBalanced(t, url, "node-a", accts)
	b := startBalanced(t, url, "node-b", accts)
	deadline := time.Now().Add(10 * time.Second)
	for len(a.bal.Held())+len(b.bal.Held()) != len(accts)-len(mine) {
		if time.Now().After(deadline) {
			t.Fatalf("a and b hold %s, want the %d accounts not on node-c", spread([]*bnode{a, b}), len(accts)-len(mine))
		}
		time.Sleep(50 * time.Millisecond)
	}

	start := time.Now()
	cmem.Close() // node-c is gone; its leases stay until they expire
	waitBalanced(t, []*bnode{a, b}, accts, balTTL+3*time.Second)
	took := time.Since(start)
	t.Logf("node-c's %d unreleased accounts held by the others %v after it left (TTL %v): %s", len(mine), took, balTTL, spread([]*bnode{a, b}))
	if took < balTTL/2 {
		t.Errorf("node-c's leases were taken after %v, before they could expire", took)
	}
}

// TestBalancerLostLease: a lease taken from under its holder (here
// deleted from the bucket by hand) is told as given up, then taken again
// with a newer epoch, since the account is still placed on this node.
func TestBalancerLostLease(t *testing.T) {
	url := newLog(t)
	n := newNode(t, url, "node-a", cluster.Options{TTL: balTTL})
	mem := join(t, url, "node-a", cluster.MemberOptions{Heartbeat: balHeartbeat})
	z := join(t, url, "node-z", cluster.MemberOptions{Heartbeat: balHeartbeat})
	if _, err := cluster.NewBalancer(n.mgr, z, nil, cluster.BalanceOptions{}); err == nil {
		t.Error("a balancer over a manager and a membership of different nodes")
	}
	z.Close() // node-a alone: both accounts are placed on it
	bal, err := cluster.NewBalancer(n.mgr, mem, []string{"acct-1", "acct-2"}, cluster.BalanceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- bal.Run(ctx) }()
	next := func() cluster.Change {
		t.Helper()
		select {
		case c := <-bal.Changes():
			return c
		case <-time.After(3 * balTTL):
			t.Fatal("no change")
			return cluster.Change{}
		}
	}
	first := map[string]uint64{}
	for range 2 {
		c := next()
		if !c.Held {
			t.Fatalf("first changes: %+v, want leases gained", c)
		}
		first[c.Account] = c.Lease.Epoch()
	}

	js, name := serverJS(t, url)
	kv, err := js.KeyValue(t.Context(), cluster.BucketName(name))
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete(t.Context(), "acct-1"); err != nil {
		t.Fatal(err)
	}
	if c := next(); c.Account != "acct-1" || c.Held {
		t.Fatalf("after the lease was taken away: %+v, want acct-1 given up", c)
	}
	c := next()
	if c.Account != "acct-1" || !c.Held || c.Lease.Epoch() <= first["acct-1"] {
		t.Fatalf("then: %+v, want acct-1 held again with an epoch past %d", c, first["acct-1"])
	}
	if l, ok := bal.Lease("acct-1"); !ok || l != c.Lease {
		t.Errorf("Lease(acct-1) = %v, %v; want the new lease", l, ok)
	}
	if h := bal.Held(); len(h) != 2 {
		t.Errorf("Held = %v", h)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	gone := map[string]bool{}
	for c := range bal.Changes() {
		if !c.Held {
			gone[c.Account] = true
		}
	}
	if !gone["acct-1"] || !gone["acct-2"] {
		t.Errorf("stopping told %v given up, want both", gone)
	}
	if holder, _, _ := n.mgr.Holder(t.Context(), "acct-2"); holder != "" {
		t.Errorf("acct-2 still held by %q after Run ended", holder)
	}
}

// A thousand accounts over three nodes: each within 10 % of a third,
// every account held by exactly one node (the lease bucket agreeing);
// then a node crashes (never releases, never renews) and its accounts
// are held by the other two once its leases expire.
func TestBalancerThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("3,000 lease operations")
	}
	url := newLog(t)
	accts := accounts(1000)
	start := time.Now()
	nodes := []*bnode{startBalanced(t, url, "node-a", accts), startBalanced(t, url, "node-b", accts), startBalanced(t, url, "node-c", accts)}
	waitBalanced(t, nodes, accts, 60*time.Second)
	t.Logf("1000 accounts balanced over 3 nodes in %v: %s", time.Since(start).Round(time.Millisecond), spread(nodes))
	for _, n := range nodes {
		if h := len(n.bal.Held()); h < 300 || h > 367 {
			t.Errorf("node %s holds %d of 1000", n.id, h)
		}
	}
	c := nodes[2]
	held := len(c.bal.Held())
	c.mgr.Abandon() // a crash: its leases stay until they expire
	c.mem.Abandon()
	crashed := time.Now()
	waitBalanced(t, nodes[:2], accts, balTTL+30*time.Second)
	t.Logf("the crashed node's %d accounts held by the others %v after the crash (TTL %v): %s", held, time.Since(crashed).Round(time.Millisecond), balTTL, spread(nodes[:2]))
}
