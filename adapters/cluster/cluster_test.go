package cluster_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// startCluster starts a 3-server JetStream cluster in this process (as
// eventstore's cluster test does) and returns the client URLs once
// JetStream answers. The servers stop when the test ends.
func startCluster(t *testing.T) []string {
	t.Helper()
	var routePorts []int
	var ls []net.Listener
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		routePorts = append(routePorts, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	var routes []string
	for _, p := range routePorts {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
	}
	var urls []string
	for i := range 3 {
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "salesbot-leases", Host: "127.0.0.1", Port: routePorts[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		t.Cleanup(s.Shutdown)
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatalf("server %s did not start", opts.ServerName)
		}
		urls = append(urls, s.ClientURL())
	}
	nc, err := nats.Connect(strings.Join(urls, ","))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return urls
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster's JetStream did not come up: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPausedNodeOnCluster: the paused-node story on a 3-server cluster,
// the log and the leases kept on all three, A and B on other servers.
func TestPausedNodeOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-server NATS cluster")
	}
	urls := startCluster(t)
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
	urls := startCluster(t)
	balancerStory(t, func(i int) string { return urls[i] + "/balance?replicas=3" })
}
