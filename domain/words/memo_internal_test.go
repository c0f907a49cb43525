package words

import (
	"strings"
	"testing"
)

// TestMemoKeepsEachTextApart: the memo answers for the text it was given,
// never for another, and stays bounded.
func TestMemoKeepsEachTextApart(t *testing.T) {
	pad := strings.Repeat("Our team answers within a day. ", 12) // past memoMin
	kb49, kb59 := pad+"The plan costs $49 a month.", pad+"The plan costs $59 a month. Write to sales@acme.example."
	for range 2 { // the second round is answered from the memo
		if got := Ungrounded("It is $49.", kb49); len(got) != 0 {
			t.Errorf("$49 against a $49 knowledge base: ungrounded %v", got)
		}
		if got := Ungrounded("It is $49.", kb59); len(got) != 1 || got[0].Num != "49" {
			t.Errorf("$49 against a $59 knowledge base: ungrounded %v; want 49 usd", got)
		}
		if got := UnstatedContacts("Write to sales@acme.example", kb59); len(got) != 0 {
			t.Errorf("stated e-mail: unstated %v", got)
		}
		if got := UnstatedContacts("Write to sales@acme.example", kb49); len(got) != 1 {
			t.Errorf("e-mail not in the knowledge base: unstated %v; want it", got)
		}
	}
	var m memo[int]
	for i := range 3 * memoMax {
		k := pad + strings.Repeat("x", i)
		if got := m.get(k, func(s string) int { return len(s) }); got != len(k) {
			t.Fatalf("memo of %d bytes: %d", len(k), got)
		}
		if len(m.m) > memoMax {
			t.Fatalf("memo holds %d texts; at most %d", len(m.m), memoMax)
		}
	}
}

// BenchmarkUngroundedKnowledge: a reply checked against a knowledge base
// of a few kilobytes, as every turn does.
func BenchmarkUngroundedKnowledge(b *testing.B) {
	kb := strings.Repeat("Starter costs $49 a month, Pro $99; annual plans are 20% off. Support: help@acme.example, +1 415 555 0100.\n", 40)
	for b.Loop() {
		Ungrounded("Pro is $99 a month, and 20% off if you pay for a year.", kb)
		UnstatedContacts("Write to help@acme.example", kb)
	}
}
