package domain

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// API tokens let programs (a CRM, a script, the CLI through a running
// server) act on salesbot. Every token lives in one stream, TokensStream:
// the registry. One stream because a rule spans the tokens (a live
// token's name is unique) and appending at the stream's expected version
// makes that rule hold without an index stream; tokens are few and
// written rarely (create, revoke, at most one refused use per token and
// RefusalInterval), so the stream stays small.
//
// The domain never sees a token's secret: the application layer draws it
// (randomness is I/O), shows it once, and hands the domain its Prefix (the
// public part, which finds the token) and its Hash.

// TokensStream is the stream of every API token.
const TokensStream = "tokens"

// MaxTokenName is the most characters a token's name has.
const MaxTokenName = 64

// RefusalInterval is how often a revoked token's use is recorded at most
// (TokenRefused): an attacker replaying a revoked token cannot flood the
// log.
const RefusalInterval = time.Minute

// Scope is what a token may do. Scopes are ordered: read < manage <
// admin; a token allows what its scope and every lower one allow.
type Scope string

const (
	// ScopeRead: lists, views, exports, stats, the event feed.
	ScopeRead Scope = "read"
	// ScopeManage: dialog actions, contacts, campaigns, outcomes.
	ScopeManage Scope = "manage"
	// ScopeAdmin: accounts, tokens, erasure.
	ScopeAdmin Scope = "admin"
)

// Scopes lists every scope, lowest first.
func Scopes() []Scope { return []Scope{ScopeRead, ScopeManage, ScopeAdmin} }

// rank is the scope's place in the order, 0 for no scope.
func (s Scope) rank() int {
	return slices.Index(Scopes(), s) + 1
}

// Valid says whether s is one of Scopes.
func (s Scope) Valid() bool { return s.rank() > 0 }

// Allows says whether a token of scope s may do what needs required: s
// is required or higher. An invalid scope allows nothing and is allowed
// by nothing.
func (s Scope) Allows(required Scope) bool {
	return s.Valid() && required.Valid() && s.rank() >= required.rank()
}

// ErrUnknownScope: ParseScope was given no scope it knows.
var ErrUnknownScope = errors.New("domain: unknown token scope")

// ParseScope reads a scope as people write it ("read", " Manage "). An
// unknown one is a *Error with code EINVALID on the field "scope" that
// matches ErrUnknownScope.
func ParseScope(s string) (Scope, error) {
	sc := Scope(strings.ToLower(strings.TrimSpace(s)))
	if !sc.Valid() {
		return "", &Error{Code: EINVALID, Field: "scope", Err: ErrUnknownScope,
			Message: fmt.Sprintf("unknown scope %q: one of read, manage, admin", s)}
	}
	return sc, nil
}

// TokenHash is the SHA-256 of a token's secret. The secret is 32 random
// bytes, so a fast hash is right: there is nothing to guess that a slow
// one (bcrypt, argon2) would protect, and checking a token stays cheap on
// every request. It is stored as hex; printed (fmt's verbs, a logger that
// formats values) it reads as "[token hash]", so a log line holding an
// event never shows it.
type TokenHash [sha256.Size]byte

// HashTokenSecret is the hash of a token's secret.
func HashTokenSecret(secret string) TokenHash { return sha256.Sum256([]byte(secret)) }

// Matches says whether secret hashes to h, in constant time.
func (h TokenHash) Matches(secret string) bool {
	got := HashTokenSecret(secret)
	return subtle.ConstantTimeCompare(h[:], got[:]) == 1
}

// IsZero says whether h is no hash.
func (h TokenHash) IsZero() bool { return h == TokenHash{} }

// Format prints the same placeholder for every verb.
func (TokenHash) Format(f fmt.State, _ rune) { fmt.Fprint(f, "[token hash]") }

// MarshalJSON stores the hash as hex.
func (h TokenHash) MarshalJSON() ([]byte, error) {
	return []byte(`"` + hex.EncodeToString(h[:]) + `"`), nil
}

// UnmarshalJSON reads the hex MarshalJSON writes.
func (h *TokenHash) UnmarshalJSON(b []byte) error {
	s, ok := strings.CutPrefix(string(b), `"`)
	s, ok2 := strings.CutSuffix(s, `"`)
	if !ok || !ok2 || hex.DecodedLen(len(s)) != len(h) {
		return fmt.Errorf("domain: a token hash is %d hex digits in quotes", 2*len(h))
	}
	_, err := hex.Decode(h[:], []byte(s))
	return err
}

// Token is one API token as its events leave it.
type Token struct {
	ID        uuid.UUID
	Name      string
	Scope     Scope
	Prefix    string // the token's public beginning, which finds it
	Hash      TokenHash
	CreatedAt time.Time
	CreatedBy string

	Revoked   bool
	RevokedAt time.Time
	RevokedBy string
	Reason    string // why it was revoked, if said

	LastRefused time.Time // the last recorded use after revocation
	Refused     int       // uses after revocation: recorded ones and those they say were suppressed
}

// Tokens is the registry: every token ever created.
type Tokens struct {
	byID     map[uuid.UUID]Token
	byPrefix map[string]uuid.UUID
	order    []uuid.UUID // as created
}

// Get returns the token with id.
func (s Tokens) Get(id uuid.UUID) (Token, bool) {
	t, ok := s.byID[id]
	return t, ok
}

// ByPrefix returns the token whose Prefix is prefix.
func (s Tokens) ByPrefix(prefix string) (Token, bool) {
	id, ok := s.byPrefix[prefix]
	if !ok {
		return Token{}, false
	}
	return s.Get(id)
}

// All lists every token in the order they were created.
func (s Tokens) All() []Token {
	all := make([]Token, len(s.order))
	for i, id := range s.order {
		all[i] = s.byID[id]
	}
	return all
}

// LiveNamed returns the live token called name (case-insensitively).
func (s Tokens) LiveNamed(name string) (Token, bool) {
	name = strings.TrimSpace(name)
	for _, t := range s.byID {
		if !t.Revoked && strings.EqualFold(t.Name, name) {
			return t, true
		}
	}
	return Token{}, false
}

// Token commands.
type (
	// CreateToken records a new token. The caller draws the secret and
	// the prefix (both random) and passes the prefix and the secret's
	// hash; a prefix in use is refused (draw again).
	CreateToken struct {
		TokenID uuid.UUID
		Name    string // 1..MaxTokenName printable characters, unique among live tokens
		Scope   Scope
		Prefix  string
		Hash    TokenHash
		By      string
	}
	// RevokeToken ends a token for good; revoking a revoked token records
	// nothing.
	RevokeToken struct {
		TokenID uuid.UUID
		By      string
		Reason  string // optional
	}
	// RecordRefusedUse records that a revoked token was used (with its
	// right secret) for something that needs Scope; at most one per
	// token and RefusalInterval is recorded. Suppressed is how many
	// uses the caller refused since the last record without recording.
	RecordRefusedUse struct {
		TokenID    uuid.UUID
		Scope      Scope
		Suppressed int
	}
)

// TokenCommand is a command on the token registry.
type TokenCommand interface{ tokenCommand() }

func (CreateToken) tokenCommand()      {}
func (RevokeToken) tokenCommand()      {}
func (RecordRefusedUse) tokenCommand() {}

// Token events.
type (
	TokenCreated struct {
		TokenID uuid.UUID `json:"token_id"`
		Name    string    `json:"name"`
		Scope   Scope     `json:"scope"`
		Prefix  string    `json:"prefix"`
		Hash    TokenHash `json:"hash"`
		At      time.Time `json:"at"`
		By      string    `json:"by"`
	}
	TokenRevoked struct {
		TokenID uuid.UUID `json:"token_id"`
		At      time.Time `json:"at"`
		By      string    `json:"by"`
		Reason  string    `json:"reason,omitempty"`
	}
	// TokenRefused: a revoked token was used for something needing Scope.
	TokenRefused struct {
		TokenID    uuid.UUID `json:"token_id"`
		Scope      Scope     `json:"scope"`
		Suppressed int       `json:"suppressed,omitempty"` // refused uses not recorded since the last TokenRefused
		At         time.Time `json:"at"`
	}
)

func (TokenCreated) EventType() string { return "TokenCreated" }
func (TokenRevoked) EventType() string { return "TokenRevoked" }
func (TokenRefused) EventType() string { return "TokenRefused" }

// DecideTokens decides what a command does to the registry. An unknown
// token is a *Error (EINVALID, field "token") matching ErrUnknownToken.
func DecideTokens(s Tokens, cmd TokenCommand, now time.Time) ([]Event, error) {
	switch cmd := cmd.(type) {
	case CreateToken:
		name := strings.TrimSpace(cmd.Name)
		if err := checkTokenName(name); err != nil {
			return nil, err
		}
		if t, ok := s.LiveNamed(name); ok {
			return nil, fieldErrorf(EINVALID, "name", "token %s is called %q already: revoke it or choose another name", t.Prefix, t.Name)
		}
		if !cmd.Scope.Valid() {
			return nil, &Error{Code: EINVALID, Field: "scope", Err: ErrUnknownScope,
				Message: fmt.Sprintf("unknown scope %q: one of read, manage, admin", cmd.Scope)}
		}
		switch _, used := s.byPrefix[cmd.Prefix]; {
		case cmd.TokenID == uuid.Nil || cmd.Hash.IsZero():
			return nil, errorf(EINVALID, "a token needs an id and the hash of its secret")
		case !validPrefix(cmd.Prefix):
			return nil, fieldErrorf(EINVALID, "prefix", "a token's prefix is 1 to 40 ASCII letters, digits and underscores")
		case used:
			return nil, fieldErrorf(EINVALID, "prefix", "another token has the prefix %s", cmd.Prefix)
		}
		if _, ok := s.byID[cmd.TokenID]; ok {
			return nil, errorf(ESTATE, "token %s exists already", cmd.TokenID)
		}
		return []Event{TokenCreated{TokenID: cmd.TokenID, Name: name, Scope: cmd.Scope, Prefix: cmd.Prefix, Hash: cmd.Hash, At: now, By: cmd.By}}, nil
	case RevokeToken:
		t, err := s.known(cmd.TokenID)
		if err != nil || t.Revoked {
			return nil, err
		}
		return []Event{TokenRevoked{TokenID: t.ID, At: now, By: cmd.By, Reason: strings.TrimSpace(cmd.Reason)}}, nil
	case RecordRefusedUse:
		t, err := s.known(cmd.TokenID)
		if err != nil {
			return nil, err
		}
		if !t.Revoked {
			return nil, errorf(ESTATE, "token %s is not revoked: its uses are not refused", t.Prefix)
		}
		if !t.LastRefused.IsZero() && now.Sub(t.LastRefused) < RefusalInterval {
			return nil, nil
		}
		return []Event{TokenRefused{TokenID: t.ID, Scope: cmd.Scope, Suppressed: max(cmd.Suppressed, 0), At: now}}, nil
	}
	return nil, errorf(EINVALID, "unknown token command %T", cmd)
}

func (s Tokens) known(id uuid.UUID) (Token, error) {
	t, ok := s.byID[id]
	if !ok {
		return Token{}, &Error{Code: EINVALID, Field: "token", Err: ErrUnknownToken, Message: fmt.Sprintf("no token %s", id)}
	}
	return t, nil
}

// checkTokenName: 1..MaxTokenName printable characters (letters, marks,
// digits, punctuation, symbols and the ASCII space), valid UTF-8.
func checkTokenName(name string) error {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return fieldErrorf(EINVALID, "name", "a token needs a name")
	case n > MaxTokenName:
		return fieldErrorf(EINVALID, "name", "a token's name has at most %d characters", MaxTokenName)
	case !utf8.ValidString(name):
		return fieldErrorf(EINVALID, "name", "a token's name is not UTF-8 text")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fieldErrorf(EINVALID, "name", "a token's name holds the unprintable character %U", r)
		}
	}
	return nil
}

func validPrefix(p string) bool {
	if len(p) == 0 || len(p) > 40 {
		return false
	}
	for _, c := range []byte(p) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// EvolveTokens applies one event. It updates the registry's maps in
// place and returns s: fold a registry from its zero value and keep it in
// one place (a copy of a Tokens shares its maps). DecideTokens refuses a
// second TokenCreated of an id; EvolveTokens keeps the first.
func EvolveTokens(s Tokens, e Event) Tokens {
	if s.byID == nil {
		s.byID, s.byPrefix = map[uuid.UUID]Token{}, map[string]uuid.UUID{}
	}
	switch e := e.(type) {
	case TokenCreated:
		if _, ok := s.byID[e.TokenID]; ok {
			break
		}
		s.byID[e.TokenID] = Token{ID: e.TokenID, Name: e.Name, Scope: e.Scope, Prefix: e.Prefix, Hash: e.Hash, CreatedAt: e.At, CreatedBy: e.By}
		s.byPrefix[e.Prefix] = e.TokenID
		s.order = append(s.order, e.TokenID)
	case TokenRevoked:
		if t, ok := s.byID[e.TokenID]; ok {
			t.Revoked, t.RevokedAt, t.RevokedBy, t.Reason = true, e.At, e.By, e.Reason
			s.byID[e.TokenID] = t
		}
	case TokenRefused:
		if t, ok := s.byID[e.TokenID]; ok {
			t.LastRefused, t.Refused = e.At, t.Refused+1+e.Suppressed
			s.byID[e.TokenID] = t
		}
	}
	return s
}

// Principal is whom a request acts for: an authenticated API token, or
// a web console's session (Session set, TokenID and Prefix empty).
type Principal struct {
	TokenID uuid.UUID
	Name    string // the token's name; "web:<role>" for a web session
	Scope   Scope
	Prefix  string
	Session uuid.UUID // the web session's id, for a web console's request
}

// Actor is the principal as the events it causes record it (their By):
// "token:" and its prefix, which no other token ever has, or "web:" and
// the web session's id (its WebSignedIn, and the link's WebLinkIssued,
// say who signed in).
func (p Principal) Actor() string {
	if p.Session != uuid.Nil {
		return "web:" + p.Session.String()
	}
	return "token:" + p.Prefix
}
