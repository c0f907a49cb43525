package sinktest

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// testBandit: a self-optimizing campaign's row keeps its goal, and the
// last CampaignWeightsChanged (weights, posteriors, paused, reason, its
// time to the microsecond in UTC); a campaign with fixed weights has
// neither; the same live and rebuilt.
func testBandit(t *testing.T, newSink Factory) {
	ctx := t.Context()
	w := newWorld(t)
	tuned, fixed := uuid.New(), uuid.New()
	sched := domain.CampaignSchedule{Start: t0, End: t0.Add(7 * 24 * time.Hour)}
	ab := []domain.VariantWeight{{Name: "A", Weight: 1}, {Name: "B", Weight: 1}}
	w.must(t)(w.h.Campaign(ctx, tuned, domain.CreateCampaign{CampaignID: tuned, Name: "Tuned", Scenario: "acme", Version: "3",
		Variants: ab, Schedule: sched, By: "cli", Optimize: domain.GoalQualified}))
	w.must(t)(w.h.Campaign(ctx, fixed, domain.CreateCampaign{CampaignID: fixed, Name: "Fixed", Scenario: "acme", Version: "3",
		Variants: ab, Schedule: sched, By: "cli"}))
	msk := time.FixedZone("MSK", 3*3600)
	for i, outcomes := range [][]domain.ArmOutcomes{
		{{Variant: "A", Dialogs: 50, Successes: 5}, {Variant: "B", Dialogs: 50, Successes: 20}},
		{{Variant: "A", Dialogs: 200, Successes: 20, OptedOut: 6}, {Variant: "B", Dialogs: 200, Successes: 80, OptedOut: 30}},
	} {
		w.must(t)(w.h.Campaign(ctx, tuned, domain.ReweightCampaign{Outcomes: outcomes, Seed: uint64(i), Reason: "test",
			At: t0.Add(time.Duration(i+1)*time.Hour + 999).In(msk)}))
	}
	sink := newSink(t)
	catchUp(t, w.runner(sink))
	c := campaignOf(t, sink, tuned)
	want := &projections.Bandit{Weights: []domain.VariantWeight{{Name: "A", Weight: 1000}, {Name: "B", Weight: 0}},
		Posteriors: []domain.Posterior{{Variant: "A", Alpha: 21, Beta: 181}, {Variant: "B", Alpha: 81, Beta: 121}},
		Paused:     []string{"B"}, At: t0.Add(2 * time.Hour)}
	if c.Optimize != "qualified" || c.Bandit == nil || c.Bandit.Reason[:6] != "test; " {
		t.Fatalf("tuned campaign: %q %+v", c.Optimize, c.Bandit)
	}
	want.Reason = c.Bandit.Reason
	if !reflect.DeepEqual(c.Bandit, want) {
		t.Fatalf("bandit:\n got %+v\nwant %+v", c.Bandit, want)
	}
	if f := campaignOf(t, sink, fixed); f.Optimize != "" || f.Bandit != nil {
		t.Fatalf("fixed campaign: %q %+v", f.Optimize, f.Bandit)
	}
	rebuilt := newSink(t)
	catchUp(t, w.runner(rebuilt))
	if got := campaignOf(t, rebuilt, tuned); !reflect.DeepEqual(got, c) {
		t.Fatalf("rebuilt:\n got %+v\nwant %+v", got, c)
	}
}
