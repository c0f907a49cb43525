package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/cluster"
	"github.com/salesbot/salesbot/adapters/httpapi"
)

// A server on its own log says it is a single node: 200, no nodes, no
// leases; any valid token reads it, none is refused.
func TestClusterSingleNode(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	var s httpapi.ClusterStatus
	a := w.get(t, "/api/v1/cluster", w.read)
	a.json(t, &s)
	if a.status != http.StatusOK || s.Mode != httpapi.ModeSingle || s.Nodes == nil || len(s.Nodes) != 0 || s.Leases == nil || len(s.Leases) != 0 || s.Log != "" {
		t.Fatalf("single node: %d %s", a.status, a.body)
	}
	w.get(t, "/api/v1/cluster", "").problem(t, http.StatusUnauthorized)
}

// In cluster mode the report as the node reads it: nodes with their lag
// and leases, this node marked, orphans marked; a failure to read it is
// a 503 problem.
func TestClusterStatus(t *testing.T) {
	started := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	rep := cluster.Report{Log: "nats://127.0.0.1:4222/main", Head: 50, Self: "node-b",
		Nodes: []cluster.NodeStatus{
			{NodeInfo: cluster.NodeInfo{ID: "node-a", Label: "v1", Started: started, Applied: 50, Seen: started.Add(time.Hour)}, Leases: 1},
			{NodeInfo: cluster.NodeInfo{ID: "node-b", Started: started, Applied: 42, Seen: started.Add(time.Hour)}, Lag: 8, Leases: 2},
		},
		Leases: []cluster.LeaseInfo{
			{Key: "leader/scheduler", Holder: "node-b", Epoch: 3},
			{Key: "tg:account-1", Holder: "node-a", Epoch: 7},
			{Key: "tg:account-2", Holder: "node-b", Epoch: 1},
			{Key: "tg:account-3", Holder: "node-gone", Epoch: 4, Orphan: true},
		}}
	var fail error
	w := newWorld(t, tokens.DefaultRate(), func(c *httpapi.Config) {
		c.Cluster = cluster.StatusFunc(func(context.Context) (cluster.Report, error) { return rep, fail })
	})
	for _, token := range []string{w.read, w.manage, w.admin} {
		var s httpapi.ClusterStatus
		w.get(t, "/api/v1/cluster", token).json(t, &s)
		if s.Mode != httpapi.ModeCluster || s.Log != rep.Log || s.Head != 50 || s.Self != "node-b" || len(s.Nodes) != 2 || len(s.Leases) != 4 {
			t.Fatalf("cluster: %+v", s)
		}
		if n := s.Nodes[1]; n.ID != "node-b" || n.Lag != 8 || n.Leases != 2 || n.Applied != 42 || !n.Self || !n.Started.Equal(started) {
			t.Errorf("node-b: %+v", n)
		}
		if n := s.Nodes[0]; n.Self || n.Label != "v1" || n.Lag != 0 {
			t.Errorf("node-a: %+v", n)
		}
		if l := s.Leases[3]; !l.Orphan || l.Holder != "node-gone" || l.Epoch != 4 || s.Leases[0].Orphan {
			t.Errorf("leases: %+v", s.Leases)
		}
	}
	// An empty cluster (no node has joined yet): empty lists, not nulls.
	rep = cluster.Report{Log: rep.Log}
	a := w.get(t, "/api/v1/cluster", w.read)
	var s httpapi.ClusterStatus
	a.json(t, &s)
	if s.Mode != httpapi.ModeCluster || s.Nodes == nil || s.Leases == nil {
		t.Errorf("an empty cluster: %s", a.body)
	}

	fail = errors.New("cluster: connect to nats://127.0.0.1:4222/main: no servers available")
	a = w.get(t, "/api/v1/cluster", w.read)
	if p := a.problem(t, http.StatusServiceUnavailable); p.Type != httpapi.TypeClusterUnavailable || a.header.Get("Retry-After") == "" {
		t.Errorf("a failed read: %+v %v", p, a.header)
	}
}
