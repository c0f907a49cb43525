package llm

import (
	"strings"
	"testing"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

// TestSystemPromptStablePrefix: two different dialogs (language, stage,
// score, qualification, history, new messages; the same or another
// variant) get system prompts whose common prefix holds the rules, the
// persona and the whole knowledge base, so a provider's prompt cache
// serves that part to every dialog.
func TestSystemPromptStablePrefix(t *testing.T) {
	shipped, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range []*scenario.Scenario{testScenario(), shipped} {
		kb := sc.KnowledgeText()
		if len(kb) < 100 {
			t.Fatalf("scenario %s: knowledge base of %d bytes; the test needs a real one", sc.Name, len(kb))
		}
		score := 70
		a := domain.TurnInput{Kind: domain.TurnReply, Scenario: sc, Variant: sc.Variants[0], Language: "en", Stage: domain.StageDiscovery,
			History: []domain.Line{{Role: domain.RoleAssistant, Text: "Hi, how do you report today?"}}, New: []string{"How much is it?"}}
		b := domain.TurnInput{Kind: domain.TurnReply, Scenario: sc, Variant: sc.Variants[len(sc.Variants)-1], Language: "ru", Stage: domain.StageOffer,
			Qual:    domain.Qualification{Score: &score, Budget: &domain.Field{Value: "$2000", Quote: "2000 в месяц", Confidence: 0.9}},
			History: []domain.Line{{Role: domain.RoleLead, Text: "Нам нужен отчёт по воронке"}}, New: []string{"Сколько стоит?"}}
		pa, pb := systemPrompt(a), systemPrompt(b)
		if pa == pb {
			t.Fatalf("scenario %s: two dialogs got the same system prompt; the dialog's part is missing", sc.Name)
		}
		common := pa[:commonPrefix(pa, pb)]
		for _, want := range []string{"ENGINE RULES", "KNOWLEDGE BASE", kb} {
			if !strings.Contains(common, want) {
				t.Errorf("scenario %s: the shared prefix (%d of %d bytes) lacks %.60q", sc.Name, len(common), len(pa), want)
			}
		}
		if p := sc.Persona.Name; p != "" && !strings.Contains(common, "Your name: "+p) {
			t.Errorf("scenario %s: the shared prefix lacks the persona", sc.Name)
		}
		// The dialog's own part comes after it: each prompt still says it.
		for _, c := range []struct{ prompt, want string }{{pa, "Answer in English (en)."}, {pb, "Answer in Russian (ru)."},
			{pa, "Current stage: discovery"}, {pb, "Current stage: offer"}, {pb, "Interest score so far: 70"}} {
			if i := strings.Index(c.prompt, c.want); i < 0 || i+len(c.want) <= len(common) {
				t.Errorf("scenario %s: %q at %d, want it past the shared prefix (%d bytes)", sc.Name, c.want, i, len(common))
			}
		}
	}
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
