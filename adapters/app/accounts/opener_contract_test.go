package accounts_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/campaigns/openertest"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
)

// The campaign opener keeps the Opener contract, on the sandbox Telegram
// with its accounts connected (the scheduler tests' double runs the same
// suite).
func TestCampaignOpenerContract(t *testing.T) {
	t.Parallel()
	silent := telegramtest.Persona{Reply: func(telegramtest.Incoming) []string { return nil }}
	openertest.Run(t, func(t *testing.T) openertest.World {
		w := newWorld(t)
		w.start()
		return openertest.World{
			Opener: w.svc.CampaignOpener(),
			H:      w.h,
			AddAccount: func(t *testing.T, label string, l domain.Limits) uuid.UUID {
				id, _ := w.addAccountWith(label, l)
				w.eventually(label+" is connected", func() bool { return w.connected(id) })
				return id
			},
			AddContact: func(t *testing.T, username string) uuid.UUID {
				w.persona(username, silent)
				id := uuid.New()
				if _, err := w.h.Contact(t.Context(), id, domain.AddContact{ContactID: id, Source: domain.SourceImport,
					Basis: domain.BasisLegitimateInterest, Username: username}); err != nil {
					t.Fatal(err)
				}
				return id
			},
		}
	})
}
