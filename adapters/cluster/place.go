package cluster

import (
	"hash/fnv"
	"sort"
)

// Place assigns each account to one of nodes by rendezvous
// (highest-random-weight) hashing: every node scores every account and
// the account goes to the node with the highest score. Accounts spread
// evenly, the answer depends only on the two sets (not their order), and
// when a node leaves only its accounts move (each to the node that
// scored second), when one joins it takes only the accounts it now
// scores highest on, about 1/(n+1) of them. With no nodes the map is
// empty. Pure: no I/O, no clock.
func Place(accounts []string, nodes []string) map[string]string {
	out := make(map[string]string, len(accounts))
	if len(nodes) == 0 {
		return out
	}
	ns := append([]string(nil), nodes...)
	sort.Strings(ns) // ties (never in practice) go to the smallest id
	for _, a := range accounts {
		best, bestScore := "", uint64(0)
		for _, n := range ns {
			if s := score(n, a); best == "" || s > bestScore {
				best, bestScore = n, s
			}
		}
		out[a] = best
	}
	return out
}

// score is node's weight for account: FNV-1a over both, then the
// splitmix64 finalizer so that nearby inputs give unrelated weights.
func score(node, account string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(node))
	h.Write([]byte{0})
	h.Write([]byte(account))
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
