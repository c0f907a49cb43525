package adminbot

import (
	"context"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/domain"
)

// The bot is an edge: it imports no application service. What it cannot
// do with the command handlers (Config.Domain) and the read models
// (Config.Sink) alone it asks through these ports, which the wiring
// (cmd/salesbot) fills with the application services.

// Accounts is what the bot asks of the running Telegram accounts
// (accounts.Service): /start, /optout, /account_add, /account_remove.
type Accounts interface {
	// Start opens a dialog with a person through a connected account and
	// plans its opening message. While no account may open one it calls
	// wait with the reason and the earliest time one may (zero if
	// unknown), and waits until ctx ends. Errors: domain.ErrUnknownUsername,
	// domain.ErrInDialog, a *domain.Error (a rule refused it), ctx's error.
	Start(ctx context.Context, req StartRequest, wait func(reason string, until time.Time)) (Started, error)
	// OptOut looks the username up at Telegram and puts the person on the
	// do-not-contact list (every contact of theirs), ending their open
	// dialogs; it returns their contact. Errors: domain.ErrNoConnection,
	// domain.ErrUnknownUsername.
	OptOut(ctx context.Context, username, by, reason string) (uuid.UUID, error)
	// Remove logs an account out and records its removal. Errors:
	// domain.ErrUnknownAccount.
	Remove(ctx context.Context, account uuid.UUID, by string) error
	// Add signs an account in by phone (asking for the code and the
	// password through login's callbacks) and registers it with limits.
	// Errors: telegram.ErrNotRegistered, ctx's error, a *domain.Error.
	Add(ctx context.Context, label string, login telegram.PhoneLogin, limits domain.Limits) (uuid.UUID, telegram.Peer, error)
}

// Dialogs is a manager's actions on a dialog by its number
// (dialogs.Service): /won, /lost, /stop, /takeover, /release, /reply.
// The bot acts on the dialog as it is (at: 0). Every method's errors:
// domain.ErrUnknownDialog; the state machine's refusal, a *domain.Error.
type Dialogs interface {
	// RecordOutcome records how the deal of dialog n ended; changed is
	// false when the dialog had that outcome already. Errors also: a
	// *domain.Error (EINVALID, with its Field: "amount", "currency",
	// "reason") for a bad command.
	RecordOutcome(ctx context.Context, n int64, cmd domain.RecordOutcome) (changed bool, err error)
	// Stop ends the dialog (changed: it was open).
	Stop(ctx context.Context, n int64, at uint64, by string) (changed bool, err error)
	// TakeOver gives the dialog to a manager (changed: no manager had it).
	TakeOver(ctx context.Context, n int64, at uint64, by string) (changed bool, err error)
	// Release hands the dialog back to the AI.
	Release(ctx context.Context, n int64, at uint64, by string) error
	// Reply plans a manager's message, taking the dialog over first
	// (tookOver: it was not taken over before). Errors also: EINVALID
	// with Field "text" for an empty or too long text.
	Reply(ctx context.Context, n int64, at uint64, by, text string) (tookOver bool, err error)
}

// StartRequest is whom /start writes to, and on what grounds.
type StartRequest struct {
	Username string // without @
	// For a person who is not a contact yet: where they came from, the
	// lawful basis and a note.
	Source domain.Source
	Basis  domain.Basis
	Note   string
	By     string // "admin:<id>"
}

// Started is the dialog Start opened.
type Started struct {
	N     int64  // the dialog's number
	Label string // the label of the account it is on
}

// Importer checks and records contacts files, as salesbot contacts
// import does (contacts.Parse and contacts.Apply): /import.
type Importer interface {
	// Check reads a contacts file (CSV) and checks every row. Its error
	// says what is wrong with the file as a whole; nothing is recorded.
	Check(r io.Reader) (ContactsFile, error)
}

// ContactsFile is a checked contacts file, not recorded yet.
type ContactsFile interface {
	// Rows is how many data rows the file has.
	Rows() int
	// Import records the rows with the lawful basis and a note on each new
	// contact, and returns the report listing at most maxRejected rejected
	// rows. With too many rows rejected it records nothing and its error
	// matches domain.ErrTooManyErrors; if the log fails it returns the
	// report so far with the error (importing again completes it).
	Import(ctx context.Context, basis domain.Basis, note string, maxRejected int) (ImportReport, error)
}

// ImportReport is what an import did.
type ImportReport struct {
	Rows int    // the rows of the file (0: the import stopped before any)
	Text string // the report in plain text, as salesbot contacts import prints it
}

// Notice is something admins should hear about (Bot.Notify).
type Notice struct {
	Kind   string // e.g. account-lost, takeover, handoff: a handoff also brings the lead's card
	Label  string // the account's label, if any
	Dialog int64  // the dialog's number, 0 if none: the notice gets a View button
	Text   string
}

// WebLinks issues sign-in links to the web console (websessions.Service):
// /web.
type WebLinks interface {
	// Link issues a one-time sign-in link for admin with role (an owner
	// signs in as the console's owner, a manager as its manager) and
	// returns its URL, which holds the secret, and when it expires.
	// Errors: none expected but the log's.
	Link(ctx context.Context, admin int64, role Role) (url string, expires time.Time, err error)
}
