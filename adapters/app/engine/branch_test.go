package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/offline"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
)

// A lead parked in the example's nurture stage gets no regular follow-up:
// once, 30 days after our last message, the stage's own follow-up; then
// nothing more until they write.
func TestNurtureFollowsUpOnceAfterItsWait(t *testing.T) {
	ctx := context.Background()
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	store, err := eventstore.NewMemory(eventstore.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h := domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: c.Now}
	ids := int64(0)
	core := &engine.Core{H: h, Model: offline.New(), Scenario: sc, RandomID: func() int64 { ids++; return ids }}
	conv, _, err := engine.StartConversation(ctx, core, engine.ConversationOptions{Variant: "A", Opening: true})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := h.LoadDialog(ctx, conv.ID); engine.FollowUpAfter(sc, d) != 24*time.Hour {
		t.Fatalf("before nurture the follow-up is due after %v, want the scenario's 24h", engine.FollowUpAfter(sc, d))
	}
	var turn engine.Turn
	for _, m := range []string{"We build our pipeline reports by hand", "Our budget is about $30 a month"} {
		if turn, err = conv.Say(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if turn.Dialog.Stage != "nurture" {
		t.Fatalf("stage %s, want nurture", turn.Dialog.Stage)
	}
	if got := engine.FollowUpAfter(sc, turn.Dialog); got != 720*time.Hour {
		t.Errorf("in nurture the follow-up is due after %v, want 720h", got)
	}
	fu, err := conv.FollowUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fu.Sent) != 1 || !strings.HasPrefix(fu.Sent[0].Text, "Hello again from Acme Analytics.") || fu.Sent[0].Kind != domain.KindFollowUp {
		t.Fatalf("the nurture follow-up sent %+v, want the stage's follow_up", fu.Sent)
	}
	if got := engine.FollowUpAfter(sc, fu.Dialog); got != 0 {
		t.Errorf("after the nurture follow-up another is due after %v, want none", got)
	}
	again, err := conv.FollowUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Sent) != 0 {
		t.Errorf("a second nurture follow-up sent %+v", again.Sent)
	}
}
