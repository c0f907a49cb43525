package domain

import (
	"errors"
	"fmt"
)

// Refusals of the application services that their callers tell apart:
// the admin bot (and the API) answer each in their own words. They are
// declared here, below the edges, so that an edge matches them with
// errors.Is without importing an application service (docs/
// ARCHITECTURE.md); the services return them and export them under the
// same names (accounts.ErrInDialog is ErrInDialog; accounts.ErrNoAccount is ErrUnknownAccount). Their texts keep the
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
	// ErrUnknownDialog: no dialog has that number.
	ErrUnknownDialog = errors.New("dialogs: no dialog has that number")
	// ErrUnknownAccount: no such account (or it was removed).
	ErrUnknownAccount = errors.New("accounts: no such account")
	// ErrTooManyErrors: a contacts import rejected more rows than it
	// allows, so nothing was imported.
	ErrTooManyErrors = ImportProblem("too many rejected rows")

	// ErrUnauthenticated: a request carries no API token that is valid
	// now (none, malformed, unknown, a wrong secret, revoked): HTTP 401.
	// Its text never holds the token.
	ErrUnauthenticated = errors.New("tokens: no valid API token")
	// ErrForbidden: the token is valid, but its scope does not allow
	// what was asked (a *ScopeError says which): HTTP 403.
	ErrForbidden = errors.New("tokens: the token's scope does not allow this")
	// ErrUnknownToken: no token has that id, prefix or name (revoking).
	ErrUnknownToken = errors.New("tokens: no such token")

	// ErrUnknownLink: no web sign-in link has that secret (a mistyped or
	// made-up link). Like ErrLinkUsed and ErrLinkExpired it also matches
	// ErrUnauthenticated: a link that opens no session signs nobody in.
	ErrUnknownLink error = LinkRefusal("no such sign-in link")
	// ErrLinkUsed: the sign-in link opened a session already; a link
	// is usable once.
	ErrLinkUsed error = LinkRefusal("the sign-in link was used already")
	// ErrLinkExpired: the sign-in link is older than it may be
	// (DefaultLinkTTL).
	ErrLinkExpired error = LinkRefusal("the sign-in link expired")
	// ErrUnknownSession: no web session has that id (ending one by id).
	// A request's cookie that opens no live session is
	// ErrUnauthenticated instead.
	ErrUnknownSession = errors.New("websessions: no such web session")
	// ErrUnknownWebhook: no webhook subscription has that id (removing,
	// replaying one): HTTP 404.
	ErrUnknownWebhook = errors.New("webhooks: no such webhook")
	// ErrWebhookTargetPrivate: a webhook's URL names, or its host
	// resolves to, a private, loopback, link-local, unique-local or
	// unspecified address, and private targets are not allowed
	// (--webhooks-allow-private): refused when subscribing and when
	// dialling (SSRF).
	ErrWebhookTargetPrivate = errors.New("webhooks: the target is a private address")
)

// ScopeError is ErrForbidden with the scopes: the token's and the one
// needed.
type ScopeError struct {
	Token string // the token's prefix
	Have  Scope
	Need  Scope
}

func (e *ScopeError) Error() string {
	return fmt.Sprintf("%v: token %s has scope %s, this needs %s", ErrForbidden, e.Token, e.Have, e.Need)
}

// Is makes errors.Is(err, ErrForbidden) true.
func (e *ScopeError) Is(target error) bool { return target == ErrForbidden }

// LinkRefusal is why a web sign-in link opens no session (ErrUnknownLink,
// ErrLinkUsed, ErrLinkExpired). Each also matches ErrUnauthenticated, so
// a caller that only tells "signed in or not" needs no more.
type LinkRefusal string

func (r LinkRefusal) Error() string { return "websessions: " + string(r) }

// Is makes errors.Is(err, ErrUnauthenticated) true.
func (LinkRefusal) Is(target error) bool { return target == ErrUnauthenticated }

// ImportProblem is why a contacts import refuses a whole file
// (contacts.ErrEncoding, ..., ErrTooManyErrors); it comes in a
// *FileError that says where.
type ImportProblem string

func (p ImportProblem) Error() string { return "contacts: " + string(p) }

// FileError is a file a contacts import refuses: its problem and where it
// is.
type FileError struct {
	Problem ImportProblem
	Detail  string // "line 3 holds bytes that are not UTF-8 (...)"; may be empty
}

func (e *FileError) Error() string { return "contacts: " + e.Reason() }

// Unwrap returns the Problem, for errors.Is.
func (e *FileError) Unwrap() error { return e.Problem }

// Reason is the refusal as a person reads it: the problem and where,
// without the package's name.
func (e *FileError) Reason() string {
	if e.Detail == "" {
		return string(e.Problem)
	}
	return string(e.Problem) + ": " + e.Detail
}

// InDialogError is ErrInDialog with the dialog the contact is in.
type InDialogError struct {
	Dialog int64 // its number; 0 while another start is still opening it
}

func (e *InDialogError) Error() string {
	if e.Dialog == 0 {
		return ErrInDialog.Error() + " (another start is opening it)"
	}
	return fmt.Sprintf("%v (dialog %d)", ErrInDialog, e.Dialog)
}

// Is makes errors.Is(err, ErrInDialog) true.
func (e *InDialogError) Is(target error) bool { return target == ErrInDialog }
