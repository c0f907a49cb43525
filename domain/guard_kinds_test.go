package domain

import (
	"slices"
	"testing"
)

// GuardKindOf reads back every text the guards write (as the turn tests
// expect them) and calls any other text "other".
func TestGuardKindOf(t *testing.T) {
	for text, want := range map[string]GuardKind{
		"disclosure line added":                                                         GuardDisclosureAdded,
		"the model's provider refused the request":                                      GuardProviderRefused,
		"model output invalid: nothing of it used":                                      GuardInvalidOutput,
		"the reply claimed to be human: withheld":                                       GuardClaimedHuman,
		"the reply asked the lead for a card number: withheld":                          GuardAskedSecret,
		"bot question: the reply starts with the AI disclosure":                         GuardBotQuestion,
		"bot question: the handoff note starts with the AI disclosure":                  GuardBotQuestion,
		"figures not in the knowledge base (90%): reply withheld":                       GuardUngroundedFigures,
		"contact points not in the scenario (acme-pay.io): reply withheld":              GuardUnstatedContacts,
		"stage offer → discovery is not allowed: stays at offer":                        GuardStageNotAllowed,
		`field "salary" is not in the scenario: dropped`:                                GuardUnknownField,
		"the quote for budget is not the lead's words: dropped":                         GuardQuoteNotLeads,
		"the model's opening not used (model unavailable): the scenario's opening sent": GuardOpeningFallback,
		`file "invoice.pdf" is not in the knowledge base: withheld`:                     GuardUnknownFile,
		"":                                    GuardOther,
		"disclosure line added twice":         GuardOther,
		"the reply asked the lead for a card": GuardOther,
		"stage offer is not allowed":          GuardOther,
		"figures withheld":                    GuardOther,
	} {
		if got := GuardKindOf(text); got != want {
			t.Errorf("GuardKindOf(%q) = %s, want %s", text, got, want)
		}
	}
	kinds := GuardKinds()
	if len(kinds) != 14 || kinds[len(kinds)-1] != GuardOther || len(slices.Compact(slices.Clone(kinds))) != len(kinds) {
		t.Errorf("GuardKinds() = %v", kinds)
	}
}
