package domain

// LeaseGranted records that a node took a lease (several salesbot nodes
// on one log, docs/scale-out.md): on an account, which it then runs, or
// the leader lease. The store writes it (eventstore.LeaseGranted, in the
// reserved stream "$lease/<key>") and fences later appends by its
// Epoch; the domain only reads it.
type LeaseGranted struct {
	Key    string `json:"key"`
	Holder string `json:"holder"`
	Epoch  uint64 `json:"epoch"`
}

func (LeaseGranted) EventType() string { return "LeaseGranted" }
