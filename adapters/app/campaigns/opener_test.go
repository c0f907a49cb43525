package campaigns_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/campaigns/openertest"
	"github.com/salesbot/salesbot/domain"
)

// The scheduler tests' opener keeps the contract of the real one
// (accounts.CampaignOpener runs the same suite).
func TestOpenerDoubleContract(t *testing.T) {
	openertest.Run(t, func(t *testing.T) openertest.World {
		w := newWorld(t, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), 1)
		return openertest.World{
			Opener: w.opener,
			H:      w.h,
			AddAccount: func(t *testing.T, label string, l domain.Limits) uuid.UUID {
				return w.addAccount(label, l)
			},
			AddContact: func(t *testing.T, username string) uuid.UUID {
				id := w.id()
				if _, err := w.h.Contact(t.Context(), id, domain.AddContact{ContactID: id, Source: domain.SourceImport,
					Basis: domain.BasisLegitimateInterest, Username: username}); err != nil {
					t.Fatal(err)
				}
				return id
			},
		}
	})
}
