// Package websessions is the web console's sign-in (issue 17): one-time
// links that open sessions, as Jupyter does. `salesbot web link` (through
// the running server) and the admin bot's /web issue a link (IssueLink);
// the console's /web/signin redeems it (Redeem) for a session whose
// secret it sets as a cookie; every page then authenticates the cookie
// with the scope it needs (Authenticate); sign-out ends the session
// (End), and an admin can list the live sessions and end one (List,
// EndSession). The rules are the domain's (domain/websession.go): a link
// works once and for domain.DefaultLinkTTL, a session lasts
// domain.DefaultSessionTTL unless ended, and a role (owner, manager,
// analyst) is a scope (admin, manage, read), so the console allows what
// the API would allow a token of that scope. Console is the service as
// the console's pages use it (adapters/web's Sessions port); write.go
// has what `salesbot web link` and a sessions list print.
//
// # One writer
//
// As the tokens service does (adapters/app/tokens), the service folds
// the web-sessions stream once (New), applies its own writes as they
// succeed, and authenticates from memory. The running server is meant to
// be its only writer: links and sign-ins go through it. Another writer's
// links are seen on Refresh, which Redeem, List and EndSession do first;
// a session another process ended is still let in by Authenticate until
// then. Two redeems of one link, here or in two processes, open one
// session: both decide at the stream's version, and the second is
// refused with ErrLinkUsed.
package websessions

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// Errors of the service; match them with errors.Is. They are the
// domain's (domain/refusals.go), so an edge tells them apart without
// importing this package.
var (
	// ErrUnauthenticated: a cookie that opens no live session (none,
	// malformed, unknown, ended, expired): sign in again.
	ErrUnauthenticated = domain.ErrUnauthenticated
	// ErrForbidden: the session's role does not allow what was asked;
	// the error is a *domain.ScopeError.
	ErrForbidden = domain.ErrForbidden
	// ErrUnknownLink: Redeem was given no link this service issued.
	ErrUnknownLink = domain.ErrUnknownLink
	// ErrLinkUsed: the link opened a session already.
	ErrLinkUsed = domain.ErrLinkUsed
	// ErrLinkExpired: the link is older than its TTL.
	ErrLinkExpired = domain.ErrLinkExpired
	// ErrUnknownSession: EndSession was given no session's id.
	ErrUnknownSession = domain.ErrUnknownSession
)

// Config is what a Service needs.
type Config struct {
	Log domain.EventLog
	Now func() time.Time
	// Rand is where secrets and ids come from; nil: crypto/rand.
	Rand io.Reader
	// Logger hears of links, sign-ins, refusals and sign-outs; it is
	// never given a secret or its hash. Nil: nothing is logged.
	Logger *slog.Logger
	// LinkTTL is how long a link can be used; 0: domain.DefaultLinkTTL.
	LinkTTL time.Duration
	// SessionTTL is how long a session lasts; 0: domain.DefaultSessionTTL.
	SessionTTL time.Duration
	Retries    int // extra attempts after a conflict with another writer (default 3)
}

// Service runs the web sign-in use cases. Its methods may be called
// concurrently.
type Service struct {
	// reg is the web-sessions stream folded, with this service its one
	// writer: writes are serialised (two redeems of a link must not both
	// pass), reads never wait for a sync.
	reg        *domain.Registry[domain.WebSessions, domain.WebCommand]
	now        func() time.Time
	rand       io.Reader
	logger     *slog.Logger
	linkTTL    time.Duration
	sessionTTL time.Duration
}

// New returns a Service with the links and sessions of cfg.Log.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Log == nil || cfg.Now == nil {
		return nil, errors.New("websessions: a Service needs a Log and a clock")
	}
	s := &Service{now: cfg.Now, rand: cfg.Rand, logger: cfg.Logger, linkTTL: cfg.LinkTTL, sessionTTL: cfg.SessionTTL}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	retries := cfg.Retries
	if retries <= 0 {
		retries = 3
	}
	var err error
	if s.reg, err = domain.NewRegistry(ctx, domain.WebSessionsStream, cfg.Log, domain.DecideWebSessions, domain.EvolveWebSessions, cfg.Now, retries); err != nil {
		return nil, err
	}
	return s, nil
}

// Link is a sign-in link as issued: hand Secret out once (in the URL
// <base>/web/signin?t=<Secret.Reveal()>); it is stored nowhere.
type Link struct {
	ID      uuid.UUID
	Secret  Secret
	Role    domain.WebRole
	Expires time.Time
}

// IssueLinkFor issues a link for p (who asks: the CLI's principal, an
// admin of the bot) with the role named (""= p's own: owner for admin,
// manager for manage, analyst for read). p may give no more than its own
// scope: a higher role is a *domain.ScopeError (domain.ErrForbidden).
// The CLI's 'salesbot web link' and the bot's /web call it.
func (s *Service) IssueLinkFor(ctx context.Context, p domain.Principal, role string, by string) (Link, error) {
	r := RoleOf(p.Scope)
	if role != "" {
		var err error
		if r, err = domain.ParseWebRole(role); err != nil {
			return Link{}, err
		}
	}
	if !p.Scope.Allows(r.Scope()) {
		return Link{}, &domain.ScopeError{Token: p.Prefix, Need: r.Scope(), Have: p.Scope}
	}
	return s.IssueLink(ctx, r, by)
}

// RoleOf is the web role of a scope: owner for admin, manager for
// manage, analyst for anything less.
func RoleOf(scope domain.Scope) domain.WebRole {
	switch {
	case scope.Allows(domain.ScopeAdmin):
		return domain.WebOwner
	case scope.Allows(domain.ScopeManage):
		return domain.WebManager
	}
	return domain.WebAnalyst
}

// IssueLink issues a link that opens one session with role, for by (who
// asks: "cli", "admin:<id>", a Principal's Actor). An unknown role is a
// *domain.Error (EINVALID, field "role") matching
// domain.ErrUnknownWebRole.
func (s *Service) IssueLink(ctx context.Context, role domain.WebRole, by string) (Link, error) {
	if !role.Valid() {
		_, err := domain.ParseWebRole(string(role))
		return Link{}, err
	}
	for draw := 0; ; draw++ {
		secret, err := newSecret(s.rand, linkScheme)
		if err != nil {
			return Link{}, err
		}
		id, err := uuid.NewRandomFromReader(s.rand)
		if err != nil {
			return Link{}, fmt.Errorf("websessions: draw an id: %w", err)
		}
		cmd := domain.IssueWebLink{LinkID: id, Role: role, Hash: domain.HashTokenSecret(secret), By: by, TTL: s.linkTTL}
		evs, err := s.reg.Execute(ctx, func() domain.WebCommand { return cmd })
		if domain.ErrorCode(err) == domain.ESTATE && draw < 3 {
			continue // 256 random bits (or 122 of the id) met another's: draw again
		}
		if domain.ErrorCode(err) == domain.EINVALID {
			return Link{}, err
		}
		if err != nil {
			return Link{}, fmt.Errorf("issue a web sign-in link: %w", err)
		}
		e := evs[0].(domain.WebLinkIssued)
		s.logger.Info("web sign-in link issued", "link", e.LinkID, "role", string(e.Role), "by", by, "expires", e.Expires)
		return Link{ID: id, Secret: Secret{secret}, Role: role, Expires: e.Expires}, nil
	}
}

// Session is a session as Redeem opens it: set Secret as the cookie
// (HttpOnly, SameSite, Secure under TLS, expiring at Expires); it is
// stored nowhere and cannot be shown again.
type Session struct {
	ID        uuid.UUID
	Secret    Secret
	Role      domain.WebRole
	Principal domain.Principal // whom the session's requests act for
	Expires   time.Time
}

// Redeem opens a session with the link whose secret is link (the t=
// of its URL). It fails with an error matching ErrUnknownLink (nothing
// issued it, or it is malformed), ErrLinkUsed (it opened a session
// already: a link works once) or ErrLinkExpired, each a *domain.Error
// on the field "link" (EINVALID for the first, ESTATE for the others)
// that also matches ErrUnauthenticated. No error holds the link.
func (s *Service) Redeem(ctx context.Context, link string) (Session, error) {
	if !wellFormed(link, linkScheme) {
		return Session{}, &domain.Error{Code: domain.EINVALID, Field: "link", Err: ErrUnknownLink, Message: "not a sign-in link"}
	}
	hash := domain.HashTokenSecret(link)
	if err := s.Refresh(ctx); err != nil {
		return Session{}, err
	}
	for draw := 0; ; draw++ {
		secret, err := newSecret(s.rand, sessionScheme)
		if err != nil {
			return Session{}, err
		}
		id, err := uuid.NewRandomFromReader(s.rand)
		if err != nil {
			return Session{}, fmt.Errorf("websessions: draw an id: %w", err)
		}
		cmd := domain.RedeemWebLink{Hash: hash, SessionID: id, SessionHash: domain.HashTokenSecret(secret), TTL: s.sessionTTL}
		evs, err := s.reg.Execute(ctx, func() domain.WebCommand { return cmd })
		if domain.ErrorCode(err) == domain.ESTATE && domain.ErrorField(err) == "" && draw < 3 {
			continue // the session's secret or id met another's: draw again
		}
		if err != nil {
			s.refused(hash, err)
			if domain.ErrorCode(err) != "" {
				return Session{}, err
			}
			return Session{}, fmt.Errorf("redeem a web sign-in link: %w", err)
		}
		e := evs[0].(domain.WebSignedIn)
		s.logger.Info("web sign-in", "session", e.SessionID, "link", e.LinkID, "role", string(e.Role), "expires", e.Expires)
		return Session{ID: id, Secret: Secret{secret}, Role: e.Role, Principal: principal(e.SessionID, e.Role), Expires: e.Expires}, nil
	}
}

// refused logs a refused redeem: by the link's id when it is known.
func (s *Service) refused(hash domain.TokenHash, err error) {
	var l domain.WebLink
	s.reg.Read(func(st domain.WebSessions) { l, _ = st.LinkByHash(hash) })
	switch {
	case errors.Is(err, ErrLinkUsed):
		s.logger.Warn("web sign-in refused: the link was used already", "link", l.ID, "session", l.Session, "issued_by", l.IssuedBy)
	case errors.Is(err, ErrLinkExpired):
		s.logger.Info("web sign-in refused: the link expired", "link", l.ID, "expired", l.Expires)
	case errors.Is(err, ErrUnknownLink):
		s.logger.Info("web sign-in refused: unknown link")
	default:
		s.logger.Warn("web sign-in failed", "link", l.ID, "err", err)
	}
}

// principal is whom a session's requests act for.
func principal(id uuid.UUID, role domain.WebRole) domain.Principal {
	return domain.Principal{Name: "web:" + string(role), Scope: role.Scope(), Session: id}
}

// Authenticate checks a request's session cookie against the live
// sessions and the scope the request needs. It returns the session's
// principal, or an error: one matching ErrUnauthenticated when the
// cookie opens no live session (empty, malformed, unknown, ended,
// expired), a *domain.ScopeError (ErrForbidden) with the principal when
// the session's role does not allow need. Neither holds the cookie.
// It reads from memory, writes nothing and never panics on its input.
func (s *Service) Authenticate(_ context.Context, cookie string, need domain.Scope) (domain.Principal, error) {
	w, err := s.session(cookie)
	if err != nil {
		return domain.Principal{}, err
	}
	p := principal(w.ID, w.Role)
	if !p.Scope.Allows(need) {
		return p, &domain.ScopeError{Token: p.Actor(), Have: p.Scope, Need: need}
	}
	return p, nil
}

// session is the live session cookie opens, or an error matching
// ErrUnauthenticated.
func (s *Service) session(cookie string) (domain.WebSession, error) {
	if !wellFormed(cookie, sessionScheme) {
		return domain.WebSession{}, fmt.Errorf("%w: not a web session", ErrUnauthenticated)
	}
	var (
		w  domain.WebSession
		ok bool
	)
	s.reg.Read(func(st domain.WebSessions) { w, ok = st.SessionByHash(domain.HashTokenSecret(cookie)) })
	switch now := s.now(); {
	case !ok:
		return domain.WebSession{}, fmt.Errorf("%w: unknown web session", ErrUnauthenticated)
	case w.Ended:
		return domain.WebSession{}, fmt.Errorf("%w: web session %s was ended", ErrUnauthenticated, w.ID)
	case !w.Live(now):
		return domain.WebSession{}, fmt.Errorf("%w: web session %s expired", ErrUnauthenticated, w.ID)
	}
	return w, nil
}

// End ends the session cookie opens (signing out), for by and reason:
// by "" is the session itself (its Principal.Actor(), "web:<id>"),
// reason "" is "signed out". Ending a session that is over already
// (ended, expired) records nothing and is no error; a cookie that opens
// no session at all (malformed, unknown) is an error matching
// ErrUnauthenticated.
func (s *Service) End(ctx context.Context, cookie, by, reason string) error {
	if !wellFormed(cookie, sessionScheme) {
		return fmt.Errorf("%w: not a web session", ErrUnauthenticated)
	}
	var (
		w  domain.WebSession
		ok bool
	)
	s.reg.Read(func(st domain.WebSessions) { w, ok = st.SessionByHash(domain.HashTokenSecret(cookie)) })
	if !ok {
		return fmt.Errorf("%w: unknown web session", ErrUnauthenticated)
	}
	if by == "" {
		by = principal(w.ID, w.Role).Actor()
	}
	if reason == "" {
		reason = "signed out"
	}
	_, err := s.end(ctx, w.ID, by, reason)
	return err
}

// EndSession ends the session with id, for an admin by ("admin:<id>",
// "cli", a Principal's Actor), with the reason "ended by admin". An
// unknown id is a *domain.Error (EINVALID, field "session") matching
// ErrUnknownSession; ending a session that is over already records
// nothing and is no error.
func (s *Service) EndSession(ctx context.Context, id uuid.UUID, by string) error {
	if err := s.Refresh(ctx); err != nil {
		return err
	}
	_, err := s.end(ctx, id, by, "ended by admin")
	return err
}

func (s *Service) end(ctx context.Context, id uuid.UUID, by, reason string) (bool, error) {
	evs, err := s.reg.Execute(ctx, func() domain.WebCommand { return domain.EndWebSession{SessionID: id, By: by, Reason: reason} })
	if domain.ErrorCode(err) != "" {
		return false, err
	}
	if err != nil {
		return false, fmt.Errorf("end web session %s: %w", id, err)
	}
	if len(evs) > 0 {
		s.logger.Info("web session ended", "session", id, "by", by, "reason", reason)
	}
	return len(evs) > 0, nil
}

// Info is a live session as lists show it: never its secret or hash.
type Info struct {
	ID       uuid.UUID
	Role     domain.WebRole
	Link     uuid.UUID // the link that opened it
	IssuedBy string    // who asked for the link: cli, admin:<id>, ...
	SignedIn time.Time
	Expires  time.Time
}

// List lists the sessions live now, the oldest first. It reads what
// other writers appended first (Refresh).
func (s *Service) List(ctx context.Context) ([]Info, error) {
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	var live []domain.WebSession
	s.reg.Read(func(st domain.WebSessions) { live = st.Live(s.now()) })
	out := make([]Info, len(live))
	for i, w := range live {
		out[i] = Info{ID: w.ID, Role: w.Role, Link: w.Link, IssuedBy: w.IssuedBy, SignedIn: w.At, Expires: w.Expires}
	}
	return out, nil
}

// Refresh reads what other writers appended to the stream since this
// service last looked (see the package doc: normally none).
func (s *Service) Refresh(ctx context.Context) error { return s.reg.Refresh(ctx) }
