package httpapi

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/cluster"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// The API is an edge: it imports no application service. It reads the
// read models (ReadModels) and asks the rest through these ports, which
// the running system (adapters/app/system/apiports.go) fills with the
// application services.

// Authenticator checks a request's token (tokens.Service).
type Authenticator interface {
	// Authenticate checks the Authorization header's value against the
	// tokens and the scope the request needs. Errors: one matching
	// domain.ErrUnauthenticated (401); a *domain.ScopeError, matching
	// domain.ErrForbidden (403). Neither holds the token.
	Authenticate(ctx context.Context, authorization string, need domain.Scope) (domain.Principal, error)
}

// Limiter limits each token's requests (tokens.Limiter).
type Limiter interface {
	// Allow takes one request from the token's allowance; when there is
	// none it says how long until there is.
	Allow(token uuid.UUID) (ok bool, retryAfter time.Duration)
}

// Dialogs is a manager's actions on a dialog by its number
// (dialogs.Service). Each action takes the version of the dialog the
// client decided on (an If-Match), or 0 for whatever version it is at:
// a dialog that moved on since is an error matching domain.ErrConflict
// (a *domain.StaleError). Every method's errors: domain.ErrUnknownDialog;
// the state machine's refusal, a *domain.Error (ESTATE: a closed dialog,
// a release of a dialog no manager has); the log's.
type Dialogs interface {
	// Version is dialog n's version; every change raises it (its ETag).
	Version(ctx context.Context, n int64) (uint64, error)
	// RecordOutcomeAt records how the deal of dialog n ended; changed is
	// false when the dialog had that outcome already. Errors also: a
	// *domain.Error (EINVALID, with its Field: "outcome", "amount",
	// "currency", "reason") for a bad command.
	RecordOutcomeAt(ctx context.Context, n int64, at uint64, cmd domain.RecordOutcome) (changed bool, err error)
	// Stop ends the dialog: nothing more is sent (changed is false when
	// it was closed already).
	Stop(ctx context.Context, n int64, at uint64, by string) (changed bool, err error)
	// TakeOver gives the dialog to a manager: the AI is silent in it
	// until Release (changed is false when a manager had it).
	TakeOver(ctx context.Context, n int64, at uint64, by string) (changed bool, err error)
	// Release hands the dialog back to the AI.
	Release(ctx context.Context, n int64, at uint64, by string) error
	// Reply plans a manager's message, which the outbox sends through the
	// dialog's account within its pacing; the dialog is taken over first
	// (tookOver: it was not before). Errors also: a *domain.Error with
	// EINVALID and Field "text" for an empty or too long text.
	Reply(ctx context.Context, n int64, at uint64, by, text string) (tookOver bool, err error)
}

// Campaigns lists the campaigns with their funnels (campaigns.List).
type Campaigns interface {
	// Campaigns returns every campaign, newest first.
	Campaigns(ctx context.Context) ([]Campaign, error)
}

// Cluster reads the status of the nodes sharing the log
// (cluster.Reporter): GET /api/v1/cluster (cluster.go) and the web
// console's cluster page. Errors: the log's servers cannot be reached
// or read (the API answers 503).
type Cluster interface {
	Status(ctx context.Context) (cluster.Report, error)
}

var _ Cluster = cluster.Reporter{}

// ReadModels are the queries the API answers from (a projections.Sink).
type ReadModels interface {
	// ListDialogs returns dialogs by N, newest first.
	ListDialogs(ctx context.Context, f projections.DialogFilter) ([]projections.Dialog, error)
	// DialogByN returns dialog N, an error matching projections.ErrNotFound
	// if there is none.
	DialogByN(ctx context.Context, n int64) (projections.Dialog, error)
	// Messages returns a dialog's messages in order.
	Messages(ctx context.Context, dialog uuid.UUID) ([]projections.Message, error)
	// Qualification returns a dialog's qualification fields by name.
	Qualification(ctx context.Context, dialog uuid.UUID) ([]projections.Qualification, error)
	// Accounts returns every account by label.
	Accounts(ctx context.Context) ([]projections.Account, error)
	// Meeting returns a dialog's meeting, an error matching
	// projections.ErrNotFound if none was ever proposed in it.
	Meeting(ctx context.Context, dialog uuid.UUID) (projections.Meeting, error)
	// Insight returns a dialog's latest insight, an error matching
	// projections.ErrNotFound if none was recorded.
	Insight(ctx context.Context, dialog uuid.UUID) (projections.Insight, error)
}

var _ ReadModels = projections.Sink(nil)

// Campaign is a campaign as the API lists it: campaigns.Summary without
// its segment, accounts, schedule and caps (the campaign's own endpoint
// will carry them).
type Campaign struct {
	ID       string                 `json:"id"`
	Short    string                 `json:"short_id"`
	Name     string                 `json:"name"`
	Status   string                 `json:"status"`
	Scenario string                 `json:"scenario"`
	Version  string                 `json:"version"`
	Variants []domain.VariantWeight `json:"variants"`
	Targeted int                    `json:"targeted"`
	Totals   Counts                 `json:"totals"`
	Created  time.Time              `json:"created_at"`
	Updated  time.Time              `json:"updated_at"`
}

// Counts is a funnel row with its rates (fractions of the dialogs).
type Counts struct {
	Dialogs       int     `json:"dialogs"`
	Replied       int     `json:"replied"`
	ReplyRate     float64 `json:"reply_rate"`
	Qualified     int     `json:"qualified"`
	QualifiedRate float64 `json:"qualified_rate"`
	Handoff       int     `json:"handoff"`
	HandoffRate   float64 `json:"handoff_rate"`
	OptedOut      int     `json:"opted_out"`
	OptOutRate    float64 `json:"opt_out_rate"`
	Lost          int     `json:"lost"`
	Won           int     `json:"won"`
	Revenue       []Money `json:"revenue"` // by currency; empty, never null
}

// Money is an exact amount: a decimal text ("1200.50") and its ISO 4217
// currency.
type Money struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}
