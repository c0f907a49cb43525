package domain

import (
	"strings"
	"unicode/utf8"
)

// Why a model's opening is not used (TurnTaken.Guards, with the guard
// that withheld it, if one did).
const (
	OpeningNoText          = "no text"
	OpeningUnfilledField   = "an unfilled merge field"
	OpeningTooLong         = "too long"
	OpeningClaimedHuman    = "claimed to be human"
	OpeningAskedSecret     = "asked for a secret"
	OpeningUngrounded      = "figures not in the knowledge base"
	OpeningUnstatedContact = "a contact point the scenario does not state"
)

// MaxOpeningRunes is the longest opening a model may write.
const MaxOpeningRunes = 1000

// modelOpening is the text of an opening the model wrote for the lead
// (TakeTurn.Fallback set): the guards of a reply apply to it as they do
// to a reply — no claim to be human, no secrets asked for, figures only
// from the knowledge base (digits or words), contact points only the
// scenario's. When one withholds it, or the model has none (its output
// invalid, its provider refusing, unreachable: TakeTurn.Invalid says
// why), the scenario's own opening, merged (Fallback), is sent instead,
// and the guards say why: an opening is never silent and never waits.
func (t *turnBuilder) modelOpening() string {
	rules := t.cmd.Rules
	reply := strings.TrimSpace(t.cmd.Output.Reply)
	why := ""
	switch {
	case t.cmd.Invalid != "" && t.cmd.Refused:
		t.guard(guardProviderRefused)
		why = t.cmd.Invalid
	case t.cmd.Invalid != "":
		why = t.cmd.Invalid
	case reply == "":
		why = OpeningNoText
	case ClaimsHuman(reply):
		t.guard(guardClaimedHuman)
		why = OpeningClaimedHuman
	case AsksForSecret(reply) != "":
		t.guard(guardAskedSecret, AsksForSecret(reply))
		why = OpeningAskedSecret
	case len(UngroundedFigures(reply, rules.Knowledge)) > 0:
		t.guard(guardUngroundedFigures, strings.Join(UngroundedFigures(reply, rules.Knowledge), ", "))
		why = OpeningUngrounded
	case len(UnstatedContacts(reply, rules.Knowledge+"\n"+rules.Stated)) > 0:
		t.guard(guardUnstatedContacts, strings.Join(UnstatedContacts(reply, rules.Knowledge+"\n"+rules.Stated), ", "))
		why = OpeningUnstatedContact
	case strings.ContainsAny(reply, "{}"):
		why = OpeningUnfilledField
	case utf8.RuneCountInString(reply) > MaxOpeningRunes:
		why = OpeningTooLong
	}
	if why == "" {
		return reply
	}
	t.guard(guardOpeningFallback, why)
	return strings.TrimSpace(t.cmd.Fallback)
}
