package cluster

import (
	"context"
	"time"
)

// DefaultStatusTimeout bounds one Reporter.Status when its Timeout is
// zero.
const DefaultStatusTimeout = 5 * time.Second

// Reporter reads the Status of the log a node runs on, as that node
// sees it: the port the HTTP API (httpapi.Cluster), the web console and
// the metrics read the cluster through.
type Reporter struct {
	URL  string // the log's URL, nats://host:4222/NAME
	Node string // this node's id (Manager.NodeID): the report's Self
	// Head is the log's head as this node knows it (the store's Head);
	// nil: the furthest node's applied position stands for it.
	Head func() uint64
	// Timeout bounds one Status: connecting to the servers and reading
	// both buckets (zero: DefaultStatusTimeout).
	Timeout time.Duration
	// Read reads the report on a connection the node has (its
	// Membership's Status); nil: Status, a new connection to URL each
	// time.
	Read func(ctx context.Context, head uint64) (Report, error)
}

// Status is Read(ctx, Head()) (or Status(ctx, URL, Head())) within
// Timeout, with Self set to Node. Errors: those of Status (the servers cannot be reached, a bucket
// cannot be read, ctx ends or the timeout passes).
func (r Reporter) Status(ctx context.Context) (Report, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultStatusTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var head uint64
	if r.Head != nil {
		head = r.Head()
	}
	read := r.Read
	if read == nil {
		read = func(ctx context.Context, head uint64) (Report, error) { return Status(ctx, r.URL, head) }
	}
	rep, err := read(ctx, head)
	rep.Self = r.Node
	return rep, err
}

// StatusFunc is a function that reads a Status, as a reader of one
// (httpapi.Cluster): a fixed report, or a Reporter's Status wrapped.
type StatusFunc func(ctx context.Context) (Report, error)

// Status calls f.
func (f StatusFunc) Status(ctx context.Context) (Report, error) { return f(ctx) }
