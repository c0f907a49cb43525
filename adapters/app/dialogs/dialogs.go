// Package dialogs holds a manager's actions on one dialog, named by its
// number: recording how its deal ended (the admin bot's /won and /lost;
// the API's POST /api/v1/dialogs/{n}/outcome).
package dialogs

import (
	"context"
	"fmt"

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
	id, found, err := s.H.DialogOfNumber(ctx, n)
	if err != nil {
		return false, fmt.Errorf("dialog %d: %w", n, err)
	}
	if !found {
		return false, fmt.Errorf("dialog %d: %w", n, ErrUnknownDialog)
	}
	d, err := s.H.LoadDialog(ctx, id)
	if err != nil {
		return false, fmt.Errorf("dialog %d: %w", n, err)
	}
	evs, err := s.H.Dialog(ctx, id, d.ContactID, cmd)
	if err != nil {
		return false, fmt.Errorf("dialog %d: %w", n, err)
	}
	return len(evs) > 0, nil
}
