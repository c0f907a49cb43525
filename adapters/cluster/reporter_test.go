package cluster_test

import (
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/cluster"
)

// A Reporter reads Status as its node sees it: the node's head, Self
// set to the node.
func TestReporter(t *testing.T) {
	url := newLog(t)
	join(t, url, "node-a", cluster.MemberOptions{Heartbeat: time.Second, Applied: func() uint64 { return 40 }})
	r, err := cluster.Reporter{URL: url, Node: "node-a", Head: func() uint64 { return 45 }}.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if r.Self != "node-a" || r.Head != 45 || len(r.Nodes) != 1 || r.Nodes[0].Lag != 5 {
		t.Fatalf("report: %+v", r)
	}
	// A log its servers cannot serve: an error within the timeout.
	start := time.Now()
	if _, err := (cluster.Reporter{URL: "nats://127.0.0.1:1/nothing", Node: "node-a", Timeout: time.Second}).Status(t.Context()); err == nil {
		t.Fatal("no error from a server that is not there")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the failed read took %v", d)
	}
}
