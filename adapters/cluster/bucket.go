package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/salesbot/salesbot/eventstore"
)

// openBucket connects to the servers of u as client and finds or creates
// the key-value bucket of cfg (bucket). The caller closes the connection.
func openBucket(ctx context.Context, u eventstore.LogURL, client string, cfg jetstream.KeyValueConfig) (*nats.Conn, jetstream.KeyValue, error) {
	nc, err := nats.Connect(strings.Join(u.Servers, ","), nats.Name(client), nats.MaxReconnects(-1))
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: connect to %s: %w", u, err)
	}
	js, err := jetstream.New(nc)
	if err == nil {
		var kv jetstream.KeyValue
		if kv, err = bucket(ctx, js, cfg); err == nil {
			return nc, kv, nil
		}
	}
	nc.Close()
	return nil, nil, fmt.Errorf("cluster: bucket %s on %s: %w", cfg.Bucket, u, err)
}

// bucket finds the key-value bucket of cfg, or creates it if nobody has,
// reading from its stream's leader (eventstore.LeaderReads). Nodes that
// start together race to create it: the losers find it, and a server
// busy forming the replicas may time out meanwhile, so every failure is
// tried again, six times in about five seconds plus the requests' own
// timeouts. The first node's configuration stands.
func bucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	for attempt := 1; ; attempt++ {
		kv, err := js.KeyValue(ctx, cfg.Bucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			kv, err = js.CreateKeyValue(ctx, cfg)
		}
		if err == nil {
			return eventstore.LeaderReads(ctx, js, kv)
		}
		if attempt == 6 {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt) * 250 * time.Millisecond):
		}
	}
}
