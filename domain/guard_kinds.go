package domain

import "strings"

// GuardKind names what a guard did to a turn (TurnTaken.Guards holds
// the guards' texts): a closed set, so metrics can count the guards'
// interventions by kind. GuardKindOf reads a text back; one the domain
// does not write (an older wording) is GuardOther.
type GuardKind string

// Guard kinds.
const (
	GuardDisclosureAdded   GuardKind = "disclosure-added"   // the opening got the scenario's disclosure line
	GuardProviderRefused   GuardKind = "provider-refused"   // the provider refused the request: handed off
	GuardInvalidOutput     GuardKind = "invalid-output"     // the model's output stayed invalid: handed off
	GuardClaimedHuman      GuardKind = "claimed-human"      // the reply claimed to be human: withheld
	GuardAskedSecret       GuardKind = "asked-secret"       // the reply asked for a secret: withheld
	GuardBotQuestion       GuardKind = "bot-question"       // asked whether a bot: the answer starts with the disclosure
	GuardUngroundedFigures GuardKind = "ungrounded-figures" // figures not in the knowledge base: withheld
	GuardUnstatedContacts  GuardKind = "unstated-contacts"  // contact points the scenario does not state: withheld
	GuardStageNotAllowed   GuardKind = "stage-not-allowed"  // a stage change the scenario forbids: stays
	GuardUnknownField      GuardKind = "unknown-field"      // a qualification field not in the scenario: dropped
	GuardQuoteNotLeads     GuardKind = "quote-not-leads"    // a quote that is not the lead's words: dropped
	GuardOpeningFallback   GuardKind = "opening-fallback"   // the model's opening not used: the scenario's, merged, sent
	GuardUnknownFile       GuardKind = "unknown-file"       // a file the knowledge base does not name: withheld
	GuardOther             GuardKind = "other"              // a text none of the above writes
)

// The guards' texts (fmt formats with %s and %q verbs only): turnBuilder
// writes them and GuardKindOf reads them, so the two cannot drift.
const (
	guardDisclosureAdded    = "disclosure line added"
	guardProviderRefused    = "the model's provider refused the request"
	guardInvalidOutput      = "model output invalid: nothing of it used"
	guardClaimedHuman       = "the reply claimed to be human: withheld"
	guardAskedSecret        = "the reply asked the lead for a %s: withheld"
	guardBotQuestionReply   = "bot question: the reply starts with the AI disclosure"
	guardBotQuestionHandoff = "bot question: the handoff note starts with the AI disclosure"
	guardUngroundedFigures  = "figures not in the knowledge base (%s): reply withheld"
	guardUnstatedContacts   = "contact points not in the scenario (%s): reply withheld"
	guardStageNotAllowed    = "stage %s → %s is not allowed: stays at %s"
	guardUnknownField       = "field %q is not in the scenario: dropped"
	guardQuoteNotLeads      = "the quote for %s is not the lead's words: dropped"
	guardOpeningFallback    = "the model's opening not used (%s): the scenario's opening sent"
	guardUnknownFile        = "file %q is not in the knowledge base: withheld"
)

// guardFormats are the texts of each kind.
var guardFormats = []struct {
	kind   GuardKind
	format string
}{
	{GuardDisclosureAdded, guardDisclosureAdded},
	{GuardProviderRefused, guardProviderRefused},
	{GuardInvalidOutput, guardInvalidOutput},
	{GuardClaimedHuman, guardClaimedHuman},
	{GuardAskedSecret, guardAskedSecret},
	{GuardBotQuestion, guardBotQuestionReply},
	{GuardBotQuestion, guardBotQuestionHandoff},
	{GuardUngroundedFigures, guardUngroundedFigures},
	{GuardUnstatedContacts, guardUnstatedContacts},
	{GuardStageNotAllowed, guardStageNotAllowed},
	{GuardUnknownField, guardUnknownField},
	{GuardQuoteNotLeads, guardQuoteNotLeads},
	{GuardOpeningFallback, guardOpeningFallback},
	{GuardUnknownFile, guardUnknownFile},
}

// GuardKinds are every kind, GuardOther last.
func GuardKinds() []GuardKind {
	out := []GuardKind{}
	for _, f := range guardFormats {
		if len(out) == 0 || out[len(out)-1] != f.kind {
			out = append(out, f.kind)
		}
	}
	return append(out, GuardOther)
}

// GuardKindOf is the kind of a guard's text (an element of
// TurnTaken.Guards): the kind whose format it fills in, else GuardOther.
func GuardKindOf(text string) GuardKind {
	for _, f := range guardFormats {
		if fills(f.format, text) {
			return f.kind
		}
	}
	return GuardOther
}

// fills says whether text is format with its %s and %q verbs filled in:
// it starts with the literal before the first verb, ends with the one
// after the last, and holds those between in order.
func fills(format, text string) bool {
	parts := strings.Split(strings.NewReplacer("%s", "\x00", "%q", "\x00").Replace(format), "\x00")
	if len(parts) == 1 {
		return text == format
	}
	first, last := parts[0], parts[len(parts)-1]
	if !strings.HasPrefix(text, first) || !strings.HasSuffix(text[len(first):], last) {
		return false
	}
	rest := text[len(first) : len(text)-len(last)]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}
