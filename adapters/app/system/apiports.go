package system

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"time"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/adapters/app/dialogs"
	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/adapters/web"
	"github.com/salesbot/salesbot/projections"
)

// The HTTP API is an edge: it imports no application service, and gets
// them here, through its ports (adapters/httpapi/ports.go).

// HTTP configures the HTTP server.
type HTTP struct {
	Listen string      // host:port
	TLS    *tls.Config // nil: plain HTTP (loopback, or behind a reverse proxy)
	Rate   tokens.Rate // each token's; zero: tokens.DefaultRate()
	// LLMPrice is what the LLM's tokens cost, for the web console's
	// analytics (zero: not known).
	LLMPrice web.LLMPrice
}

// freshWait bounds how long a POST waits for the read models to show
// what it wrote.
const freshWait = 2 * time.Second

var (
	_ httpapi.Campaigns  = apiCampaigns{}
	_ httpapi.Dialogs    = dialogs.Service{}
	_ httpapi.ReadModels = projections.Sink(nil)
)

// newAPI builds the API on the log's tokens.
func (s *System) newAPI(cfg HTTP) (*httpapi.API, error) {
	if cfg.Rate == (tokens.Rate{}) {
		cfg.Rate = tokens.DefaultRate()
	}
	st := s.cfg.Store
	c := httpapi.Config{Cluster: s.reporter(), ReadModels: s.cfg.ReadModels, Tokens: s.tokens, Limiter: tokens.NewLimiter(cfg.Rate, time.Now),
		Dialogs: dialogs.Service{H: s.h}, Campaigns: apiCampaigns{s.cfg.ReadModels}, Fresh: s.Fresh, Logger: s.log,
		Opener: apiOpener{s.svc}, Transcripts: apiTranscripts{s.cfg.ReadModels},
		Contacts:        ContactsAPI{H: s.h, Store: st},
		CampaignActions: CampaignsAPI{H: s.h, Store: st, Sink: s.cfg.ReadModels, Scenario: s.cfg.Engine.Scenario},
		Events:          APIEvents(st), Audit: s.audit, Accounts: APIAccounts(s.h, s.cfg.ReadModels), Webhooks: APIWebhooks(s.hooks)}
	if s.cfg.CLI != nil {
		c.CLI = s.cliFor
	}
	return httpapi.New(c)
}

// newConsole builds the web console on the same ports as the API, its
// sessions from the log's sign-in links. Its CSRF key is derived from
// the master key, so open forms survive a restart.
func (s *System) newConsole(cfg HTTP) (*web.Web, error) {
	st := s.cfg.Store
	key := hmac.New(sha256.New, st.IndexKey())
	key.Write([]byte("salesbot web console CSRF"))
	return web.New(web.Config{Sessions: s.signins.Console(), ReadModels: s.cfg.ReadModels, Dialogs: dialogs.Service{H: s.h},
		Transcripts: apiTranscripts{s.cfg.ReadModels}, Events: APIEvents(st), Fresh: s.Fresh, Logger: s.log,
		Secure: cfg.TLS != nil, CSRFKey: key.Sum(nil), LLMPrice: cfg.LLMPrice,
		Campaigns: CampaignsAPI{H: s.h, Store: st, Sink: s.cfg.ReadModels, Scenario: s.cfg.Engine.Scenario}, Audience: webAudience{st},
		Accounts: APIAccounts(s.h, s.cfg.ReadModels), Audit: s.audit, Cluster: s.reporter()})
}

// Fresh waits until the read models hold every event the log holds now,
// at most freshWait (then the caller answers from what they hold).
func (s *System) Fresh(ctx context.Context) error {
	head := s.cfg.Store.Head()
	ctx, cancel := context.WithTimeout(ctx, freshWait)
	defer cancel()
	for {
		cp, err := s.cfg.ReadModels.Checkpoint(ctx)
		if err != nil || cp.Position >= head {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// apiCampaigns is campaigns.List as httpapi.Campaigns.
type apiCampaigns struct{ sink projections.Sink }

func (c apiCampaigns) Campaigns(ctx context.Context) ([]httpapi.Campaign, error) {
	l, err := campaigns.List(ctx, c.sink)
	if err != nil {
		return nil, err
	}
	out := make([]httpapi.Campaign, 0, len(l))
	for _, s := range l {
		t := s.Totals
		counts := httpapi.Counts{Dialogs: t.Dialogs, Replied: t.Replied, ReplyRate: t.ReplyRate, Qualified: t.Qualified, QualifiedRate: t.QualifiedRate,
			Handoff: t.Handoff, HandoffRate: t.HandoffRate, OptedOut: t.OptedOut, OptOutRate: t.OptOutRate, Lost: t.Lost, Won: t.Won, Revenue: []httpapi.Money{}}
		for _, m := range t.Revenue {
			counts.Revenue = append(counts.Revenue, httpapi.Money{Amount: m.Amount, Currency: m.Currency})
		}
		out = append(out, httpapi.Campaign{ID: s.ID, Short: s.Short, Name: s.Name, Status: s.Status, Scenario: s.Scenario, Version: s.Version,
			Variants: s.Variants, Targeted: s.Targeted, Totals: counts, Created: s.Created, Updated: s.Updated})
	}
	return out, nil
}
