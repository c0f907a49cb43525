package campaigns

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

func ids(rng *rand.Rand, n int) []uuid.UUID {
	out := make([]uuid.UUID, n)
	for i := range out {
		var b [16]byte
		for j := range b {
			b[j] = byte(rng.UintN(256))
		}
		out[i] = uuid.UUID(b)
	}
	return out
}

func TestAssignAccount(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	camp := ids(rng, 1)[0]
	contacts := ids(rng, 10_000)
	accs := ids(rng, 10)
	if got := AssignAccount(camp, contacts[0], nil); got != uuid.Nil {
		t.Fatalf("no accounts: %v", got)
	}
	if AssignAccount(camp, contacts[0], accs) != AssignAccount(camp, contacts[0], accs) {
		t.Fatal("not deterministic")
	}
	before := map[uuid.UUID]uuid.UUID{}
	per := map[uuid.UUID]int{}
	for _, c := range contacts {
		a := AssignAccount(camp, c, accs)
		before[c] = a
		per[a]++
	}
	for _, a := range accs {
		if n := per[a]; n < 850 || n > 1150 { // 1000 ± 15%
			t.Errorf("account %v has %d of 10000 contacts", a, n)
		}
	}
	// The order of the accounts does not matter.
	rev := append([]uuid.UUID(nil), accs...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	// A new account takes contacts only for itself; a removed one gives
	// away only its own.
	added := append(append([]uuid.UUID(nil), accs...), ids(rng, 1)[0])
	removed := accs[1:]
	moved := 0
	for _, c := range contacts {
		if AssignAccount(camp, c, rev) != before[c] {
			t.Fatal("the order of the accounts changed an assignment")
		}
		if a := AssignAccount(camp, c, added); a != before[c] {
			moved++
			if a != added[len(added)-1] {
				t.Fatalf("adding an account moved a contact from %v to %v", before[c], a)
			}
		}
		if a := AssignAccount(camp, c, removed); a != before[c] && before[c] != accs[0] {
			t.Fatalf("removing account %v moved a contact of %v", accs[0], before[c])
		}
	}
	if moved < 700 || moved > 1100 { // ≈ 10000/11
		t.Errorf("a new account took %d contacts", moved)
	}
	// Another campaign spreads differently.
	other, same := ids(rng, 1)[0], 0
	for _, c := range contacts[:1000] {
		if AssignAccount(other, c, accs) == before[c] {
			same++
		}
	}
	if same > 200 {
		t.Errorf("%d of 1000 contacts on the same account in two campaigns", same)
	}
}

func TestAssignVariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	camp := ids(rng, 1)[0]
	contacts := ids(rng, 20_000)
	for _, c := range []struct {
		name     string
		variants []domain.VariantWeight
		want     map[string]float64
	}{
		{"none", nil, map[string]float64{"": 1}},
		{"one", []domain.VariantWeight{{Name: "A", Weight: 3}}, map[string]float64{"A": 1}},
		{"50/30/20", []domain.VariantWeight{{Name: "A", Weight: 50}, {Name: "B", Weight: 30}, {Name: "C", Weight: 20}}, map[string]float64{"A": .5, "B": .3, "C": .2}},
		{"no weight is never drawn", []domain.VariantWeight{{Name: "A", Weight: 1}, {Name: "X", Weight: 0}, {Name: "Y", Weight: -5}, {Name: "B", Weight: 1}}, map[string]float64{"A": .5, "B": .5}},
		{"all without weight", []domain.VariantWeight{{Name: "X", Weight: 0}}, map[string]float64{"": 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]int{}
			for _, ct := range contacts {
				got[AssignVariant(camp, ct, c.variants)]++
			}
			for name, n := range got {
				share, ok := c.want[name]
				if !ok {
					t.Fatalf("variant %q drawn %d times", name, n)
				}
				if f := float64(n) / float64(len(contacts)); f < share-0.015 || f > share+0.015 {
					t.Errorf("variant %q: %.3f, want %.2f", name, f, share)
				}
			}
			if AssignVariant(camp, contacts[0], c.variants) != AssignVariant(camp, contacts[0], c.variants) {
				t.Fatal("not deterministic")
			}
		})
	}
}

func TestShares(t *testing.T) {
	for _, c := range []struct {
		total   int
		weights []int
		want    []int
	}{
		{10, []int{1, 1}, []int{5, 5}},
		{10, []int{1, 1, 1}, []int{4, 3, 3}},
		{10, []int{0, 1, 1}, []int{0, 5, 5}},
		{10, []int{1, 2, 7}, []int{1, 2, 7}},
		{7, []int{40, 10}, []int{6, 1}},
		{1, []int{5, 5, 5}, []int{1, 0, 0}},
		{0, []int{1, 2}, []int{0, 0}},
		{-3, []int{1, 2}, []int{0, 0}},
		{5, []int{0, 0}, []int{0, 0}},
		{5, []int{-1, 2}, []int{0, 5}},
		{5, nil, []int{}},
		{1 << 40, []int{1 << 40, 1 << 40}, []int{1 << 39, 1 << 39}},
	} {
		got := Shares(c.total, c.weights)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Shares(%d, %v) = %v, want %v", c.total, c.weights, got, c.want)
		}
	}
}

func TestPick(t *testing.T) {
	r := func(seq uint64) Target { return Target{Seq: seq, Ready: true} }
	claimed := func(seq uint64) Target { return Target{Seq: seq, Ready: true, Claimed: true} }
	for _, c := range []struct {
		name        string
		lane        []Target
		next, ready int
	}{
		{"empty", nil, -1, 0},
		{"none ready", []Target{{Seq: 1}, {Seq: 2, Claimed: true}}, -1, 0},
		{"first in the log", []Target{r(9), r(3), r(5)}, 1, 3},
		{"claimed first", []Target{r(1), claimed(8), r(2)}, 1, 3},
		{"oldest claim first", []Target{claimed(8), r(1), claimed(4)}, 2, 3},
		{"not ready is passed over", []Target{{Seq: 1}, r(4), {Seq: 2, Claimed: true}}, 1, 1},
		{"a held claim waits; the next goes", []Target{{Seq: 1, Ready: true, Claimed: true, Held: true}, r(4), r(2)}, 2, 3},
		{"only held ones: none now, still counted", []Target{{Seq: 1, Ready: true, Claimed: true, Held: true}, {Seq: 2, Ready: true, Held: true}}, -1, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			next, ready := Pick(c.lane)
			if next != c.next || ready != c.ready {
				t.Fatalf("Pick = %d, %d; want %d, %d", next, ready, c.next, c.ready)
			}
		})
	}
}

func TestLaneCapsToday(t *testing.T) {
	for _, c := range []struct {
		caps LaneCaps
		want int
	}{
		{LaneCaps{AccountCap: Unlimited, DailyShare: Unlimited}, Unlimited},
		{LaneCaps{AccountCap: 40, AccountUsed: 10, DailyShare: Unlimited}, 30},
		{LaneCaps{AccountCap: 40, AccountUsed: 41, DailyShare: Unlimited}, 0},
		{LaneCaps{AccountCap: 40, AccountUsed: 10, Sharing: 2, DailyShare: Unlimited}, 15},
		{LaneCaps{AccountCap: 40, AccountUsed: 9, Sharing: 2, DailyShare: Unlimited}, 16},
		{LaneCaps{AccountCap: 40, DailyShare: 12, DailyUsed: 5}, 7},
		{LaneCaps{AccountCap: 4, DailyShare: 12}, 4},
		{LaneCaps{AccountCap: Unlimited, DailyShare: 3, DailyUsed: 4}, 0},
	} {
		if got := c.caps.Today(); got != c.want {
			t.Errorf("%+v: today %d, want %d", c.caps, got, c.want)
		}
	}
}

// Monday 2026-11-23.
var monday = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

func at(day int, hm string) time.Time {
	var h, m int
	if _, err := fmt.Sscanf(hm, "%d:%d", &h, &m); err != nil {
		panic(err)
	}
	return monday.AddDate(0, 0, day).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

var weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

func TestNextDue(t *testing.T) {
	// Working hours 9–18 UTC on weekdays; the campaign runs one week.
	w := Window{From: monday, To: monday.AddDate(0, 0, 7),
		Account: Hours{Loc: time.UTC, StartMinute: 9 * 60, EndMinute: 18 * 60, Days: weekdays}}
	cap40 := func(time.Time) int { return 40 }
	for _, c := range []struct {
		name string
		to   time.Time // the window's end, if not a week
		now  time.Time
		due  time.Time
		pace Pace
		want time.Time
	}{
		{"nothing left", time.Time{}, at(0, "09:00"), time.Time{}, Pace{Targets: 0, Today: 5}, time.Time{}},
		{"the day's cap is spent", time.Time{}, at(0, "11:00"), time.Time{}, Pace{Targets: 50}, at(1, "00:00")},
		{"the day's cap spread over the day", time.Time{}, at(0, "09:00"), time.Time{}, Pace{Targets: 500, Today: 39}, at(0, "09:13").Add(30 * time.Second)},
		{"a late step: the rest of the day", time.Time{}, at(0, "17:00"), time.Time{}, Pace{Targets: 500, Today: 3}, at(0, "17:15")},
		{"few targets spread over the week", time.Time{}, at(0, "09:00"), time.Time{}, Pace{Targets: 5, Today: 39}, at(0, "16:30")},
		{"a gap across nights and days", time.Time{}, at(0, "09:00"), time.Time{}, Pace{Targets: 1, Today: 39}, at(2, "13:30")},
		{"a gap across the evening", at(2, "00:00"), at(0, "17:50"), time.Time{}, Pace{Targets: 10, Today: Unlimited}, at(1, "09:40")},
		{"the window's last hour", time.Time{}, at(4, "17:00"), time.Time{}, Pace{Targets: 1, Today: Unlimited}, at(4, "17:30")},
		{"unlimited cap", time.Time{}, at(0, "09:00"), time.Time{}, Pace{Targets: 9, Today: Unlimited}, at(0, "13:30")},
		{"caps bind: today's allowance by the end of the day", time.Time{}, at(0, "17:45"), time.Time{}, Pace{Targets: 500, Today: 4, DayCap: cap40}, at(0, "17:48")},
		{"caps do not bind: spread over the window", time.Time{}, at(0, "17:45"), time.Time{}, Pace{Targets: 86, Today: 4, DayCap: cap40}, at(1, "09:10")},
		{"a ramp: later days' caps count", time.Time{}, at(0, "17:45"), time.Time{}, Pace{Targets: 86, Today: 4, DayCap: func(time.Time) int { return 10 }}, at(0, "17:48")},
		{"a late step keeps the rhythm", time.Time{}, at(0, "09:15"), at(0, "09:13"), Pace{Targets: 500, Today: 34}, at(0, "09:28")},
		{"held up longer: afresh from now", time.Time{}, at(0, "10:00"), at(0, "09:00"), Pace{Targets: 500, Today: 39}, at(0, "10:12")},
		{"due in the future is not a base", time.Time{}, at(0, "10:00"), at(0, "11:00"), Pace{Targets: 500, Today: 39}, at(0, "10:12")},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := w
			if !c.to.IsZero() {
				w.To = c.to
			}
			if got := NextDue(w, c.now, c.due, c.pace); !got.Equal(c.want) {
				t.Fatalf("NextDue = %v, want %v", got, c.want)
			}
		})
	}
}

// Owners: a contact of an account that became unhealthy keeps it; the
// others go to healthy accounts only, so a new account takes nothing of
// a restricted account's contacts and an even slice of the healthy ones'.
func TestOwners(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	camp := ids(rng, 1)[0]
	contacts := ids(rng, 3000)
	acc := ids(rng, 4)
	a, b, c, d := acc[0], acc[1], acc[2], acc[3]
	over := func(ct uuid.UUID, set ...uuid.UUID) uuid.UUID { return AssignAccount(camp, ct, set) }
	for _, tc := range []struct {
		name   string
		states []AccountState
		want   func(ct uuid.UUID) uuid.UUID
	}{
		{"all healthy", []AccountState{{ID: a, Joined: 1}, {ID: b, Joined: 2}, {ID: c, Joined: 3}},
			func(ct uuid.UUID) uuid.UUID { return over(ct, a, b, c) }},
		{"a restricted, then c added: a keeps all its own", []AccountState{{ID: a, Joined: 1, Since: 10}, {ID: b, Joined: 2}, {ID: c, Joined: 20}},
			func(ct uuid.UUID) uuid.UUID {
				if over(ct, a, b) == a {
					return a
				}
				return over(ct, b, c)
			}},
		{"c added, then a restricted: as when healthy", []AccountState{{ID: a, Joined: 1, Since: 20}, {ID: b, Joined: 2}, {ID: c, Joined: 10}},
			func(ct uuid.UUID) uuid.UUID { return over(ct, a, b, c) }},
		{"b removed while healthy gives its own to healthy accounts only", []AccountState{{ID: a, Joined: 1, Since: 10}, {ID: b, Joined: 2, Left: 15}, {ID: c, Joined: 12}},
			func(ct uuid.UUID) uuid.UUID {
				if over(ct, a, b) == a {
					return a
				}
				return c
			}},
		{"two restricted: the earlier keeps its own", []AccountState{{ID: a, Joined: 1, Since: 10}, {ID: b, Joined: 2}, {ID: c, Joined: 15, Since: 20}, {ID: d, Joined: 30}},
			func(ct uuid.UUID) uuid.UUID {
				switch {
				case over(ct, a, b) == a:
					return a
				case over(ct, b, c) == c:
					return c
				}
				return over(ct, b, d)
			}},
		{"none healthy: every contact still has one", []AccountState{{ID: a, Joined: 1, Since: 10}, {ID: b, Joined: 2, Since: 20}},
			func(ct uuid.UUID) uuid.UUID { return over(ct, a, b) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOwners(tc.states)
			per := map[uuid.UUID]int{}
			for _, ct := range contacts {
				got := o.Of(camp, ct)
				if want := tc.want(ct); got != want {
					t.Fatalf("contact %v: %v, want %v", ct, got, want)
				}
				per[got]++
			}
			t.Logf("per account: %v", per)
		})
	}
	if got := NewOwners(nil).Of(camp, contacts[0]); got != uuid.Nil {
		t.Fatalf("no accounts: %v", got)
	}
	// The new account's slice: an even one of every healthy account's
	// contacts (a quarter: it would have won one in four of them over all
	// four accounts), none of the restricted one's.
	o := NewOwners([]AccountState{{ID: a, Joined: 1, Since: 10}, {ID: b, Joined: 2}, {ID: d, Joined: 3}, {ID: c, Joined: 20}})
	fromA, fromHealthy, healthy := 0, map[uuid.UUID]int{}, map[uuid.UUID]int{}
	for _, ct := range contacts {
		was := over(ct, a, b, d)
		if was != a {
			healthy[was]++
		}
		if o.Of(camp, ct) == c {
			if was == a {
				fromA++
			}
			fromHealthy[was]++
		}
	}
	if fromA != 0 {
		t.Errorf("the new account took %d of the restricted account's contacts", fromA)
	}
	for _, h := range []uuid.UUID{b, d} {
		if f := float64(fromHealthy[h]) / float64(healthy[h]); f < 0.18 || f > 0.32 {
			t.Errorf("the new account took %.2f of %v's contacts, want about 1/4", f, h)
		}
	}
}
