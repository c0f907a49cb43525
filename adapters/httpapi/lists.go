package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// Account is a Telegram account with its status and today's usage.
type Account struct {
	ID                uuid.UUID  `json:"id"`
	Label             string     `json:"label"`
	Status            string     `json:"status"`
	Paused            bool       `json:"paused"`
	Reason            *string    `json:"reason"`
	FloodUntil        *time.Time `json:"flood_until"`
	DialogsToday      int        `json:"dialogs_today"`
	DailyCap          int        `json:"daily_cap"`
	MessagesPerMinute int        `json:"messages_per_minute"`
	MessagesTotal     int        `json:"messages_total"`
}

// listCampaigns: GET /api/v1/campaigns.
func (a *API) listCampaigns(r *http.Request, _ domain.Principal) (any, error) {
	cs, err := a.cfg.Campaigns.Campaigns(r.Context())
	if err != nil {
		return nil, err
	}
	for i := range cs {
		if cs[i].Totals.Revenue == nil {
			cs[i].Totals.Revenue = []Money{}
		}
		if cs[i].Variants == nil {
			cs[i].Variants = []domain.VariantWeight{}
		}
	}
	if cs == nil {
		cs = []Campaign{}
	}
	return list[Campaign]{Items: cs}, nil
}

// listAccounts: GET /api/v1/accounts.
func (a *API) listAccounts(r *http.Request, _ domain.Principal) (any, error) {
	as, err := a.cfg.ReadModels.Accounts(r.Context())
	if err != nil {
		return nil, err
	}
	now := a.now()
	out := list[Account]{Items: make([]Account, 0, len(as))}
	for _, acc := range as {
		out.Items = append(out.Items, accountOf(acc, now))
	}
	return out, nil
}

// accountOf is an account as lists show it at now.
func accountOf(acc projections.Account, now time.Time) Account {
	item := Account{ID: acc.ID, Label: acc.Label, Status: acc.Status, Paused: acc.Paused, Reason: stringOrNil(acc.Reason),
		DialogsToday: acc.DialogsToday, DailyCap: acc.DailyCap, MessagesPerMinute: acc.MessagesPerMinute, MessagesTotal: acc.MessagesTotal}
	if acc.Day != now.UTC().Format(time.DateOnly) {
		item.DialogsToday = 0 // counted on another day (as the admin bot's /accounts)
	}
	if acc.FloodUntil.After(now) {
		item.FloodUntil = TimeOrNil(acc.FloodUntil)
	}
	return item
}
