package accounts

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// Lister is the read model Find looks accounts up in (a projections.Sink).
type Lister interface {
	Accounts(ctx context.Context) ([]projections.Account, error)
}

// Find returns the account ref names: its id, or its label (in any
// case). A removed account is not found. Errors: one matching
// projections.ErrNotFound when no account has ref; a *domain.Error
// (EINVALID, Field "account") when a label names several.
func Find(ctx context.Context, sink Lister, ref string) (projections.Account, error) {
	accs, err := sink.Accounts(ctx)
	if err != nil {
		return projections.Account{}, err
	}
	id, idErr := uuid.Parse(ref)
	var found []projections.Account
	for _, a := range accs {
		if a.Status == string(domain.StatusRemoved) {
			continue
		}
		if (idErr == nil && a.ID == id) || strings.EqualFold(a.Label, ref) {
			found = append(found, a)
		}
	}
	switch len(found) {
	case 0:
		return projections.Account{}, fmt.Errorf("account %q: %w", ref, projections.ErrNotFound)
	case 1:
		return found[0], nil
	}
	return projections.Account{}, &domain.Error{Code: domain.EINVALID, Field: "account",
		Message: fmt.Sprintf("%d accounts are labelled %q: name one by its id", len(found), ref)}
}

// SetPaused pauses the account ref names (Find), so that it sends
// nothing, or resumes it (lifting a pause or a restriction after a
// person checked the account): the admin bot's /pause and /resume and
// the API's POST /accounts/{id}/pause and /resume. changed is false
// when it was so already. Errors: Find's; the domain's refusal, a
// *domain.Error with ESTATE (a lost account is not resumed: it needs a
// new session).
func SetPaused(ctx context.Context, h domain.Handlers, sink Lister, ref string, pause bool, by string) (a projections.Account, changed bool, err error) {
	if a, err = Find(ctx, sink, ref); err != nil {
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
