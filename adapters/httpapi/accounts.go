package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// An admin's actions on an account: POST /api/v1/accounts/{id}/pause
// and /resume.

// AccountActions are an admin's actions on the accounts
// (accounts.SetPaused).
type AccountActions interface {
	// SetPaused pauses the account ref names (its id, or its label in
	// any case), so that it sends nothing, or resumes it, recording by;
	// it returns the account's id. Pausing a paused account or resuming
	// one that is neither paused nor restricted changes nothing. Errors:
	// one matching projections.ErrNotFound when no account (but a
	// removed one) has ref; a *domain.Error with ESTATE when the domain
	// refuses (a lost account is not resumed), or with EINVALID and
	// Field "account" when a label names several accounts.
	SetPaused(ctx context.Context, ref string, pause bool, by string) (uuid.UUID, error)
}

func (a *API) accountRoutes() {
	if a.cfg.Accounts == nil {
		return
	}
	a.route("POST /api/v1/accounts/{id}/pause", domain.ScopeAdmin, func(r *http.Request, p domain.Principal) (any, error) {
		return a.setPaused(r, p, true)
	})
	a.route("POST /api/v1/accounts/{id}/resume", domain.ScopeAdmin, func(r *http.Request, p domain.Principal) (any, error) {
		return a.setPaused(r, p, false)
	})
}

// setPaused pauses or resumes the path's account and answers it as the
// list shows it, once the read models show the change (Config.Fresh).
func (a *API) setPaused(r *http.Request, p domain.Principal, pause bool) (any, error) {
	if body, err := io.ReadAll(r.Body); err != nil || len(bytes.TrimSpace(body)) > 0 { // bounded by MaxBody (idempotent)
		return nil, problemError{invalid("this takes no body")}
	}
	ref := r.PathValue("id")
	if len(ref) > 256 {
		return nil, problemError{badField("id", "an account's id or label")}
	}
	id, err := a.cfg.Accounts.SetPaused(r.Context(), ref, pause, p.Actor())
	var de *domain.Error
	switch {
	case errors.Is(err, projections.ErrNotFound):
		return nil, problemError{Problem{Type: TypeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: "no account has that id or label"}}
	case errors.As(err, &de) && de.Code == domain.EINVALID && de.Field == "account":
		return nil, problemError{badField("id", "%s", de.Message)}
	case err != nil:
		return nil, err
	}
	if a.cfg.Fresh != nil {
		if err := a.cfg.Fresh(r.Context()); err != nil {
			return nil, err
		}
	}
	as, err := a.cfg.ReadModels.Accounts(r.Context())
	if err != nil {
		return nil, err
	}
	for _, acc := range as {
		if acc.ID == id {
			return accountOf(acc, a.now()), nil
		}
	}
	return nil, projections.ErrNotFound
}
