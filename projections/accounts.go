package projections

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// AccountLister is the read model FindAccount looks accounts up in (a
// Sink).
type AccountLister interface {
	Accounts(ctx context.Context) ([]Account, error)
}

// FindAccount returns the account ref names: its id, or its label (in
// any case). A removed account is not found. Errors: one matching
// ErrNotFound when no account has ref; a *domain.Error (EINVALID, Field
// "account") when a label names several.
func FindAccount(ctx context.Context, sink AccountLister, ref string) (Account, error) {
	accs, err := sink.Accounts(ctx)
	if err != nil {
		return Account{}, err
	}
	id, idErr := uuid.Parse(ref)
	var found []Account
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
		return Account{}, fmt.Errorf("account %q: %w", ref, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return Account{}, &domain.Error{Code: domain.EINVALID, Field: "account",
		Message: fmt.Sprintf("%d accounts are labelled %q: name one by its id", len(found), ref)}
}
