package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

var (
	linkA, linkB     = uuid.MustParse("0193a0c0-0000-7000-8000-0000000000f1"), uuid.MustParse("0193a0c0-0000-7000-8000-0000000000f2")
	sessA, sessB     = uuid.MustParse("0193a0c0-0000-7000-8000-0000000000f3"), uuid.MustParse("0193a0c0-0000-7000-8000-0000000000f4")
	linkHashA        = HashTokenSecret("link-a")
	linkHashB        = HashTokenSecret("link-b")
	sessHashA        = HashTokenSecret("session-a")
	sessHashB        = HashTokenSecret("session-b")
	issuedA          = WebLinkIssued{LinkID: linkA, Role: WebManager, Hash: linkHashA, By: "admin:7", At: now.Add(-time.Minute), Expires: now.Add(-time.Minute + DefaultLinkTTL)}
	signedInA        = WebSignedIn{LinkID: linkA, SessionID: sessA, Hash: sessHashA, Role: WebManager, At: now.Add(-30 * time.Second), Expires: now.Add(-30*time.Second + DefaultSessionTTL)}
	endedA           = WebSessionEnded{SessionID: sessA, By: "web:" + sessA.String(), Reason: "signed out", At: now.Add(-10 * time.Second)}
	redeemA          = RedeemWebLink{Hash: linkHashA, SessionID: sessA, SessionHash: sessHashA}
	redeemAAgain     = RedeemWebLink{Hash: linkHashA, SessionID: sessB, SessionHash: sessHashB}
	signedInANow     = []Event{WebSignedIn{LinkID: linkA, SessionID: sessA, Hash: sessHashA, Role: WebManager, At: now, Expires: now.Add(DefaultSessionTTL)}}
	issueA           = IssueWebLink{LinkID: linkA, Role: WebManager, Hash: linkHashA, By: "admin:7"}
	issuedANow       = []Event{WebLinkIssued{LinkID: linkA, Role: WebManager, Hash: linkHashA, By: "admin:7", At: now, Expires: now.Add(DefaultLinkTTL)}}
	endA             = EndWebSession{SessionID: sessA, By: "admin:1", Reason: " ended by admin "}
	endedAByAdminNow = []Event{WebSessionEnded{SessionID: sessA, By: "admin:1", Reason: "ended by admin", At: now}}
)

type webCase struct {
	name  string
	given []Event
	when  WebCommand
	at    time.Time // zero: now
	then  []Event
	err   Code
	field string
	is    error // the error also matches it
}

func TestWebSessions(t *testing.T) {
	for _, c := range []webCase{
		// Issuing links.
		{name: "issue", when: issueA, then: issuedANow},
		{name: "issue for an hour", when: IssueWebLink{LinkID: linkA, Role: WebAnalyst, Hash: linkHashA, By: "cli", TTL: time.Hour},
			then: []Event{WebLinkIssued{LinkID: linkA, Role: WebAnalyst, Hash: linkHashA, By: "cli", At: now, Expires: now.Add(time.Hour)}}},
		{name: "an unknown role", when: IssueWebLink{LinkID: linkA, Role: "root", Hash: linkHashA}, err: EINVALID, field: "role", is: ErrUnknownWebRole},
		{name: "no role", when: IssueWebLink{LinkID: linkA, Hash: linkHashA}, err: EINVALID, field: "role", is: ErrUnknownWebRole},
		{name: "a negative ttl", when: IssueWebLink{LinkID: linkA, Role: WebOwner, Hash: linkHashA, TTL: -time.Second}, err: EINVALID, field: "ttl"},
		{name: "a ttl too long", when: IssueWebLink{LinkID: linkA, Role: WebOwner, Hash: linkHashA, TTL: MaxWebTTL + time.Second}, err: EINVALID, field: "ttl"},
		{name: "no hash", when: IssueWebLink{LinkID: linkA, Role: WebOwner}, err: EINVALID},
		{name: "no id", when: IssueWebLink{Role: WebOwner, Hash: linkHashA}, err: EINVALID},
		{name: "an id twice", given: []Event{issuedA}, when: IssueWebLink{LinkID: linkA, Role: WebOwner, Hash: linkHashB}, err: ESTATE},
		{name: "a secret twice", given: []Event{issuedA}, when: IssueWebLink{LinkID: linkB, Role: WebOwner, Hash: linkHashA}, err: ESTATE},

		// Redeeming them.
		{name: "redeem", given: []Event{issuedA}, when: redeemA, then: signedInANow},
		{name: "redeem for an hour", given: []Event{issuedA}, when: RedeemWebLink{Hash: linkHashA, SessionID: sessA, SessionHash: sessHashA, TTL: time.Hour},
			then: []Event{WebSignedIn{LinkID: linkA, SessionID: sessA, Hash: sessHashA, Role: WebManager, At: now, Expires: now.Add(time.Hour)}}},
		{name: "redeem a moment before it expires", given: []Event{issuedA}, when: redeemA, at: issuedA.Expires.Add(-time.Nanosecond),
			then: []Event{WebSignedIn{LinkID: linkA, SessionID: sessA, Hash: sessHashA, Role: WebManager, At: issuedA.Expires.Add(-time.Nanosecond), Expires: issuedA.Expires.Add(-time.Nanosecond + DefaultSessionTTL)}}},
		{name: "redeem when it expires", given: []Event{issuedA}, when: redeemA, at: issuedA.Expires, err: ESTATE, field: "link", is: ErrLinkExpired},
		{name: "redeem twice", given: []Event{issuedA, signedInA}, when: redeemAAgain, err: ESTATE, field: "link", is: ErrLinkUsed},
		{name: "redeem twice after signing out", given: []Event{issuedA, signedInA, endedA}, when: redeemAAgain, err: ESTATE, field: "link", is: ErrLinkUsed},
		{name: "redeem a used link after it expired: used", given: []Event{issuedA, signedInA}, when: redeemAAgain, at: now.Add(time.Hour), err: ESTATE, field: "link", is: ErrLinkUsed},
		{name: "redeem an unknown link", given: []Event{issuedA}, when: RedeemWebLink{Hash: linkHashB, SessionID: sessA, SessionHash: sessHashA}, err: EINVALID, field: "link", is: ErrUnknownLink},
		{name: "redeem a session's secret", given: []Event{issuedA, signedInA}, when: RedeemWebLink{Hash: sessHashA, SessionID: sessB, SessionHash: sessHashB}, err: EINVALID, field: "link", is: ErrUnknownLink},
		{name: "redeem without a session", given: []Event{issuedA}, when: RedeemWebLink{Hash: linkHashA}, err: EINVALID},
		{name: "a session's id twice", given: []Event{issuedA, signedInA, WebLinkIssued{LinkID: linkB, Role: WebOwner, Hash: linkHashB, At: now, Expires: now.Add(time.Minute)}},
			when: RedeemWebLink{Hash: linkHashB, SessionID: sessA, SessionHash: sessHashB}, err: ESTATE},
		{name: "a session's secret twice", given: []Event{issuedA, signedInA, WebLinkIssued{LinkID: linkB, Role: WebOwner, Hash: linkHashB, At: now, Expires: now.Add(time.Minute)}},
			when: RedeemWebLink{Hash: linkHashB, SessionID: sessB, SessionHash: sessHashA}, err: ESTATE},
		{name: "a negative session ttl", given: []Event{issuedA}, when: RedeemWebLink{Hash: linkHashA, SessionID: sessA, SessionHash: sessHashA, TTL: -1}, err: EINVALID, field: "ttl"},

		// Ending sessions.
		{name: "end", given: []Event{issuedA, signedInA}, when: endA, then: endedAByAdminNow},
		{name: "end an ended session", given: []Event{issuedA, signedInA, endedA}, when: endA},
		{name: "end an expired session", given: []Event{issuedA, signedInA}, when: endA, at: signedInA.Expires},
		{name: "end an unknown session", given: []Event{issuedA}, when: endA, err: EINVALID, field: "session", is: ErrUnknownSession},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s WebSessions
			for _, e := range c.given {
				s = EvolveWebSessions(s, e)
			}
			when := c.at
			if when.IsZero() {
				when = now
			}
			got, err := DecideWebSessions(s, c.when, when)
			if code := ErrorCode(err); code != c.err || ErrorField(err) != c.field {
				t.Fatalf("error %v (code %q, field %q), want code %q, field %q", err, code, ErrorField(err), c.err, c.field)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("error %v does not match %v", err, c.is)
			}
			if !reflect.DeepEqual(got, c.then) {
				t.Fatalf("events\n got %#v\nwant %#v", got, c.then)
			}
		})
	}
}

// The sign-ins as their events leave them: links found by hash and
// marked used, sessions found by hash, live until ended or expired.
func TestEvolveWebSessions(t *testing.T) {
	var s WebSessions
	if _, ok := s.LinkByHash(linkHashA); ok || len(s.Live(now)) != 0 {
		t.Fatal("no sign-ins find a link or a session")
	}
	issuedB := WebLinkIssued{LinkID: linkB, Role: WebOwner, Hash: linkHashB, By: "cli", At: now, Expires: now.Add(DefaultLinkTTL)}
	signedInB := WebSignedIn{LinkID: linkB, SessionID: sessB, Hash: sessHashB, Role: WebOwner, At: now, Expires: now.Add(time.Hour)}
	for _, e := range []Event{issuedA, issuedB, signedInA, signedInB} {
		s = EvolveWebSessions(s, e)
	}
	if l, ok := s.LinkByHash(linkHashA); !ok || !l.Used() || l.Session != sessA || !l.UsedAt.Equal(signedInA.At) || l.IssuedBy != "admin:7" {
		t.Fatalf("link a: %+v %v", l, ok)
	}
	a, ok := s.SessionByHash(sessHashA)
	if !ok || a.ID != sessA || a.Role != WebManager || a.IssuedBy != "admin:7" || a.Link != linkA || !a.Live(now) {
		t.Fatalf("session a: %+v %v", a, ok)
	}
	if live := s.Live(now); len(live) != 2 || live[0].ID != sessA || live[1].ID != sessB {
		t.Fatalf("live: %+v", live)
	}
	s = EvolveWebSessions(s, endedA)
	if a, _ := s.Session(sessA); a.Live(now) || a.EndedBy != endedA.By || a.Reason != "signed out" {
		t.Fatalf("ended: %+v", a)
	}
	if live := s.Live(now); len(live) != 1 || live[0].ID != sessB {
		t.Fatalf("live after the end: %+v", live)
	}
	if live := s.Live(signedInB.Expires); len(live) != 0 {
		t.Fatalf("live when b expires: %+v", live)
	}
	// A second sign-in through a link (refused by the decider) leaves the
	// link to its first session.
	s = EvolveWebSessions(s, WebSignedIn{LinkID: linkA, SessionID: uuid.New(), Hash: HashTokenSecret("x"), Role: WebManager, At: now, Expires: now.Add(time.Hour)})
	if l, _ := s.Link(linkA); l.Session != sessA {
		t.Fatalf("link a after a second sign-in: %+v", l)
	}
}

func TestWebRoles(t *testing.T) {
	want := map[WebRole]Scope{WebOwner: ScopeAdmin, WebManager: ScopeManage, WebAnalyst: ScopeRead, "": "", "admin": ""}
	for r, sc := range want {
		if r.Scope() != sc || r.Valid() != (sc != "") {
			t.Errorf("%q: scope %q valid %v", r, r.Scope(), r.Valid())
		}
	}
	if got := WebRoles(); len(got) != 3 || !got[0].Scope().Allows(ScopeRead) || got[0].Scope().Allows(ScopeManage) || !got[2].Scope().Allows(ScopeAdmin) {
		t.Fatalf("roles %v", got)
	}
	for in, r := range map[string]WebRole{"owner": WebOwner, " Manager ": WebManager, "ANALYST": WebAnalyst} {
		if got, err := ParseWebRole(in); err != nil || got != r {
			t.Errorf("ParseWebRole(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "admin", "read", "own er"} {
		if _, err := ParseWebRole(in); !errors.Is(err, ErrUnknownWebRole) || ErrorCode(err) != EINVALID || ErrorField(err) != "role" {
			t.Errorf("ParseWebRole(%q): %v", in, err)
		}
	}
}

// The events round-trip through JSON and never print a hash.
func TestWebEventsHideHashes(t *testing.T) {
	for _, e := range []Event{issuedA, signedInA, endedA} {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		back := reflect.New(reflect.TypeOf(e))
		if err := json.Unmarshal(b, back.Interface()); err != nil || !reflect.DeepEqual(back.Elem().Interface(), e) {
			t.Fatalf("%T round trip: %+v %v (%s)", e, back.Elem().Interface(), err, b)
		}
		for _, h := range []TokenHash{linkHashA, sessHashA} {
			hexed := fmt.Sprintf("%x", h[:])
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
				if out := fmt.Sprintf(verb, e); strings.Contains(out, hexed) {
					t.Errorf("%s of %T shows a hash: %s", verb, e, out)
				}
			}
		}
	}
}

func TestWebPrincipal(t *testing.T) {
	p := Principal{Name: "web:manager", Scope: ScopeManage, Session: sessA}
	if p.Actor() != "web:"+sessA.String() {
		t.Fatal(p.Actor())
	}
	if p := (Principal{Prefix: "sb_aaaa"}); p.Actor() != "token:sb_aaaa" {
		t.Fatal(p.Actor())
	}
}

// A link that opens no session signs nobody in: each refusal matches
// ErrUnauthenticated too, and only itself among the three.
func TestLinkRefusals(t *testing.T) {
	all := []error{ErrUnknownLink, ErrLinkUsed, ErrLinkExpired}
	for i, e := range all {
		err := fmt.Errorf("redeem: %w", &Error{Code: ESTATE, Field: "link", Err: e, Message: "m"})
		if !errors.Is(err, ErrUnauthenticated) || errors.Is(err, ErrForbidden) || errors.Is(err, ErrUnknownSession) {
			t.Errorf("%v", e)
		}
		for j, other := range all {
			if errors.Is(err, other) != (i == j) {
				t.Errorf("%v matches %v: %v", e, other, i != j)
			}
		}
	}
	if !strings.HasPrefix(ErrLinkUsed.Error(), "websessions: ") {
		t.Fatal(ErrLinkUsed)
	}
}
