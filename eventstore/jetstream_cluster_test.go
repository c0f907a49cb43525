package eventstore_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/jetstreamtest"
	"github.com/salesbot/salesbot/eventstore/storetest"
)

// The contract suite and two nodes on a 3-server cluster with every
// message and key kept on all three (replicas=3); each node talks to
// another server.
func TestJetStreamCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-server NATS cluster")
	}
	urls := jetstreamtest.StartCluster(t)
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
	// Many appends in flight on each node at once, racing the other
	// node's: a node's group of messages refused because the other node
	// got in first must not break the replicated stream (a condition
	// the replicas check only as they apply a message fails them all).
	t.Run("TwoNodesConcurrent", func(t *testing.T) {
		name := newLogName(t, urls[0])
		nodes := []*eventstore.JetStreamStore{
			openJS(t, "nats://"+hosts(0)+"/"+name+"?replicas=3", eventstore.Options{}),
			openJS(t, "nats://"+hosts(1)+"/"+name+"?replicas=3", eventstore.Options{}),
		}
		ctx := t.Context()
		const writers, each = 8, 40
		errs := make(chan error, len(nodes)*writers)
		for n, node := range nodes {
			for w := range writers {
				go func() {
					for i := range each {
						if _, err := node.Append(ctx, fmt.Sprintf("s-%d-%d", n, w), eventstore.Exact(uint64(i)), eventstore.Event{Type: "E", Payload: []byte("x")}); err != nil {
							errs <- fmt.Errorf("node %d writer %d append %d: %w", n, w, i, err)
							return
						}
					}
					errs <- nil
				}()
			}
		}
		for range len(nodes) * writers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		const total = 2 * writers * each
		for i, s := range nodes {
			if _, err := s.WaitHead(ctx, total-1); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Append(ctx, fmt.Sprintf("after-%d", i), eventstore.Exact(0), eventstore.Event{Type: "E"}); err != nil {
				t.Fatalf("node %d: an append after the race: %v", i, err)
			}
		}
		rep, err := nodes[0].Verify(ctx, nil)
		if err != nil || rep.Events != total+2 {
			t.Fatalf("verify: %+v %v", rep, err)
		}
		info, err := rawInfo(t, urls[2], name)
		if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
			t.Fatalf("the log's stream has no leader: %+v %v", info, err)
		}
		for _, r := range info.Cluster.Replicas {
			if !r.Current {
				t.Errorf("replica %s of the log's stream is not current: a write failed on it", r.Name)
			}
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
