package engine_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/llm"
	"github.com/salesbot/salesbot/adapters/llm/openaitest"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
	"github.com/salesbot/salesbot/projections/sinktest"
)

// The prompt tokens a provider served from its prompt cache go from the
// API's usage block to the turn's event and on to PostgreSQL: the turns
// row, the dialog's sum, the totals.
func TestCachedTokensReachPostgres(t *testing.T) {
	ctx := t.Context()
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	out := domain.TurnOutput{Reply: "What does your team do today to build reports?", NextStage: "discovery", Score: 20}
	srv := openaitest.New(openaitest.ReplyJSON(out).WithUsage(1200, 40).WithCachedTokens(1024))
	defer srv.Close()
	store, err := eventstore.Open(t.TempDir(), eventstore.Options{MasterKey: bytes.Repeat([]byte{7}, eventstore.MasterKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h := domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: time.Now}
	core, _, err := engine.NewCore(engine.CoreConfig{H: h, Scenario: sc,
		LLM: &llm.Config{BaseURL: srv.URL(), APIKey: "test", Model: "fake-model", MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	conv, _, err := engine.StartConversation(ctx, core, engine.ConversationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	turn, err := conv.Say(ctx, "Hi, we build our reports by hand")
	if err != nil {
		t.Fatal(err)
	}
	if turn.Taken == nil || turn.Taken.PromptTokens != 1200 || turn.Taken.CachedPromptTokens != 1024 {
		t.Fatalf("TurnTaken %+v; want 1200 prompt tokens, 1024 of them cached", turn.Taken)
	}
	sink, err := projections.OpenPostgres(ctx, sinktest.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if _, err := (projections.Runner{Store: store, Decode: eventlog.New(store).Decode, Sink: sink}).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	turns, err := sink.Turns(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(turns) != 1 || turns[0].CachedPromptTokens != 1024 || turns[0].PromptTokens != 1200 {
		t.Fatalf("turns rows %+v; want one with 1024 of 1200 prompt tokens cached", turns)
	}
	d, err := sink.DialogByN(ctx, conv.N)
	if err != nil || d.CachedPromptTokens != 1024 {
		t.Fatalf("dialog %d: %+v, %v; want 1024 cached prompt tokens", conv.N, d, err)
	}
	totals, err := sink.Totals(ctx)
	if err != nil || totals.CachedPromptTokens != 1024 || totals.PromptTokens != 1200 {
		t.Fatalf("totals %+v, %v; want 1024 of 1200 prompt tokens cached", totals, err)
	}
}
