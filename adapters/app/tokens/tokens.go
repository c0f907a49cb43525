// Package tokens is the API tokens' application service: create, list
// and revoke tokens, and authenticate a request's bearer token with the
// scope it needs (the HTTP API's middleware calls Authenticate, then
// Limiter.Allow). The rules are the domain's (domain/token.go); the
// token's format and its randomness are here (format.go).
//
// # One writer
//
// Authenticate runs on every request, so it reads the registry from
// memory: New folds the tokens stream once, and the service applies its
// own writes as they succeed. A token another process creates or revokes
// on the same log is seen when this service next writes, or on Refresh
// (List and Revoke refresh first). The running server is meant to be the
// only writer: while `salesbot run` runs, the CLI's `tokens` commands go
// through its API (issue 15), and without it the CLI holds the log alone.
// Were a second writer to revoke a token, this service would accept it
// until its next refresh.
package tokens

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// Errors of the service; match them with errors.Is. They are the
// domain's (domain/refusals.go), so an edge tells them apart without
// importing this package.
var (
	// ErrUnauthenticated: no valid token (HTTP 401).
	ErrUnauthenticated = domain.ErrUnauthenticated
	// ErrForbidden: the token's scope is too low (HTTP 403); the error
	// is a *ScopeError.
	ErrForbidden = domain.ErrForbidden
	// ErrNotFound: Revoke found no token by that reference.
	ErrNotFound = domain.ErrUnknownToken
)

// ScopeError says which scope a request needed and the token had.
type ScopeError = domain.ScopeError

// Config is what a Service needs.
type Config struct {
	Log domain.EventLog
	Now func() time.Time
	// Rand is where tokens and their ids come from; nil: crypto/rand.
	Rand io.Reader
	// Logger hears of creations, revocations and refused uses; it is
	// never given a token or its hash. Nil: nothing is logged.
	Logger  *slog.Logger
	Retries int // extra attempts after a conflict with another writer (default 3)
}

// Service runs the token use cases.
type Service struct {
	reg    *domain.Registry[domain.Tokens, domain.TokenCommand] // the tokens stream, folded; its one writer
	now    func() time.Time
	rand   io.Reader
	logger *slog.Logger

	mu         sync.Mutex
	suppressed map[uuid.UUID]int // refused uses of a revoked token not recorded yet
}

// New returns a Service with the tokens of cfg.Log.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Log == nil || cfg.Now == nil {
		return nil, errors.New("tokens: a Service needs a Log and a clock")
	}
	s := &Service{now: cfg.Now, rand: cfg.Rand, logger: cfg.Logger, suppressed: map[uuid.UUID]int{}}
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
	if s.reg, err = domain.NewRegistry(ctx, domain.TokensStream, cfg.Log, domain.DecideTokens, domain.EvolveTokens, cfg.Now, retries); err != nil {
		return nil, err
	}
	return s, nil
}

// Info is a token as lists show it: never its secret or hash.
type Info struct {
	ID          uuid.UUID
	Name        string
	Scope       domain.Scope
	Prefix      string // sb_...: the token's first characters, its public id
	Created     time.Time
	CreatedBy   string
	Revoked     time.Time // zero while the token is live
	RevokedBy   string
	Reason      string    // why it was revoked, if said
	LastRefused time.Time // the last use recorded after revocation
	Refused     int       // uses after revocation
}

// Live says whether the token is not revoked.
func (i Info) Live() bool { return i.Revoked.IsZero() }

func infoOf(t domain.Token) Info {
	i := Info{ID: t.ID, Name: t.Name, Scope: t.Scope, Prefix: t.Prefix, Created: t.CreatedAt, CreatedBy: t.CreatedBy,
		RevokedBy: t.RevokedBy, Reason: t.Reason, LastRefused: t.LastRefused, Refused: t.Refused}
	if t.Revoked {
		i.Revoked = t.RevokedAt
	}
	return i
}

// Created is a token Create created, with the token itself: show it
// once (Token.Reveal); it cannot be shown again.
type Created struct {
	Info
	Token Secret
}

// Create creates a token called name with scope, for by (who asks:
// "cli", "admin:<id>", a Principal's Actor). The domain's rules apply
// (domain.CreateToken): a bad or taken name, an unknown scope are a
// *domain.Error with code EINVALID and its Field.
func (s *Service) Create(ctx context.Context, name string, scope domain.Scope, by string) (Created, error) {
	for draw := 0; ; draw++ {
		prefix, secret, err := newToken(s.rand)
		if err != nil {
			return Created{}, err
		}
		id, err := uuid.NewRandomFromReader(s.rand)
		if err != nil {
			return Created{}, fmt.Errorf("tokens: draw an id: %w", err)
		}
		cmd := domain.CreateToken{TokenID: id, Name: name, Scope: scope, Prefix: prefix, Hash: domain.HashTokenSecret(secret), By: by}
		evs, err := s.reg.Execute(ctx, func() domain.TokenCommand { return cmd })
		if domain.ErrorField(err) == "prefix" && draw < 3 {
			continue // 80 random bits met another token's: draw again
		}
		if domain.ErrorCode(err) == domain.EINVALID {
			return Created{}, err
		}
		if err != nil {
			return Created{}, fmt.Errorf("create token: %w", err)
		}
		e := evs[0].(domain.TokenCreated)
		s.logger.Info("api token created", "token", e.Prefix, "name", e.Name, "scope", string(e.Scope), "by", by)
		t, _ := s.get(id)
		return Created{Info: infoOf(t), Token: Secret{token: prefix + "_" + secret}}, nil
	}
}

// List lists every token, revoked ones too, the oldest first. It reads
// what other writers appended first (Refresh).
func (s *Service) List(ctx context.Context) ([]Info, error) {
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	var all []domain.Token
	s.reg.Read(func(st domain.Tokens) { all = st.All() })
	out := make([]Info, len(all))
	for i, t := range all {
		out[i] = infoOf(t)
	}
	return out, nil
}

// Revoke revokes the token ref names: its id, its prefix (with or
// without "sb_"), the token itself, or the name of a live token. It
// returns the token and whether this call revoked it (false: it was
// revoked already; nothing is recorded). A ref naming no token is an
// error matching ErrNotFound; one naming several is a *domain.Error
// (EINVALID). Neither echoes a token given as ref.
func (s *Service) Revoke(ctx context.Context, ref, by, reason string) (Info, bool, error) {
	if err := s.Refresh(ctx); err != nil {
		return Info{}, false, err
	}
	t, err := s.find(ref)
	if err != nil {
		return Info{}, false, err
	}
	evs, err := s.reg.Execute(ctx, func() domain.TokenCommand { return domain.RevokeToken{TokenID: t.ID, By: by, Reason: reason} })
	if err != nil {
		return Info{}, false, fmt.Errorf("revoke token %s: %w", t.Prefix, err)
	}
	if len(evs) > 0 {
		s.logger.Info("api token revoked", "token", t.Prefix, "name", t.Name, "by", by)
	}
	t, _ = s.get(t.ID)
	return infoOf(t), len(evs) > 0, nil
}

// find resolves a reference to one token.
func (s *Service) find(ref string) (domain.Token, error) {
	ref = strings.TrimSpace(ref)
	prefix, _, isToken := parseToken(ref)
	var all []domain.Token
	s.reg.Read(func(st domain.Tokens) { all = st.All() })
	var found []domain.Token
	for _, t := range all {
		if t.ID.String() == strings.ToLower(ref) || t.Prefix == ref || t.Prefix == tokenScheme+ref ||
			(isToken && t.Prefix == prefix) || (!t.Revoked && strings.EqualFold(t.Name, ref)) {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return domain.Token{}, &domain.Error{Code: domain.EINVALID, Field: "token", Err: ErrNotFound,
			Message: fmt.Sprintf("no token %s (see 'salesbot tokens list')", shown(ref))}
	case 1:
		return found[0], nil
	}
	names := make([]string, len(found))
	for i, t := range found {
		names[i] = fmt.Sprintf("%s (%s)", t.Prefix, t.Name)
	}
	return domain.Token{}, &domain.Error{Code: domain.EINVALID, Field: "token",
		Message: fmt.Sprintf("%s names %d tokens: %s; give the prefix", shown(ref), len(found), strings.Join(names, ", "))}
}

// shown is a reference as an error may quote it: a token (or what looks
// like the start of one) cut to its prefix.
func shown(ref string) string {
	if strings.HasPrefix(ref, tokenScheme) && len(ref) > prefixLen {
		return fmt.Sprintf("%q", ref[:prefixLen]+"…")
	}
	return fmt.Sprintf("%q", ref)
}

// Authenticate checks the value of a request's Authorization header
// ("Bearer sb_...") against the tokens and the scope the request needs.
// It returns the token's principal, or an error: one matching
// ErrUnauthenticated when there is no valid token (none, malformed,
// unknown, a wrong secret, revoked), a *ScopeError (ErrForbidden) with
// the principal when its scope does not allow need (a need that is no
// scope is allowed to no token). Neither error holds
// the token. A revoked token's use (with its right secret) is recorded as
// TokenRefused, at most once per token and domain.RefusalInterval; the
// record counts the uses it stood for. Authenticate reads from memory and
// writes only such a record; it never panics on its input.
func (s *Service) Authenticate(ctx context.Context, authorization string, need domain.Scope) (domain.Principal, error) {
	raw, ok := bearer(authorization)
	if !ok {
		return domain.Principal{}, fmt.Errorf("%w: no bearer token", ErrUnauthenticated)
	}
	prefix, secret, ok := parseToken(raw)
	if !ok {
		return domain.Principal{}, fmt.Errorf("%w: not a salesbot token", ErrUnauthenticated)
	}
	var (
		t     domain.Token
		found bool
	)
	s.reg.Read(func(st domain.Tokens) { t, found = st.ByPrefix(prefix) })
	if !found || !t.Hash.Matches(secret) {
		return domain.Principal{}, fmt.Errorf("%w: unknown token", ErrUnauthenticated)
	}
	if t.Revoked {
		s.refuse(ctx, t, need)
		return domain.Principal{}, fmt.Errorf("%w: token %s was revoked", ErrUnauthenticated, t.Prefix)
	}
	p := domain.Principal{TokenID: t.ID, Name: t.Name, Scope: t.Scope, Prefix: t.Prefix}
	if !t.Scope.Allows(need) {
		return p, &ScopeError{Token: t.Prefix, Have: t.Scope, Need: need}
	}
	return p, nil
}

// refuse records a revoked token's use, or counts it for the next record
// when one was recorded less than domain.RefusalInterval ago. Only the
// first use of an interval writes; the others return at once.
func (s *Service) refuse(ctx context.Context, t domain.Token, need domain.Scope) {
	var due bool
	s.reg.Read(func(st domain.Tokens) {
		evs, err := domain.DecideTokens(st, domain.RecordRefusedUse{TokenID: t.ID, Scope: need}, s.now())
		due = err == nil && len(evs) > 0
	})
	if !due {
		s.mu.Lock()
		s.suppressed[t.ID]++
		s.mu.Unlock()
		return
	}
	var n int
	// The record stands even if the caller hangs up.
	evs, err := s.reg.Execute(context.WithoutCancel(ctx), func() domain.TokenCommand {
		s.mu.Lock()
		n = s.suppressed[t.ID]
		s.mu.Unlock()
		return domain.RecordRefusedUse{TokenID: t.ID, Scope: need, Suppressed: n}
	})
	s.mu.Lock()
	if len(evs) > 0 {
		s.suppressed[t.ID] -= n
	} else {
		s.suppressed[t.ID]++ // another use recorded first, or the write failed
	}
	s.mu.Unlock()
	switch {
	case err != nil:
		s.logger.Warn("a revoked api token was used; recording it failed", "token", t.Prefix, "name", t.Name, "err", err)
	case len(evs) > 0:
		s.logger.Warn("a revoked api token was used", "token", t.Prefix, "name", t.Name, "scope", string(need), "unrecorded_before", n)
	}
}

// Refresh reads what other writers appended to the tokens stream since
// this service last looked (see the package doc: normally none).
func (s *Service) Refresh(ctx context.Context) error { return s.reg.Refresh(ctx) }

// get is the token with id, as the registry knows it.
func (s *Service) get(id uuid.UUID) (t domain.Token, ok bool) {
	s.reg.Read(func(st domain.Tokens) { t, ok = st.Get(id) })
	return t, ok
}
