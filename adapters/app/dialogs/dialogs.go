// Package dialogs holds a manager's actions on one dialog, named by its
// number: recording how its deal ended (the admin bot's /won and /lost;
// the API's POST /api/v1/dialogs/{n}/outcome), stopping it, taking it
// over, releasing it and replying in it (actions.go).
package dialogs

import (
	"context"

	"github.com/salesbot/salesbot/domain"
)

// ErrUnknownDialog: no dialog has the number (domain.ErrUnknownDialog).
var ErrUnknownDialog = domain.ErrUnknownDialog

// Service runs the actions through the command handlers: the dialog is
// found by its number in the log's index, not in a read model that may
// lag behind.
type Service struct {
	H domain.Handlers
}

// RecordOutcome records how the deal of dialog n ended
// (domain.RecordOutcome: in any state; an open dialog is closed with it).
// changed is false when the dialog had that very outcome already, so
// nothing was recorded. Errors: ErrUnknownDialog; a *domain.Error with
// EINVALID and its Field for a bad command (matching domain.ErrAmount or
// domain.ErrCurrency for a bad amount or currency); the log's.
func (s Service) RecordOutcome(ctx context.Context, n int64, cmd domain.RecordOutcome) (changed bool, err error) {
	return s.RecordOutcomeAt(ctx, n, AnyVersion, cmd)
}
