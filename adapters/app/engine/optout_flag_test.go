package engine_test

import (
	"context"
	"testing"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/domain"
)

// flagModel answers every turn with one output (a model's judgement).
type flagModel struct{ out domain.TurnOutput }

func (m flagModel) Turn(context.Context, domain.TurnInput) (domain.TurnOutput, domain.Usage, error) {
	return m.out, domain.Usage{Engine: "llm", Model: "fake"}, nil
}

var _ domain.Model = flagModel{}

// The model's opt_out flag is a second opinion to the phrase table: given
// a message the table does not catch, when the model flags an opt-out,
// then the dialog ends as it does for "stop": the scenario's one
// confirmation (not the model's reply), closed as opted out, and the
// contact on the do-not-contact list. Without the flag the same message
// is answered.
func TestModelOptOutFlagIsASecondOpinion(t *testing.T) {
	const msg = "Мне кажется, нам с вами не по пути. Всего доброго."
	if domain.IsOptOut(msg) {
		t.Fatalf("the phrase table catches %q: pick a message only the model judges", msg)
	}
	for _, c := range []struct {
		name   string
		flag   bool
		closed bool
	}{
		{"flagged", true, true},
		{"not flagged", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			core := talkCore(t)
			core.Model = flagModel{domain.TurnOutput{Reply: "Понимаю! А сколько у вас менеджеров?", NextStage: domain.StageDiscovery, Flags: domain.TurnFlags{OptOut: c.flag}}}
			conv, _, err := engine.StartConversation(t.Context(), core, engine.ConversationOptions{})
			if err != nil {
				t.Fatal(err)
			}
			turn, err := conv.Say(t.Context(), msg)
			if err != nil {
				t.Fatal(err)
			}
			contact, err := core.H.LoadContact(t.Context(), conv.Contact)
			if err != nil {
				t.Fatal(err)
			}
			if !c.closed {
				if turn.OptedOut || contact.OptedOut || turn.Dialog.Stage == domain.StageClosed || len(turn.Sent) != 1 || turn.Sent[0].Kind != domain.KindReply {
					t.Fatalf("an unflagged message ended the dialog: %+v, contact opted out %v", turn, contact.OptedOut)
				}
				return
			}
			if !turn.OptedOut || turn.Dialog.Stage != domain.StageClosed || turn.Dialog.Outcome != domain.OutcomeOptedOut {
				t.Errorf("the flagged opt-out did not close the dialog as opted out: %+v", turn.Dialog)
			}
			if !contact.OptedOut {
				t.Error("the contact is not on the do-not-contact list")
			}
			if len(turn.Sent) != 1 || turn.Sent[0].Kind != domain.KindConfirmation || turn.Sent[0].Text != core.Scenario.T(core.Scenario.Replies.OptOut, "ru") {
				t.Errorf("sent %+v, want only the scenario's Russian opt-out confirmation", turn.Sent)
			}
			if turn.Taken == nil || len(turn.Taken.Flags) == 0 || turn.Taken.Flags[0] != "opt-out" {
				t.Errorf("the turn does not record the opt-out flag: %+v", turn.Taken)
			}
			after, err := conv.Say(t.Context(), "Hello?")
			if err != nil {
				t.Fatal(err)
			}
			if len(after.Sent) != 0 || after.Taken != nil {
				t.Errorf("the assistant wrote again after the opt-out: %+v", after)
			}
		})
	}
}
