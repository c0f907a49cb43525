// Package web is salesbot's web console: server-rendered pages
// (html/template) under /web/ on the one HTTP server of `salesbot run`,
// next to the API. It is an edge: it answers from the read models and
// acts through the same ports as the API (httpapi.Dialogs,
// httpapi.Transcripts, httpapi.Events, httpapi.CampaignActions,
// httpapi.AccountActions, httpapi.Audit, httpapi.Cluster), counts a new
// campaign's audience through the Audience port, and signs people in
// through the Sessions port; it imports no application service.
//
// Pages: the inbox and a dialog (inbox.go, dialog.go), the campaigns and
// a campaign (campaigns.go), the accounts (accounts.go), analytics
// (analytics.go), the audit (audit.go) and the cluster (cluster.go);
// charts are SVG drawn on the server (chart.go).
//
// Everything it serves is in the binary (templates, one stylesheet, one
// script of our own; no third-party code, no CDN). Every page sends a
// Content-Security-Policy without inline scripts or styles; every text
// of a lead goes through html/template's escaping; every POST carries
// the session's CSRF token and passes Go's cross-origin protection.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// Sessions signs people in with one-time links and keeps their sessions
// (the sign-in links use case; the running system adapts it).
type Sessions interface {
	// Redeem uses a sign-in link's secret once: it opens a session and
	// returns its cookie value, whom it acts for and when it expires.
	// Errors: one matching domain.ErrUnauthenticated for a secret that
	// is unknown, used or expired.
	Redeem(ctx context.Context, linkSecret string) (cookie string, p domain.Principal, expires time.Time, err error)
	// Authenticate checks a session cookie for something that needs
	// scope need. Errors: one matching domain.ErrUnauthenticated (no
	// such session, expired or ended); a *domain.ScopeError, matching
	// domain.ErrForbidden, when the session's role is too low.
	Authenticate(ctx context.Context, cookie string, need domain.Scope) (domain.Principal, error)
	// End ends the session of cookie (signing out); ending one that is
	// over already is no error.
	End(ctx context.Context, cookie string) error
}

// ReadModels are the queries the console answers from: the API's and
// the contacts (for the leads' names) and campaigns (for the filter). A
// projections.Sink is one.
type ReadModels interface {
	httpapi.ReadModels
	// ContactByID returns a contact, an error matching
	// projections.ErrNotFound if there is none.
	ContactByID(ctx context.Context, id uuid.UUID) (projections.Contact, error)
	// ContactsByID returns the contacts of ids by id, in one query (the
	// inbox's names); an unknown id is absent.
	ContactsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]projections.Contact, error)
	// DialogLeads returns the dialogs a filter selects as their numbers
	// and leads' names only (the inbox's search looks through them).
	DialogLeads(ctx context.Context, f projections.DialogFilter) ([]projections.DialogLead, error)
	// Campaigns returns every campaign, newest first.
	Campaigns(ctx context.Context) ([]projections.Campaign, error)
	// Funnel counts dialogs by projections.ByDay (and the other
	// groupings), ordered by key: the analytics page's chart.
	Funnel(ctx context.Context, by string) ([]projections.FunnelRow, error)
	// VariantFunnel counts the dialogs of a campaign (uuid.Nil: every
	// dialog) by variant: the campaigns list's funnels and the
	// analytics page's qualified leads and revenue.
	VariantFunnel(ctx context.Context, campaign uuid.UUID, since time.Time) ([]projections.VariantCounts, error)
	// Totals sums every dialog's LLM tokens and counts the qualified
	// leads, with the median times to the first reply: the analytics
	// page's tokens and cost per qualified lead.
	Totals(ctx context.Context) (projections.Totals, error)
	// UpcomingMeetings returns the booked meetings that end after from,
	// the soonest first, at most limit: the inbox's upcoming meetings.
	UpcomingMeetings(ctx context.Context, from time.Time, limit int) ([]projections.Meeting, error)
}

// Audience counts whom a campaign's segment selects: the create form's
// dry run (campaigns.CountSegment in the running system).
type Audience interface {
	// Count counts the contacts of the log seg selects: matched in all,
	// contactable of them (may be written to now). Errors: failures to
	// read the log.
	Count(ctx context.Context, seg httpapi.SegmentRequest) (contactable, matched int, err error)
}

var _ ReadModels = projections.Sink(nil)

// DefaultSLA is how long a handed-off dialog may wait for a person
// before the inbox marks it late.
const DefaultSLA = 15 * time.Minute

// Config is what the console needs. Sessions, ReadModels, Dialogs and
// Transcripts are required.
type Config struct {
	Sessions    Sessions
	ReadModels  ReadModels
	Dialogs     httpapi.Dialogs
	Transcripts httpapi.Transcripts
	// Events is the log the live updates follow; nil: pages do not
	// update by themselves (GET /web/events answers 404).
	Events httpapi.Events
	// Fresh, if set, waits until the read models hold every event the
	// log holds (as httpapi.Config.Fresh): a page shown after an action
	// shows it.
	Fresh func(ctx context.Context) error
	// Campaigns lists, shows, creates, pauses and resumes campaigns (the
	// API's port). Nil: the campaigns pages say they are not available.
	Campaigns httpapi.CampaignActions
	// Audience counts a new campaign's audience (the create form's dry
	// run). Nil: the form has no count.
	Audience Audience
	// Accounts pauses and resumes accounts (owners only). Nil: the
	// accounts page shows them without the buttons.
	Accounts httpapi.AccountActions
	// Audit verifies the log and replays dialogs. Nil: the audit page
	// says it is not available.
	Audit httpapi.Audit
	// Cluster reads the status of the nodes sharing the log (the API's
	// port). Nil: a single node; the cluster page says so and the
	// navigation does not link it.
	Cluster httpapi.Cluster
	// SLA is how long a handoff may wait (zero: DefaultSLA).
	SLA time.Duration
	// LLMPrice is what the LLM's tokens cost, for the analytics page
	// (zero: not known; the page says how to set it).
	LLMPrice LLMPrice
	// Heartbeat is how often an idle live-update stream sends a comment
	// and checks that its session still holds (zero: 15 s).
	Heartbeat time.Duration
	Now       func() time.Time // nil: time.Now
	// Logger hears of failures; never of cookies, links or leads' texts.
	// Nil: nothing is logged.
	Logger *slog.Logger
	// Secure marks the cookies Secure: the server is behind TLS.
	Secure bool
	// CSRFKey keys the forms' CSRF tokens (an HMAC of the session
	// cookie). Nil: a random key of this process (forms shown before a
	// restart then ask to be reloaded).
	CSRFKey []byte
}

// Web serves the console under /web/. Build it with New; it is an
// http.Handler.
type Web struct {
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	mux    *http.ServeMux
	pages  map[string]*template.Template
	static http.Handler
	origin *http.CrossOriginProtection
	key    []byte
}

var _ http.Handler = (*Web)(nil)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// The console's cookies.
const (
	sessionCookie = "sb_session"
	cookiePath    = "/web"
)

// csp is every page's Content-Security-Policy: our own script and
// stylesheet only, nothing inline, no frames, forms only to us.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// New returns the console of cfg.
func New(cfg Config) (*Web, error) {
	if cfg.Sessions == nil || cfg.ReadModels == nil || cfg.Dialogs == nil || cfg.Transcripts == nil {
		return nil, errors.New("web: a console needs its sessions, read models, dialogs and transcripts")
	}
	w := &Web{cfg: cfg, log: cfg.Logger, now: cfg.Now, mux: http.NewServeMux(), key: cfg.CSRFKey}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.cfg.SLA <= 0 {
		w.cfg.SLA = DefaultSLA
	}
	if w.cfg.Heartbeat <= 0 {
		w.cfg.Heartbeat = httpapi.DefaultHeartbeat
	}
	if len(w.key) == 0 {
		w.key = make([]byte, 32)
		if _, err := rand.Read(w.key); err != nil {
			return nil, fmt.Errorf("web: a CSRF key: %w", err)
		}
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	w.pages = pages
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	w.static = http.StripPrefix("/web/static/", http.FileServerFS(sub))
	w.origin = http.NewCrossOriginProtection()
	w.routes()
	return w, nil
}

func (w *Web) routes() {
	w.mux.HandleFunc("GET /web/{$}", w.page(w.inbox))
	w.mux.HandleFunc("GET /web/signin", w.signin)
	w.mux.HandleFunc("POST /web/signout", w.signout)
	w.mux.HandleFunc("GET /web/dialogs/{n}", w.page(w.dialog))
	w.mux.HandleFunc("GET /web/dialogs/{n}/export", w.export)
	for _, a := range []string{"takeover", "release", "reply", "stop", "outcome"} {
		w.mux.HandleFunc("POST /web/dialogs/{n}/"+a, w.act(a))
	}
	w.mux.HandleFunc("GET /web/campaigns", w.page(w.campaigns))
	w.mux.HandleFunc("POST /web/campaigns", w.createCampaign)
	w.mux.HandleFunc("GET /web/campaigns/{id}", w.page(w.campaign))
	w.mux.HandleFunc("POST /web/campaigns/{id}/pause", w.pauseCampaign(true))
	w.mux.HandleFunc("POST /web/campaigns/{id}/resume", w.pauseCampaign(false))
	w.mux.HandleFunc("GET /web/accounts", w.page(w.accounts))
	w.mux.HandleFunc("POST /web/accounts/{id}/pause", w.pauseAccount(true))
	w.mux.HandleFunc("POST /web/accounts/{id}/resume", w.pauseAccount(false))
	w.mux.HandleFunc("GET /web/analytics", w.page(w.analytics))
	w.mux.HandleFunc("GET /web/audit", w.page(w.audit))
	w.mux.HandleFunc("POST /web/audit/verify", w.verify)
	w.mux.HandleFunc("GET /web/cluster", w.page(w.cluster))
	w.mux.HandleFunc("GET /web/events", w.events)
	w.mux.HandleFunc("GET /web/static/", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", "public, max-age=3600")
		w.static.ServeHTTP(rw, r)
	})
	w.mux.HandleFunc("/web/", func(rw http.ResponseWriter, r *http.Request) {
		w.problem(rw, r, http.StatusNotFound, "NotFoundTitle", "NotFound")
	})
}

// ServeHTTP serves the console's routes (paths under /web/), every
// answer with the console's security headers.
func (w *Web) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	h := rw.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // a sign-in link never leaks
	h.Set("X-Frame-Options", "DENY")
	if w.cfg.Secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if l := r.URL.Query().Get("lang"); catalogs[l] != nil && r.Method == http.MethodGet {
		http.SetCookie(rw, &http.Cookie{Name: langCookie, Value: l, Path: cookiePath, MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: w.cfg.Secure, SameSite: http.SameSiteLaxMode})
	}
	w.mux.ServeHTTP(rw, r)
}

// view is what every page's layout shows around its content.
type view struct {
	L       catalog
	Title   string
	User    *user // nil: not signed in
	CSRF    string
	Nav     string // the nav item that is current
	LangURL string // this page in the other language
	Live    bool   // the script follows /web/events
	Dialog  string // the dialog the page shows (its id), for live updates
	Cluster bool   // cluster mode: the navigation links the cluster page
	Notice  string
	Alert   string
	Status  int
	Data    any
}

// user is the signed-in person as the layout shows them.
type user struct {
	Role   string
	CanAct bool // manage or admin
	Owner  bool // admin
	Name   string
}

// handlerFunc is a page: it fills v (Title, Data, ...) or fails.
type handlerFunc func(r *http.Request, v *view) error

// page serves a GET page for a signed-in person (scope read).
func (w *Web) page(h handlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		p, cookie, ok := w.admit(rw, r, domain.ScopeRead)
		if !ok {
			return
		}
		v := w.viewOf(r, &p, cookie)
		if err := h(r, v); err != nil {
			w.fail(rw, r, err)
			return
		}
		w.render(rw, r, v)
	}
}

// viewOf is a view for r of principal p (nil: nobody signed in).
func (w *Web) viewOf(r *http.Request, p *domain.Principal, cookie string) *view {
	lang := langOf(r)
	v := &view{L: catalogs[lang], Live: w.cfg.Events != nil, Cluster: w.cfg.Cluster != nil}
	q := r.URL.Query()
	q.Set("lang", v.L["OtherLang"])
	v.LangURL = r.URL.Path + "?" + q.Encode()
	if p != nil {
		v.User = &user{Role: v.L[roleKey(p.Scope)], CanAct: p.Scope.Allows(domain.ScopeManage),
			Owner: p.Scope.Allows(domain.ScopeAdmin), Name: p.Name}
		v.CSRF = w.csrfToken(cookie)
	} else {
		v.Live = false
	}
	return v
}

// roleKey is the catalog key of the role a scope stands for.
func roleKey(s domain.Scope) string {
	switch s {
	case domain.ScopeAdmin:
		return "RoleOwner"
	case domain.ScopeManage:
		return "RoleManager"
	}
	return "RoleAnalyst"
}

// admit authenticates r's session for scope need; when r may not go on
// it answers why (the sign-in page, 403) and ok is false.
func (w *Web) admit(rw http.ResponseWriter, r *http.Request, need domain.Scope) (p domain.Principal, cookie string, ok bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		w.signinPage(rw, r, http.StatusUnauthorized, false)
		return p, "", false
	}
	p, err = w.cfg.Sessions.Authenticate(r.Context(), c.Value, need)
	switch {
	case errors.Is(err, domain.ErrUnauthenticated):
		w.clearSession(rw)
		w.signinPage(rw, r, http.StatusUnauthorized, false)
		return p, "", false
	case errors.Is(err, domain.ErrForbidden):
		w.problem(rw, r, http.StatusForbidden, "ForbiddenTitle", "Forbidden")
		return p, "", false
	case err != nil:
		w.fail(rw, r, err)
		return p, "", false
	}
	return p, c.Value, true
}

// fail answers an error of a page: an unknown dialog 404, else 500
// (logged).
func (w *Web) fail(rw http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, domain.ErrUnknownDialog), errors.Is(err, projections.ErrNotFound):
		w.problem(rw, r, http.StatusNotFound, "NotFoundTitle", "NotFound")
	case errors.Is(err, context.Canceled):
		// the client went away
	default:
		w.log.Error("web: a page failed", "path", r.URL.Path, "err", err)
		w.problem(rw, r, http.StatusInternalServerError, "ErrorTitle", "Error")
	}
}

// problem answers a page that says what went wrong: its title and text
// by catalog key.
func (w *Web) problem(rw http.ResponseWriter, r *http.Request, status int, title, text string) {
	v := w.viewOf(r, nil, "")
	v.Title, v.Status = v.L[title], status
	v.Data = struct{ Text string }{v.L[text]}
	w.renderPage(rw, "problem", v)
}

// render writes v with the page template its Data names.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, v *view) {
	name := "problem"
	switch v.Data.(type) {
	case inboxData:
		name = "inbox"
	case dialogData:
		name = "dialog"
	case campaignsData:
		name = "campaigns"
	case campaignData:
		name = "campaign"
	case accountsData:
		name = "accounts"
	case analyticsData:
		name = "analytics"
	case auditData:
		name = "audit"
	case clusterData:
		name = "cluster"
	}
	w.renderPage(rw, name, v)
}

// renderPage executes page name into a buffer (a failure answers 500,
// never half a page) and sends it.
func (w *Web) renderPage(rw http.ResponseWriter, name string, v *view) {
	var buf bytes.Buffer
	if err := w.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		w.log.Error("web: a page could not be rendered", "page", name, "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", v.L["Lang"])
	status := v.Status
	if status == 0 {
		status = http.StatusOK
	}
	rw.WriteHeader(status)
	_, _ = rw.Write(buf.Bytes())
}

// parsePages parses each page with the layout.
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"lower": strings.ToLower,
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"problem", "signin", "inbox", "dialog", "campaigns", "campaign", "accounts", "analytics", "audit", "cluster"} {
		t, err := template.New(name).Option("missingkey=error").Funcs(funcs).
			ParseFS(templateFS, "templates/layout.html", "templates/chart.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}
