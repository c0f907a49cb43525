package accounts

import (
	"context"
	"fmt"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// SetPaused pauses the account ref names (projections.FindAccount), so that it sends
// nothing, or resumes it (lifting a pause or a restriction after a
// person checked the account): the admin bot's /pause and /resume and
// the API's POST /accounts/{id}/pause and /resume. changed is false
// when it was so already. Errors: FindAccount's; the domain's refusal, a
// *domain.Error with ESTATE (a lost account is not resumed: it needs a
// new session).
func SetPaused(ctx context.Context, h domain.Handlers, sink projections.AccountLister, ref string, pause bool, by string) (a projections.Account, changed bool, err error) {
	if a, err = projections.FindAccount(ctx, sink, ref); err != nil {
		return a, false, err
	}
	var cmd domain.AccountCommand = domain.PauseAccount{By: by}
	verb := "pause"
	if !pause {
		cmd, verb = domain.ResumeAccount{By: by}, "resume"
	}
	evs, err := h.Account(ctx, a.ID, cmd)
	if err != nil {
		return a, false, fmt.Errorf("%s account %s: %w", verb, a.ID, err)
	}
	return a, len(evs) > 0, nil
}
