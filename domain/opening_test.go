package domain

import "testing"

// An opening the model wrote for the lead passes the guards of a reply;
// one they withhold, or none at all, is replaced by the scenario's own
// opening merged for the lead, and the guards say why.
func TestModelOpening(t *testing.T) {
	const fallback = "Hi Anna, how does Northwind report on its pipeline today?"
	opening := func(reply string, more ...func(*TakeTurn)) TakeTurn {
		cmd := TakeTurn{Kind: TurnOpening, Output: TurnOutput{Reply: reply}, Usage: usage, Rules: rules, Meta: meta, RandomIDs: []int64{5, 6}, Fallback: fallback}
		for _, f := range more {
			f(&cmd)
		}
		return cmd
	}
	invalid := func(why string, refused bool) func(*TakeTurn) {
		return func(c *TakeTurn) { c.Invalid, c.Refused, c.Output = why, refused, TurnOutput{} }
	}
	const disclosed = "I am Ada, the AI assistant of Acme. "
	sentFallback := planned(5, disclosed+fallback, KindOpening)
	runDialogCases(t, []dialogCase{
		{
			name:  "the model's opening is sent, after the disclosure",
			given: []Event{started},
			when:  opening("Anna, congrats on Northwind's new Riga office! How do you build pipeline reports there today?"),
			then: []Event{taken(TurnOpening, 0, nil, guards(guardDisclosureAdded)),
				planned(5, disclosed+"Anna, congrats on Northwind's new Riga office! How do you build pipeline reports there today?", KindOpening)},
		},
		{
			name:  "a figure the knowledge base states is fine",
			given: []Event{started},
			when:  opening("Anna, Acme Starter is $49 per user per month. Worth a look for Northwind?"),
			then: []Event{taken(TurnOpening, 0, nil, guards(guardDisclosureAdded)),
				planned(5, disclosed+"Anna, Acme Starter is $49 per user per month. Worth a look for Northwind?", KindOpening)},
		},
		{
			name:  "an invented price: withheld, the merged opening sent",
			given: []Event{started},
			when:  opening("Anna, only today Acme is $19 for Northwind!"),
			then: []Event{taken(TurnOpening, 0, nil, guards("figures not in the knowledge base (19 usd): reply withheld",
				"the model's opening not used (figures not in the knowledge base): the scenario's opening sent", guardDisclosureAdded)), sentFallback},
		},
		{
			name:  "a price in words: withheld",
			given: []Event{started},
			when:  opening("Anna, for Northwind it is half price this week."),
			then: []Event{taken(TurnOpening, 0, nil, guards("figures not in the knowledge base (50%): reply withheld",
				"the model's opening not used (figures not in the knowledge base): the scenario's opening sent", guardDisclosureAdded)), sentFallback},
		},
		{
			name:  "a foreign payment link: withheld",
			given: []Event{started},
			when:  opening("Anna, reserve Northwind's seat at https://acme-pay.io/checkout now."),
			then: []Event{taken(TurnOpening, 0, nil, guards("contact points not in the scenario (acme-pay.io/checkout): reply withheld",
				"the model's opening not used (a contact point the scenario does not state): the scenario's opening sent", guardDisclosureAdded)), sentFallback},
		},
		{
			name:  "a contact point the scenario states is fine",
			given: []Event{started},
			when:  opening("Anna, a quick question from acme.com: how does Northwind report today?"),
			then: []Event{taken(TurnOpening, 0, nil, guards(guardDisclosureAdded)),
				planned(5, disclosed+"Anna, a quick question from acme.com: how does Northwind report today?", KindOpening)},
		},
		{
			name:  "asks for a card number: withheld",
			given: []Event{started},
			when:  opening("Anna, to start the trial send me your card number."),
			then: []Event{taken(TurnOpening, 0, nil, guards("the reply asked the lead for a card number: withheld",
				"the model's opening not used (asked for a secret): the scenario's opening sent", guardDisclosureAdded)), sentFallback},
		},
		{
			name:  "claims to be human: withheld",
			given: []Event{started},
			when:  opening("Hi Anna, I'm a real person from Acme, not a bot."),
			then: []Event{taken(TurnOpening, 0, nil, guards(guardClaimedHuman,
				"the model's opening not used (claimed to be human): the scenario's opening sent", guardDisclosureAdded)), sentFallback},
		},
		{
			name:  "an unfilled merge field: the merged opening",
			given: []Event{started},
			when:  opening("Hi {first_name}, how is {company}?"),
			then:  []Event{taken(TurnOpening, 0, nil, guards("the model's opening not used (an unfilled merge field): the scenario's opening sent", guardDisclosureAdded)), sentFallback},
		},
		{
			name:  "no text",
			given: []Event{started},
			when:  opening("  "),
			then:  []Event{taken(TurnOpening, 0, nil, guards("the model's opening not used (no text): the scenario's opening sent", guardDisclosureAdded)), sentFallback},
		},
		{
			name:  "the model's output invalid: the merged opening, never a handoff",
			given: []Event{started},
			when:  opening("", invalid("model output invalid", false)),
			then:  []Event{taken(TurnOpening, 0, nil, guards("the model's opening not used (model output invalid): the scenario's opening sent", guardDisclosureAdded)), sentFallback},
		},
		{
			name:  "the provider refused",
			given: []Event{started},
			when:  opening("", invalid("the provider refused the request", true)),
			then: []Event{taken(TurnOpening, 0, nil, guards(guardProviderRefused,
				"the model's opening not used (the provider refused the request): the scenario's opening sent", guardDisclosureAdded)), sentFallback},
		},
		{
			name:  "an opening is written once, by the model too",
			given: opened(),
			when:  opening("Anna, hello again"),
			then:  nil,
		},
		{
			name:  "the disclosure is not added twice",
			given: []Event{started},
			when:  opening(disclosed + "Anna, how does Northwind report today?"),
			then:  []Event{taken(TurnOpening, 0, nil), planned(5, disclosed+"Anna, how does Northwind report today?", KindOpening)},
		},
	})
}
