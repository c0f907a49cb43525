package httpapi

import (
	"net/http"
	"time"

	"github.com/salesbot/salesbot/adapters/cluster"
	"github.com/salesbot/salesbot/domain"
)

// The cluster's status, GET /api/v1/cluster: the nodes that share the
// log on NATS JetStream (applied position, lag, leases held) and the
// leases (accounts' and leaders'), as `salesbot cluster status` prints
// them. A server without a cluster (Config.Cluster nil: one node on its
// own log) answers 200 with mode "single" and no nodes or leases.

// The modes GET /api/v1/cluster answers.
const (
	ModeSingle  = "single"  // one node on its own log: no nodes, no leases
	ModeCluster = "cluster" // nodes sharing a log on JetStream
)

// TypeClusterUnavailable is the problem of a cluster's status that
// could not be read (503).
const TypeClusterUnavailable = problemPrefix + "cluster-unavailable"

// ClusterStatus is GET /api/v1/cluster's answer.
type ClusterStatus struct {
	Mode   string         `json:"mode"`           // ModeSingle or ModeCluster
	Log    string         `json:"log,omitempty"`  // the log's URL, without credentials (cluster mode)
	Head   uint64         `json:"head"`           // the log's head as the answering node knows it (0 in single mode)
	Self   string         `json:"self,omitempty"` // the id of the node that answered (cluster mode)
	Nodes  []ClusterNode  `json:"nodes"`
	Leases []ClusterLease `json:"leases"`
}

// ClusterNode is a live node.
type ClusterNode struct {
	ID      string    `json:"id"`
	Label   string    `json:"label"` // a version or a name its operator gave it; may be empty
	Started time.Time `json:"started"`
	Seen    time.Time `json:"seen"`    // its last heartbeat
	Applied uint64    `json:"applied"` // the log position it has applied
	Lag     uint64    `json:"lag"`     // events behind the head
	Leases  int       `json:"leases"`  // leases it holds
	Self    bool      `json:"self"`    // the node that answered
}

// ClusterLease is one held lease: an account's ("tg:...") or a
// leader's.
type ClusterLease struct {
	Key    string `json:"key"`
	Holder string `json:"holder"`
	Epoch  uint64 `json:"epoch"`  // its fencing token
	Orphan bool   `json:"orphan"` // its holder is not live: it expires within its TTL
}

func (a *API) clusterRoutes() {
	a.route("GET /api/v1/cluster", domain.ScopeRead, a.clusterStatus)
}

// clusterStatus: GET /api/v1/cluster.
func (a *API) clusterStatus(r *http.Request, _ domain.Principal) (any, error) {
	if a.cfg.Cluster == nil {
		return ClusterStatus{Mode: ModeSingle, Nodes: []ClusterNode{}, Leases: []ClusterLease{}}, nil
	}
	rep, err := a.cfg.Cluster.Status(r.Context())
	if err != nil {
		a.log.Warn("http: reading the cluster's status failed", "err", err)
		return nil, problemError{Problem{Type: TypeClusterUnavailable, Title: "Cluster status unavailable", Status: http.StatusServiceUnavailable,
			Detail: "the cluster's status could not be read from the log's servers", retryAfter: 5 * time.Second}}
	}
	return ClusterStatusOf(rep), nil
}

// ClusterStatusOf is a report as the API answers it (the web console
// shows the same).
func ClusterStatusOf(rep cluster.Report) ClusterStatus {
	s := ClusterStatus{Mode: ModeCluster, Log: rep.Log, Head: rep.Head, Self: rep.Self,
		Nodes: make([]ClusterNode, 0, len(rep.Nodes)), Leases: make([]ClusterLease, 0, len(rep.Leases))}
	for _, n := range rep.Nodes {
		s.Nodes = append(s.Nodes, ClusterNode{ID: n.ID, Label: n.Label, Started: n.Started.UTC(), Seen: n.Seen.UTC(), Applied: n.Applied,
			Lag: n.Lag, Leases: n.Leases, Self: rep.Self != "" && n.ID == rep.Self})
	}
	for _, l := range rep.Leases {
		s.Leases = append(s.Leases, ClusterLease{Key: l.Key, Holder: l.Holder, Epoch: l.Epoch, Orphan: l.Orphan})
	}
	return s
}
