package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/domain"
)

// CampaignOpener opens the dialogs the campaign scheduler asks for: one
// attempt of Start with the account pinned, without waiting (the
// scheduler waits by itself, per account).
type CampaignOpener struct{ s *Service }

var _ campaigns.Opener = CampaignOpener{}

// CampaignOpener is the service as the campaign scheduler's Opener.
func (s *Service) CampaignOpener() CampaignOpener { return CampaignOpener{s} }

// Open implements campaigns.Opener: it starts the dialog from r.Account
// only, recording the campaign and the variant. An account that cannot
// open one now gives its ELIMIT (with RetryAt) or ESTATE error; a contact
// that may not be written to, cannot be found, is another contact's
// person (ErrOtherContact) or already has an open dialog gives an error
// matching campaigns.ErrContact.
func (o CampaignOpener) Open(ctx context.Context, r campaigns.OpenRequest) (int64, error) {
	if r.Campaign == uuid.Nil || r.Contact == uuid.Nil || r.Account == uuid.Nil {
		return 0, errors.New("accounts: a campaign dialog needs a campaign, a contact and an account")
	}
	st, _, err := o.s.tryStart(ctx, StartRequest{ContactID: r.Contact, Account: r.Account, Campaign: r.Campaign,
		Variant: r.Variant, By: "campaign:" + r.Campaign.String()})
	if err != nil {
		err = fmt.Errorf("accounts: campaign %s, contact %s, account %s: %w", r.Campaign, r.Contact, r.Account, err)
		if contactFault(err) {
			return 0, fmt.Errorf("%w: %w", campaigns.ErrContact, err)
		}
		return 0, err
	}
	return st.N, nil
}

// contactFault says whether a start failed because of the contact rather
// than the account.
func contactFault(err error) bool {
	return errors.Is(err, ErrInDialog) || errors.Is(err, ErrUnknownUsername) || errors.Is(err, ErrNoContact) || errors.Is(err, ErrOtherContact) ||
		errors.Is(err, errNoPeer) || errors.Is(err, errUsernameMoved) || domain.ErrorCode(err) == domain.EFORBIDDEN
}
