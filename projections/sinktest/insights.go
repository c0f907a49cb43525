package sinktest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// testInsights: dialogs of a campaign's two variants close or are handed
// off with insights; a handoff's row is replaced by the close's after it
// (tokens added up); top objections by variant count each dialog once,
// with its share; dialogs no campaign opened are a campaign of their own;
// an erasure blanks the summary and the loss reason but keeps the
// objections; the same live and rebuilt.
func testInsights(t *testing.T, newSink Factory) {
	ctx := t.Context()
	w := newWorld(t)
	campaign := uuid.New()
	known := []string{"price", "timing", "has_a_tool"}
	c1, d1 := w.addCampaignDialog(t, 1, campaign, "A")
	c2, d2 := w.addCampaignDialog(t, 2, campaign, "A")
	c3, d3 := w.addCampaignDialog(t, 3, campaign, "B")
	c4, d4 := w.addDialog(t, 4, "dana")
	_, d5 := w.addCampaignDialog(t, 5, campaign, "B") // open: no insight
	at := func(d time.Duration) time.Time {
		w.clock = t0.Add(d + 123456789)
		return w.clock.UTC().Truncate(time.Microsecond)
	}
	lost := func(c, d uuid.UUID) {
		w.must(t)(w.h.Dialog(ctx, d, c, domain.CloseDialog{Outcome: domain.OutcomeLost, By: "admin:1"}))
	}
	insight := func(c, d uuid.UUID, cmd domain.RecordInsights) {
		cmd.Known = known
		w.must(t)(w.h.Dialog(ctx, d, c, cmd))
	}

	// Dialog 1: handed off, then lost: the row is the close's.
	at(time.Hour)
	w.must(t)(w.h.Dialog(ctx, d1, c1, domain.RequestHandoff{Reason: "wants a call"}))
	insight(c1, d1, domain.RecordInsights{Summary: "Wants a call.", Objections: []string{"timing"}, By: domain.InsightByLLM,
		Usage: domain.Usage{Model: "m", PromptTokens: 100, CompletionTokens: 10}})
	lost(c1, d1)
	last := at(2 * time.Hour)
	insight(c1, d1, domain.RecordInsights{Summary: "Too dear after the call.", LossReason: "price", Objections: []string{"price", "timing"}, By: domain.InsightByLLM,
		Usage: domain.Usage{Model: "m", PromptTokens: 200, CompletionTokens: 20}})
	// Dialog 2: lost over the price, by rules.
	at(3 * time.Hour)
	lost(c2, d2)
	insight(c2, d2, domain.RecordInsights{Summary: "Reached offer.", LossReason: "Too expensive", Objections: []string{"price"}, By: domain.InsightByRules})
	// Dialog 3 (variant B): lost without objections.
	lost(c3, d3)
	insight(c3, d3, domain.RecordInsights{Summary: "Silent.", LossReason: "not interested", By: domain.InsightByRules})
	// Dialog 4: no campaign; has a tool.
	lost(c4, d4)
	insight(c4, d4, domain.RecordInsights{Summary: "Uses Pipedrive.", LossReason: "has a tool", Objections: []string{"has_a_tool"}, By: domain.InsightByRules})

	sink := newSink(t)
	r := w.runner(sink)
	r.Batch = 1
	catchUp(t, r)
	row1 := dialogN(t, sink, 1)
	want1 := projections.Insight{DialogID: d1, DialogN: 1, AccountID: row1.AccountID, Campaign: campaign, Variant: "A", Ended: "lost",
		Summary: "Too dear after the call.", LossReason: "price", Objections: []string{"price", "timing"}, By: domain.InsightByLLM,
		Insights: 2, PromptTokens: 300, CompletionTokens: 30, RecordedAt: last}
	wantTop := []projections.ObjectionCount{
		{Campaign: campaign, Variant: "A", Objection: "price", Dialogs: 2, WithInsight: 2, Share: 1},
		{Campaign: campaign, Variant: "A", Objection: "timing", Dialogs: 1, WithInsight: 2, Share: 0.5},
	}
	wantNone := []projections.ObjectionCount{{Variant: "A", Objection: "has_a_tool", Dialogs: 1, WithInsight: 1, Share: 1}}
	check := func(when string, want1 projections.Insight) {
		t.Helper()
		if got, err := sink.Insight(ctx, d1); err != nil || !reflect.DeepEqual(got, want1) {
			t.Fatalf("%s: insight of dialog 1\n got %+v (%v)\nwant %+v", when, got, err, want1)
		}
		if got, err := sink.Insight(ctx, d3); err != nil || got.Objections != nil || got.Ended != "lost" || got.Variant != "B" {
			t.Fatalf("%s: insight of dialog 3: %+v, %v", when, got, err)
		}
		if got, err := sink.Insight(ctx, d5); !errors.Is(err, projections.ErrNotFound) {
			t.Fatalf("%s: an open dialog's insight: %+v, %v", when, got, err)
		}
		if got, err := sink.TopObjections(ctx, campaign); err != nil || !reflect.DeepEqual(got, wantTop) {
			t.Fatalf("%s: top objections\n got %+v (%v)\nwant %+v", when, got, err, wantTop)
		}
		if got, err := sink.TopObjections(ctx, uuid.Nil); err != nil || !reflect.DeepEqual(got, wantNone) {
			t.Fatalf("%s: top objections without a campaign\n got %+v (%v)\nwant %+v", when, got, err, wantNone)
		}
		if got, err := sink.TopObjections(ctx, uuid.New()); err != nil || len(got) != 0 {
			t.Fatalf("%s: an unknown campaign's objections: %+v, %v", when, got, err)
		}
	}
	check("live", want1)
	if got, _ := sink.Insight(ctx, d2); got.Summary != "Reached offer." || got.By != domain.InsightByRules || got.Insights != 1 || got.PromptTokens != 0 {
		t.Fatalf("insight of dialog 2: %+v", got)
	}

	// Erasing dialog 1's lead blanks what was written about them.
	w.must(t)(w.h.Contact(ctx, c1, domain.ForgetContact{By: "admin:1"}))
	if err := w.store.Forget(ctx, c1.String()); err != nil {
		t.Fatal(err)
	}
	catchUp(t, r)
	erased := want1
	erased.Summary, erased.LossReason = projections.Forgotten, projections.Forgotten
	check("erased", erased)
	if got, _ := sink.Insight(ctx, d2); got.Summary != "Reached offer." {
		t.Fatalf("another lead's insight was blanked: %+v", got)
	}
	all := snapshot(t, sink, w)
	if err := sink.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sink.Insight(ctx, d1); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("an insight after reset: %v", err)
	}
	r.Batch = 1000
	catchUp(t, r)
	check("rebuilt", erased)
	if rebuilt := snapshot(t, sink, w); !reflect.DeepEqual(rebuilt, all) {
		t.Fatalf("rebuild differs:\nlive    %+v\nrebuilt %+v", all, rebuilt)
	}
}
