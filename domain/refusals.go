package domain

import "errors"

// Refusals of the application services that their callers tell apart:
// the admin bot (and the API) answer each in their own words. They are
// declared here, below the edges, so that an edge matches them with
// errors.Is without importing an application service (docs/
// ARCHITECTURE.md); the services return them and export them under the
// same names (accounts.ErrInDialog is ErrInDialog). Their texts keep the
// prefix of the service that returns them.
var (
	// ErrUnknownUsername: no Telegram user has the username (opening a
	// dialog, an opt-out by username).
	ErrUnknownUsername = errors.New("accounts: no Telegram user has that username")
	// ErrInDialog: the contact has an open dialog already, or another
	// start is opening one.
	ErrInDialog = errors.New("accounts: the contact already has an open dialog")
	// ErrNoConnection: no account is connected to look a username up with.
	ErrNoConnection = errors.New("accounts: no account is connected to look the username up")
	// ErrNoAccount: no such account (or it was removed).
	ErrNoAccount = errors.New("accounts: no such account")
	// ErrTooManyErrors: a contacts import rejected more rows than it
	// allows, so nothing was imported.
	ErrTooManyErrors = errors.New("contacts: too many rejected rows")
)
