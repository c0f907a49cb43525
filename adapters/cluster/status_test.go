package cluster_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/cluster"
)

func TestStatus(t *testing.T) {
	url := newLog(t)

	// Before any node: empty, no error.
	r, err := cluster.Status(t.Context(), url, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Nodes) != 0 || len(r.Leases) != 0 || r.Head != 7 {
		t.Fatalf("empty log: %+v", r)
	}

	a := newNode(t, url, "node-a", cluster.Options{TTL: 5 * time.Second})
	b := newNode(t, url, "node-b", cluster.Options{TTL: 5 * time.Second})
	join(t, url, "node-a", cluster.MemberOptions{Label: "v1", Heartbeat: time.Second, Applied: func() uint64 { return 50 }})
	join(t, url, "node-b", cluster.MemberOptions{Label: "v2", Heartbeat: time.Second, Applied: func() uint64 { return 42 }})
	ctx := t.Context()
	// Keys with characters the bucket cannot hold (":", "/") come back as given.
	la, err := a.mgr.Acquire(ctx, "tg:account-1")
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.mgr.Acquire(ctx, "tg:account-2")
	if err != nil {
		t.Fatal(err)
	}
	lc, err := b.mgr.Acquire(ctx, "leader/scheduler")
	if err != nil {
		t.Fatal(err)
	}
	// A lease whose holder is not a member: a crashed node's.
	ghost := newNode(t, url, "node-ghost", cluster.Options{TTL: 5 * time.Second})
	lg, err := ghost.mgr.Acquire(ctx, "tg:account-3")
	if err != nil {
		t.Fatal(err)
	}

	r, err = cluster.Status(ctx, url, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Head != 50 {
		t.Errorf("head = %d, want 50 (the furthest node)", r.Head)
	}
	if len(r.Nodes) != 2 || r.Nodes[0].ID != "node-a" || r.Nodes[1].ID != "node-b" {
		t.Fatalf("nodes = %+v", r.Nodes)
	}
	na, nb := r.Nodes[0], r.Nodes[1]
	if na.Label != "v1" || na.Applied != 50 || na.Lag != 0 || na.Leases != 1 || na.Started.IsZero() {
		t.Errorf("node-a = %+v, want v1 applied 50 lag 0 leases 1", na)
	}
	if nb.Label != "v2" || nb.Applied != 42 || nb.Lag != 8 || nb.Leases != 2 {
		t.Errorf("node-b = %+v, want v2 applied 42 lag 8 leases 2", nb)
	}
	want := []cluster.LeaseInfo{
		{Key: "leader/scheduler", Holder: "node-b", Epoch: lc.Epoch()},
		{Key: "tg:account-1", Holder: "node-a", Epoch: la.Epoch()},
		{Key: "tg:account-2", Holder: "node-b", Epoch: lb.Epoch()},
		{Key: "tg:account-3", Holder: "node-ghost", Epoch: lg.Epoch(), Orphan: true},
	}
	if len(r.Leases) != len(want) {
		t.Fatalf("leases = %+v, want %+v", r.Leases, want)
	}
	for i := range want {
		if r.Leases[i] != want[i] {
			t.Errorf("lease %d = %+v, want %+v", i, r.Leases[i], want[i])
		}
	}

	// The caller's head, when further, gives the lag.
	r2, err := cluster.Status(ctx, url, 60)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Head != 60 || r2.Nodes[0].Lag != 10 || r2.Nodes[1].Lag != 18 {
		t.Errorf("with head 60: head %d, lags %d and %d, want 60, 10, 18", r2.Head, r2.Nodes[0].Lag, r2.Nodes[1].Lag)
	}

	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back cluster.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("JSON: %v\n%s", err, js.String())
	}
	if back.Head != 50 || len(back.Nodes) != 2 || back.Nodes[1].Lag != 8 || back.Nodes[0].Label != "v1" || len(back.Leases) != 4 || back.Leases[3] != want[3] {
		t.Errorf("JSON round trip: %+v\n%s", back, js.String())
	}

	var txt bytes.Buffer
	if err := r.WriteText(&txt, time.Now()); err != nil {
		t.Fatal(err)
	}
	out := txt.String()
	for _, s := range []string{"head 50, 2 nodes, 4 leases", "node-a", "v2", "tg:account-2", "node-ghost (not live"} {
		if !strings.Contains(out, s) {
			t.Errorf("text lacks %q:\n%s", s, out)
		}
	}
	lines := strings.Split(out, "\n")
	var nodeB string
	for _, l := range lines {
		if strings.HasPrefix(l, "node-b ") {
			nodeB = l
		}
	}
	if f := strings.Fields(nodeB); len(f) != 6 || f[3] != "42" || f[4] != "8" || f[5] != "2" {
		t.Errorf("node-b's row = %q, want applied 42, lag 8, 2 leases", nodeB)
	}
	t.Logf("\n%s", out)

	txt.Reset()
	if err := (cluster.Report{Log: "nats://h/x", Nodes: []cluster.NodeStatus{}, Leases: []cluster.LeaseInfo{}}).WriteText(&txt, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(txt.String(), "head unknown (no node is running), 0 nodes") {
		t.Errorf("with no node the head is not known, not 0:\n%s", txt.String())
	}
}
