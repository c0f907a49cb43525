package domain

import (
	"strings"
	"unicode/utf8"
)

// RecordOutcome records how the deal of a dialog ended: won, with the
// amount when it is known, or lost, with why. It is a fact a manager (or
// a CRM through the API) learns, so it is recorded in any state: open,
// handed off, taken over, stopped, closed. Recording the same outcome
// again records nothing; a different one (a correction, or a lost lead
// who buys after all) replaces it with a new OutcomeRecorded, so the log
// keeps every change and the read models show the last. An open dialog
// is closed with the outcome: the AI does not write to a lead whose deal
// is decided.
type RecordOutcome struct {
	Outcome Outcome // OutcomeWon or OutcomeLost
	// Amount and Currency: a won deal's value, a decimal with a point
	// ("1200.50") and an ISO 4217 code; both or neither. Not for lost.
	Amount   string
	Currency string
	// Reason: why the deal was lost, required for lost; not for won.
	Reason string
	By     string // "admin:<id>", "api:<token name>", "cli"
}

// MaxOutcomeReason bounds a lost deal's reason, in characters.
const MaxOutcomeReason = 500

// OutcomeRecorded is how the deal of a dialog ended (RecordOutcome); a
// later one replaces it. Amount is a decimal with the currency's minor
// digits ("1200.50"), empty when a won deal's value is unknown (and for
// lost). Reason is a manager's words about the lead, so it is personal
// data; the amount is the company's revenue and outlives an erasure.
type OutcomeRecorded struct {
	Outcome  Outcome `json:"outcome"`
	Amount   string  `json:"amount,omitempty"`
	Currency string  `json:"currency,omitempty"`
	Reason   string  `json:"reason,omitempty" personal:"reason"`
	By       string  `json:"by"`
}

func (OutcomeRecorded) EventType() string { return "OutcomeRecorded" }
func (RecordOutcome) dialogCommand()      {}

// Deal is the outcome recorded for a dialog (zero: none yet).
type Deal struct {
	Outcome Outcome // OutcomeWon, OutcomeLost, or "" when none is recorded
	Value   Money   // a won deal's value; zero when unknown
	Reason  string  // why a deal was lost
}

// Validate checks the command on its own and returns the deal it
// records. Errors are *Error with EINVALID and the field at fault
// ("outcome", "amount", "currency", "reason"); a bad amount or currency
// also matches ErrAmount or ErrCurrency.
func (c RecordOutcome) Validate() (Deal, error) {
	amount, code := strings.TrimSpace(c.Amount), strings.TrimSpace(c.Currency)
	reason := strings.TrimSpace(c.Reason)
	switch c.Outcome {
	case OutcomeWon:
		if reason != "" {
			return Deal{}, fieldErrorf(EINVALID, "reason", "a won deal takes no reason")
		}
		if amount == "" && code == "" {
			return Deal{Outcome: OutcomeWon}, nil
		}
		if code == "" {
			return Deal{}, &Error{Code: EINVALID, Field: "currency", Err: ErrCurrency, Message: "an amount needs its currency (USD, EUR, RUB, ...)"}
		}
		if amount == "" {
			return Deal{}, &Error{Code: EINVALID, Field: "amount", Err: ErrAmount, Message: "a currency needs an amount"}
		}
		m, err := ParseMoney(amount, code)
		if err != nil {
			return Deal{}, err
		}
		return Deal{Outcome: OutcomeWon, Value: m}, nil
	case OutcomeLost:
		switch {
		case amount != "" || code != "":
			return Deal{}, fieldErrorf(EINVALID, "amount", "a lost deal has no amount")
		case reason == "":
			return Deal{}, fieldErrorf(EINVALID, "reason", "say why the deal was lost")
		case utf8.RuneCountInString(reason) > MaxOutcomeReason:
			return Deal{}, fieldErrorf(EINVALID, "reason", "a reason has at most %d characters", MaxOutcomeReason)
		}
		return Deal{Outcome: OutcomeLost, Reason: reason}, nil
	}
	return Deal{}, fieldErrorf(EINVALID, "outcome", "an outcome is won or lost, not %q", c.Outcome)
}

// decideOutcome: see RecordOutcome.
func decideOutcome(d Dialog, c RecordOutcome) ([]Event, error) {
	deal, err := c.Validate()
	if err != nil {
		return nil, err
	}
	if deal == d.Deal {
		return nil, nil
	}
	evs := []Event{OutcomeRecorded{Outcome: deal.Outcome, Amount: deal.Value.Decimal(), Currency: deal.Value.Currency, Reason: deal.Reason, By: c.By}}
	if d.Stage != StageClosed {
		evs = append(evs, DialogClosed{Outcome: deal.Outcome, By: c.By})
	}
	return evs, nil
}

// dealOf is the deal an event records. An amount that does not read
// (erased data never is; a hand-edited log might) leaves the value
// unknown.
func dealOf(e OutcomeRecorded) Deal {
	d := Deal{Outcome: e.Outcome, Reason: e.Reason}
	if e.Amount != "" {
		d.Value, _ = ParseMoney(e.Amount, e.Currency)
	}
	return d
}
