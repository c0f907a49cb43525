package cluster

import (
	"cmp"
	"hash/fnv"
	"slices"
)

// Place assigns each account to one of nodes by rendezvous
// (highest-random-weight) hashing with bounded loads: every node scores
// every account, the account goes to the node with the highest score
// unless that node already has its cap, ceil(1.1 × accounts / nodes),
// then to the next (accounts taken in sorted order). With many accounts
// the cap seldom binds and the answer is plain rendezvous: accounts
// spread evenly, and when a node leaves only its accounts move (each to
// the node that scored second), when one joins it takes only the
// accounts it now scores highest on, about 1/(n+1) of them. With few
// accounts (30 on 3 nodes) the cap keeps the spread even at the price
// of a few more moves. The answer depends only on the two sets, not
// their order. With no nodes the map is empty. Pure: no I/O, no clock.
func Place(accounts []string, nodes []string) map[string]string {
	out := make(map[string]string, len(accounts))
	ns := slices.Clone(nodes)
	slices.Sort(ns) // ties (never in practice) go to the smallest id
	ns = slices.Compact(ns)
	if len(ns) == 0 {
		return out
	}
	as := slices.Clone(accounts)
	slices.Sort(as)
	as = slices.Compact(as)
	limit := (len(as)*11 + len(ns)*10 - 1) / (len(ns) * 10) // ceil(1.1·A/N)
	load := make([]int, len(ns))
	order := make([]int, len(ns))
	scores := make([]uint64, len(ns))
	for _, a := range as {
		for i, n := range ns {
			order[i], scores[i] = i, score(n, a)
		}
		slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(scores[y], scores[x]) })
		for _, i := range order {
			if load[i] < limit {
				load[i]++
				out[a] = ns[i]
				break
			}
		}
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
