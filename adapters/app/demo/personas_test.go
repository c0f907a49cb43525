package demo_test

import (
	"slices"
	"testing"

	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
)

// A persona answers the opening with its first line, each topic once when
// asked, and after a goodbye says its last line once and then nothing.
func TestPersonaScript(t *testing.T) {
	ps := demo.Personas()
	i := slices.IndexFunc(ps, func(p demo.Persona) bool { return p.Kind == "opt-out" })
	hot := ps[slices.IndexFunc(ps, func(p demo.Persona) bool { return p.Kind == "hot" && p.Lang == "en" })]
	say := hot.Script()
	if got := say(telegramtest.Incoming{N: 1, Text: "Hello! I am the AI assistant of Acme."}); len(got) != 1 || got[0] != hot.First {
		t.Fatalf("the opening got %q", got)
	}
	if got := say(telegramtest.Incoming{N: 2, Text: "What is your budget?"}); len(got) != 1 || got[0] != hot.Answers["budget"] {
		t.Fatalf("the budget question got %q", got)
	}
	if got := say(telegramtest.Incoming{N: 3, Text: "And the budget again?"}); len(got) != 0 {
		t.Fatalf("a topic asked twice got %q", got)
	}
	stop := ps[i].Script()
	stop(telegramtest.Incoming{N: 1, Text: "Hi"})
	confirmation := "Understood, I won't write to you again."
	if !demo.IsConfirmation(confirmation) {
		t.Fatal("the opt-out confirmation is not recognised")
	}
	if got := stop(telegramtest.Incoming{N: 2, Text: confirmation}); len(got) != 1 || got[0] != ps[i].After {
		t.Fatalf("after the confirmation: %q, want %q once", got, ps[i].After)
	}
	if got := stop(telegramtest.Incoming{N: 3, Text: "What is your budget?"}); len(got) != 0 {
		t.Fatalf("after the goodbye: %q", got)
	}
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.Username] || p.Want == "" {
			t.Fatalf("persona %+v: usernames are unique and every persona says what it expects", p)
		}
		seen[p.Username] = true
	}
}
