package domain

import (
	"fmt"
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
	why := ""
	switch {
	case t.cmd.Invalid != "" && t.cmd.Refused:
		t.guard(guardProviderRefused)
		why = t.cmd.Invalid
	case t.cmd.Invalid != "":
		why = t.cmd.Invalid
	default:
		var guard string
		if guard, why = OpeningWithheld(t.cmd.Output.Reply, t.cmd.Rules); guard != "" {
			t.taken.Guards = append(t.taken.Guards, guard)
		}
	}
	if why == "" {
		return strings.TrimSpace(t.cmd.Output.Reply)
	}
	t.guard(guardOpeningFallback, why)
	return strings.TrimSpace(t.cmd.Fallback)
}

// OpeningWithheld applies the guards of a reply to text as an opening
// (see modelOpening): why is why they withhold it ("" when it passes),
// guard the text the guard that did records (TurnTaken.Guards; "" for a
// reason no guard of a reply has). The engine checks the scenario's
// opening merged for a lead with it too: a lead's own field may hold a
// figure or a link.
func OpeningWithheld(text string, rules TurnRules) (guard, why string) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return "", OpeningNoText
	case ClaimsHuman(text):
		return guardClaimedHuman, OpeningClaimedHuman
	case AsksForSecret(text) != "":
		return fmt.Sprintf(guardAskedSecret, AsksForSecret(text)), OpeningAskedSecret
	}
	if bad := UngroundedFigures(text, rules.Knowledge); len(bad) > 0 {
		return fmt.Sprintf(guardUngroundedFigures, strings.Join(bad, ", ")), OpeningUngrounded
	}
	if bad := UnstatedContacts(text, rules.Knowledge+"\n"+rules.Stated); len(bad) > 0 {
		return fmt.Sprintf(guardUnstatedContacts, strings.Join(bad, ", ")), OpeningUnstatedContact
	}
	switch {
	case strings.ContainsAny(text, "{}"):
		return "", OpeningUnfilledField
	case utf8.RuneCountInString(text) > MaxOpeningRunes:
		return "", OpeningTooLong
	}
	return "", ""
}
