package cluster_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/cluster"
)

func join(t *testing.T, url, id string, opts cluster.MemberOptions) *cluster.Membership {
	t.Helper()
	opts.NodeID = id
	m, err := cluster.Join(t.Context(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func ids(ns []cluster.NodeInfo) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

// waitSet reads Changes until the set of live nodes is want, or fails
// after within.
func waitSet(t *testing.T, m *cluster.Membership, within time.Duration, want ...string) []cluster.NodeInfo {
	t.Helper()
	deadline := time.After(within)
	var last []string
	for {
		select {
		case ns, ok := <-m.Changes():
			if !ok {
				t.Fatalf("node %s: Changes closed waiting for %v", m.NodeID(), want)
			}
			if last = ids(ns); slices.Equal(last, want) {
				return ns
			}
		case <-deadline:
			t.Fatalf("node %s: nodes still %v after %v, want %v", m.NodeID(), last, within, want)
		}
	}
}

func TestMembership(t *testing.T) {
	url := newLog(t)
	var applied atomic.Uint64
	applied.Store(41)
	hb := 300 * time.Millisecond
	a := join(t, url, "node-a", cluster.MemberOptions{Label: "v1.2.3", Heartbeat: hb, Applied: applied.Load})
	waitSet(t, a, 2*time.Second, "node-a")

	b := join(t, url, "node-b", cluster.MemberOptions{Label: "v1.2.4", Heartbeat: hb})
	waitSet(t, a, 2*time.Second, "node-a", "node-b")
	waitSet(t, b, 2*time.Second, "node-a", "node-b")

	applied.Store(99)
	time.Sleep(2 * hb) // a heartbeat carries the new position
	ns, err := b.Members(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(ns); !slices.Equal(got, []string{"node-a", "node-b"}) {
		t.Fatalf("Members = %v", got)
	}
	if ns[0].Label != "v1.2.3" || ns[0].Applied != 99 || ns[0].Started.IsZero() || ns[0].Seen.IsZero() {
		t.Errorf("node-a's record = %+v, want label v1.2.3, applied 99, started and seen set", ns[0])
	}
	if ns[1].Label != "v1.2.4" || ns[1].Applied != 0 {
		t.Errorf("node-b's record = %+v", ns[1])
	}

	// Leaving by Close is seen before the record would have expired.
	start := time.Now()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	waitSet(t, a, 3*hb, "node-a")
	t.Logf("a Close seen after %v", time.Since(start))
	if _, ok := <-b.Changes(); ok {
		t.Error("a closed node's Changes is still open")
	}

	// A node that stops heartbeating without leaving (a crash: here a
	// record written once by hand) is dropped after Expire (3 heartbeats).
	js, name := serverJS(t, url)
	kv, err := js.KeyValue(t.Context(), cluster.NodesBucketName(name))
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := json.Marshal(cluster.NodeInfo{ID: "node-ghost", Started: time.Now()})
	if _, err := kv.Put(t.Context(), "node-ghost", rec); err != nil {
		t.Fatal(err)
	}
	waitSet(t, a, 2*time.Second, "node-a", "node-ghost")
	start = time.Now()
	waitSet(t, a, 3*hb+3*time.Second, "node-a")
	if since := time.Since(start); since < 2*hb {
		t.Errorf("the silent node was dropped after %v, before its records could expire (%v)", since, 3*hb)
	}
	t.Logf("a silent node dropped after %v", time.Since(start))
}

func TestJoinStreamReadsFromLeader(t *testing.T) {
	url := newLog(t)
	join(t, url, "node-a", cluster.MemberOptions{Heartbeat: time.Second})
	js, name := serverJS(t, url)
	st, err := js.Stream(context.Background(), "KV_"+cluster.NodesBucketName(name))
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	if cfg.AllowDirect {
		t.Error("the nodes bucket allows direct gets: a replica could answer for the leader")
	}
	if cfg.MaxAge != 3*time.Second || cfg.MaxMsgsPerSubject != 1 {
		t.Errorf("the nodes bucket keeps %d per key for %v, want 1 for 3s", cfg.MaxMsgsPerSubject, cfg.MaxAge)
	}
}
