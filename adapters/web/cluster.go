package web

import (
	"net/http"
	"strconv"

	"github.com/salesbot/salesbot/adapters/httpapi"
)

// The cluster, GET /web/cluster: the nodes that share the log on NATS
// JetStream (applied position, lag, leases held; this node marked) and
// the leases with their holders and epochs, an orphan's (its holder is
// not live) marked; what GET /api/v1/cluster answers, through the same
// port (Config.Cluster). Without a cluster the page says the server is
// a single node; the navigation links it only in cluster mode.

// MaxLeases bounds the leases the cluster page lists (a node holds
// about a thousand accounts).
const MaxLeases = 500

// clusterData is the cluster page's content.
type clusterData struct {
	Single  bool // no cluster: one node on its own log
	Failed  bool // the status could not be read
	Summary string
	Nodes   []clusterNodeRow
	Leases  []clusterLeaseRow
	More    string
}

type clusterNodeRow struct {
	ID, Label, Started, Up string
	Applied, Lag           uint64
	Leases                 int
	Self                   bool
	Class                  string // the lag's state: "" or "flood-wait" (behind)
}

type clusterLeaseRow struct {
	Key, Holder string
	Epoch       uint64
	Orphan      bool
}

// laggingEvents is how far behind the head a node is shown as lagging.
const laggingEvents = 1000

func (w *Web) cluster(r *http.Request, v *view) error {
	L := v.L
	v.Title, v.Nav = L["ClusterTitle"], "cluster"
	if w.cfg.Cluster == nil {
		v.Data = clusterData{Single: true}
		return nil
	}
	rep, err := w.cfg.Cluster.Status(r.Context())
	if err != nil {
		w.log.Warn("web: reading the cluster's status failed", "err", err)
		v.Alert, v.Status = L["ClusterUnavailable"], http.StatusServiceUnavailable
		v.Data = clusterData{Failed: true}
		return nil
	}
	s, now := httpapi.ClusterStatusOf(rep), w.now()
	orphans := 0
	for _, l := range s.Leases {
		if l.Orphan {
			orphans++
		}
	}
	d := clusterData{Summary: L.T("ClusterSummary", s.Log, strconv.FormatUint(s.Head, 10), len(s.Nodes), len(s.Leases), orphans)}
	for _, n := range s.Nodes {
		row := clusterNodeRow{ID: n.ID, Label: n.Label, Started: n.Started.Format(L["TimeFormat"]), Up: L.since(now.Sub(n.Started)),
			Applied: n.Applied, Lag: n.Lag, Leases: n.Leases, Self: n.Self}
		if n.Lag >= laggingEvents {
			row.Class = "flood-wait"
		}
		d.Nodes = append(d.Nodes, row)
	}
	leases := s.Leases
	if len(leases) > MaxLeases {
		leases, d.More = leases[:MaxLeases], L.T("MoreLeases", MaxLeases, len(s.Leases))
	}
	for _, l := range leases {
		d.Leases = append(d.Leases, clusterLeaseRow{Key: l.Key, Holder: l.Holder, Epoch: l.Epoch, Orphan: l.Orphan})
	}
	v.Data = d
	return nil
}
