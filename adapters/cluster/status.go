package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/salesbot/salesbot/eventstore"
)

// Report is the state of the nodes of one log: who is alive, how far
// behind, who holds what. `salesbot cluster status` is to print it.
type Report struct {
	Log    string       `json:"log"`            // the log's URL, without credentials
	Head   uint64       `json:"head"`           // the log's head: the caller's, or the furthest node's
	Self   string       `json:"self,omitempty"` // the node that read the report (Reporter.Node); empty from the command line
	Nodes  []NodeStatus `json:"nodes"`
	Leases []LeaseInfo  `json:"leases"`
}

// NodeStatus is a live node with its lag behind the head and the number
// of leases it holds.
type NodeStatus struct {
	NodeInfo
	Lag    uint64 `json:"lag"`
	Leases int    `json:"leases"`
}

// LeaseInfo is one held lease. Orphan: its holder is not among the live
// nodes (it crashed; the lease expires within a TTL).
type LeaseInfo struct {
	Key    string `json:"key"`
	Holder string `json:"holder"`
	Epoch  uint64 `json:"epoch"`
	Orphan bool   `json:"orphan,omitempty"`
}

// Status reads the nodes and leases of the log rawURL names, on a
// connection of its own. head is the log's head as the caller knows it
// (a store's Head after catching up), or 0: then the furthest node's
// applied position stands for it. Buckets nobody has created yet read as
// empty.
func Status(ctx context.Context, rawURL string, head uint64) (Report, error) {
	u, err := eventstore.ParseLogURL(rawURL)
	if err != nil {
		return Report{}, err
	}
	nc, err := nats.Connect(strings.Join(u.Servers, ","), nats.Name("salesbot-status"))
	if err != nil {
		return emptyReport(u), fmt.Errorf("cluster: connect to %s: %w", u, err)
	}
	defer nc.Close()
	return statusOn(ctx, nc, u, head)
}

func emptyReport(u eventstore.LogURL) Report {
	return Report{Log: u.String(), Nodes: []NodeStatus{}, Leases: []LeaseInfo{}}
}

// statusOn is Status on the connection nc.
func statusOn(ctx context.Context, nc *nats.Conn, u eventstore.LogURL, head uint64) (Report, error) {
	r := emptyReport(u)
	js, err := jetstream.New(nc)
	if err != nil {
		return r, fmt.Errorf("cluster: jetstream on %s: %w", u, err)
	}
	var nodes []NodeInfo
	if kv, err := js.KeyValue(ctx, NodesBucketName(u.Name)); err == nil {
		if nodes, err = listNodes(ctx, kv, u.String()); err != nil {
			return r, err
		}
	} else if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return r, fmt.Errorf("cluster: nodes bucket of %s: %w", u, err)
	}
	if kv, err := js.KeyValue(ctx, BucketName(u.Name)); err == nil {
		if r.Leases, err = listLeases(ctx, kv, u.String()); err != nil {
			return r, err
		}
	} else if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return r, fmt.Errorf("cluster: lease bucket of %s: %w", u, err)
	}
	r.Head = head
	held := map[string]int{}
	for _, n := range nodes {
		r.Head = max(r.Head, n.Applied)
	}
	live := map[string]bool{}
	for _, n := range nodes {
		live[n.ID] = true
	}
	for i, l := range r.Leases {
		held[l.Holder]++
		r.Leases[i].Orphan = !live[l.Holder]
	}
	for _, n := range nodes {
		r.Nodes = append(r.Nodes, NodeStatus{NodeInfo: n, Lag: r.Head - n.Applied, Leases: held[n.ID]})
	}
	return r, nil
}

func listLeases(ctx context.Context, kv jetstream.KeyValue, where string) ([]LeaseInfo, error) {
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("cluster: leases on %s: %w", where, err)
	}
	defer w.Stop()
	out := []LeaseInfo{}
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster: leases on %s: %w", where, ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("cluster: leases on %s: the watch ended", where)
			}
			if e == nil {
				slices.SortFunc(out, func(a, b LeaseInfo) int { return strings.Compare(a.Key, b.Key) })
				return out, nil
			}
			var v leaseValue
			if json.Unmarshal(e.Value(), &v) != nil || v.Epoch == 0 {
				continue // being acquired: the epoch is written next
			}
			out = append(out, LeaseInfo{Key: leaseKey(e.Key()), Holder: v.Holder, Epoch: v.Epoch})
		}
	}
}

// leaseKey undoes kvKey.
func leaseKey(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		if k[i] == '=' && i+2 < len(k) {
			if c, err := strconv.ParseUint(k[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(c))
				i += 2
				continue
			}
		}
		b.WriteByte(k[i])
	}
	return b.String()
}

// WriteJSON writes the report as one JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as two tables, nodes then leases. now
// gives the nodes' uptime.
func (r Report) WriteText(w io.Writer, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := strconv.FormatUint(r.Head, 10)
	if r.Head == 0 && len(r.Nodes) == 0 {
		head = "unknown (no node is running)"
	}
	fmt.Fprintf(tw, "log %s, head %s, %d nodes, %d leases\n\n", r.Log, head, len(r.Nodes), len(r.Leases))
	fmt.Fprintln(tw, "NODE\tLABEL\tUP\tAPPLIED\tLAG\tLEASES")
	for _, n := range r.Nodes {
		label := n.Label
		if label == "" {
			label = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\n", n.ID, label, now.Sub(n.Started).Round(time.Second), n.Applied, n.Lag, n.Leases)
	}
	fmt.Fprintln(tw, "\nLEASE\tHOLDER\tEPOCH")
	for _, l := range r.Leases {
		holder := l.Holder
		if l.Orphan {
			holder += " (not live: expires within its TTL)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\n", l.Key, holder, l.Epoch)
	}
	return tw.Flush()
}
