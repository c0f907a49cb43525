// Package httpapi is salesbot's HTTP API, /api/v1: the edge where other
// programs (a CRM, a script, a dashboard) read dialogs, campaigns and
// accounts and record deals' outcomes. It is spec-first: openapi.json
// (served at /api/v1/openapi.json) is the contract, written by hand, and
// the tests check every request and response against it.
//
// Every request but the document's carries an API token (bearer auth
// through the Authenticator port, a per-token rate limit through the
// Limiter); errors are application/problem+json (RFC 9457) with the
// fields at fault; POSTs take an Idempotency-Key. The API imports no
// application service: it answers from the read models and asks the
// rest through its ports (ports.go).
package httpapi

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/salesbot/salesbot/adapters/cli/remote"
	"github.com/salesbot/salesbot/domain"
)

// OpenAPI is the API's contract, OpenAPI 3.1.
//
//go:embed openapi.json
var OpenAPI []byte

// MaxBody bounds a request's body.
const MaxBody = 1 << 20

// Config is what an API needs. ReadModels, Tokens, Limiter, Dialogs and
// Campaigns are required.
type Config struct {
	ReadModels ReadModels
	Tokens     Authenticator
	Limiter    Limiter
	Dialogs    Dialogs
	Campaigns  Campaigns
	// Fresh, if set, waits until the read models hold every event the
	// log holds when it is called (or ctx ends): a POST answers with
	// what it changed. Nil: no waiting.
	Fresh func(ctx context.Context) error
	// Logger hears of failures and panics; never of a request's
	// Authorization header or body. Nil: nothing is logged.
	Logger *slog.Logger
	Now    func() time.Time // nil: time.Now
	// CLI, if set, runs a client's command line inside the server for
	// principal p (POST /api/v1/cli, adapters/cli/remote): p's scope
	// decides which commands it may run. Nil: the route answers 404.
	CLI func(p domain.Principal) remote.Exec
	// Opener opens dialogs and Transcripts exports them (required; see
	// dialog_actions.go).
	Opener      DialogOpener
	Transcripts Transcripts
	// Contacts, if set, serves /api/v1/contacts (contacts.go).
	Contacts Contacts
	// CampaignActions, if set, serves creating a campaign and
	// /api/v1/campaigns/{id} (campaigns.go).
	CampaignActions CampaignActions
	// Events is the log the event feed follows; nil: no feed
	// (GET /events is not served).
	Events Events
	// Heartbeat is how often an idle event feed sends a comment to keep
	// its connection open (zero: every 15 s).
	Heartbeat time.Duration
	// Audit verifies the log and replays dialogs from it; nil: not
	// served.
	Audit Audit
	// Accounts are an admin's actions on accounts; nil: not served.
	Accounts AccountActions
	// Webhooks are an admin's outbound webhooks; nil: not served.
	Webhooks Webhooks
	// Cluster reads the status of the nodes sharing the log
	// (cluster.go); nil: a single node, which GET /api/v1/cluster says.
	Cluster Cluster
}

// API serves /api/v1. Build it with New; it is an http.Handler.
type API struct {
	cfg  Config
	log  *slog.Logger
	now  func() time.Time
	mux  *http.ServeMux
	keys *idempotency
}

// New returns the API of cfg.
func New(cfg Config) (*API, error) {
	if cfg.ReadModels == nil || cfg.Tokens == nil || cfg.Limiter == nil || cfg.Dialogs == nil || cfg.Campaigns == nil {
		return nil, errors.New("httpapi: an API needs its read models, tokens, limiter, dialogs and campaigns")
	}
	a := &API{cfg: cfg, log: cfg.Logger, now: cfg.Now, mux: http.NewServeMux()}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.keys = newIdempotency(a.now, 24*time.Hour)
	a.mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(OpenAPI)
	})
	a.route("GET /api/v1/dialogs", domain.ScopeRead, a.listDialogs)
	a.route("GET /api/v1/dialogs/{n}", domain.ScopeRead, a.getDialog)
	a.route("GET /api/v1/dialogs/{n}/messages", domain.ScopeRead, a.dialogMessages)
	a.route("POST /api/v1/dialogs/{n}/outcome", domain.ScopeManage, a.recordOutcome)
	a.route("GET /api/v1/campaigns", domain.ScopeRead, a.listCampaigns)
	a.route("GET /api/v1/accounts", domain.ScopeRead, a.listAccounts)
	if cfg.CLI != nil {
		a.mux.HandleFunc("POST "+remote.Path, a.cli)
	}
	if err := a.routeDialogActions(); err != nil {
		return nil, err
	}
	a.routeContacts()
	a.routeCampaigns()
	a.eventRoutes()
	a.auditRoutes()
	a.accountRoutes()
	a.webhookRoutes()
	a.clusterRoutes()
	return a, nil
}

// cli: POST /api/v1/cli, the CLI through the server (remote.Serve). Any
// valid token may connect; each command needs its own scope.
func (a *API) cli(w http.ResponseWriter, r *http.Request) {
	p, ok := a.admit(w, r, domain.ScopeRead)
	if !ok {
		return
	}
	if !remote.Upgrading(r) {
		w.Header().Set("Upgrade", remote.Protocol)
		Problem{Type: TypeUpgrade, Title: "Upgrade required", Status: http.StatusUpgradeRequired,
			Detail: "this endpoint runs salesbot commands: send Connection: Upgrade and Upgrade: " + remote.Protocol}.write(w)
		return
	}
	if err := remote.Serve(w, r, a.cfg.CLI(p)); err != nil {
		a.log.Warn("http: a command line through the server failed", "err", err)
	}
}

// handler is an endpoint: it answers a value (encoded as JSON with
// status 200) or an error (a problem, problemOf).
type handler func(r *http.Request, p domain.Principal) (any, error)

// route serves pattern with h for tokens of scope need.
func (a *API) route(pattern string, need domain.Scope, h handler) {
	a.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := a.admit(w, r, need)
		if !ok {
			return
		}
		if r.Method == http.MethodPost {
			a.idempotent(w, r, p, h)
			return
		}
		a.answer(w, r, p, h)
	}))
}

// admit authenticates r's token for scope need and takes the request
// from the token's allowance; when r may not go on it answers why (401,
// 403, 429) and ok is false.
func (a *API) admit(w http.ResponseWriter, r *http.Request, need domain.Scope) (p domain.Principal, ok bool) {
	p, err := a.cfg.Tokens.Authenticate(r.Context(), r.Header.Get("Authorization"), need)
	if err != nil {
		a.fail(w, r, err)
		return p, false
	}
	if ok, wait := a.cfg.Limiter.Allow(p.TokenID); !ok {
		Problem{Type: TypeRateLimited, Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail: "the token's rate limit is reached", retryAfter: max(wait, time.Second)}.write(w)
		return p, false
	}
	return p, true
}

// answer runs h and writes its answer.
func (a *API) answer(w http.ResponseWriter, r *http.Request, p domain.Principal, h handler) {
	v, err := h(r, p)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if res, ok := v.(response); ok { // a status, headers or a body of its own
		res.write(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = jsonEncode(w, v)
}

// fail writes err's problem; an error no problem stands for is logged
// and answered 500.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var pe problemError
	if errors.As(err, &pe) {
		pe.write(w)
		return
	}
	p, ok := problemOf(err, a.now())
	if !ok {
		a.log.Error("http: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p.write(w)
}

// problemError is a problem an endpoint returns as its error.
type problemError struct{ Problem }

func (e problemError) Error() string { return e.Detail }

// ServeHTTP serves the API: its routes, a 404 or 405 problem for any
// other path or method, and a 500 problem for a panic (logged with its
// stack, never with the request's body or headers).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		a.log.Error("http: handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
		internal().write(w) // if the answer began, this only ends it
	}()
	h, pattern := a.mux.Handler(r)
	if pattern != "" {
		a.mux.ServeHTTP(w, r) // which sets the path's values
		return
	}
	// The mux's own 404 or 405 (with Allow), as a problem.
	rec := &statusRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if allow := rec.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	if rec.status == http.StatusMethodNotAllowed {
		Problem{Type: TypeNotAllowed, Title: "Method not allowed", Status: rec.status, Detail: r.Method + " is not allowed here"}.write(w)
		return
	}
	Problem{Type: TypeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: "no such resource"}.write(w)
}

// statusRecorder keeps what the mux answers for a request it has no
// route for.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(code int)        { s.status = code }
