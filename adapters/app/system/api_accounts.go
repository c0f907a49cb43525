package system

import (
	"context"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

var _ httpapi.AccountActions = apiAccounts{}

// apiAccounts is accounts.SetPaused as httpapi.AccountActions.
type apiAccounts struct {
	h    domain.Handlers
	sink projections.Sink
}

// APIAccounts is an admin's actions on accounts as the API's port: h
// changes them, sink finds them (the running system's, and the API's
// tests').
func APIAccounts(h domain.Handlers, sink projections.Sink) httpapi.AccountActions {
	return apiAccounts{h, sink}
}

func (a apiAccounts) SetPaused(ctx context.Context, ref string, pause bool, by string) (uuid.UUID, error) {
	acc, _, err := accounts.SetPaused(ctx, a.h, a.sink, ref, pause, by)
	return acc.ID, err
}
