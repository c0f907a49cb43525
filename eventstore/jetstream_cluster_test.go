package eventstore_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/storetest"
)

// freePorts returns n TCP ports free on 127.0.0.1 a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// startCluster starts a 3-server JetStream cluster in this process, each
// server's store under t.TempDir(), and returns the client URLs once
// JetStream answers. The servers stop when the test ends.
func startCluster(t *testing.T) []string {
	t.Helper()
	routePorts := freePorts(t, 3)
	var routes []string
	for _, p := range routePorts {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
	}
	var urls []string
	for i := range 3 {
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "salesbot-test", Host: "127.0.0.1", Port: routePorts[i]},
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
		_, err := js.AccountInfo(t.Context())
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster's JetStream did not come up: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return urls
}

// The contract suite and two nodes on a 3-server cluster with every
// message and key kept on all three (replicas=3); each node talks to
// another server.
func TestJetStreamCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-server NATS cluster")
	}
	urls := startCluster(t)
	hosts := func(i int) string { return strings.TrimPrefix(urls[i], "nats://") }
	t.Run("Contract", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, opts eventstore.Options) eventstore.Store {
			name := newLogName(t, urls[0])
			return openJS(t, urls[0]+"/"+name+"?replicas=3", opts)
		})
	})
	t.Run("TwoNodes", func(t *testing.T) {
		name := newLogName(t, urls[0])
		a := openJS(t, "nats://"+hosts(0)+"/"+name+"?replicas=3", eventstore.Options{})
		defer a.Close()
		b := openJS(t, "nats://"+hosts(1)+"/"+name+"?replicas=3", eventstore.Options{})
		defer b.Close()
		ctx := t.Context()
		errs := make(chan error, 2)
		for n, node := range []*eventstore.JetStreamStore{a, b} {
			go func() {
				for i := range 50 {
					for {
						v, err := node.StreamVersion(ctx, "shared")
						if err != nil {
							errs <- err
							return
						}
						_, err = node.Append(ctx, "shared", eventstore.Exact(v), eventstore.Event{Type: "E", Payload: fmt.Appendf(nil, "%d-%d", n, i)})
						if err == nil {
							break
						}
						if !strings.Contains(err.Error(), "version conflict") {
							errs <- err
							return
						}
					}
				}
				errs <- nil
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range []*eventstore.JetStreamStore{a, b} {
			if _, err := s.WaitHead(ctx, 99); err != nil {
				t.Fatal(err)
			}
			rep, err := s.Verify(ctx, nil)
			if err != nil || rep.Events != 100 {
				t.Fatalf("verify on the cluster: %+v %v", rep, err)
			}
		}
		ha, _ := a.HashAt(ctx, 100)
		hb, _ := b.HashAt(ctx, 100)
		if ha != hb {
			t.Fatalf("the nodes disagree on the head: %x and %x", ha, hb)
		}
		info, err := rawInfo(t, urls[2], name)
		if err != nil || info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
			t.Fatalf("the log's stream is not on three servers: %+v %v", info, err)
		}
	})
}

func rawInfo(t *testing.T, url, name string) (*jetstream.StreamInfo, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	st, err := js.Stream(t.Context(), "SALESBOT_LOG_"+name)
	if err != nil {
		return nil, err
	}
	return st.Info(t.Context())
}
