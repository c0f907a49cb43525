package cluster_test

import (
	"fmt"
	"maps"
	"testing"

	"github.com/salesbot/salesbot/adapters/cluster"
)

func accounts(n int) []string {
	as := make([]string, n)
	for i := range as {
		as[i] = fmt.Sprintf("acct-%d", i+1)
	}
	return as
}

func counts(p map[string]string) map[string]int {
	c := map[string]int{}
	for _, n := range p {
		c[n]++
	}
	return c
}

func TestPlaceEven(t *testing.T) {
	cases := []struct {
		name     string
		accounts int
		nodes    []string
	}{
		{"1000 on 3", 1000, []string{"node-a", "node-b", "node-c"}},
		{"1000 on 3 uuids", 1000, []string{"3f1c0a52-8d1e-4f7a-9a4b-0c6f3e2b1d01", "a9e7b6c5-1d2f-4e3a-8b9c-7d6e5f4a3b02", "5b4a3c2d-7e6f-4a1b-9c8d-2e1f0a9b8c03"}},
		{"1000 on 5", 1000, []string{"n1", "n2", "n3", "n4", "n5"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := cluster.Place(accounts(c.accounts), c.nodes)
			if len(p) != c.accounts {
				t.Fatalf("placed %d accounts, want %d", len(p), c.accounts)
			}
			fair := float64(c.accounts) / float64(len(c.nodes))
			cs := counts(p)
			for _, n := range c.nodes {
				if got := float64(cs[n]); got < fair*0.9 || got > fair*1.1 {
					t.Errorf("node %s got %d accounts, want %.0f ±10%% (all: %v)", n, cs[n], fair, cs)
				}
			}
		})
	}
}

// TestPlaceFew: with few accounts plain rendezvous can put half on one
// node; the cap keeps every node within ceil(1.1·A/N), so no node is
// left far below its share.
func TestPlaceFew(t *testing.T) {
	cases := []struct {
		accounts, nodes, min, max int
	}{
		{30, 3, 8, 11},
		{30, 2, 13, 17},
		{30, 4, 3, 9},
		{10, 3, 2, 4},
		{7, 7, 0, 2}, // the cap is ceil(1.1): 2
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d on %d", c.accounts, c.nodes), func(t *testing.T) {
			var nodes []string
			for i := range c.nodes {
				nodes = append(nodes, fmt.Sprintf("node-%c", 'a'+i))
			}
			p := cluster.Place(accounts(c.accounts), nodes)
			if len(p) != c.accounts {
				t.Fatalf("placed %d of %d", len(p), c.accounts)
			}
			cs := counts(p)
			for _, n := range nodes {
				if cs[n] < c.min || cs[n] > c.max {
					t.Errorf("node %s got %d, want %d..%d (%v)", n, cs[n], c.min, c.max, cs)
				}
			}
		})
	}
}

func TestPlaceDeterministic(t *testing.T) {
	as := accounts(200)
	a := cluster.Place(as, []string{"x", "y", "z"})
	b := cluster.Place(as, []string{"z", "x", "y"})
	if !maps.Equal(a, b) {
		t.Fatal("the placement depends on the order of the nodes")
	}
	rev := append([]string(nil), as...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if c := cluster.Place(rev, []string{"x", "y", "z"}); !maps.Equal(a, c) {
		t.Fatal("the placement depends on the order of the accounts")
	}
}

func TestPlaceEdges(t *testing.T) {
	if p := cluster.Place(accounts(3), nil); len(p) != 0 {
		t.Errorf("no nodes: placed %v", p)
	}
	p := cluster.Place(accounts(5), []string{"only"})
	for a, n := range p {
		if n != "only" {
			t.Errorf("one node: %s on %q", a, n)
		}
	}
	if len(p) != 5 {
		t.Errorf("one node: placed %d of 5", len(p))
	}
}

func TestPlaceMovement(t *testing.T) {
	as := accounts(1000)
	three := []string{"node-a", "node-b", "node-c"}
	before := cluster.Place(as, three)

	t.Run("a node leaves: only its accounts move", func(t *testing.T) {
		after := cluster.Place(as, []string{"node-a", "node-c"})
		moved := 0
		for _, a := range as {
			if before[a] != after[a] {
				moved++
				if before[a] != "node-b" {
					t.Errorf("%s moved from %s, which stayed", a, before[a])
				}
			} else if before[a] == "node-b" {
				t.Errorf("%s stayed on node-b, which left", a)
			}
		}
		if moved != counts(before)["node-b"] {
			t.Errorf("moved %d, node-b held %d", moved, counts(before)["node-b"])
		}
	})
	t.Run("a node joins: it takes about a quarter, from everyone, nothing else moves", func(t *testing.T) {
		after := cluster.Place(as, append(three, "node-d"))
		from := map[string]int{}
		for _, a := range as {
			if before[a] != after[a] {
				if after[a] != "node-d" {
					t.Errorf("%s moved from %s to %s, not to the joiner", a, before[a], after[a])
				}
				from[before[a]]++
			}
		}
		got := counts(after)["node-d"]
		if got < 225 || got > 275 {
			t.Errorf("the joiner took %d of 1000, want 250 ±10%%", got)
		}
		for _, n := range three {
			if from[n] == 0 {
				t.Errorf("the joiner took nothing from %s (%v)", n, from)
			}
		}
	})
}
