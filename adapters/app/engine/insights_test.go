package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	openai "github.com/sashabaranov/go-openai"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/llm"
	"github.com/salesbot/salesbot/adapters/llm/openaitest"
	"github.com/salesbot/salesbot/adapters/offline"
	"github.com/salesbot/salesbot/domain"
)

// runInsights starts the insights' follower with analyst until the
// returned stop is called.
func (w *world) runInsights(analyst domain.Analyst) (stop func()) {
	ins, err := engine.NewInsights(engine.InsightsConfig{H: w.h, Scenario: w.sc, Store: w.store, Decode: eventlog.New(w.store).Decode,
		Analyst: analyst, Now: w.clock.Now, Timeout: 5 * time.Second})
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ins.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			w.t.Errorf("insights: %v", err)
		}
	}
}

// lostOverPrice is a dialog with the offline engine in which the lead
// finds the price too high and then is not interested: closed as lost.
func (w *world) lostOverPrice() *engine.Conversation {
	ctx := context.Background()
	core := &engine.Core{H: w.h, Model: offline.New(), Scenario: w.sc}
	c, _, err := engine.StartConversation(ctx, core, engine.ConversationOptions{Opening: true})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, m := range []string{"How much is it?", "Hmm, that is too expensive for us.", "Not interested, thanks."} {
		if _, err := c.Say(ctx, m); err != nil {
			w.t.Fatal(err)
		}
	}
	if d, _ := w.h.LoadDialog(ctx, c.ID); d.Outcome != domain.OutcomeLost {
		w.t.Fatalf("the dialog is %s/%s, want closed as lost", d.Stage, d.Outcome)
	}
	return c
}

func (w *world) insight(did uuid.UUID) *domain.InsightsRecorded {
	d, err := w.h.LoadDialog(context.Background(), did)
	if err != nil {
		w.t.Fatal(err)
	}
	return d.Insights.Last
}

func TestInsightOfflineRules(t *testing.T) {
	w := newWorld(t)
	c := w.lostOverPrice()
	stop := w.runInsights(offline.New())
	eventually(t, "the insight", func() bool { return w.insight(c.ID) != nil })
	stop()
	got := w.insight(c.ID)
	if got.By != domain.InsightByRules || got.Outcome != domain.OutcomeLost || !slices.Equal(got.Objections, []string{"price"}) {
		t.Errorf("insight = %+v, want by rules, lost, objection price", got)
	}
	if !strings.Contains(got.Summary, "Not interested, thanks.") || !strings.HasPrefix(got.LossReason, "Too expensive") {
		t.Errorf("summary %q, loss reason %q", got.Summary, got.LossReason)
	}

	// A restart records nothing again; a dialog that closed while it was
	// stopped gets its insight then.
	later := w.lostOverPrice()
	stop = w.runInsights(nil)
	eventually(t, "the later dialog's insight", func() bool { return w.insight(later.ID) != nil })
	stop()
	if n := w.count(c.ID, "InsightsRecorded"); n != 1 {
		t.Errorf("the first dialog has %d insights after a restart, want 1", n)
	}
}

func TestInsightOfAHandoff(t *testing.T) {
	w := newWorld(t)
	did, cid := w.dialog("inbound")
	w.say(did, cid, "We already use Pipedrive, and it's not my decision")
	if _, err := w.h.Dialog(context.Background(), did, cid, domain.RequestHandoff{Reason: "wants a person"}); err != nil {
		t.Fatal(err)
	}
	stop := w.runInsights(nil)
	defer stop()
	eventually(t, "the insight", func() bool { return w.insight(did) != nil })
	got := w.insight(did)
	if !got.Handoff || got.LossReason != "" || !slices.Equal(got.Objections, []string{"has_a_tool", "no_authority"}) {
		t.Errorf("insight = %+v", got)
	}
}

// analyst is an Analyst double that answers as told, or blocks until
// released.
type analyst struct {
	mu    sync.Mutex
	calls int
	out   domain.InsightOutput
	err   error
	block chan struct{}
}

func (a *analyst) Insight(ctx context.Context, in domain.InsightInput) (domain.InsightOutput, domain.Usage, error) {
	a.mu.Lock()
	a.calls++
	a.mu.Unlock()
	if a.block != nil {
		select {
		case <-a.block:
		case <-ctx.Done():
			return domain.InsightOutput{}, domain.Usage{}, ctx.Err()
		}
	}
	return a.out, domain.Usage{Engine: "llm", Model: "fake", PromptTokens: 300, CachedPromptTokens: 128, CompletionTokens: 30}, a.err
}

func TestInsightByTheModel(t *testing.T) {
	w := newWorld(t)
	c := w.lostOverPrice()
	a := &analyst{out: domain.InsightOutput{Summary: "Found Team too dear.", LossReason: "price", Objections: []string{"price", "invented", "timing"}}}
	stop := w.runInsights(a)
	eventually(t, "the insight", func() bool { return w.insight(c.ID) != nil })
	stop()
	got := w.insight(c.ID)
	want := domain.InsightsRecorded{Summary: "Found Team too dear.", LossReason: "price", Objections: []string{"price", "timing"}, By: domain.InsightByLLM,
		Outcome: domain.OutcomeLost, Model: "fake", PromptTokens: 300, CachedPromptTokens: 128, CompletionTokens: 30}
	if fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Errorf("insight\n got %+v\nwant %+v", *got, want)
	}
}

// TestInsightGarbageFallsBack: an LLM (the fake OpenAI server) answering
// garbage gets the rules' insight instead.
func TestInsightGarbageFallsBack(t *testing.T) {
	w := newWorld(t)
	c := w.lostOverPrice()
	srv := openaitest.New()
	defer srv.Close()
	srv.Func(func(openai.ChatCompletionRequest) openaitest.Step {
		return openaitest.Reply(`{"summary": 42, "objections": "price"} trailing`)
	})
	client, err := llm.New(llm.Config{BaseURL: srv.URL(), APIKey: "sk-test", Model: "gpt-test", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	stop := w.runInsights(client)
	eventually(t, "the insight", func() bool { return w.insight(c.ID) != nil })
	stop()
	got := w.insight(c.ID)
	if got.By != domain.InsightByRules || !slices.Equal(got.Objections, []string{"price"}) || got.PromptTokens != 0 {
		t.Errorf("insight = %+v, want the rules' with objection price", got)
	}
	if len(srv.Requests()) != 1 {
		t.Errorf("the model was asked %d times, want 1", len(srv.Requests()))
	}
}

// TestInsightNeverDelaysReplies: while the model writing an insight
// hangs, the engine answers another lead.
func TestInsightNeverDelaysReplies(t *testing.T) {
	w := newWorld(t)
	c := w.lostOverPrice()
	a := &analyst{block: make(chan struct{}), out: domain.InsightOutput{Summary: "late"}}
	stopInsights := w.runInsights(a)
	eventually(t, "the model asked for the insight", func() bool { a.mu.Lock(); defer a.mu.Unlock(); return a.calls == 1 })
	stopEngine := w.run()
	did, cid := w.dialog("inbound")
	w.say(did, cid, "hello")
	w.clock.Add(time.Minute) // past the debounce
	eventually(t, "the reply", func() bool { return len(w.turns(did)) == 1 })
	stopEngine()
	if w.insight(c.ID) != nil {
		t.Error("the insight was recorded while the model hung")
	}
	close(a.block)
	eventually(t, "the insight", func() bool { return w.insight(c.ID) != nil })
	stopInsights()
}

// A lead whose budget sends the dialog to the example's nurture exit
// gets an insight of the nurture, without a loss reason.
func TestInsightOfANurtureExit(t *testing.T) {
	w := newWorld(t)
	did, cid := w.dialog("inbound")
	w.say(did, cid, "Too expensive for us now, maybe next year")
	ctx := context.Background()
	if _, err := w.h.Dialog(ctx, did, cid, domain.UpdateQualification{Qual: domain.Qualification{Budget: &domain.Field{Value: "30 USD", Confidence: 0.9}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.h.Dialog(ctx, did, cid, domain.ChangeStage{To: "nurture", Graph: domain.GraphOf(w.sc)}); err != nil {
		t.Fatal(err)
	}
	stop := w.runInsights(nil)
	defer stop()
	eventually(t, "the insight", func() bool { return w.insight(did) != nil })
	got := w.insight(did)
	if !got.Nurture || got.Handoff || got.LossReason != "" || !slices.Equal(got.Objections, []string{"price", "timing"}) {
		t.Errorf("insight = %+v", got)
	}
}
