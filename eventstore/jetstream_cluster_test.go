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
