package web_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/cluster"
	"github.com/salesbot/salesbot/adapters/web"
	"github.com/salesbot/salesbot/domain"
)

// Without a cluster the page says the server is a single node, and the
// navigation does not link it.
func TestClusterPageSingleNode(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	res := w.get(t, "/web/cluster", cookie)
	body := res.Body.String()
	if res.Code != http.StatusOK || !strings.Contains(body, "This server is a single node") || strings.Contains(body, "<table") {
		t.Fatalf("single node: %d\n%s", res.Code, body)
	}
	if strings.Contains(w.get(t, "/web/", cookie).Body.String(), `href="/web/cluster"`) {
		t.Error("the navigation links the cluster page of a single node")
	}
	if ru := w.get(t, "/web/cluster?lang=ru", cookie).Body.String(); !strings.Contains(ru, "одиночный узел") {
		t.Error("the Russian page does not say it is a single node")
	}
	if res := w.get(t, "/web/cluster", ""); res.Code != http.StatusUnauthorized {
		t.Errorf("signed out: %d, want the sign-in page (401)", res.Code)
	}
}

// In cluster mode: the nodes (this one marked, a lagging one marked),
// the leases (an orphan's marked), the link in the navigation, every
// name escaped; a failed read is a 503 page that says so.
func TestClusterPage(t *testing.T) {
	started := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	rep := cluster.Report{Log: "nats://127.0.0.1:4222/main", Head: 5000, Self: "node-b",
		Nodes: []cluster.NodeStatus{
			{NodeInfo: cluster.NodeInfo{ID: "node-a", Label: "v1.4 <b>east</b>", Started: started, Applied: 5000}, Leases: 1},
			{NodeInfo: cluster.NodeInfo{ID: "node-b", Started: started, Applied: 3000}, Lag: 2000, Leases: 2},
		},
		Leases: []cluster.LeaseInfo{
			{Key: "leader/scheduler", Holder: "node-b", Epoch: 3},
			{Key: "tg:account-1", Holder: "node-a", Epoch: 7},
			{Key: "tg:account-2", Holder: "node-b", Epoch: 1},
			{Key: "tg:account-3", Holder: "node-gone", Epoch: 4, Orphan: true},
		}}
	var fail error
	w := newWorld(t, func(c *web.Config) {
		c.Cluster = cluster.StatusFunc(func(context.Context) (cluster.Report, error) { return rep, fail })
	})
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	res := w.get(t, "/web/cluster", cookie)
	body := res.Body.String()
	if res.Code != http.StatusOK {
		t.Fatalf("cluster page: %d", res.Code)
	}
	for _, want := range []string{
		"Log nats://127.0.0.1:4222/main, head 5000: 2 live nodes, 4 leases, 1 of them orphaned.",
		`<code>node-b</code> <span class="state">this node</span>`,
		"v1.4 &lt;b&gt;east&lt;/b&gt;",
		`<span class="state flood-wait">2000</span>`,
		"<code>tg:account-3</code>", `<code>node-gone</code> <span class="state lost">holder not live`,
		`href="/web/cluster" aria-current="page"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the cluster page lacks %q", want)
		}
	}
	if strings.Count(body, `<span class="state">this node</span>`) != 1 || strings.Count(body, "holder not live") != 1 {
		t.Error("this node or the orphan marked more than once")
	}
	if strings.Contains(body, "<b>east</b>") {
		t.Error("a node's label is not escaped")
	}
	if m := inlineCode.FindString(body); m != "" {
		t.Errorf("inline code %q", m)
	}
	if ru := w.get(t, "/web/cluster?lang=ru", cookie).Body.String(); !strings.Contains(ru, "живых узлов 2, аренд 4, из них осиротевших 1") {
		t.Error("the Russian page lacks its summary")
	}
	// Other pages link it.
	if !strings.Contains(w.get(t, "/web/accounts", cookie).Body.String(), `<a href="/web/cluster">Cluster</a>`) {
		t.Error("the navigation does not link the cluster page in cluster mode")
	}
	// Many leases: the first MaxLeases.
	rep.Leases = nil
	for i := range web.MaxLeases + 3 {
		rep.Leases = append(rep.Leases, cluster.LeaseInfo{Key: fmt.Sprintf("tg:%04d", i), Holder: "node-a", Epoch: 1})
	}
	body = w.get(t, "/web/cluster", cookie).Body.String()
	if strings.Count(body, "<code>tg:") != web.MaxLeases || !strings.Contains(body, fmt.Sprintf("Only the first %d of %d leases", web.MaxLeases, web.MaxLeases+3)) {
		t.Errorf("%d leases listed", strings.Count(body, "<code>tg:"))
	}

	fail = errors.New("cluster: connect to nats://127.0.0.1:4222/main: no servers available")
	res = w.get(t, "/web/cluster", cookie)
	if body := res.Body.String(); res.Code != http.StatusServiceUnavailable || !strings.Contains(body, "could not be read from the log&#39;s servers") ||
		strings.Contains(body, "no servers available") || strings.Contains(body, "<table") {
		t.Errorf("a failed read: %d\n%s", res.Code, body)
	}
}
