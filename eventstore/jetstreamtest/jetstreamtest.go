// Package jetstreamtest gives tests logs on NATS JetStream: a new log on
// the machine's server (skipping the test when none answers), removed
// with its buckets when the test ends, and a 3-server cluster started in
// the test's process.
package jetstreamtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// URL is the test server: $SALESBOT_TEST_NATS, else the machine's
// nats://127.0.0.1:4222.
func URL() string {
	if u := os.Getenv("SALESBOT_TEST_NATS"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

// prefixes are the streams of a log NAME: its events and its buckets
// (keys, secrets, signed heads, leases, nodes).
var prefixes = []string{"SALESBOT_LOG_", "KV_SALESBOT_KEYS_", "KV_SALESBOT_SECRETS_", "KV_SALESBOT_META_", "KV_SALESBOT_LEASES_", "KV_SALESBOT_NODES_"}

var seq atomic.Int64

// NewLog returns the name of a log no other test uses on server (client
// URLs, comma-separated) and deletes its stream and buckets when the
// test ends. It skips the test when no server with JetStream answers.
func NewLog(t testing.TB, server string) string {
	t.Helper()
	nc, err := nats.Connect(server, nats.Timeout(2*time.Second))
	if err != nil {
		t.Skipf("no NATS server with JetStream at %s (%v): start nats-server -js, or set SALESBOT_TEST_NATS", server, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	if _, err := js.AccountInfo(t.Context()); err != nil {
		nc.Close()
		t.Skipf("the NATS server at %s has no JetStream: %v", server, err)
	}
	name := fmt.Sprintf("t%d-%d", time.Now().UnixNano()%1e9, seq.Add(1))
	t.Cleanup(func() {
		defer nc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, p := range prefixes {
			if err := js.DeleteStream(ctx, p+name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				t.Errorf("clean up %s%s: %v", p, name, err)
			}
		}
	})
	return name
}

// StartCluster starts a 3-server JetStream cluster in this process, each
// server's store under t.TempDir(), and returns the client URLs once
// JetStream answers. The servers stop when the test ends.
func StartCluster(t testing.TB) []string {
	t.Helper()
	_, urls := StartServers(t)
	return urls
}

// StartServers is StartCluster that also returns the servers, to stop
// one (a failover test) or ask which leads a stream.
func StartServers(t testing.TB) ([]*server.Server, []string) {
	t.Helper()
	var (
		ports  []int
		routes []string
		held   []net.Listener // until all three ports are chosen
	)
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[len(ports)-1]))
	}
	for _, l := range held {
		l.Close()
	}
	var (
		urls    []string
		servers []*server.Server
	)
	for i := range 3 {
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "salesbot-test", Host: "127.0.0.1", Port: ports[i]},
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
		servers = append(servers, s)
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
			return servers, urls
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster's JetStream did not come up: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ClusterLogURL is the URL of the log name on the servers at urls (as
// StartCluster returns them), every message kept on all three.
func ClusterLogURL(urls []string, name string) string {
	hosts := make([]string, len(urls))
	for i, u := range urls {
		hosts[i] = strings.TrimPrefix(u, "nats://")
	}
	return "nats://" + strings.Join(hosts, ",") + "/" + name + "?replicas=3"
}
