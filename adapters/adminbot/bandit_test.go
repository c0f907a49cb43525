package adminbot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// A self-optimizing campaign's line in /campaigns: each variant's share,
// posterior rate with its 95% interval, and the variant the stop rule
// paused.
func TestCampaignsListShowsTheOptimizer(t *testing.T) {
	w := campaignWorld(t)
	ctx := context.Background()
	id := uuid.MustParse("0b0b0000-0000-4000-8000-0000000000c4")
	w.must(w.h.Campaign(ctx, id, domain.CreateCampaign{CampaignID: id, Name: "Self-tuning", Scenario: "acme-analytics", Version: "1.0",
		Variants: []domain.VariantWeight{{Name: "A", Weight: 50}, {Name: "B", Weight: 50}, {Name: "C", Weight: 50}},
		Schedule: domain.CampaignSchedule{Start: t0, End: t0.AddDate(0, 0, 14)}, By: "cli", Optimize: domain.GoalReplied}))
	w.catchUp()
	before := text(t, w.say(managerID, "/campaigns"))
	if !strings.Contains(before, "optimizing for replied: A 33% · rate 50.0% (95%: 2.5–97.5%); B 33%") {
		t.Fatalf("before any change, /campaigns shows:\n%s", before)
	}
	w.must(w.h.Campaign(ctx, id, domain.ReweightCampaign{Seed: 1, Reason: "test", At: t0, Outcomes: []domain.ArmOutcomes{
		{Variant: "A", Dialogs: 200, Successes: 20, OptedOut: 4}, {Variant: "B", Dialogs: 200, Successes: 50, OptedOut: 4},
		{Variant: "C", Dialogs: 200, Successes: 20, OptedOut: 30}}}))
	w.catchUp()
	got := text(t, w.say(managerID, "/campaigns"))
	for _, want := range []string{"<i>optimizing for replied: A ", "A 10% · rate 10.4% (95%: 6.6–14.9%); B 90% · rate 25.2% (95%: 19.5–31.4%)", "C paused · rate 10.4%"} {
		if !strings.Contains(got, want) {
			t.Errorf("/campaigns lacks %q:\n%s", want, got)
		}
	}
}
