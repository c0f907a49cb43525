package campaigns

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/bits"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// The pure decisions of the scheduler: which account and variant a
// contact gets, which contact is next, how a cap is split, and when the
// next opening is due. The Scheduler only feeds them what the log says
// and carries out their answers.

// score is a 64-bit hash of a purpose and some ids.
func score(purpose byte, ids ...uuid.UUID) uint64 {
	h := sha256.New()
	h.Write([]byte{purpose})
	for _, id := range ids {
		h.Write(id[:])
	}
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}

// AssignAccount is the account a contact's dialog in a campaign goes to:
// of accounts, the one with the highest hash of (campaign, contact,
// account) — rendezvous hashing. Every account gets an even share, and a
// change of the set moves only what it must: a new account takes an even
// slice from every account (never from one in particular), a removed one
// gives away only its own contacts. uuid.Nil when accounts is empty.
func AssignAccount(campaign, contact uuid.UUID, accounts []uuid.UUID) uuid.UUID {
	best, bestScore := uuid.Nil, uint64(0)
	for i, a := range accounts {
		s := score('a', campaign, contact, a)
		if i == 0 || beats(s, a, bestScore, best) {
			best, bestScore = a, s
		}
	}
	return best
}

// beats says whether account a with score s wins over best with bestScore
// (ties go to the lower id).
func beats(s uint64, a uuid.UUID, bestScore uint64, best uuid.UUID) bool {
	return s > bestScore || (s == bestScore && a.String() < best.String())
}

// AccountState is an account as the spreading of contacts sees it. Times
// are log positions, so a restart decides the same.
type AccountState struct {
	ID     uuid.UUID
	Joined uint64 // its registration
	Left   uint64 // its removal while healthy (0: not removed so); it drops out
	Since  uint64 // since when it has been restricted, paused or lost (0: healthy)
}

// Owners decides which account each contact of a campaign belongs to
// when the accounts are not all healthy (NewOwners).
type Owners struct {
	ids    []uuid.UUID
	frozen []int   // the unhealthy accounts of the set, by Since
	before [][]int // for each, the accounts as they were when it became unhealthy
	rest   []int   // the healthy accounts of the set (all of it if none is)
}

// NewOwners returns the owners for a campaign's accounts: those of
// accounts with Left == 0 are the set; those that left are only history.
//
// A contact that, over the accounts as they were when an account became
// unhealthy, belonged to that account keeps it (it waits: a
// restriction's volume is never shifted to other accounts), the earliest
// such account first. Every other contact goes, by rendezvous hashing, to
// one of the healthy accounts, so a new account takes an even slice of
// every healthy account's contacts and nothing of an unhealthy one's, and
// an account removed while healthy gives its contacts to healthy ones
// only. With all healthy, Of is AssignAccount over the set.
func NewOwners(accounts []AccountState) *Owners {
	o := &Owners{}
	var all []int
	for i, a := range accounts {
		o.ids = append(o.ids, a.ID)
		if a.Left != 0 {
			continue
		}
		all = append(all, i)
		if a.Since != 0 {
			o.frozen = append(o.frozen, i)
		} else {
			o.rest = append(o.rest, i)
		}
	}
	if len(o.rest) == 0 {
		o.rest = all
	}
	sort.SliceStable(o.frozen, func(x, y int) bool {
		a, b := accounts[o.frozen[x]], accounts[o.frozen[y]]
		if a.Since != b.Since {
			return a.Since < b.Since
		}
		return a.ID.String() < b.ID.String()
	})
	for _, f := range o.frozen {
		at := accounts[f].Since
		var was []int
		for i, a := range accounts {
			if a.Joined < at && (a.Left == 0 || a.Left > at) {
				was = append(was, i)
			}
		}
		o.before = append(o.before, was)
	}
	return o
}

// Of is the account the contact's dialog in the campaign goes to
// (uuid.Nil without accounts).
func (o *Owners) Of(campaign, contact uuid.UUID) uuid.UUID {
	scores := make([]uint64, len(o.ids))
	for i, a := range o.ids {
		scores[i] = score('a', campaign, contact, a)
	}
	best := func(among []int) int {
		b := -1
		for _, i := range among {
			if b < 0 || beats(scores[i], o.ids[i], scores[b], o.ids[b]) {
				b = i
			}
		}
		return b
	}
	for k, f := range o.frozen {
		if best(o.before[k]) == f {
			return o.ids[f]
		}
	}
	if b := best(o.rest); b >= 0 {
		return o.ids[b]
	}
	return uuid.Nil
}

// AssignVariant is a contact's prompt variant in a campaign: drawn by
// weight with a hash of (campaign, contact) as the die, so it is the same
// on every run. Variants without a positive weight are never drawn; ""
// when none has one.
func AssignVariant(campaign, contact uuid.UUID, variants []domain.VariantWeight) string {
	var total uint64
	for _, v := range variants {
		if v.Weight > 0 {
			total += uint64(v.Weight)
		}
	}
	if total == 0 {
		return ""
	}
	x := score('v', campaign, contact) % total
	for _, v := range variants {
		if v.Weight <= 0 {
			continue
		}
		if x < uint64(v.Weight) {
			return v.Name
		}
		x -= uint64(v.Weight)
	}
	return "" // not reached: x < total
}

// Target is one contact of a lane (a campaign's contacts on one account)
// as Pick sees it.
type Target struct {
	Seq     uint64 // when the contact entered the log (its position)
	Claimed bool   // claimed for the lane and not opened yet
	Ready   bool   // in the segment, contactable, not opened, not given up
	Held    bool   // ready, but its own wait after a failure is not over
}

// Pick returns the index of a lane's next target (-1 if none is ready)
// and how many are ready. A claimed target goes first (a wait or a crash
// came between its claim and its opening: the claim is the intent), then
// the contact that entered the log first. A held target counts as ready
// but is never next, so one contact that keeps failing does not hold up
// the lane.
func Pick(lane []Target) (next, ready int) {
	next = -1
	for i, t := range lane {
		if !t.Ready {
			continue
		}
		ready++
		if t.Held {
			continue
		}
		if next < 0 {
			next = i
			continue
		}
		if b := lane[next]; t.Claimed != b.Claimed {
			if t.Claimed {
				next = i
			}
		} else if t.Seq < b.Seq {
			next = i
		}
	}
	return next, ready
}

// Shares splits total between weights in proportion (largest remainder:
// the shares add up to total exactly, ties go to the lower index). With
// no positive weight nobody gets anything. A lane whose account is
// restricted keeps its share: it waits, and nobody else gets it.
func Shares(total int, weights []int) []int {
	out := make([]int, len(weights))
	var sum uint64
	for _, w := range weights {
		if w > 0 {
			sum += uint64(w)
		}
	}
	if total <= 0 || sum == 0 {
		return out
	}
	rems := make([]uint64, len(weights))
	given := 0
	for i, w := range weights {
		if w <= 0 {
			continue
		}
		hi, lo := bits.Mul64(uint64(total), uint64(w))
		q, r := bits.Div64(hi, lo, sum) // q ≤ total: w ≤ sum
		out[i], rems[i] = int(q), r
		given += int(q)
	}
	for left := total - given; left > 0; left-- {
		best := -1
		for i, w := range weights {
			if w > 0 && (best < 0 || rems[i] > rems[best]) {
				best = i
			}
		}
		out[best]++
		rems[best] = 0
	}
	return out
}

// Unlimited is a cap that does not bound.
const Unlimited = math.MaxInt

// LaneCaps are the bounds on a lane's openings besides the account's
// hours: what the account may still open today (its cap or ramp, less
// what it opened today, split evenly between the campaigns sharing it),
// and the lane's share of the campaign's daily and total caps (Unlimited
// when the campaign has none).
type LaneCaps struct {
	AccountCap  int // domain.NewDialogCap for today (Unlimited: none)
	AccountUsed int // new dialogs the account opened today, for anything
	Sharing     int // active campaigns with contacts waiting on the account (≥ 1)
	DailyShare  int // the lane's share of the campaign's cap for today
	DailyUsed   int // what the lane opened for the campaign today
	TotalShare  int // the lane's share of what the campaign may still open
}

// Today is how many more dialogs the lane may open today.
func (c LaneCaps) Today() int {
	n := Unlimited
	if c.AccountCap != Unlimited {
		left := max(c.AccountCap-c.AccountUsed, 0)
		k := max(c.Sharing, 1)
		n = (left + k - 1) / k
	}
	if c.DailyShare != Unlimited {
		n = min(n, max(c.DailyShare-c.DailyUsed, 0))
	}
	return n
}

// Pace is what the spacing of a lane's openings depends on.
type Pace struct {
	// Targets are the contacts still to open on the lane (bounded by its
	// share of the campaign's total).
	Targets int
	// Today is how many more openings today allows (LaneCaps.Today).
	Today int
	// DayCap is what a later local day of the account allows (its cap or
	// ramp that day, split as today's is); nil = Unlimited.
	DayCap func(day time.Time) int
}

// NextDue is when a lane's next opening is due after one at now, which
// was due at due (zero if unknown). Openings are spread evenly:
//   - when the lane has fewer targets than its caps allow in the rest of
//     the window, the gap is the window's open time left ÷ (targets + 1),
//     but never shorter than today's open time left ÷ (today + 1), so a
//     day's cap is spread over the day rather than spent in its first
//     hours;
//   - when the caps bind (more targets than they allow), the gap is
//     today's open time left ÷ (today + 1): every day's allowance is
//     used, spread over that day.
//
// Gaps are counted in open time (Window.Advance), from when the opening
// was due if that was less than a gap ago (coarse steps keep the rhythm
// instead of drifting), else from now (a lane held up longer starts
// afresh and never bursts to catch up). With nothing left today the lane
// looks again at the start of the account's next local day; with no
// targets left, never (zero time).
func NextDue(w Window, now, due time.Time, p Pace) time.Time {
	if p.Targets <= 0 {
		return time.Time{}
	}
	end := dayEnd(now, w.Account.Loc)
	if p.Today <= 0 {
		return end
	}
	byDay := time.Duration(0)
	if p.Today < p.Targets {
		byDay = w.OpenTime(now, earlier(end, w.To)) / time.Duration(p.Today+1)
	}
	gap := byDay
	if p.Today >= p.Targets || capacity(w, end, p) > p.Targets {
		gap = max(w.OpenTime(now, w.To)/time.Duration(p.Targets+1), byDay)
	}
	base := now
	if !due.IsZero() && due.Before(now) && w.OpenTime(due, now) < gap {
		base = due
	}
	return w.Advance(base, gap)
}

// capacity is what the caps allow in the window from now on: today's
// allowance and that of every later local day with open time (counted
// until it passes the targets).
func capacity(w Window, end time.Time, p Pace) int {
	n := p.Today
	if p.DayCap == nil {
		return Unlimited
	}
	loc := w.Account.Loc
	if loc == nil {
		loc = time.UTC
	}
	for day, i := end, 0; day.Before(w.To) && n <= p.Targets && i < maxDays; i++ {
		next := dayEnd(day, loc)
		if w.OpenTime(day, next) > 0 {
			c := max(p.DayCap(day), 0)
			if c >= Unlimited-n {
				return Unlimited
			}
			n += c
		}
		day = next
	}
	return n
}
