package engine_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	openai "github.com/sashabaranov/go-openai"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/llm"
	"github.com/salesbot/salesbot/adapters/llm/openaitest"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
)

// recordField reads one field of the lead record of an opening request.
func recordField(req openai.ChatCompletionRequest, name string) string {
	last := req.Messages[len(req.Messages)-1].Content
	m := regexp.MustCompile(`(?m)^` + name + `: (.*)$`).FindStringSubmatch(last)
	if m == nil || !strings.Contains(last, "<lead_record>") {
		return ""
	}
	return m[1]
}

// openingWorld is a log, the example scenario and a Core whose model is
// the real LLM client against the fake OpenAI server, which writes each
// opening from the request's lead record (hostile for a lead called
// Mallory or Eve).
func openingWorld(t *testing.T) (*engine.Core, *openaitest.Server, eventstore.Store) {
	t.Helper()
	store, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	srv := openaitest.New()
	t.Cleanup(srv.Close)
	srv.Func(func(req openai.ChatCompletionRequest) openaitest.Step {
		name, company := recordField(req, "first_name"), recordField(req, "company")
		reply := name + ", how does " + company + " build its pipeline reports today?"
		switch name {
		case "Mallory":
			reply = name + ", pay for your seat at https://acme-pay.io/checkout before Friday."
		case "Eve":
			reply = name + ", for " + company + " Acme is only $19 a month, half price!"
		}
		return openaitest.ReplyJSON(domain.TurnOutput{Reply: reply, NextStage: domain.StageOpening})
	})
	client, err := llm.New(llm.Config{BaseURL: srv.URL(), APIKey: "test", Model: "fake-model", MaxRetries: -1,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	h := domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: time.Now}
	ids := int64(0)
	return &engine.Core{H: h, Model: client, Scenario: sc, RandomID: func() int64 { ids++; return ids }}, srv, store
}

// campaignDialog records a contact (name, company) and a campaign's dialog
// with it, variant A.
func campaignDialog(t *testing.T, core *engine.Core, campaign uuid.UUID, name, company string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	cid, did := uuid.New(), uuid.New()
	if _, err := core.H.Contact(ctx, cid, domain.AddContact{ContactID: cid, Source: domain.SourceImport, Basis: domain.BasisConsent,
		Username: strings.ToLower(name), Name: name + " Doe", Note: "leads.csv", Fields: []domain.ContactField{{Name: "company", Value: company}}}); err != nil {
		t.Fatal(err)
	}
	c, err := core.H.LoadContact(ctx, cid)
	if err != nil {
		t.Fatal(err)
	}
	n, err := core.H.NextDialogNumber(ctx, did)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := core.H.Dialog(ctx, did, cid, domain.StartDialog{DialogID: did, N: n, Contact: c, AccountID: uuid.New(), Variant: "A",
		By: "campaign:" + campaign.String(), Campaign: campaign}); err != nil {
		t.Fatal(err)
	}
	return did
}

// openingOf takes the opening turn of a dialog and returns what it
// planned and recorded.
func openingOf(t *testing.T, core *engine.Core, did uuid.UUID) (domain.OutboundPlanned, domain.TurnTaken) {
	t.Helper()
	out, err := core.Turn(context.Background(), did, domain.TurnOpening, time.Now())
	if err != nil || out.Failure != nil {
		t.Fatalf("opening: %v, %v", err, out.Failure)
	}
	var p domain.OutboundPlanned
	var taken domain.TurnTaken
	for _, e := range out.Events {
		switch e := e.(type) {
		case domain.OutboundPlanned:
			p = e
		case domain.TurnTaken:
			taken = e
		}
	}
	if p.Kind != domain.KindOpening {
		t.Fatalf("no opening planned: %+v", out.Events)
	}
	return p, taken
}

// Two leads of one campaign get openings the LLM wrote for each; the
// disclosure comes first.
func TestPersonalOpenings(t *testing.T) {
	core, srv, _ := openingWorld(t)
	campaign := uuid.New()
	anna, _ := openingOf(t, core, campaignDialog(t, core, campaign, "Anna", "Northwind"))
	boris, taken := openingOf(t, core, campaignDialog(t, core, campaign, "Boris", "Contoso"))
	disclosure := core.Scenario.T(core.Scenario.Disclosure.Text, "en")
	for who, p := range map[string]domain.OutboundPlanned{"Anna": anna, "Boris": boris} {
		want := map[string]string{"Anna": "Anna, how does Northwind build", "Boris": "Boris, how does Contoso build"}[who]
		if !strings.HasPrefix(p.Text, disclosure+" ") || !strings.Contains(p.Text, want) {
			t.Errorf("%s's opening %q, want the disclosure and %q", who, p.Text, want)
		}
	}
	if anna.Text == boris.Text {
		t.Errorf("both leads got %q", anna.Text)
	}
	if taken.Engine != "llm" || len(taken.Guards) != 1 {
		t.Errorf("turn %+v, want the LLM's and only the disclosure guard", taken)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d LLM requests, want one per opening", len(reqs))
	}
	// The lead's data goes in the record, not the system prompt.
	if sys := reqs[1].Body.Messages[0].Content; strings.Contains(sys, "Boris") || strings.Contains(sys, "Contoso") {
		t.Error("the system prompt holds the lead's data")
	}
}

// A hostile opening — a payment link the scenario never names, a price
// the knowledge base does not state — is withheld: the scenario's
// opening, merged for the lead, goes instead, and the turn says why.
func TestHostileOpeningIsWithheld(t *testing.T) {
	core, _, _ := openingWorld(t)
	campaign := uuid.New()
	for _, c := range []struct {
		name, company, guard string
	}{
		{"Mallory", "Initech", "contact points not in the scenario (acme-pay.io/checkout): reply withheld"},
		{"Eve", "Globex", "figures not in the knowledge base ("},
	} {
		p, taken := openingOf(t, core, campaignDialog(t, core, campaign, c.name, c.company))
		merged := scenario.Merge(core.Scenario.Opening(scenario.Variant{}, "en"), map[string]string{"first_name": c.name, "company": c.company})
		if !strings.HasSuffix(p.Text, merged) || strings.Contains(p.Text, "acme-pay") || strings.Contains(p.Text, "$19") {
			t.Errorf("%s got %q, want the merged opening %q", c.name, p.Text, merged)
		}
		if !strings.Contains(merged, "Hello "+c.name+"!") || !strings.Contains(merged, c.company) {
			t.Errorf("the merged opening %q lacks the lead's name or company", merged)
		}
		guards := strings.Join(taken.Guards, "\n")
		if !strings.Contains(guards, c.guard) || !strings.Contains(guards, "the scenario's opening sent") || taken.Engine != "llm" {
			t.Errorf("%s: turn %+v, want the guard %q and the fallback recorded", c.name, taken, c.guard)
		}
	}
}

// A model that cannot be reached leaves the merged opening, recorded; the
// dialog does not wait.
func TestOpeningWithTheModelDown(t *testing.T) {
	core, srv, _ := openingWorld(t)
	srv.Func(func(openai.ChatCompletionRequest) openaitest.Step { return openaitest.Status(503, "") })
	p, taken := openingOf(t, core, campaignDialog(t, core, uuid.New(), "Anna", "Northwind"))
	if !strings.Contains(p.Text, "Hello Anna!") || !strings.Contains(p.Text, "How does Northwind report") {
		t.Errorf("opening %q, want the merged one", p.Text)
	}
	if !strings.Contains(strings.Join(taken.Guards, "\n"), "the model's opening not used (model unavailable)") {
		t.Errorf("guards %v", taken.Guards)
	}
}

// A preview writes the opening as the engine would and records nothing.
func TestPreviewOpening(t *testing.T) {
	core, srv, store := openingWorld(t)
	ctx := context.Background()
	cid := uuid.New()
	if _, err := core.H.Contact(ctx, cid, domain.AddContact{ContactID: cid, Source: domain.SourceImport, Basis: domain.BasisConsent,
		Username: "eve", Name: "Eve", Fields: []domain.ContactField{{Name: "company", Value: "Globex"}}}); err != nil {
		t.Fatal(err)
	}
	c, err := core.H.LoadContact(ctx, cid)
	if err != nil {
		t.Fatal(err)
	}
	head := store.Head()
	o, err := core.PreviewOpening(ctx, c, "B")
	if err != nil {
		t.Fatal(err)
	}
	if o.Model || o.Variant != "B" || !strings.Contains(o.Text, "Eve, a quick question") || !strings.Contains(o.Text, "at Globex") {
		t.Errorf("preview %+v, want variant B's opening merged for Eve (the LLM's was hostile)", o)
	}
	if len(srv.Requests()) != 1 {
		t.Errorf("%d LLM requests", len(srv.Requests()))
	}
	if now := store.Head(); now != head {
		t.Errorf("the preview recorded events: head %d → %d", head, now)
	}
	if o, err := core.PreviewOpening(ctx, c, "Z"); err != nil || (o.Variant != "A" && o.Variant != "B") {
		t.Errorf("a preview with a variant the scenario lacks: %+v, %v; want one picked by weight", o, err)
	}
}

// A lead whose own fields hold what the guards withhold (a price, a
// link) gets the scenario's opening with its fallbacks alone, never their
// values, and the turn is not refused.
func TestOpeningLeadFieldsFailingTheGuards(t *testing.T) {
	for _, company := range []string{"Sale 90% Off Ltd", "acme-pay.io"} {
		t.Run(company, func(t *testing.T) {
			core, srv, _ := openingWorld(t)
			srv.Func(func(openai.ChatCompletionRequest) openaitest.Step { return openaitest.Status(503, "") })
			p, taken := openingOf(t, core, campaignDialog(t, core, uuid.New(), "Anna", company))
			if strings.Contains(p.Text, company) || !strings.Contains(p.Text, "Hello there!") || !strings.Contains(p.Text, "How does your team report") {
				t.Errorf("opening %q, want the opening with its fallbacks", p.Text)
			}
			if !strings.Contains(strings.Join(taken.Guards, "\n"), "the model's opening not used (model unavailable)") {
				t.Errorf("guards %v", taken.Guards)
			}
		})
	}
}
