package campaigns_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// A self-optimizing campaign on the scheduler: three variants, A the
// control (5% reply), B better (40%), C with many opt-outs (30% of its
// leads say stop). Over four working days the scheduler reweights from
// the outcomes it folds: B ends up with most new dialogs, C is paused by
// the stop rule (and admins hear of it), and the stats show it all.
func TestSelfOptimizingCampaign(t *testing.T) {
	w := newWorld(t, week, 11)
	setup(w, 4, 1000, utcLimits(60))
	id := w.createCampaign(domain.CreateCampaign{Optimize: domain.GoalReplied,
		Variants: []domain.VariantWeight{{Name: "A", Weight: 1}, {Name: "B", Weight: 1}, {Name: "C", Weight: 1}},
		Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 7)}})
	reply := map[string]float64{"A": 0.05, "B": 0.40, "C": 0.05}
	optOut := map[string]float64{"C": 0.30}
	pos := uint64(1)
	answer := func(now time.Time) { // the leads of the dialogs opened since the last look
		for {
			recs, err := w.store.ReadAll(w.ctx, pos, 1024)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) == 0 {
				return
			}
			for i := range recs {
				pos = recs[i].Position + 1
				if recs[i].Type != (domain.DialogStarted{}).EventType() {
					continue
				}
				e, err := w.ev.Decode(&recs[i])
				if err != nil {
					t.Fatal(err)
				}
				d := e.(domain.DialogStarted)
				switch x := w.rng.Float64(); {
				case x < optOut[d.Variant]:
					_, err = w.h.Dialog(w.ctx, d.DialogID, d.ContactID, domain.OptOutDialog{Reason: "stop"})
				case x < optOut[d.Variant]+reply[d.Variant]:
					_, err = w.h.Dialog(w.ctx, d.DialogID, d.ContactID, domain.RecordInbound{TelegramMessageID: 1, Text: "tell me more", At: now})
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for d := range 4 {
		w.run(day(d, "09:00"), day(d, "18:00"), answer)
	}

	var changes []domain.CampaignWeightsChanged
	evs, _, err := w.h.Log.Load(w.ctx, domain.CampaignStream(id))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if c, ok := e.(domain.CampaignWeightsChanged); ok {
			changes = append(changes, c)
		}
	}
	if len(changes) == 0 {
		t.Fatal("no weight change recorded")
	}
	last := changes[len(changes)-1]
	weight := func(name string) int {
		for _, v := range last.Weights {
			if v.Name == name {
				return v.Weight
			}
		}
		return -1
	}
	if weight("B") < 800 || weight("C") != 0 || !strings.Contains(strings.Join(last.Paused, ","), "C") {
		t.Fatalf("last change: %+v", last)
	}
	var pausedAt time.Time
	for _, c := range changes {
		if len(c.Paused) > 0 {
			pausedAt = c.At
			break
		}
	}
	if !strings.Contains(last.Reason+changes[0].Reason, "new outcome") {
		t.Fatalf("reasons: %q, %q", changes[0].Reason, last.Reason)
	}
	// The claims: after the pause none goes to C; on the last day most go to B.
	byVariant, lastDay := map[string]int{}, 0
	for _, r := range w.events() {
		ct, ok := r.e.(domain.CampaignTargeted)
		if !ok || ct.CampaignID != id {
			continue
		}
		if ct.Variant == "C" && r.at.After(pausedAt) {
			t.Fatalf("a claim for the paused C at %s (paused at %s)", r.at, pausedAt)
		}
		if !r.at.Before(day(3, "00:00")) {
			byVariant[ct.Variant]++
			lastDay++
		}
	}
	if lastDay < 100 || float64(byVariant["B"]) < 0.75*float64(lastDay) {
		t.Fatalf("the last day's claims by variant: %v of %d", byVariant, lastDay)
	}
	if n := w.noticed("campaign-variant-paused"); n != 1 {
		t.Fatalf("admins heard of the pause %d times, want once", n)
	}
	t.Logf("%d weight changes; the last: %s, paused %v (%s); last day's claims %v", len(changes), domain.VariantsText(last.Weights), last.Paused, last.Reason, byVariant)

	// A restart from the log alone folds the same outcomes: its first
	// step records nothing new (the weights would barely move).
	w.sched = w.newScheduler(w.h)
	w.step()
	if evs2, _, _ := w.h.Log.Load(w.ctx, domain.CampaignStream(id)); len(evs2) != len(evs) {
		t.Fatalf("a restart changed the weights again: %d events, were %d", len(evs2), len(evs))
	}

	// The stats.
	sink := projections.NewMemory()
	r := projections.Runner{Store: w.store, Decode: w.ev.Decode, Sink: sink}
	if _, err := r.CatchUp(w.ctx); err != nil {
		t.Fatal(err)
	}
	st, err := campaigns.StatsOn(w.ctx, sink, id.String(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := st.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Optimizing for replied (Thompson sampling, at least 10% per active variant",
		"VARIANT  SHARE   POSTERIOR", "\nC        paused  Beta(", "last change 2026-11-2"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("stats lack %q:\n%s", want, b.String())
		}
	}
	j, _ := json.Marshal(st.JSON())
	if !strings.Contains(string(j), `"optimizer":{"goal":"replied","variants":[{"variant":"A"`) || !strings.Contains(string(j), `"paused":true`) {
		t.Errorf("stats JSON: %s", j)
	}
	t.Logf("stats:\n%s", b.String())
}
