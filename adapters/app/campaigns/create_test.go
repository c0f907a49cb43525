package campaigns_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// readModels brings an in-memory read model up to the world's log.
func (w *world) readModels() projections.Sink {
	w.t.Helper()
	sink := projections.NewMemory()
	if _, err := (projections.Runner{Store: w.store, Decode: w.ev.Decode, Sink: sink}).CatchUp(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	return sink
}

// Create applies the rules only it can check (a name no campaign has,
// accounts that exist, each once), counts the segment as the scheduler
// folds it, and the scheduler then opens exactly the contacts counted.
func TestCreate(t *testing.T) {
	w := newWorld(t, week, 1)
	accs, cs := setup(w, 2, 5, utcLimits(40))
	w.addAccount("twin", utcLimits(40))
	w.addAccount("twin", utcLimits(40))
	w.optOut(cs[1])
	w.addContact(99, "retail")
	// A campaign whose name Q1's checks meet; it opens only the retail
	// contact, so Q1's contacts are in no dialog of its (a contact in an
	// open dialog cannot be opened again, as with the real opener).
	w.createCampaign(domain.CreateCampaign{Name: "First", Segment: domain.Segment{Tags: []string{"retail"}}, Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 1)}})
	sink := w.readModels()
	req := func(name string, accounts ...string) campaigns.CreateRequest {
		return campaigns.CreateRequest{Accounts: accounts, CreateCampaign: domain.CreateCampaign{Name: name, Scenario: "acme", By: "cli",
			Segment: domain.Segment{Tags: []string{"saas"}}, Offered: []domain.VariantWeight{{Name: "A", Weight: 70}, {Name: "B", Weight: 0}},
			Schedule: domain.CampaignSchedule{Start: week.Add(9 * time.Hour), End: week.AddDate(0, 0, 5)}}}
	}
	for _, c := range []struct {
		req   campaigns.CreateRequest
		field string
	}{
		{req("first"), "name"},
		{req(" "), "name"},
		{req("Q1", "nobody"), "accounts"},
		{req("Q1", "twin"), "accounts"},
		{req("Q1", "sales-0", "SALES-0"), "accounts"},
		{req("Q1", accs[0].String(), "sales-0"), "accounts"},
	} {
		_, err := campaigns.Create(w.ctx, w.h, w.store, sink, c.req)
		if domain.ErrorCode(err) != domain.EINVALID || domain.ErrorField(err) != c.field {
			t.Errorf("%q with accounts %q: %v; want EINVALID on %s", c.req.Name, c.req.Accounts, err, c.field)
		}
	}
	created, err := campaigns.Create(w.ctx, w.h, w.store, sink, req(" Q1 ", "sales-1", accs[0].String()))
	if err != nil {
		t.Fatal(err)
	}
	if created.Name != "Q1" || len(created.Accounts) != 2 || created.Accounts[0] != accs[1] || created.Labels[1] != "sales-0" {
		t.Fatalf("created %+v", created)
	}
	if want := []domain.VariantWeight{{Name: "A", Weight: 70}, {Name: "B", Weight: 1}}; len(created.Variants) != 2 || created.Variants[1] != want[1] {
		t.Fatalf("variants %v, want the scenario's %v", created.Variants, want)
	}
	if created.Audience != (campaigns.Audience{Contactable: 4, Matched: 5}) {
		t.Fatalf("audience %+v, want 4 of 5 saas contacts (one opted out)", created.Audience)
	}
	var text strings.Builder
	if err := created.WriteText(&text); err != nil || !strings.Contains(text.String(), "variants A 70, B 1\n") ||
		!strings.Contains(text.String(), "segment (tags saas) selects 4 contacts now (1 more match but may not be written to") {
		t.Fatalf("the text of the campaign created: %q %v", text.String(), err)
	}
	got, err := w.h.LoadCampaign(w.ctx, created.CampaignID)
	if err != nil || got.Name != "Q1" {
		t.Fatalf("the log's campaign: %+v %v", got, err)
	}
	// The scheduler opens whom the count said, no one else.
	w.run(week, week.AddDate(0, 0, 5), nil)
	opened := 0
	for _, r := range dialogs(w.events()) {
		if r.e.(domain.DialogStarted).Campaign == created.CampaignID {
			opened++
		}
	}
	if opened != created.Audience.Contactable {
		t.Fatalf("the scheduler opened %d dialogs; the count said %d", opened, created.Audience.Contactable)
	}
	if v := w.opener.violated(); len(v) > 0 {
		t.Fatal(v)
	}
	// The read models list it and its stats.
	sink = w.readModels()
	list, err := campaigns.List(w.ctx, sink)
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %+v %v", list, err)
	}
	st, err := campaigns.StatsOf(w.ctx, sink, "Q1", time.Time{})
	if err != nil || st.Campaign.ID != created.CampaignID || len(st.Rows) != 2 || st.Rows[0].Variant != "A" {
		t.Fatalf("stats: %+v %v", st, err)
	}
	if j := st.JSON(); j.Campaign.Totals.Dialogs != opened || j.Since != nil || j.Variants[0].Weight != 70 {
		t.Fatalf("stats as JSON: %+v", j)
	}
	// A deal won in variant A: the stats show its revenue, and the A/B
	// test can run on won deals.
	for _, r := range dialogs(w.events()) {
		if st := r.e.(domain.DialogStarted); st.Campaign == created.CampaignID && st.Variant == "A" {
			if _, err := w.h.Dialog(w.ctx, st.DialogID, st.ContactID, domain.RecordOutcome{Outcome: domain.OutcomeWon, Amount: "990", Currency: "EUR", By: "cli"}); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	sink = w.readModels()
	st, err = campaigns.StatsOn(w.ctx, sink, "Q1", time.Time{}, "won")
	if err != nil || len(st.Tests) != 1 || st.Tests[0].Metric != "won" || st.Tests[0].ControlX != 1 {
		t.Fatalf("stats on won: %+v %v", st.Tests, err)
	}
	if j := st.JSON(); j.Variants[0].Won != 1 || len(j.Variants[0].Revenue) != 1 || j.Variants[0].Revenue[0] != (campaigns.Money{Amount: "990.00", Currency: "EUR"}) {
		t.Fatalf("revenue as JSON: %+v", j.Variants)
	}
	text.Reset()
	if err := st.WriteText(&text); err != nil || !strings.Contains(text.String(), "revenue of A: 990.00 EUR\n") || !strings.Contains(text.String(), "  won  ") {
		t.Fatalf("stats on won as text: %q %v", text.String(), err)
	}
	// Two of variant A's dialogs lost over the price, one of them over
	// timing too: the stats' top objections by variant.
	if j := st.JSON(); j.Objections == nil || len(j.Objections) != 0 {
		t.Fatalf("objections before any insight: %#v", j.Objections)
	}
	lost := 0
	for _, r := range dialogs(w.events()) {
		st := r.e.(domain.DialogStarted)
		if st.Campaign != created.CampaignID || st.Variant != "A" || lost == 2 {
			continue
		}
		if d, _ := w.h.LoadDialog(w.ctx, st.DialogID); d.Stage == domain.StageClosed {
			continue // the won one
		}
		if _, err := w.h.Dialog(w.ctx, st.DialogID, st.ContactID, domain.CloseDialog{Outcome: domain.OutcomeLost, By: "cli"}); err != nil {
			t.Fatal(err)
		}
		objections := []string{"price", "timing"}[:1+lost]
		if _, err := w.h.Dialog(w.ctx, st.DialogID, st.ContactID, domain.RecordInsights{Summary: "Too dear.", LossReason: "price",
			Objections: objections, Known: objections, By: domain.InsightByRules}); err != nil {
			t.Fatal(err)
		}
		lost++
	}
	sink = w.readModels()
	if st, err = campaigns.StatsOf(w.ctx, sink, "Q1", time.Time{}); err != nil {
		t.Fatal(err)
	}
	want := []campaigns.ObjectionJSON{{Variant: "A", Objection: "price", Dialogs: 2, WithInsight: 2, Share: 1}, {Variant: "A", Objection: "timing", Dialogs: 1, WithInsight: 2, Share: 0.5}}
	if j := st.JSON(); !reflect.DeepEqual(j.Objections, want) {
		t.Fatalf("objections as JSON: %+v", j.Objections)
	}
	text.Reset()
	if err := st.WriteText(&text); err != nil || !strings.Contains(text.String(), "Top objections") || !strings.Contains(text.String(), "timing     1 of 2   50.0%") {
		t.Fatalf("objections as text: %q %v", text.String(), err)
	}
	if _, err := campaigns.StatsOn(w.ctx, sink, "Q1", time.Time{}, "revenue"); !errors.Is(err, campaigns.ErrMetric) {
		t.Fatalf("stats on no metric: %v", err)
	}
	if _, err := campaigns.Find(w.ctx, sink, "nothing"); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("find a campaign that is not there: %v", err)
	}
}
