// Package domain holds salesbot's pure business logic: events, aggregates
// as deciders (Decide(state, command, now) → events, Evolve(state, event) →
// state), commands and the domain error type. It does no I/O, imports no
// adapter and reads no clock of its own; `make lint` checks that.
//
// So far: contacts (source, lawful basis, do-not-contact, erasure), dialogs
// (the lead-qualification state machine, outbound planning with Telegram
// random_ids, handoff and takeover) and accounts (status, caps, ramp,
// pacing, working hours, restrictions), plus the command handlers that
// load, decide and append through the EventLog port.
package domain
