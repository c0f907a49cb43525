// Package domain holds salesbot's pure business logic: events, aggregates
// (accounts, contacts, dialogs) as deciders, commands and policies. It does
// no I/O, imports no adapter and reads no clock of its own; `make lint`
// checks that.
//
// The aggregates arrive with the domain issue; until then the package is
// empty and the event log (package eventstore) stands alone.
package domain
