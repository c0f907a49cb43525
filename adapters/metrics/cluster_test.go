package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/salesbot/salesbot/adapters/cluster"
	"github.com/salesbot/salesbot/adapters/metrics"
	"github.com/salesbot/salesbot/projections"
)

// scrape gets /metrics from h as Prometheus does and returns its text.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %v", res.StatusCode, err)
	}
	return string(b)
}

// In cluster mode a scrape shows the live nodes and this node's leases
// and lag, no per-node label; a failed read shows salesbot_cluster_up
// 0 and nothing else of the cluster; a single node shows none of them.
func TestClusterSeries(t *testing.T) {
	rep := cluster.Report{Log: "nats://127.0.0.1:4222/main", Head: 50, Self: "node-b",
		Nodes: []cluster.NodeStatus{
			{NodeInfo: cluster.NodeInfo{ID: "node-a", Applied: 50}, Leases: 2},
			{NodeInfo: cluster.NodeInfo{ID: "node-b", Applied: 42}, Lag: 8, Leases: 3},
			{NodeInfo: cluster.NodeInfo{ID: "node-c", Applied: 49}, Lag: 1},
		},
		Leases: []cluster.LeaseInfo{
			{Key: "leader/scheduler", Holder: "node-b", Epoch: 1},
			{Key: "tg:1", Holder: "node-a", Epoch: 1}, {Key: "tg:2", Holder: "node-a", Epoch: 1},
			{Key: "tg:3", Holder: "node-b", Epoch: 2}, {Key: "tg:4", Holder: "node-b", Epoch: 1},
			{Key: "tg:5", Holder: "node-gone", Epoch: 3, Orphan: true},
		}}
	var fail error
	var asked bool
	m, err := metrics.New(metrics.Config{Head: func() uint64 { return 50 }, ReadModels: projections.NewMemory(),
		Cluster: func(ctx context.Context) (cluster.Report, error) {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("the cluster is read without a deadline")
			}
			asked = true
			return rep, fail
		}})
	if err != nil {
		t.Fatal(err)
	}
	text := scrape(t, m.Handler())
	for _, want := range []string{"\nsalesbot_cluster_up 1\n", "\nsalesbot_cluster_nodes 3\n", "\nsalesbot_cluster_leases_held 3\n", "\nsalesbot_cluster_lag_events 8\n",
		"# TYPE salesbot_cluster_lag_events gauge\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("the scrape lacks %q", strings.TrimSpace(want))
		}
	}
	if !asked {
		t.Error("the scrape did not read the cluster")
	}
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "salesbot_cluster_") && (len(f.Metric) != 1 || len(f.Metric[0].Label) != 0) {
			t.Errorf("%s: %d series, labels %v: want one series of this node, no label", f.GetName(), len(f.Metric), f.Metric[0].Label)
		}
	}
	problems, err := promlint.NewWithMetricFamilies(fams).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}

	// This node is not live yet (no heartbeat): no lag, no leases.
	rep.Self = "node-new"
	text = scrape(t, m.Handler())
	if !strings.Contains(text, "\nsalesbot_cluster_leases_held 0\n") || strings.Contains(text, "salesbot_cluster_lag_events ") {
		t.Errorf("a node not yet live:\n%s", grep(text, "salesbot_cluster_"))
	}

	fail = errors.New("cluster: connect to nats://127.0.0.1:4222/main: no servers available")
	text = scrape(t, m.Handler())
	if got := grep(text, "salesbot_cluster_"); got != "salesbot_cluster_up 0" {
		t.Errorf("a failed read shows %q, want salesbot_cluster_up 0 only", got)
	}

	single, err := metrics.New(metrics.Config{Head: func() uint64 { return 50 }, ReadModels: projections.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	if got := grep(scrape(t, single.Handler()), "salesbot_cluster_"); got != "" {
		t.Errorf("a single node shows %q", got)
	}
}

// grep is the lines of text that start with prefix (no comments).
func grep(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
