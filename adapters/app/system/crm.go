package system

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/salesbot/salesbot/adapters/amocrm"
	"github.com/salesbot/salesbot/adapters/app/crmsync"
	"github.com/salesbot/salesbot/adapters/app/dialogs"
	"github.com/salesbot/salesbot/adapters/bitrix24"
	"github.com/salesbot/salesbot/adapters/hubspot"
)

// The CRM connectors: each configured CRM gets its dialogs pushed as
// they qualify (a crmsync.Follower) and, when its configuration has
// what its webhook needs and the HTTP server runs, its won/lost back
// through its webhook at /hooks/<crm>.

// CRM configures the CRM connectors (each from its file: amocrm.Load,
// ...); nil: not connected.
type CRM struct {
	AmoCRM   *amocrm.Config
	Bitrix24 *bitrix24.Config
	HubSpot  *hubspot.Config
}

// crmPart is one connected CRM.
type crmPart struct {
	follow crmsync.Follower
	path   string       // where its webhook is served ("": none)
	hook   http.Handler // its webhook
}

// newCRMs builds the configured connectors. A configuration a connector
// refuses is a *ConfigError of PartCRM.
func (s *System) newCRMs(cfg CRM) error {
	h, st := s.h, s.cfg.Store
	record := dialogs.Service{H: h}.RecordOutcomeAt
	add := func(crm crmsync.CRM, path string, hook http.Handler) {
		s.crms = append(s.crms, crmPart{follow: crmsync.Follower{Store: st, Service: crmsync.Service{H: h, Log: s.log}, CRM: crm, Log: s.log},
			path: path, hook: hook})
	}
	refused := func(name string, err error) error {
		return &ConfigError{Part: PartCRM, Err: fmt.Errorf("%s: %w", name, err)}
	}
	if c := cfg.AmoCRM; c != nil {
		client, err := amocrm.New(*c, amocrm.Options{Logger: s.log})
		if err != nil {
			return refused("amoCRM", err)
		}
		var hook http.Handler
		if !c.WebhookSecret.Empty() {
			if hook, err = amocrm.NewWebhook(*c, h, record, s.log); err != nil {
				return refused("amoCRM", err)
			}
		}
		add(client, "/hooks/amocrm/", hook)
	}
	if c := cfg.Bitrix24; c != nil {
		client, err := bitrix24.New(*c, bitrix24.Options{Logger: s.log})
		if err != nil {
			return refused("Bitrix24", err)
		}
		var hook http.Handler
		if !c.ApplicationToken.Empty() {
			if hook, err = bitrix24.NewEvents(*c, client, h, record, s.log); err != nil {
				return refused("Bitrix24", err)
			}
		}
		add(client, "/hooks/bitrix24", hook)
	}
	if c := cfg.HubSpot; c != nil {
		client, err := hubspot.New(*c, hubspot.Options{Logger: s.log})
		if err != nil {
			return refused("HubSpot", err)
		}
		var hook http.Handler
		path := "/hooks/hubspot"
		if !c.ClientSecret.Empty() && c.WebhookURL != "" {
			u, err := url.Parse(c.WebhookURL)
			if err != nil || u.Path == "" {
				return refused("HubSpot", fmt.Errorf("webhook_url: not an absolute URL with a path"))
			}
			path = u.Path // the signature covers the URL as HubSpot calls it
			if hook, err = hubspot.NewWebhook(*c, hubspot.WebhookDeps{Links: h, Deals: client, Record: record, Log: s.log}); err != nil {
				return refused("HubSpot", err)
			}
		}
		add(client, path, hook)
	}
	return nil
}

// mountCRMs serves the CRMs' webhooks on mux.
func (s *System) mountCRMs(mux *http.ServeMux) {
	for _, c := range s.crms {
		if c.hook != nil {
			mux.Handle("POST "+c.path, c.hook)
		}
	}
}
