package eventstore_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/storetest"
)

// natsURL is the server the JetStream tests use: SALESBOT_TEST_NATS, or the
// machine's server at 127.0.0.1:4222.
func natsURL() string {
	if u := os.Getenv("SALESBOT_TEST_NATS"); u != "" {
		return u
	}
	return "nats://127.0.0.1:4222"
}

var logSeq atomic.Int64

// newLogName returns a log name no other test uses and deletes the log's
// stream and buckets when the test ends. It skips the test when no NATS
// server answers.
func newLogName(t *testing.T, server string) string {
	t.Helper()
	u, err := eventstore.ParseLogURL(server + "/probe")
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(u.Servers[0], nats.Timeout(2*time.Second))
	if err != nil {
		t.Skipf("no NATS server with JetStream at %s (%v): start nats-server -js, or set SALESBOT_TEST_NATS", u, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AccountInfo(t.Context()); err != nil {
		nc.Close()
		t.Skipf("NATS server at %s has no JetStream: %v", u, err)
	}
	name := fmt.Sprintf("t%d-%d", time.Now().UnixNano()%1e9, logSeq.Add(1))
	t.Cleanup(func() {
		defer nc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, n := range []string{"SALESBOT_LOG_", "KV_SALESBOT_KEYS_", "KV_SALESBOT_SECRETS_"} {
			if err := js.DeleteStream(ctx, n+name); err != nil && err != jetstream.ErrStreamNotFound {
				t.Errorf("clean up %s%s: %v", n, name, err)
			}
		}
	})
	return name
}

func openJS(t *testing.T, url string, opts eventstore.Options) *eventstore.JetStreamStore {
	t.Helper()
	if opts.MasterKey == nil && opts.PublicKey == nil {
		opts.MasterKey = testKey()
	}
	s, err := eventstore.OpenJetStream(t.Context(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newJetStream(t *testing.T, opts eventstore.Options) eventstore.Store {
	return openJS(t, natsURL()+"/"+newLogName(t, natsURL()), opts)
}

func TestJetStreamContract(t *testing.T) { storetest.Run(t, newJetStream) }

// reachable says whether something listens at host:port.
func reachable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
