package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The web console (issue 17) signs people in as Jupyter does: a one-time
// link (`salesbot web link`, the bot's /web) opens a session, whose
// secret then rides in a cookie. Links and sessions live in one stream,
// WebSessionsStream, for the reason the API tokens share one: a rule
// spans them (a link opens one session only), and appending at the
// stream's expected version makes it hold, also when two browsers
// redeem the same link at once. Sign-ins are rare (a few a day), so the
// stream stays small.
//
// As with tokens, the domain never sees a secret: the application layer
// draws a link's or a session's secret, gives it out once, and hands the
// domain its hash (TokenHash), which is also how a secret finds its link
// or session. The events hold no personal data: a role, ids, times and
// who asked ("cli", "admin:<id>", "token:<prefix>", "web:<session>").

// WebSessionsStream is the stream of every web sign-in link and session.
const WebSessionsStream = "web-sessions"

const (
	// DefaultLinkTTL is how long a sign-in link can be used (once).
	DefaultLinkTTL = 10 * time.Minute
	// DefaultSessionTTL is how long a web session lasts unless ended.
	DefaultSessionTTL = 12 * time.Hour
	// MaxWebTTL is the longest a link or a session may be given.
	MaxWebTTL = 7 * 24 * time.Hour
)

// WebRole is what a person signed in to the web console may do. Each role
// is a Scope, so the API's and the console's permissions agree.
type WebRole string

const (
	// WebOwner: everything (ScopeAdmin).
	WebOwner WebRole = "owner"
	// WebManager: dialogs, contacts, campaigns (ScopeManage).
	WebManager WebRole = "manager"
	// WebAnalyst: reads only (ScopeRead).
	WebAnalyst WebRole = "analyst"
)

// WebRoles lists every role, the one of the lowest scope first.
func WebRoles() []WebRole { return []WebRole{WebAnalyst, WebManager, WebOwner} }

// Scope is the scope of a role; "" for a role that is not one of WebRoles.
func (r WebRole) Scope() Scope {
	switch r {
	case WebOwner:
		return ScopeAdmin
	case WebManager:
		return ScopeManage
	case WebAnalyst:
		return ScopeRead
	}
	return ""
}

// Valid says whether r is one of WebRoles.
func (r WebRole) Valid() bool { return r.Scope() != "" }

// ErrUnknownWebRole: ParseWebRole (or a command) was given no role it knows.
var ErrUnknownWebRole = errors.New("domain: unknown web role")

// ParseWebRole reads a role as people write it ("analyst", " Owner "). An
// unknown one is a *Error with code EINVALID on the field "role" that
// matches ErrUnknownWebRole.
func ParseWebRole(s string) (WebRole, error) {
	r := WebRole(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", unknownRole(s)
	}
	return r, nil
}

func unknownRole(r string) error {
	return &Error{Code: EINVALID, Field: "role", Err: ErrUnknownWebRole,
		Message: fmt.Sprintf("unknown role %q: one of owner, manager, analyst", r)}
}

// WebLink is a sign-in link as its events leave it.
type WebLink struct {
	ID       uuid.UUID
	Role     WebRole
	Hash     TokenHash // of the link's secret
	IssuedBy string
	IssuedAt time.Time
	Expires  time.Time

	Session uuid.UUID // the session it opened; uuid.Nil while unused
	UsedAt  time.Time
}

// Used says whether the link opened a session already.
func (l WebLink) Used() bool { return l.Session != uuid.Nil }

// WebSession is a web session as its events leave it.
type WebSession struct {
	ID       uuid.UUID
	Link     uuid.UUID
	Role     WebRole
	Hash     TokenHash // of the session's secret (the cookie)
	IssuedBy string    // who asked for the link that opened it
	At       time.Time // signed in
	Expires  time.Time

	Ended   bool
	EndedAt time.Time
	EndedBy string
	Reason  string
}

// Live says whether the session lets its holder in at now: not ended,
// not expired.
func (s WebSession) Live(now time.Time) bool { return !s.Ended && now.Before(s.Expires) }

// WebSessions is every link and session ever issued.
type WebSessions struct {
	links    map[uuid.UUID]WebLink
	sessions map[uuid.UUID]WebSession
	linkOf   map[TokenHash]uuid.UUID // a link's hash: its id
	session  map[TokenHash]uuid.UUID // a session's hash: its id
	order    []uuid.UUID             // sessions as signed in
}

// Link returns the link with id.
func (s WebSessions) Link(id uuid.UUID) (WebLink, bool) {
	l, ok := s.links[id]
	return l, ok
}

// LinkByHash returns the link whose secret hashes to h.
func (s WebSessions) LinkByHash(h TokenHash) (WebLink, bool) {
	id, ok := s.linkOf[h]
	if !ok {
		return WebLink{}, false
	}
	return s.Link(id)
}

// Session returns the session with id.
func (s WebSessions) Session(id uuid.UUID) (WebSession, bool) {
	w, ok := s.sessions[id]
	return w, ok
}

// SessionByHash returns the session whose secret hashes to h.
func (s WebSessions) SessionByHash(h TokenHash) (WebSession, bool) {
	id, ok := s.session[h]
	if !ok {
		return WebSession{}, false
	}
	return s.Session(id)
}

// Live lists the sessions live at now, in the order they were opened.
func (s WebSessions) Live(now time.Time) []WebSession {
	var out []WebSession
	for _, id := range s.order {
		if w := s.sessions[id]; w.Live(now) {
			out = append(out, w)
		}
	}
	return out
}

// Web sign-in commands.
type (
	// IssueWebLink records a new sign-in link. The caller draws its id
	// and secret and passes the secret's hash.
	IssueWebLink struct {
		LinkID uuid.UUID
		Role   WebRole
		Hash   TokenHash
		By     string        // who asked: cli, admin:<id>, token:<prefix>
		TTL    time.Duration // how long it can be used; 0: DefaultLinkTTL
	}
	// RedeemWebLink opens a session with the link whose secret hashes
	// to Hash. The caller draws the session's id and secret and passes
	// the secret's hash. A link opens one session, before it expires.
	RedeemWebLink struct {
		Hash        TokenHash // of the link's secret
		SessionID   uuid.UUID
		SessionHash TokenHash
		TTL         time.Duration // how long the session lasts; 0: DefaultSessionTTL
	}
	// EndWebSession ends a session before it expires (signing out, an
	// admin ending it); ending an ended or expired session records
	// nothing.
	EndWebSession struct {
		SessionID uuid.UUID
		By        string
		Reason    string // "signed out", "ended by admin", ...
	}
)

// WebCommand is a command on the web sign-ins.
type WebCommand interface{ webCommand() }

func (IssueWebLink) webCommand()  {}
func (RedeemWebLink) webCommand() {}
func (EndWebSession) webCommand() {}

// Web sign-in events. None holds a secret; the hashes print as "[token
// hash]".
type (
	WebLinkIssued struct {
		LinkID  uuid.UUID `json:"link_id"`
		Role    WebRole   `json:"role"`
		Hash    TokenHash `json:"hash"`
		By      string    `json:"by"`
		At      time.Time `json:"at"`
		Expires time.Time `json:"expires"`
	}
	WebSignedIn struct {
		LinkID    uuid.UUID `json:"link_id"`
		SessionID uuid.UUID `json:"session_id"`
		Hash      TokenHash `json:"hash"` // of the session's secret
		Role      WebRole   `json:"role"`
		At        time.Time `json:"at"`
		Expires   time.Time `json:"expires"`
	}
	WebSessionEnded struct {
		SessionID uuid.UUID `json:"session_id"`
		By        string    `json:"by"`
		Reason    string    `json:"reason,omitempty"`
		At        time.Time `json:"at"`
	}
)

func (WebLinkIssued) EventType() string   { return "WebLinkIssued" }
func (WebSignedIn) EventType() string     { return "WebSignedIn" }
func (WebSessionEnded) EventType() string { return "WebSessionEnded" }

// DecideWebSessions decides what a command does to the web sign-ins at
// now. Its refusals are *Error values: redeeming a link nobody issued
// matches ErrUnknownLink (EINVALID, field "link"), one used already
// ErrLinkUsed (ESTATE), an expired one ErrLinkExpired (ESTATE); ending a
// session nobody opened matches ErrUnknownSession (EINVALID, field
// "session"); an unknown role ErrUnknownWebRole (EINVALID, field "role").
func DecideWebSessions(s WebSessions, cmd WebCommand, now time.Time) ([]Event, error) {
	switch cmd := cmd.(type) {
	case IssueWebLink:
		ttl, err := webTTL(cmd.TTL, DefaultLinkTTL)
		switch {
		case !cmd.Role.Valid():
			return nil, unknownRole(string(cmd.Role))
		case err != nil:
			return nil, err
		case cmd.LinkID == uuid.Nil || cmd.Hash.IsZero():
			return nil, errorf(EINVALID, "a sign-in link needs an id and the hash of its secret")
		}
		if _, ok := s.links[cmd.LinkID]; ok {
			return nil, errorf(ESTATE, "sign-in link %s exists already", cmd.LinkID)
		}
		if _, ok := s.linkOf[cmd.Hash]; ok {
			return nil, errorf(ESTATE, "another sign-in link has that secret: draw again")
		}
		return []Event{WebLinkIssued{LinkID: cmd.LinkID, Role: cmd.Role, Hash: cmd.Hash, By: cmd.By, At: now, Expires: now.Add(ttl)}}, nil
	case RedeemWebLink:
		ttl, err := webTTL(cmd.TTL, DefaultSessionTTL)
		if err != nil {
			return nil, err
		}
		l, ok := s.LinkByHash(cmd.Hash)
		switch {
		case !ok:
			return nil, &Error{Code: EINVALID, Field: "link", Err: ErrUnknownLink, Message: "no such sign-in link"}
		case l.Used():
			return nil, &Error{Code: ESTATE, Field: "link", Err: ErrLinkUsed,
				Message: fmt.Sprintf("sign-in link %s was used at %s: ask for a new one", l.ID, l.UsedAt.UTC().Format(time.RFC3339))}
		case !now.Before(l.Expires):
			return nil, &Error{Code: ESTATE, Field: "link", Err: ErrLinkExpired,
				Message: fmt.Sprintf("sign-in link %s expired at %s: ask for a new one", l.ID, l.Expires.UTC().Format(time.RFC3339))}
		case cmd.SessionID == uuid.Nil || cmd.SessionHash.IsZero():
			return nil, errorf(EINVALID, "a web session needs an id and the hash of its secret")
		}
		if _, ok := s.sessions[cmd.SessionID]; ok {
			return nil, errorf(ESTATE, "web session %s exists already", cmd.SessionID)
		}
		if _, ok := s.session[cmd.SessionHash]; ok {
			return nil, errorf(ESTATE, "another web session has that secret: draw again")
		}
		return []Event{WebSignedIn{LinkID: l.ID, SessionID: cmd.SessionID, Hash: cmd.SessionHash, Role: l.Role, At: now, Expires: now.Add(ttl)}}, nil
	case EndWebSession:
		w, ok := s.sessions[cmd.SessionID]
		if !ok {
			return nil, &Error{Code: EINVALID, Field: "session", Err: ErrUnknownSession, Message: fmt.Sprintf("no web session %s", cmd.SessionID)}
		}
		if !w.Live(now) {
			return nil, nil
		}
		return []Event{WebSessionEnded{SessionID: w.ID, By: cmd.By, Reason: strings.TrimSpace(cmd.Reason), At: now}}, nil
	}
	return nil, errorf(EINVALID, "unknown web sign-in command %T", cmd)
}

// webTTL is ttl, or def for 0; a negative one or one above MaxWebTTL is
// refused.
func webTTL(ttl, def time.Duration) (time.Duration, error) {
	switch {
	case ttl == 0:
		return def, nil
	case ttl < 0 || ttl > MaxWebTTL:
		return 0, fieldErrorf(EINVALID, "ttl", "a sign-in link or session lasts more than nothing and at most %s", MaxWebTTL)
	}
	return ttl, nil
}

// EvolveWebSessions applies one event. Like EvolveTokens it updates the
// maps in place and returns s: fold from the zero value and keep the
// result in one place. A second WebSignedIn of a link (which
// DecideWebSessions refuses) leaves the link to its first session.
func EvolveWebSessions(s WebSessions, e Event) WebSessions {
	if s.links == nil {
		s.links, s.sessions = map[uuid.UUID]WebLink{}, map[uuid.UUID]WebSession{}
		s.linkOf, s.session = map[TokenHash]uuid.UUID{}, map[TokenHash]uuid.UUID{}
	}
	switch e := e.(type) {
	case WebLinkIssued:
		if _, ok := s.links[e.LinkID]; ok {
			break
		}
		s.links[e.LinkID] = WebLink{ID: e.LinkID, Role: e.Role, Hash: e.Hash, IssuedBy: e.By, IssuedAt: e.At, Expires: e.Expires}
		s.linkOf[e.Hash] = e.LinkID
	case WebSignedIn:
		if _, ok := s.sessions[e.SessionID]; ok {
			break
		}
		l := s.links[e.LinkID]
		if !l.Used() && l.ID != uuid.Nil {
			l.Session, l.UsedAt = e.SessionID, e.At
			s.links[e.LinkID] = l
		}
		s.sessions[e.SessionID] = WebSession{ID: e.SessionID, Link: e.LinkID, Role: e.Role, Hash: e.Hash, IssuedBy: l.IssuedBy, At: e.At, Expires: e.Expires}
		s.session[e.Hash] = e.SessionID
		s.order = append(s.order, e.SessionID)
	case WebSessionEnded:
		if w, ok := s.sessions[e.SessionID]; ok && !w.Ended {
			w.Ended, w.EndedAt, w.EndedBy, w.Reason = true, e.At, e.By, e.Reason
			s.sessions[e.SessionID] = w
		}
	}
	return s
}
