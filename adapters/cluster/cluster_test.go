package cluster_test

import (
	"testing"

	"github.com/salesbot/salesbot/eventstore/jetstreamtest"
)

// TestPausedNodeOnCluster: the paused-node story on a 3-server cluster,
// the log and the leases kept on all three, A and B on other servers.
func TestPausedNodeOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-server NATS cluster")
	}
	urls := jetstreamtest.StartCluster(t)
	name := "leases"
	at := func(i int) string { return urls[i] + "/" + name + "?replicas=3" }
	pausedNode(t, at(0), at(1))
}

// TestBalancerOnCluster: the balancer's story on a 3-server cluster, the
// log, the leases and the members kept on all three, each node on its
// own server.
func TestBalancerOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-server NATS cluster")
	}
	urls := jetstreamtest.StartCluster(t)
	balancerStory(t, func(i int) string { return urls[i] + "/balance?replicas=3" })
}
