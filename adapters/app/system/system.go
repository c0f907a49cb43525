// Package system is salesbot at work on one log, composed: the accounts
// (clients, inbound router, outbox), the dialog engine, the campaign
// scheduler, the read models and, when configured, the admin bot, with
// their goroutines, their shutdown and the notices between them. It is
// the composition root above the application services: it may import
// them and the edges, and none of them imports it. `salesbot run` and
// `salesbot demo` build one from a Config of values they parsed.
package system

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/adminbot"
	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/app/dialogs"
	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/app/webhooks"
	"github.com/salesbot/salesbot/adapters/app/websessions"
	"github.com/salesbot/salesbot/adapters/caldav"
	"github.com/salesbot/salesbot/adapters/cli/remote"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/adapters/llm"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/adapters/web"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// Config is what New builds a System from: the log and the read models
// the caller opened, and values it parsed and checked.
type Config struct {
	Store      eventstore.Log   // open; the caller closes it once Run returned
	ReadModels projections.Sink // New binds them to Store (projections.Runner.Bind)
	Telegram   *telegram.Dialer // connects the accounts (its Options may point at a sandbox)
	Log        *slog.Logger
	DataDir    string // Store's directory, for the log
	Engine     Engine
	Bot        *Bot  // nil = no admin bot
	HTTP       *HTTP // nil = no HTTP server
	// CLI, if set, runs clients' command lines on this system (the CLI
	// through the server, adapters/cli/remote): on a unix socket in
	// DataDir, and on the HTTP server for API tokens. p is who asks: the
	// socket's owner is an admin.
	CLI func(p domain.Principal) remote.Exec
	// Typing is how long "typing…" shows before a message; nil = the
	// accounts' default.
	Typing func(text string) time.Duration
	// Webhooks configures the outbound webhooks' delivery.
	Webhooks Webhooks
	// CRM connects CRMs.
	CRM CRM
	// Cluster, if set, makes the system one node of several on Store, a
	// log on NATS JetStream (cluster.go); nil = the only node.
	Cluster *Cluster
}

// Webhooks configures the outbound webhooks (adapters/app/webhooks).
type Webhooks struct {
	// AllowPrivate lets subscriptions target private and loopback
	// addresses (--webhooks-allow-private): receivers on this machine or
	// its network.
	AllowPrivate bool
}

// Engine configures the dialog engine.
type Engine struct {
	Scenario *scenario.Scenario
	LLM      *llm.Config // the LLM that answers; nil = the offline scenario engine
	Debounce time.Duration
	// Calendar is the manager's calendar meetings are booked on; nil =
	// none (the scenario's booking link, if any).
	Calendar *caldav.Calendar
	// Files are the knowledge base's files the assistant may send.
	Files engine.Files
}

// Bot configures the admin bot.
type Bot struct {
	Token, APIURL string // APIURL empty = Telegram's Bot API
	Admins        map[int64]adminbot.Role
	// WebhookURL, if set, is where Telegram posts updates, served on
	// Listen; empty = long polling.
	WebhookURL, Listen string
}

// Part names the part of a System that refused its configuration.
type Part int

const (
	PartModel Part = iota + 1 // the LLM client (llm.New)
	PartBot                   // the admin bot (adminbot.New)
	PartCRM                   // a CRM connector (amocrm.New, ...)
)

// ConfigError is a part refusing its configuration when New builds it,
// before anything runs: the caller names its setting. Its text is the
// part's own error's.
type ConfigError struct {
	Part Part
	Err  error
}

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// System is salesbot at work on one log. Build it with New, run it with
// Run.
type System struct {
	cfg     Config
	log     *slog.Logger
	svc     *accounts.Service
	h       domain.Handlers
	dialogs *engine.Engine
	insight *engine.Insights // the insights of dialogs that close or are handed off
	sched   *campaigns.Scheduler
	bot     *adminbot.Bot
	api     *httpapi.API // nil without Config.HTTP and Config.CLI
	tokens  *tokens.Service
	hooks   *webhooks.Service    // the outbound webhooks: subscriptions and delivery
	crms    []crmPart            // the CRM connectors (crm.go)
	signins *websessions.Service // the web console's sign-in links and sessions
	audit   httpapi.Audit        // the API's and the console's: one verification at a time
	console *web.Web             // nil without Config.HTTP
	cli     sessions             // the command lines run for clients
	model   string               // which model answers, for the log
	// services are run next to the others until ctx ends; an error from
	// one stops the system (tests).
	services []func(ctx context.Context) error
	obs      *observability // metrics and health (observe.go)
	node     *node          // Config.Cluster's: joined by New, left when Run returns; nil = the only node
}

// New binds the read models to the log, completes what the log needs
// before it is read (contacts indexed, interrupted erasures), and builds
// every part. A part refusing its configuration is a *ConfigError; the
// read models' refusal of the log is projections.Runner.Bind's.
func New(ctx context.Context, cfg Config) (*System, error) {
	st := cfg.Store
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if c := cfg.Cluster; c != nil && c.NodeID == "" {
		cp := *c
		cp.NodeID = uuid.NewString()
		cfg.Cluster = &cp
	}
	s := &System{cfg: cfg, log: cfg.Log}
	// The read models must be this log's before the bot serves them.
	if _, err := (projections.Runner{Store: st, Sink: cfg.ReadModels}).Bind(ctx); err != nil {
		return nil, err
	}
	// Contacts recorded before the username and phone indexes existed are
	// linked now, so an import or a person writing in finds them.
	if n, err := contacts.Reindex(ctx, st, domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: time.Now}); err != nil {
		return nil, err
	} else if n > 0 {
		s.log.Info("salesbot: contacts indexed", "contacts", n)
	}
	// Erasures a crash interrupted (recorded, the key not yet deleted)
	// are completed before anything reads the log.
	if n, err := contacts.RepairErasures(ctx, st); err != nil {
		return nil, err
	} else if n > 0 {
		s.log.Info("salesbot: interrupted erasures completed", "contacts", n)
	}
	if err := s.observe(); err != nil {
		return nil, err
	}
	onInbound := func(dialog uuid.UUID, _ telegram.Message) {
		if d, err := s.h.LoadDialog(ctx, dialog); err == nil {
			s.log.Info("salesbot: message received", "dialog", d.N, "messages_in", d.Inbound)
		}
	}
	tg := cfg.Telegram
	// The followers of the log start from their snapshots: a restart reads
	// only the events after them.
	snaps := &eventstore.Snapshots{Store: st, Secrets: st}
	transcriber, err := engine.NewTranscriber(cfg.Engine.LLM)
	if err != nil {
		return nil, &ConfigError{Part: PartModel, Err: err}
	}
	svc, err := accounts.New(accounts.Config{Store: st, Runner: tg, LogOut: tg.LogOut, Login: tg.LoginPhone, Log: s.log,
		OnInbound: onInbound, Notify: s.notify, TypingDelay: cfg.Typing, Snapshots: snaps, Transcriber: transcriber,
		KnowledgeFile: cfg.Engine.Files.Data, Leased: cfg.Cluster != nil})
	if err != nil {
		return nil, err
	}
	s.svc, s.h = svc, svc.Handlers()
	core, model, err := engine.NewCore(engine.CoreConfig{H: s.h, Scenario: cfg.Engine.Scenario, LLM: s.observedLLM(cfg.Engine.LLM), Log: s.log, Calendar: cfg.Engine.Calendar})
	if err != nil {
		return nil, &ConfigError{Part: PartModel, Err: err}
	}
	s.model = model
	notify := func(kind string, dialog int64, text string) {
		s.notify(accounts.Notice{Kind: kind, Dialog: dialog, Text: text})
	}
	if core.Meetings != nil {
		core.Meetings.Notify = notify // bookings and a failing calendar
	}
	s.dialogs, err = engine.New(engine.Config{Core: core, Store: st, Decode: eventlog.New(st).Decode, Log: s.log, Debounce: cfg.Engine.Debounce,
		Hours: s.nextOpen, Snapshots: snaps, Notify: notify, Owns: s.owns})
	if err != nil {
		return nil, err
	}
	s.insight, err = engine.NewInsights(engine.InsightsConfig{H: s.h, Scenario: cfg.Engine.Scenario, Store: st, Decode: eventlog.New(st).Decode,
		Analyst: engine.Analyst(core), Log: s.log})
	if err != nil {
		return nil, err
	}
	// The campaign scheduler opens campaigns' dialogs through the accounts,
	// each on its contact's own account.
	s.sched, err = campaigns.New(campaigns.Config{Store: st, Decode: eventlog.New(st).Decode, H: s.h, Opener: svc.CampaignOpener(), Log: s.log, Snapshots: snaps,
		Owns: s.owns, Leads: s.Leads,
		Notify: func(kind, text string) { s.notify(accounts.Notice{Kind: kind, Text: text}) }})
	if err != nil {
		return nil, err
	}
	s.audit = APIAudit(st)
	if s.signins, err = websessions.New(ctx, websessions.Config{Log: eventlog.New(st), Now: time.Now, Logger: s.log}); err != nil {
		return nil, err
	}
	if b := cfg.Bot; b != nil {
		var links adminbot.WebLinks // the bot's /web, when the web console runs
		if cfg.HTTP != nil {
			links = botWebLinks{s}
		}
		s.bot, err = adminbot.New(adminbot.Config{Token: b.Token, APIURL: b.APIURL, Admins: b.Admins, Web: links,
			Sink: cfg.ReadModels, Domain: s.h, Accounts: botAccounts{svc}, Import: botImporter{s.h}, Dialogs: dialogs.Service{H: s.h}, Log: s.log})

		if err != nil {
			return nil, &ConfigError{Part: PartBot, Err: err}
		}
	}
	if s.tokens, err = tokens.New(ctx, tokens.Config{Log: eventlog.New(st), Now: time.Now, Logger: s.log}); err != nil {
		return nil, err
	}
	if s.hooks, err = webhooks.New(ctx, webhooks.Config{Store: st, Now: time.Now, Logger: s.log, AllowPrivate: cfg.Webhooks.AllowPrivate,
		Notice: s.webhookDisabled}); err != nil {
		return nil, err
	}
	if err := s.newCRMs(cfg.CRM); err != nil {
		return nil, err
	}
	if cfg.HTTP != nil {
		if s.api, err = s.newAPI(*cfg.HTTP); err != nil {
			return nil, err
		}
		if s.console, err = s.newConsole(*cfg.HTTP); err != nil {
			return nil, err
		}
	}
	if c := cfg.Cluster; c != nil { // last: nothing after it fails, and Run leaves
		if s.node, err = s.joinCluster(ctx, *c, st); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// The demo plays a System.
var _ demo.System = (*System)(nil)

// nextOpen is t if it is within the working hours of the account, else
// when they next begin.
func (s *System) nextOpen(ctx context.Context, account uuid.UUID, t time.Time) (time.Time, error) {
	acc, err := s.h.AccountNow(ctx, account, time.UTC)
	if err != nil {
		return t, err
	}
	return acc.Limits.NextOpen(t), nil
}

// notify hands a notice to the admin bot, if there is one.
func (s *System) notify(n accounts.Notice) {
	if s.bot != nil {
		s.bot.Notify(botNotice(n))
	}
}

// Accounts is the accounts service.
func (s *System) Accounts() *accounts.Service { return s.svc }

// Openings writes openings as the engine does, for a campaign's preview
// (campaigns.PreviewOpenings): run's model and scenario.
func (s *System) Openings() *engine.Core { return s.dialogs.Core() }

// Handlers are the domain's command handlers on the log.
func (s *System) Handlers() domain.Handlers { return s.h }

// webhookDisabled tells admins a subscription stopped: its target (no
// path or query) and why.
func (s *System) webhookDisabled(n webhooks.Notice) {
	s.notify(accounts.Notice{Kind: "webhook-disabled", Text: fmt.Sprintf("Webhook %s to %s is disabled: it failed since %s (%s). Replay it from position %d once the receiver is back: salesbot webhooks replay %s --from %d",
		n.WebhookID, n.Target, n.Since.UTC().Format(time.RFC3339), n.Reason, n.Position, n.WebhookID, n.Position)})
}

// Webhooks is the outbound webhooks' service: the one writer of the
// subscriptions while the system runs.
func (s *System) Webhooks() *webhooks.Service { return s.hooks }

// Tokens is the API tokens' service: the one writer of the tokens while
// the system runs.
func (s *System) Tokens() *tokens.Service { return s.tokens }

// WebSessions are the web console's sign-in links and sessions: the one
// writer of them while the system runs.
func (s *System) WebSessions() *websessions.Service { return s.signins }

// WebURL is the base URL of the web console's HTTP server ("" without
// one): https with TLS, the listen address as given.
func (s *System) WebURL() string {
	h := s.cfg.HTTP
	if h == nil {
		return ""
	}
	scheme := "http"
	if h.TLS != nil {
		scheme = "https"
	}
	host := h.Listen
	if strings.HasPrefix(host, ":") {
		host = "localhost" + host
	}
	return scheme + "://" + host
}

// ReadModels are the read models Run keeps up to date.
func (s *System) ReadModels() projections.Sink { return s.cfg.ReadModels }

// Model says which model answers: "offline scenario engine" or "LLM
// <model> at <base URL>".
func (s *System) Model() string { return s.model }
