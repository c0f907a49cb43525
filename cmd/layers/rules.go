package main

// The import rules `make lint` enforces (docs/ARCHITECTURE.md draws
// them). Paths are inside the module; "x/..." is x and every package
// below it. Only the non-test files of a package are held to the layer,
// I/O and clock rules; its tests are held to the layers with the
// exceptions in testUpward.

// layers, bottom to top. A package is in the layer of the longest
// pattern that matches it (adapters/app/system/... before
// adapters/app/...), and may import packages of its own layer and of
// the layers below. A package in no layer fails the check: place it here.
var layers = []layer{
	{name: "domain", pkgs: []string{
		"domain/...", // events, deciders, policies, guards, ports: pure
	}},
	{name: "eventstore", pkgs: []string{
		"eventstore/...", // the log
	}},
	{name: "edge", pkgs: []string{
		"projections/...", // read models
		"migrations/...",  // their PostgreSQL schema
		"adapters",        // the package doc only
		"adapters/eventlog/...",
		"adapters/telegram/...", // with its test double telegramtest
		"adapters/adminbot/...", // with botapitest
		"adapters/llm/...",      // with openaitest
		"adapters/offline/...",
		"adapters/redact/...",
		"adapters/clock/...",
		"adapters/cli/...",      // the command line's framework: commands, help, secret options
		"adapters/httpapi/...",  // the HTTP API (/api/v1): its OpenAPI contract, auth, problems, endpoints
		"adapters/metrics/...",  // Prometheus metrics (/metrics) and health checks (/healthz, /readyz)
		"adapters/web/...",      // the web console (/web/): server-rendered pages, sign-in sessions, live updates
		"adapters/webhooks/...", // outbound webhooks' wire: Standard Webhooks signatures, payloads, the guarded sender
		"adapters/caldav/...",   // meeting booking on a CalDAV calendar: the client, the Booker; radicaletest runs a real Radicale for tests
		"adapters/amocrm/...",   // the amoCRM / Kommo connector (API v4) and its webhook; with amocrmtest
		"adapters/bitrix24/...", // the Bitrix24 connector (REST over an inbound webhook) and its deal events; with bitrix24test
		"adapters/hubspot/...",  // the HubSpot connector (CRM v3, private app) and its webhook (signature v3); with hubspottest
		"adapters/cluster/...",  // several nodes on one JetStream log: account leases on JetStream KV, their grants fencing the log's appends; live nodes, placement, balancer, status
		"adapters/crm/...",      // what the CRM connectors share: Secret, config reading, Clock, webhook ports, the bearer JSON call, retry waits, text cutting; with crmtest (fake Clock, fault queue)
	}},
	{name: "app", pkgs: []string{
		"adapters/app/...", // application services: accounts, engine, campaigns, contacts, dialogs, audit, demo, tokens, webhooks, crmsync, logmigrate
	}},
	{name: "system", pkgs: []string{
		"adapters/app/system/...", // the running system composed of them: the composition root
	}},
	{name: "cmd", pkgs: []string{
		"cmd/...",     // wiring and printing
		"docs/deploy", // tests only: the units, alert rules and dashboard there
	}},
}

// upwardMessage names what an upward import breaks, by the layers it
// joins (from, to); any other upward import is "imports upward".
var upwardMessage = map[[2]string]string{
	{"edge", "app"}:    "an edge never imports an application service: define a port in the edge and let the wiring (cmd) give it the service",
	{"domain", "edge"}: "domain imports no adapter",
	{"domain", "app"}:  "domain imports no adapter",
	{"app", "system"}:  "an application service never imports the running system: it is composed there, not the other way round",
}

// testUpward are the upward imports tests may make (in _test.go files
// only), each with why: a test that builds its world from a higher layer.
var testUpward = []exception{
	{from: "adapters/adminbot", to: "adapters/app/contacts",
		why: "the /import tests run the real contacts import behind the bot's Importer port"},
	{from: "adapters/adminbot", to: "adapters/app/dialogs",
		why: "the /won and /lost tests record outcomes through the real dialogs.Service behind the bot's Dialogs port"},
	{from: "adapters/httpapi", to: "adapters/app/dialogs",
		why: "the API's tests record outcomes through the real dialogs.Service behind its Dialogs port"},
	{from: "adapters/httpapi", to: "adapters/app/tokens",
		why: "the API's tests authenticate and rate-limit with the real tokens.Service and Limiter"},
	{from: "adapters/httpapi", to: "adapters/app/campaigns",
		why: "the API's tests list campaigns through the real campaigns.List behind its Campaigns port"},
	{from: "adapters/httpapi", to: "adapters/app/webhooks",
		why: "the API's tests subscribe and deliver through the real webhooks.Service behind its Webhooks port"},
	{from: "adapters/httpapi", to: "adapters/app/system",
		why: "the API's tests run its ports as the running system fills them (system.ContactsAPI, CampaignsAPI, APIEvents, APIAudit, APIAccounts), which hold the feed's redaction of personal fields"},
}

// domainIO: the packages of the domain layer do no I/O. Their own
// imports may not be any of imports; nothing they depend on, directly or
// not, may be any of deps (the standard library's os, net and
// database/sql/driver come in through fmt and github.com/google/uuid, so
// those are checked as direct imports only).
var domainIO = ioRule{
	layer: "domain",
	imports: []string{
		"os/...", "io/ioutil", "path/filepath", "syscall",
		"net/...", "database/sql/...",
		"log/...", // a logger writes somewhere
	},
	deps: []string{
		"net/http/...", "database/sql",
		"github.com/cockroachdb/pebble/...",
		"github.com/jackc/pgx/...",
		"github.com/gotd/td/...",
		"github.com/mymmrac/telego/...",
		"github.com/sashabaranov/go-openai/...",
		"github.com/nats-io/...",
	},
}

// domainClock: the domain reads no clock and waits for none: the time is
// passed in (Decide(state, cmd, now)). The non-test files of its packages
// may not use these functions of package time.
var domainClock = clockRule{
	layer: "domain",
	funcs: []string{"Now", "Since", "Until", "Sleep", "After", "AfterFunc", "NewTimer", "NewTicker", "Tick"},
	except: map[string]string{
		"domain/modeltest": "a contract suite: it bounds a Model's call with a timer",
	},
}
