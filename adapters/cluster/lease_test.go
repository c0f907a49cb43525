package cluster_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/salesbot/salesbot/adapters/cluster"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/jetstreamtest"
)

// newLog returns the URL of a log no other test uses, deleted with its
// buckets when the test ends; it skips without a server.
func newLog(t *testing.T) string {
	return jetstreamtest.URL() + "/" + jetstreamtest.NewLog(t, jetstreamtest.URL())
}

// serverJS is the JetStream of the test server and the log url's name,
// for a test that looks at the buckets directly.
func serverJS(t *testing.T, url string) (jetstream.JetStream, string) {
	t.Helper()
	nc, err := nats.Connect(jetstreamtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	u, err := eventstore.ParseLogURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return js, u.Name
}

// node is one salesbot node: its own store and lease manager on the log.
type node struct {
	store *eventstore.JetStreamStore
	mgr   *cluster.Manager
}

func newNode(t *testing.T, url, id string, opts cluster.Options) node {
	t.Helper()
	s, err := eventstore.OpenJetStream(t.Context(), url, eventstore.Options{MasterKey: make([]byte, eventstore.MasterKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	opts.NodeID = id
	m, err := cluster.Open(t.Context(), url, s, opts)
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Close()
		s.Close()
	})
	return node{store: s, mgr: m}
}

func sent(n int) eventstore.Event {
	return eventstore.Event{Type: "MessageSent", Payload: fmt.Appendf(nil, `{"n":%d}`, n)}
}

// TestPausedNodeIsFencedOff: node A holds account X and appends; A is
// paused (stops renewing); after the TTL node B takes X with a newer
// epoch and appends; A wakes up: its append under the old epoch is
// fenced off and writes nothing, its renewal finds the lease lost.
func TestPausedNodeIsFencedOff(t *testing.T) {
	url := newLog(t)
	pausedNode(t, url, url)
}

// pausedNode runs TestPausedNodeIsFencedOff with node A on urlA and node B
// on urlB (the same log, through other servers of a cluster).
func pausedNode(t *testing.T, urlA, urlB string) {
	const ttl = time.Second
	// A renews once an hour: paused, as far as its lease is concerned.
	a := newNode(t, urlA, "node-a", cluster.Options{TTL: ttl, RenewEvery: time.Hour})
	b := newNode(t, urlB, "node-b", cluster.Options{TTL: ttl})
	ctx := t.Context()
	const acct = "account-x"

	la, err := a.mgr.Acquire(ctx, acct)
	if err != nil {
		t.Fatalf("A acquires: %v", err)
	}
	if _, err := la.Append(ctx, "dialog-1", eventstore.NoStream, sent(1)); err != nil {
		t.Fatalf("A appends under epoch %d: %v", la.Epoch(), err)
	}
	_, err = b.mgr.Acquire(ctx, acct)
	var he *cluster.HeldError
	if !errors.As(err, &he) || he.Holder != "node-a" {
		t.Fatalf("B acquires a held lease: %v, want ErrHeld naming node-a", err)
	}

	// The server drops A's lease once it is a TTL old; B takes it then.
	start := time.Now()
	var lb *cluster.Lease
	for lb == nil {
		if time.Since(start) > 10*ttl {
			t.Fatalf("B could not take the lease %v after A stopped renewing (TTL %v)", time.Since(start), ttl)
		}
		lb, err = b.mgr.Acquire(ctx, acct)
		if err != nil && !errors.Is(err, cluster.ErrHeld) {
			t.Fatalf("B acquires: %v", err)
		}
		if lb == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("B took the lease %v after A's last write (TTL %v)", time.Since(start).Round(10*time.Millisecond), ttl)
	if lb.Epoch() <= la.Epoch() {
		t.Fatalf("B's epoch %d is not after A's %d", lb.Epoch(), la.Epoch())
	}
	if _, err := lb.Append(ctx, "dialog-1", eventstore.Exact(1), sent(2)); err != nil {
		t.Fatalf("B appends under epoch %d: %v", lb.Epoch(), err)
	}

	// A wakes up: it still thinks it holds the lease.
	select {
	case <-la.Lost():
		t.Fatal("A's lease reads lost before A renewed")
	default:
	}
	_, err = la.Append(ctx, "dialog-1", eventstore.Any, sent(3))
	var fe *eventstore.FencedError
	if !errors.As(err, &fe) || fe.Epoch != la.Epoch() || fe.Current != lb.Epoch() {
		t.Fatalf("A appends under its old epoch: %v, want ErrFenced naming epochs %d and %d", err, la.Epoch(), lb.Epoch())
	}
	if err := la.Renew(ctx); !errors.Is(err, cluster.ErrLost) {
		t.Fatalf("A renews: %v, want ErrLost", err)
	}
	select {
	case <-la.Lost():
	default:
		t.Fatal("A's failed renewal did not close Lost")
	}
	if holder, epoch, err := a.mgr.Holder(ctx, acct); err != nil || holder != "node-b" || epoch != lb.Epoch() {
		t.Fatalf("holder: %q epoch %d (%v), want node-b epoch %d", holder, epoch, err, lb.Epoch())
	}

	// B keeps the lease past several TTLs by renewing it.
	time.Sleep(2 * ttl)
	if err := lb.Renew(ctx); err != nil {
		t.Fatalf("B renews after 2 TTLs: %v", err)
	}

	// The log: A's one append, B's one; the grants in order.
	if _, err := a.store.WaitHead(ctx, b.store.Head()-1); err != nil {
		t.Fatal(err)
	}
	evs, err := a.store.ReadStream(ctx, "dialog-1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || string(evs[0].Payload) != `{"n":1}` || string(evs[1].Payload) != `{"n":2}` {
		t.Fatalf("dialog-1 holds %d events, want A's 1 then B's 2", len(evs))
	}
	grants, err := a.store.ReadStream(ctx, eventstore.LeaseStream(acct), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(grants) != 2 || grants[0].Position > evs[0].Position || grants[1].Position < evs[0].Position || grants[1].Position > evs[1].Position {
		t.Fatalf("the grants are not in order around the appends: %d grants", len(grants))
	}
	for i, want := range []string{fmt.Sprintf(`{"key":"account-x","holder":"node-a","epoch":%d}`, la.Epoch()), fmt.Sprintf(`{"key":"account-x","holder":"node-b","epoch":%d}`, lb.Epoch())} {
		if string(grants[i].Payload) != want {
			t.Fatalf("grant %d: %s, want %s", i+1, grants[i].Payload, want)
		}
	}
	if _, err := b.store.Verify(ctx, nil); err != nil {
		t.Fatalf("verify: %v", err)
	}

	// Released, the lease is free at once.
	if err := lb.Release(ctx); err != nil {
		t.Fatalf("B releases: %v", err)
	}
	lc, err := a.mgr.Acquire(ctx, acct)
	if err != nil {
		t.Fatalf("A acquires the released lease: %v", err)
	}
	if lc.Epoch() <= lb.Epoch() {
		t.Fatalf("epoch %d after %d", lc.Epoch(), lb.Epoch())
	}
	if _, err := lb.Append(ctx, "dialog-1", eventstore.Any, sent(4)); !errors.Is(err, eventstore.ErrFenced) {
		t.Fatalf("B appends after releasing: %v, want ErrFenced", err)
	}
}

// TestAcquireRace: nodes racing for the same free key: exactly one wins.
func TestAcquireRace(t *testing.T) {
	url := newLog(t)
	const nodes = 4
	ns := make([]node, nodes)
	for i := range ns {
		ns[i] = newNode(t, url, fmt.Sprintf("node-%d", i), cluster.Options{TTL: 2 * time.Second})
	}
	ctx := t.Context()
	for round := range 5 {
		key := fmt.Sprintf("tg account %d/+é.=", round) // characters a bucket key does not take
		var wg sync.WaitGroup
		leases := make([]*cluster.Lease, nodes)
		errs := make([]error, nodes)
		for i := range ns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				leases[i], errs[i] = ns[i].mgr.Acquire(ctx, key)
			}()
		}
		wg.Wait()
		won := -1
		for i := range ns {
			switch {
			case errs[i] == nil && won >= 0:
				t.Fatalf("%s: nodes %d and %d both acquired it", key, won, i)
			case errs[i] == nil:
				won = i
			case !errors.Is(errs[i], cluster.ErrHeld):
				t.Fatalf("%s: node %d: %v, want ErrHeld", key, i, errs[i])
			}
		}
		if won < 0 {
			t.Fatalf("%s: no node acquired it", key)
		}
		if holder, _, err := ns[0].mgr.Holder(ctx, key); err != nil || holder != ns[won].mgr.NodeID() {
			t.Fatalf("%s: holder %q (%v), want %s", key, holder, err, ns[won].mgr.NodeID())
		}
		if _, err := leases[won].Append(ctx, "dialog-"+key, eventstore.NoStream, sent(round)); err != nil {
			t.Fatalf("%s: the winner appends: %v", key, err)
		}
	}
}

// TestLateGrantIsRefused: a node whose grant reaches the log after a
// newer one (it was paused between taking the lease and recording it)
// gets ErrFenced from Acquire and leaves the lease free.
func TestLateGrantIsRefused(t *testing.T) {
	url := newLog(t)
	a := newNode(t, url, "node-a", cluster.Options{TTL: 2 * time.Second})
	ctx := t.Context()
	const acct = "account-z"
	// A grant of a far later epoch is in the log already.
	if _, err := a.store.Append(ctx, eventstore.LeaseStream(acct), eventstore.Any,
		eventstore.LeaseGranted{Key: acct, Holder: "node-b", Epoch: 1 << 40}.Event()); err != nil {
		t.Fatal(err)
	}
	_, err := a.mgr.Acquire(ctx, acct)
	var fe *eventstore.FencedError
	if !errors.As(err, &fe) || !fe.Grant || fe.Current != 1<<40 {
		t.Fatalf("acquire under a newer grant: %v, want ErrFenced for the grant", err)
	}
	if holder, _, err := a.mgr.Holder(ctx, acct); err != nil || holder != "" {
		t.Fatalf("after the refused grant the lease is held by %q (%v), want free", holder, err)
	}
	if n, err := a.store.StreamVersion(ctx, eventstore.LeaseStream(acct)); err != nil || n != 1 {
		t.Fatalf("lease stream at version %d (%v), want 1: the refused grant is not written", n, err)
	}
}
