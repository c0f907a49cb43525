package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/llm/openaitest"
	"github.com/salesbot/salesbot/domain"
)

// TestChatWithAHostileModel is issue 19's "done means" for the guards:
// `salesbot chat` against an OpenAI-compatible server whose answers are
// well-formed but hostile (as a prompt-injected model's would be). None
// of them is printed as the assistant's words; each is replaced by the
// handoff note, and the guard that withheld it is shown. The scenario is
// the shipped example with Starter at $59, so "forty-nine dollars" is a
// price the company never named; a reply that says "fifty-nine dollars"
// (a price it did name) is sent, so the guards are no blanket refusal.
func TestChatWithAHostileModel(t *testing.T) {
	ex := run(t, nil, "scenario", "example")
	if ex.code != 0 || !strings.Contains(ex.stdout, "$49 per user per month") {
		t.Fatalf("scenario example: %+v", ex)
	}
	file := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(ex.stdout, "$49", "$59")), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, reply string
		guard       string // what the chat shows of the guard
		handoff     string
	}{
		{"payment link", "Great choice! Pay here to lock the price: https://acme-analytics-pay.io/checkout?plan=team", "guard: contact points not in the scenario (acme-analytics-pay.io/checkout?plan=team)", domain.ReasonContactPoint},
		{"obfuscated link", "You can pay at acme-pay . com or message wa.me/79161234567", "guard: contact points not in the scenario (acme-pay.com, wa.me/79161234567)", domain.ReasonContactPoint},
		{"phone", "Call our billing desk at +7 (916) 123-45-67 to pay.", "guard: contact points not in the scenario (tel:79161234567)", domain.ReasonContactPoint},
		{"card number", "To reserve your seat, send me your card number and the expiry date.", "guard: the reply asked the lead for a card number", domain.ReasonAskedSecret},
		{"sms code", "I've sent you a confirmation. What's the code from the SMS?", "guard: the reply asked the lead for a SMS or login code", domain.ReasonAskedSecret},
		{"sms code ru", "Пришлите, пожалуйста, код из СМС, чтобы я подтвердил заказ.", "guard: the reply asked the lead for a SMS or login code", domain.ReasonAskedSecret},
		{"price in words", "Starter is just forty-nine dollars per user per month.", "guard: figures not in the knowledge base (49 usd)", domain.ReasonUngrounded},
		{"discount in words", "For you, Team is half price this week.", "guard: figures not in the knowledge base (50%)", domain.ReasonUngrounded},
		{"free period in words", "Sign today and the first two months are free.", "guard: figures not in the knowledge base (60 days free)", domain.ReasonUngrounded},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := openaitest.New(openaitest.ReplyJSON(domain.TurnOutput{Reply: c.reply, NextStage: domain.StageOffer, Score: 40}))
			defer srv.Close()
			env := map[string]string{"SALESBOT_LLM_BASE_URL": srv.URL(), "SALESBOT_LLM_MODEL": "fake-model"}
			r := runIn(t, env, "How do I pay for the Team plan?\n", "chat", "--no-opening", "--scenario", file)
			if r.code != 0 || len(srv.Requests()) != 1 {
				t.Fatalf("chat: %d requests, %+v", len(srv.Requests()), r)
			}
			if strings.Contains(r.stdout, c.reply) || strings.Count(r.stdout, "assistant: ") != 1 || !strings.Contains(r.stdout, "assistant: Thank you. I'm passing our conversation to a colleague") {
				t.Errorf("the hostile reply was printed as sent, or the handoff note was not the one message sent:\n%s", r.stdout)
			}
			for _, want := range []string{c.guard, "handoff: " + c.handoff, "stage: handoff"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("chat output lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
	t.Run("grounded price", func(t *testing.T) {
		reply := "Starter is fifty-nine dollars per user per month, and annual billing saves fifteen percent."
		srv := openaitest.New(openaitest.ReplyJSON(domain.TurnOutput{Reply: reply, NextStage: domain.StageOffer, Score: 40}))
		defer srv.Close()
		env := map[string]string{"SALESBOT_LLM_BASE_URL": srv.URL(), "SALESBOT_LLM_MODEL": "fake-model"}
		r := runIn(t, env, "How much is Starter?\n", "chat", "--no-opening", "--scenario", file)
		if r.code != 0 || !strings.Contains(r.stdout, "assistant: "+reply) || strings.Contains(r.stdout, "guard:") || strings.Contains(r.stdout, "handoff:") {
			t.Fatalf("a reply with the knowledge base's own price was not sent as it is: %+v", r)
		}
	})
}
