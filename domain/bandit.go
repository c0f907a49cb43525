package domain

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Self-optimizing campaigns: Thompson sampling over a campaign's prompt
// variants. Everything here is pure: the counts, the random source and
// the time come in; the weights, the posteriors and the paused variants
// go out as a CampaignWeightsChanged event.
//
// Each variant's success rate on the campaign's Goal has a Beta(1, 1)
// (uniform) prior; after s successes in n dialogs its posterior is
// Beta(1+s, 1+n−s). The share of new dialogs a variant gets is the
// chance that it is the best one, estimated by drawing BanditDraws
// samples from every posterior (batched Thompson sampling: over a batch
// of dialogs it gives each variant the share one Thompson draw per
// dialog would), mixed with a floor: every active variant keeps at least
// BanditMinShare, so a variant unlucky early on still gets dialogs and
// can recover. Weights are per mille (they sum to WeightScale).
//
// The stop rule: a variant whose opt-out rate is significantly above the
// control's (the first variant) is paused: one-sided pooled
// two-proportion z-test, p < StopAlpha, once both have at least
// StopMinDialogs dialogs opened (so the normal approximation holds and a few
// early opt-outs stop nothing). A paused variant gets no new dialogs and
// stays paused; the control is never paused.

// Goal is what a self-optimizing campaign optimizes.
type Goal string

const (
	GoalNone      Goal = ""          // fixed weights
	GoalReplied   Goal = "replied"   // the lead wrote at least once
	GoalQualified Goal = "qualified" // the lead counted as qualified (the read models' definition)
	GoalWon       Goal = "won"       // the deal was won
)

// Goals are the goals a campaign may optimize, for help texts.
func Goals() []string {
	return []string{string(GoalReplied), string(GoalQualified), string(GoalWon)}
}

// ParseGoal reads a goal: replied, qualified, won, or none ("" too).
// Errors are EINVALID with Field "optimize".
func ParseGoal(s string) (Goal, error) {
	switch g := Goal(strings.ToLower(strings.TrimSpace(s))); g {
	case "", "none":
		return GoalNone, nil
	case GoalReplied, GoalQualified, GoalWon:
		return g, nil
	}
	return GoalNone, fieldErrorf(EINVALID, "optimize", "no goal %q to optimize (one of none, %s)", clip(s), strings.Join(Goals(), ", "))
}

// The bandit's constants (see above).
const (
	BanditMinShare = 0.10 // every active variant's least share of new dialogs
	BanditDraws    = 4000 // posterior samples per reweighting
	StopAlpha      = 0.01 // the stop rule's one-sided significance
	StopMinDialogs = 100  // dialogs each of the variant and the control need before the stop rule applies
	WeightScale    = 1000 // weights are per mille
	// MinWeightChange is the smallest change of a weight (per mille)
	// worth an event; smaller ones are sampling noise.
	MinWeightChange = 20
)

// ArmOutcomes is what one variant's dialogs came to so far: Successes on
// the campaign's goal, OptedOut by the lead themself.
type ArmOutcomes struct {
	Variant   string `json:"variant"`
	Dialogs   int    `json:"dialogs"` // that count for the goal (reached it, or had the time to)
	Successes int    `json:"successes"`
	OptedOut  int    `json:"opted_out"`
	// Opened is every dialog opened, the stop rule's sample (0: Dialogs).
	Opened int `json:"opened,omitempty"`
}

// opened is the stop rule's sample.
func (a ArmOutcomes) opened() int { return max(a.Opened, a.Dialogs) }

// Posterior is a variant's Beta(Alpha, Beta) posterior of its success rate.
type Posterior struct {
	Variant string  `json:"variant"`
	Alpha   float64 `json:"alpha"`
	Beta    float64 `json:"beta"`
}

// PosteriorOf is the posterior of a variant's outcomes under the uniform
// prior.
func PosteriorOf(a ArmOutcomes) Posterior {
	return Posterior{Variant: a.Variant, Alpha: 1 + float64(a.Successes), Beta: 1 + float64(a.Dialogs-a.Successes)}
}

// Mean is the posterior mean α/(α+β).
func (p Posterior) Mean() float64 { return p.Alpha / (p.Alpha + p.Beta) }

// Interval is the equal-tailed credible interval holding level (0.95:
// 95%) of the posterior.
func (p Posterior) Interval(level float64) (lo, hi float64) {
	tail := (1 - level) / 2
	return betaQuantile(tail, p.Alpha, p.Beta), betaQuantile(1-tail, p.Alpha, p.Beta)
}

// ThompsonShares are the shares of new dialogs (summing to 1) of the
// variants: for the active ones, the chance each is the best, estimated
// from draws samples of every posterior with r, mixed with the floor
// minShare (at most 1/active each); 0 for the inactive ones. With no
// active variant all are 0.
func ThompsonShares(posts []Posterior, active []bool, minShare float64, draws int, r *rand.Rand) []float64 {
	shares := make([]float64, len(posts))
	var idx []int
	for i := range posts {
		if i < len(active) && active[i] {
			idx = append(idx, i)
		}
	}
	switch len(idx) {
	case 0:
		return shares
	case 1:
		shares[idx[0]] = 1
		return shares
	}
	draws = max(draws, 1)
	wins := make([]int, len(posts))
	for range draws {
		best, bestX := -1, -1.0
		for _, i := range idx {
			if x := sampleBeta(r, posts[i].Alpha, posts[i].Beta); x > bestX {
				best, bestX = i, x
			}
		}
		wins[best]++
	}
	floor := min(max(minShare, 0), 1/float64(len(idx)))
	rest := 1 - floor*float64(len(idx))
	for _, i := range idx {
		shares[i] = floor + rest*float64(wins[i])/float64(draws)
	}
	return shares
}

// PerMille turns shares into integer weights summing to WeightScale
// (largest remainders; ties to the earlier variant). A variant with a
// positive share gets at least 1.
func PerMille(shares []float64) []int {
	w := make([]int, len(shares))
	var total float64
	for _, s := range shares {
		total += max(s, 0)
	}
	if total == 0 {
		return w
	}
	left := WeightScale
	rem := make([]float64, len(shares))
	for i, s := range shares {
		x := max(s, 0) / total * WeightScale
		w[i] = int(math.Floor(x))
		rem[i] = x - float64(w[i])
		left -= w[i]
	}
	order := make([]int, len(shares))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case rem[a] > rem[b]:
			return -1
		case rem[a] < rem[b]:
			return 1
		}
		return 0
	})
	for _, i := range order[:left] {
		w[i]++
	}
	return w
}

// OptOutTest is the stop rule's test of a variant's opt-outs against the
// control's: the one-sided pooled two-proportion z-test of H1 "the
// variant's opt-out rate is higher". Stop: both have StopMinDialogs
// dialogs or more and p < StopAlpha. ok is false (and stop too) when the
// test cannot be made (an empty group, no opt-out or only opt-outs).
func OptOutTest(control, v ArmOutcomes) (stop bool, z, p float64, ok bool) {
	n1, n2 := float64(v.opened()), float64(control.opened())
	if n1 <= 0 || n2 <= 0 || v.OptedOut < 0 || control.OptedOut < 0 || v.OptedOut > v.opened() || control.OptedOut > control.opened() {
		return false, 0, 0, false
	}
	pooled := float64(v.OptedOut+control.OptedOut) / (n1 + n2)
	if pooled <= 0 || pooled >= 1 {
		return false, 0, 0, false
	}
	z = (float64(v.OptedOut)/n1 - float64(control.OptedOut)/n2) / math.Sqrt(pooled*(1-pooled)*(1/n1+1/n2))
	p = math.Erfc(z/math.Sqrt2) / 2 // P(Z ≥ z)
	stop = v.opened() >= StopMinDialogs && control.opened() >= StopMinDialogs && p < StopAlpha
	return stop, z, p, true
}

// CurrentWeights are the weights new dialogs of the campaign are drawn
// by: the last CampaignWeightsChanged's, else the variants' own.
func (c Campaign) CurrentWeights() []VariantWeight {
	if c.Weights != nil {
		return c.Weights
	}
	return c.Variants
}

// reweight decides a ReweightCampaign.
func reweight(c Campaign, cmd ReweightCampaign) ([]Event, error) {
	switch {
	case c.Optimize == GoalNone:
		return nil, errorf(ESTATE, "campaign %s has fixed weights (it was not created with a goal to optimize)", c.Name)
	case c.Status == StatusCampaignEnded:
		return nil, nil
	}
	arms := make([]ArmOutcomes, len(c.Variants))
	for i, v := range c.Variants {
		arms[i].Variant = v.Name
	}
	for _, o := range cmd.Outcomes {
		i := slices.IndexFunc(arms, func(a ArmOutcomes) bool { return a.Variant == o.Variant })
		switch {
		case i < 0:
			return nil, errorf(EINVALID, "campaign %s has no variant %q", c.Name, clip(o.Variant))
		case o.Dialogs < 0 || o.Successes < 0 || o.OptedOut < 0 || o.Opened < 0 || o.Successes > o.Dialogs || o.OptedOut > o.opened():
			return nil, errorf(EINVALID, "variant %s: counts out of range (%d dialogs, %d successes, %d opted out)", o.Variant, o.Dialogs, o.Successes, o.OptedOut)
		}
		arms[i] = o
	}
	paused := slices.Clone(c.Paused)
	var why []string
	for _, a := range arms[1:] {
		if slices.Contains(paused, a.Variant) {
			continue
		}
		if stop, z, p, _ := OptOutTest(arms[0], a); stop {
			paused = append(paused, a.Variant)
			why = append(why, fmt.Sprintf("%s paused: opt-out %.1f%% against the control's %.1f%% (z = %.2f, one-sided p = %.4f)",
				a.Variant, 100*rate(a.OptedOut, a.opened()), 100*rate(arms[0].OptedOut, arms[0].opened()), z, p))
		}
	}
	posts := make([]Posterior, len(arms))
	active := make([]bool, len(arms))
	for i, a := range arms {
		posts[i] = PosteriorOf(a)
		active[i] = !slices.Contains(paused, a.Variant)
	}
	r := rand.New(rand.NewPCG(cmd.Seed, cmd.Seed^0x9e3779b97f4a7c15))
	w := PerMille(ThompsonShares(posts, active, BanditMinShare, BanditDraws, r))
	weights := make([]VariantWeight, len(arms))
	for i, a := range arms {
		weights[i] = VariantWeight{Name: a.Variant, Weight: w[i]}
	}
	if len(why) == 0 && !weightsMoved(c.CurrentWeights(), weights) {
		return nil, nil
	}
	reason := strings.TrimSpace(cmd.Reason)
	if len(why) > 0 {
		reason = strings.TrimPrefix(reason+"; "+strings.Join(why, "; "), "; ")
	}
	return []Event{CampaignWeightsChanged{Weights: weights, Posteriors: posts, Paused: paused, Reason: reason, At: cmd.At}}, nil
}

// weightsMoved says whether a weight moved by MinWeightChange per mille
// or more (old weights are scaled to per mille first).
func weightsMoved(old, now []VariantWeight) bool {
	var total int
	for _, v := range old {
		total += max(v.Weight, 0)
	}
	for _, n := range now {
		was := 0.0
		if i := slices.IndexFunc(old, func(v VariantWeight) bool { return v.Name == n.Name }); i >= 0 && total > 0 {
			was = float64(max(old[i].Weight, 0)) / float64(total) * WeightScale
		}
		if math.Abs(float64(n.Weight)-was) >= MinWeightChange {
			return true
		}
	}
	return false
}

func rate(x, n int) float64 {
	if n <= 0 {
		return 0
	}
	return float64(x) / float64(n)
}

// sampleBeta draws from Beta(a, b) as X/(X+Y) of two gamma draws.
func sampleBeta(r *rand.Rand, a, b float64) float64 {
	x, y := sampleGamma(r, a), sampleGamma(r, b)
	if x+y == 0 {
		return 0.5
	}
	return x / (x + y)
}

// sampleGamma draws from Gamma(a, 1) (Marsaglia and Tsang; a < 1 boosted
// by U^(1/a)).
func sampleGamma(r *rand.Rand, a float64) float64 {
	if a < 1 {
		return sampleGamma(r, a+1) * math.Pow(r.Float64(), 1/a)
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// betaQuantile is x with I_x(a, b) = q, by bisection.
func betaQuantile(q, a, b float64) float64 {
	lo, hi := 0.0, 1.0
	for range 60 {
		mid := (lo + hi) / 2
		if betaCDF(mid, a, b) < q {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// betaCDF is the regularized incomplete beta function I_x(a, b)
// (continued fraction, Numerical Recipes' betacf).
func betaCDF(x, a, b float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log(1-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(x, a, b) / a
	}
	return 1 - front*betaCF(1-x, b, a)/b
}

func betaCF(x, a, b float64) float64 {
	const tiny = 1e-300
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 300; m++ {
		fm := float64(m)
		aa := fm * (b - fm) * x / ((qam + 2*fm) * (a + 2*fm))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + 2*fm) * (qap + 2*fm))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 3e-14 {
			break
		}
	}
	return h
}
