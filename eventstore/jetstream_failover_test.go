package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/jetstreamtest"
)

// Two nodes append to one log on a 3-server cluster while the server that
// leads the log's stream stops: after the election both go on, every
// append that was acknowledged is in the log, and it verifies.
func TestJetStreamLeaderDies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-server NATS cluster")
	}
	servers, urls := jetstreamtest.StartServers(t)
	name := newLogName(t, urls[0])
	url := jetstreamtest.ClusterLogURL(urls, name)
	a := openJS(t, url, eventstore.Options{})
	defer a.Close()
	b := openJS(t, url, eventstore.Options{})
	defer b.Close()
	ctx := t.Context()
	const each = 300
	type acked struct {
		node, i int
	}
	ackedCh := make(chan acked, 2*each)
	errs := make(chan error, 2)
	for n, node := range []*eventstore.JetStreamStore{a, b} {
		go func() {
			for i := range each {
				deadline := time.Now().Add(30 * time.Second)
				for {
					actx, cancel := context.WithTimeout(ctx, 5*time.Second)
					_, err := node.Append(actx, fmt.Sprintf("s-%d-%d", n, i), eventstore.NoStream, eventstore.Event{Type: "E", Payload: fmt.Appendf(nil, `{"n":%d}`, i)})
					cancel()
					if err == nil {
						ackedCh <- acked{n, i}
						break
					}
					if errors.Is(err, eventstore.ErrVersionConflict) { // stored, its answer lost
						break
					}
					if time.Now().After(deadline) {
						errs <- fmt.Errorf("node %d, append %d: still failing after 30 s: %w", n, i, err)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
				time.Sleep(5 * time.Millisecond)
			}
			errs <- nil
		}()
	}
	time.Sleep(500 * time.Millisecond)
	var leader *server.Server
	for _, s := range servers {
		if s.JetStreamIsStreamLeader("$G", "SALESBOT_LOG_"+name) {
			leader = s
		}
	}
	if leader == nil {
		t.Fatal("no server leads the stream")
	}
	t.Logf("the stream's leader leads the meta group too: %v", leader.JetStreamIsLeader())
	leader.Shutdown()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(ackedCh)
	if _, err := a.WaitHead(ctx, b.Head()-1); err != nil {
		t.Fatal(err)
	}
	for ack := range ackedCh {
		if v, err := a.StreamVersion(ctx, fmt.Sprintf("s-%d-%d", ack.node, ack.i)); err != nil || v != 1 {
			t.Fatalf("acknowledged append %d of node %d: version %d, %v", ack.i, ack.node, v, err)
		}
	}
	if rep, err := a.Verify(ctx, nil); err != nil || rep.Events != 2*each {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}
