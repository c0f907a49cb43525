package domain

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func optimized(goal Goal) []Event {
	return []Event{CampaignCreated{CampaignID: campaignID, Name: "Q1", Scenario: "acme", Version: "1.0",
		Variants: []VariantWeight{{"A", 50}, {"B", 50}}, Schedule: CampaignSchedule{Start: now, End: now.Add(7 * 24 * time.Hour)}, By: "cli", Optimize: goal}}
}

func arm(v string, n, s, o int) ArmOutcomes {
	return ArmOutcomes{Variant: v, Dialogs: n, Successes: s, OptedOut: o}
}

func fold(evs []Event) Campaign {
	var c Campaign
	for _, e := range evs {
		c = EvolveCampaign(c, e)
	}
	return c
}

func TestCreateCampaignOptimize(t *testing.T) {
	c := create()
	c.Optimize = "Replied"
	evs, err := DecideCampaign(Campaign{}, c, now)
	if err != nil || len(evs) != 1 || evs[0].(CampaignCreated).Optimize != GoalReplied {
		t.Fatalf("create with --optimize Replied: %v %+v", err, evs)
	}
	if got := fold(evs).Optimize; got != GoalReplied {
		t.Fatalf("folded goal %q", got)
	}
	c.Optimize = "clicks"
	if _, err := DecideCampaign(Campaign{}, c, now); ErrorCode(err) != EINVALID || ErrorField(err) != "optimize" {
		t.Fatalf("unknown goal: %v", err)
	}
	c.Optimize, c.Variants = GoalWon, c.Variants[:1]
	if _, err := DecideCampaign(Campaign{}, c, now); ErrorCode(err) != EINVALID || ErrorField(err) != "optimize" {
		t.Fatalf("one variant optimized: %v", err)
	}
	// An event written before the field reads as fixed weights.
	var old CampaignCreated
	if err := json.Unmarshal([]byte(`{"campaign_id":"`+campaignID.String()+`","name":"Q1","variants":[{"name":"A","weight":1}]}`), &old); err != nil {
		t.Fatal(err)
	}
	if got := fold([]Event{old}); got.Optimize != GoalNone || !reflect.DeepEqual(got.CurrentWeights(), []VariantWeight{{"A", 1}}) {
		t.Fatalf("old event: goal %q weights %v", got.Optimize, got.CurrentWeights())
	}
}

func TestReweightCampaign(t *testing.T) {
	at := now.Add(time.Hour)
	// B is far better on the goal: the weights move to it, the floor holds A at 10%.
	better := ReweightCampaign{Outcomes: []ArmOutcomes{arm("A", 200, 20, 2), arm("B", 200, 60, 2)}, Seed: 7, Reason: "400 outcomes", At: at}
	evs, err := DecideCampaign(fold(optimized(GoalReplied)), better, at)
	if err != nil || len(evs) != 1 {
		t.Fatalf("reweight: %v %+v", err, evs)
	}
	e := evs[0].(CampaignWeightsChanged)
	want := CampaignWeightsChanged{Weights: []VariantWeight{{"A", 100}, {"B", 900}},
		Posteriors: []Posterior{{"A", 21, 181}, {"B", 61, 141}}, Reason: "400 outcomes", At: at}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("got  %+v\nwant %+v", e, want)
	}
	c := fold(append(optimized(GoalReplied), e))
	if !reflect.DeepEqual(c.CurrentWeights(), want.Weights) || !reflect.DeepEqual(c.Posteriors, want.Posteriors) {
		t.Fatalf("folded: %+v", c)
	}
	// The same outcomes again: the weights barely move, nothing is recorded.
	if evs, err := DecideCampaign(c, better, at); err != nil || len(evs) != 0 {
		t.Fatalf("no change: %v %+v", err, evs)
	}
	// Equal evidence from 90/10: back towards 50/50.
	evs, err = DecideCampaign(c, ReweightCampaign{Outcomes: []ArmOutcomes{arm("A", 300, 30, 0), arm("B", 300, 30, 0)}, Seed: 1}, at)
	if err != nil || len(evs) != 1 {
		t.Fatalf("equal: %v %+v", err, evs)
	}
	if w := evs[0].(CampaignWeightsChanged).Weights; w[0].Weight < 400 || w[0].Weight > 600 || w[0].Weight+w[1].Weight != WeightScale {
		t.Fatalf("equal evidence gave %v", w)
	}
	// Refusals and no-ops.
	for _, tc := range []struct {
		name  string
		given []Event
		cmd   ReweightCampaign
		code  Code
	}{
		{"fixed weights", optimized(GoalNone), better, ESTATE},
		{"unknown campaign", nil, better, EINVALID},
		{"unknown variant", optimized(GoalWon), ReweightCampaign{Outcomes: []ArmOutcomes{arm("C", 1, 0, 0)}}, EINVALID},
		{"more successes than dialogs", optimized(GoalWon), ReweightCampaign{Outcomes: []ArmOutcomes{arm("A", 1, 2, 0)}}, EINVALID},
	} {
		if _, err := DecideCampaign(fold(tc.given), tc.cmd, at); ErrorCode(err) != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	ended := append(optimized(GoalWon), CampaignEnded{By: "cli"})
	if evs, err := DecideCampaign(fold(ended), better, at); err != nil || len(evs) != 0 {
		t.Fatalf("ended: %v %+v", err, evs)
	}
}

func TestStopRule(t *testing.T) {
	// B's opt-outs: 12% against the control's 3%, 200 dialogs each: z ≈ 3.4.
	stop, z, p, ok := OptOutTest(arm("A", 200, 20, 6), arm("B", 200, 20, 24))
	if !ok || !stop || z < 3 || p >= StopAlpha {
		t.Fatalf("12%% vs 3%%: stop %v z %.2f p %.4f", stop, z, p)
	}
	// The same rates on fewer dialogs than the minimum: not yet.
	if stop, _, _, _ := OptOutTest(arm("A", 99, 0, 3), arm("B", 99, 0, 12)); stop {
		t.Fatal("stopped below the minimum sample")
	}
	// Fewer opt-outs than the control: one-sided, never a stop.
	if stop, z, _, _ := OptOutTest(arm("A", 200, 20, 24), arm("B", 200, 20, 6)); stop || z >= 0 {
		t.Fatalf("lower opt-outs stopped (z %.2f)", z)
	}
	// 5% vs 3% on 200 each is not significant at 1%.
	if stop, _, p, _ := OptOutTest(arm("A", 200, 20, 6), arm("B", 200, 20, 10)); stop || p < 0.1 {
		t.Fatalf("5%% vs 3%% stopped (p %.4f)", p)
	}

	// Through the decider: B is paused with the reason, gets no weight,
	// and stays paused after its opt-outs stop.
	c := fold(optimized(GoalQualified))
	at := now.Add(time.Hour)
	evs, err := DecideCampaign(c, ReweightCampaign{Outcomes: []ArmOutcomes{arm("A", 200, 20, 6), arm("B", 200, 40, 24)}, Seed: 3, Reason: "tick", At: at}, at)
	if err != nil || len(evs) != 1 {
		t.Fatalf("reweight: %v %+v", err, evs)
	}
	e := evs[0].(CampaignWeightsChanged)
	if !reflect.DeepEqual(e.Paused, []string{"B"}) || !reflect.DeepEqual(e.Weights, []VariantWeight{{"A", 1000}, {"B", 0}}) ||
		!strings.HasPrefix(e.Reason, "tick; B paused: opt-out 12.0% against the control's 3.0%") {
		t.Fatalf("stop: %+v", e)
	}
	c = EvolveCampaign(c, e)
	if evs, err := DecideCampaign(c, ReweightCampaign{Outcomes: []ArmOutcomes{arm("A", 400, 40, 12), arm("B", 400, 80, 24)}, Seed: 4}, at); err != nil || len(evs) != 0 {
		t.Fatalf("after the pause: %v %+v", err, evs)
	}
	// The control is never paused, however many opt-outs it has.
	evs, _ = DecideCampaign(fold(optimized(GoalQualified)), ReweightCampaign{Outcomes: []ArmOutcomes{arm("A", 200, 20, 60), arm("B", 200, 20, 0)}, Seed: 3}, at)
	if len(evs) == 1 && len(evs[0].(CampaignWeightsChanged).Paused) != 0 {
		t.Fatalf("control paused: %+v", evs)
	}
}

func TestPosteriorInterval(t *testing.T) {
	p := PosteriorOf(ArmOutcomes{Variant: "A", Dialogs: 100, Successes: 10})
	if p.Alpha != 11 || p.Beta != 91 || math.Abs(p.Mean()-11.0/102) > 1e-12 {
		t.Fatalf("posterior %+v mean %v", p, p.Mean())
	}
	// Beta(11, 91): the 2.5% and 97.5% quantiles (by numerical integration of its density: 0.05564, 0.17455).
	lo, hi := p.Interval(0.95)
	if math.Abs(lo-0.05564) > 0.0002 || math.Abs(hi-0.17455) > 0.0002 {
		t.Fatalf("95%% interval %.4f–%.4f", lo, hi)
	}
	// Beta(1, 1) is uniform.
	if lo, hi := (Posterior{Alpha: 1, Beta: 1}).Interval(0.9); math.Abs(lo-0.05) > 1e-6 || math.Abs(hi-0.95) > 1e-6 {
		t.Fatalf("uniform 90%%: %v–%v", lo, hi)
	}
	// Samples of Beta(11, 91) average its mean.
	r := rand.New(rand.NewPCG(1, 2))
	var sum float64
	for range 20000 {
		sum += sampleBeta(r, 11, 91)
	}
	if m := sum / 20000; math.Abs(m-p.Mean()) > 0.002 {
		t.Fatalf("sample mean %v, want %v", m, p.Mean())
	}
}

func TestPerMille(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want []int
	}{
		{[]float64{1, 1, 1}, []int{334, 333, 333}},
		{[]float64{0.1, 0.9}, []int{100, 900}},
		{[]float64{0, 0}, []int{0, 0}},
		{[]float64{0.2, 0, 0.8}, []int{200, 0, 800}},
	} {
		if got := PerMille(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("PerMille(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// banditRun sends n dialogs one after another to variants A (true rate
// pa) and B (pb) by the campaign's current weights, the outcome known at
// once, with a ReweightCampaign every `every` outcomes, as the scheduler
// does. It returns how many went to B and the expected successes.
func banditRun(seed uint64, n, every int, pa, pb float64) (toB int, expected float64, changes int) {
	r := rand.New(rand.NewPCG(seed, 99))
	c := fold(optimized(GoalReplied))
	arms := []ArmOutcomes{{Variant: "A"}, {Variant: "B"}}
	truth := []float64{pa, pb}
	for i := range n {
		w := c.CurrentWeights()
		k := 0
		if r.IntN(w[0].Weight+w[1].Weight) >= w[0].Weight {
			k = 1
		}
		toB += k
		expected += truth[k]
		arms[k].Dialogs++
		if r.Float64() < truth[k] {
			arms[k].Successes++
		}
		if (i+1)%every == 0 {
			evs, err := DecideCampaign(c, ReweightCampaign{Outcomes: arms, Seed: seed<<32 | uint64(i)}, now)
			if err != nil {
				panic(err)
			}
			for _, e := range evs {
				c = EvolveCampaign(c, e)
				changes++
			}
		}
	}
	return toB, expected, changes
}

func TestBanditSimulation(t *testing.T) {
	const n, every, pa, pb = 2000, 20, 0.10, 0.15
	toB, expected, changes := banditRun(42, n, every, pa, pb)
	share := float64(toB) / n
	fixed := n * (pa + pb) / 2 // a 50/50 split's expected successes
	best := n * pb
	t.Logf("seed 42: %d of %d dialogs (%.1f%%) to the better variant, %d weight changes; expected successes %.1f, 50/50 %.1f, all-best %.1f: regret %.1f against the best, %.1f fewer lost than 50/50 (whose regret is %.1f)",
		toB, n, 100*share, changes, expected, fixed, best, best-expected, expected-fixed, best-fixed)
	if share < 0.70 {
		t.Fatalf("only %.1f%% went to the better variant", 100*share)
	}
	// Over many seeds: the mean share and how often 70% is reached.
	const runs = 50
	var sumShare, sumRegret float64
	reached := 0
	for s := range uint64(runs) {
		b, e, _ := banditRun(1000+s, n, every, pa, pb)
		sumShare += float64(b) / n
		sumRegret += best - e
		if float64(b)/n >= 0.70 {
			reached++
		}
	}
	t.Logf("%d seeds: mean share to the better variant %.1f%%, ≥70%% in %d; mean regret %.1f against the best (50/50: %.1f)",
		runs, 100*sumShare/runs, reached, sumRegret/runs, best-fixed)
	if sumShare/runs < 0.70 {
		t.Fatalf("mean share %.1f%% below 70%%", 100*sumShare/runs)
	}
}
