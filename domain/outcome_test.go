package domain

import (
	"errors"
	"testing"
)

func TestRecordOutcome(t *testing.T) {
	won := func(amount, cur string) RecordOutcome {
		return RecordOutcome{Outcome: OutcomeWon, Amount: amount, Currency: cur, By: "admin:1"}
	}
	lost := func(reason string) RecordOutcome {
		return RecordOutcome{Outcome: OutcomeLost, Reason: reason, By: "admin:1"}
	}
	closedAs := func(o Outcome) Event { return DialogClosed{Outcome: o, By: "admin:1"} }
	wonEv := OutcomeRecorded{Outcome: OutcomeWon, Amount: "1200.50", Currency: "USD", By: "admin:1"}
	lostEv := OutcomeRecorded{Outcome: OutcomeLost, Reason: "bought elsewhere", By: "admin:1"}
	stopped := append(at(StageOffer), DialogStopped{By: "admin:1"}, DialogClosed{Outcome: OutcomeStopped, By: "admin:1"})
	takenOver := append(at(StageOffer), DialogTakenOver{By: "admin:1"})
	optedOut := append(at(StageOffer), DialogOptedOut{Reason: "stop", By: "lead"}, DialogClosed{Outcome: OutcomeOptedOut, By: "lead"})
	runDialogCases(t, []dialogCase{
		{"won with an amount closes an open dialog", at(StageOffer), won("1200.5", "usd"), []Event{wonEv, closedAs(OutcomeWon)}, ""},
		{"won without an amount", at(StageOffer), won("", ""), []Event{OutcomeRecorded{Outcome: OutcomeWon, By: "admin:1"}, closedAs(OutcomeWon)}, ""},
		{"won in yen has no decimals", at(StageOffer), won("150000", "JPY"),
			[]Event{OutcomeRecorded{Outcome: OutcomeWon, Amount: "150000", Currency: "JPY", By: "admin:1"}, closedAs(OutcomeWon)}, ""},
		{"lost with a reason", at(StageDiscovery), lost("  bought elsewhere "), []Event{lostEv, closedAs(OutcomeLost)}, ""},
		{"after a handoff", at(StageHandoff), lost("bought elsewhere"), []Event{lostEv, closedAs(OutcomeLost)}, ""},
		{"after a takeover", takenOver, won("1200.50", "USD"), []Event{wonEv, closedAs(OutcomeWon)}, ""},
		{"after a stop: recorded, the dialog stays closed as it was", stopped, won("1200.50", "USD"), []Event{wonEv}, ""},
		{"after an opt-out", optedOut, lost("bought elsewhere"), []Event{lostEv}, ""},
		{"the same outcome again records nothing", append(at(StageOffer), wonEv, closedAs(OutcomeWon)), won("1200.5", "USD"), nil, ""},
		{"the same loss again records nothing", append(at(StageOffer), lostEv, closedAs(OutcomeLost)), lost("bought elsewhere"), nil, ""},
		{"a different amount replaces it", append(at(StageOffer), wonEv, closedAs(OutcomeWon)), won("1500", "USD"),
			[]Event{OutcomeRecorded{Outcome: OutcomeWon, Amount: "1500.00", Currency: "USD", By: "admin:1"}}, ""},
		{"won after lost replaces it", append(at(StageOffer), lostEv, closedAs(OutcomeLost)), won("1200.50", "USD"), []Event{wonEv}, ""},
		{"an amount learnt later is recorded", append(at(StageOffer), OutcomeRecorded{Outcome: OutcomeWon, By: "admin:1"}, closedAs(OutcomeWon)),
			won("1200.50", "USD"), []Event{wonEv}, ""},
		{"opted-out is no deal outcome", at(StageOffer), RecordOutcome{Outcome: OutcomeOptedOut}, nil, EINVALID},
		{"no outcome", at(StageOffer), RecordOutcome{}, nil, EINVALID},
		{"lost needs a reason", at(StageOffer), lost("  "), nil, EINVALID},
		{"lost has no amount", at(StageOffer), RecordOutcome{Outcome: OutcomeLost, Reason: "x", Amount: "5", Currency: "USD"}, nil, EINVALID},
		{"won takes no reason", at(StageOffer), RecordOutcome{Outcome: OutcomeWon, Reason: "x"}, nil, EINVALID},
		{"an amount needs a currency", at(StageOffer), won("100", ""), nil, EINVALID},
		{"a currency needs an amount", at(StageOffer), won("", "USD"), nil, EINVALID},
		{"not a currency", at(StageOffer), won("100", "ABC"), nil, EINVALID},
		{"not an amount", at(StageOffer), won("1,200", "USD"), nil, EINVALID},
		{"too many decimals", at(StageOffer), won("10.001", "USD"), nil, EINVALID},
		{"zero", at(StageOffer), won("0", "USD"), nil, EINVALID},
		{"negative", at(StageOffer), won("-5", "USD"), nil, EINVALID},
		{"unknown dialog", nil, won("", ""), nil, EINVALID},
	})
}

// The refusals say which field is at fault and match the sentinels.
func TestRecordOutcomeErrors(t *testing.T) {
	for _, c := range []struct {
		cmd   RecordOutcome
		field string
		is    error
	}{
		{RecordOutcome{Outcome: OutcomeWon, Amount: "100", Currency: "EURO"}, "currency", ErrCurrency},
		{RecordOutcome{Outcome: OutcomeWon, Amount: "100"}, "currency", ErrCurrency},
		{RecordOutcome{Outcome: OutcomeWon, Amount: "1e3", Currency: "EUR"}, "amount", ErrAmount},
		{RecordOutcome{Outcome: OutcomeLost}, "reason", nil},
		{RecordOutcome{Outcome: "maybe"}, "outcome", nil},
	} {
		_, err := c.cmd.Validate()
		if ErrorCode(err) != EINVALID || ErrorField(err) != c.field {
			t.Errorf("%+v: %v (code %q, field %q), want field %q", c.cmd, err, ErrorCode(err), ErrorField(err), c.field)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%+v: %v does not match %v", c.cmd, err, c.is)
		}
	}
}

// Evolve keeps the last recorded deal apart from how the dialog closed.
func TestOutcomeEvolves(t *testing.T) {
	var d Dialog
	for _, e := range []Event{started, DialogStopped{By: "admin:1"}, DialogClosed{Outcome: OutcomeStopped, By: "admin:1"},
		OutcomeRecorded{Outcome: OutcomeLost, Reason: "no budget", By: "admin:1"},
		OutcomeRecorded{Outcome: OutcomeWon, Amount: "99.90", Currency: "EUR", By: "admin:2"}} {
		d = EvolveDialog(d, e)
	}
	want := Deal{Outcome: OutcomeWon, Value: Money{Minor: 9990, Currency: "EUR"}}
	if d.Deal != want || d.Outcome != OutcomeStopped || d.Stage != StageClosed {
		t.Fatalf("deal %+v, outcome %s, stage %s; want %+v, stopped, closed", d.Deal, d.Outcome, d.Stage, want)
	}
}
