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
	tokenA, tokenB = uuid.MustParse("0193a0c0-0000-7000-8000-0000000000e1"), uuid.MustParse("0193a0c0-0000-7000-8000-0000000000e2")
	hashA, hashB   = HashTokenSecret("secret-a"), HashTokenSecret("secret-b")
	crm            = TokenCreated{TokenID: tokenA, Name: "crm", Scope: ScopeManage, Prefix: "sb_aaaa", Hash: hashA, At: now.Add(-time.Hour), By: "cli"}
	crmRevoked     = TokenRevoked{TokenID: tokenA, At: now.Add(-time.Minute), By: "cli", Reason: "leaked"}
)

type tokenCase struct {
	name  string
	given []Event
	when  TokenCommand
	at    time.Time // zero: now
	then  []Event
	err   Code
	field string
	is    error // the error also matches it
}

func runTokenCases(t *testing.T, cases []tokenCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s Tokens
			for _, e := range c.given {
				s = EvolveTokens(s, e)
			}
			when := c.at
			if when.IsZero() {
				when = now
			}
			got, err := DecideTokens(s, c.when, when)
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

func TestTokens(t *testing.T) {
	create := func(id uuid.UUID, name string, scope Scope, prefix string, h TokenHash) CreateToken {
		return CreateToken{TokenID: id, Name: name, Scope: scope, Prefix: prefix, Hash: h, By: "cli"}
	}
	created := func(id uuid.UUID, name string, scope Scope, prefix string, h TokenHash) []Event {
		return []Event{TokenCreated{TokenID: id, Name: name, Scope: scope, Prefix: prefix, Hash: h, At: now, By: "cli"}}
	}
	refused := func(scope Scope, suppressed int) []Event {
		return []Event{TokenRefused{TokenID: tokenA, Scope: scope, Suppressed: suppressed, At: now}}
	}
	runTokenCases(t, []tokenCase{
		{name: "create", when: create(tokenA, " crm ", ScopeManage, "sb_aaaa", hashA), then: created(tokenA, "crm", ScopeManage, "sb_aaaa", hashA)},
		{name: "a name of 64 Cyrillic letters", when: create(tokenA, strings.Repeat("я", 64), ScopeRead, "sb_aaaa", hashA),
			then: created(tokenA, strings.Repeat("я", 64), ScopeRead, "sb_aaaa", hashA)},
		{name: "a name of 65 letters", when: create(tokenA, strings.Repeat("я", 65), ScopeRead, "sb_aaaa", hashA), err: EINVALID, field: "name"},
		{name: "no name", when: create(tokenA, "  ", ScopeRead, "sb_aaaa", hashA), err: EINVALID, field: "name"},
		{name: "a name with a control character", when: create(tokenA, "crm\x1b[31m", ScopeRead, "sb_aaaa", hashA), err: EINVALID, field: "name"},
		{name: "a name with a newline", when: create(tokenA, "crm\nfake log line", ScopeRead, "sb_aaaa", hashA), err: EINVALID, field: "name"},
		{name: "a name that is not UTF-8", when: create(tokenA, "crm\xff", ScopeRead, "sb_aaaa", hashA), err: EINVALID, field: "name"},
		{name: "an unknown scope", when: create(tokenA, "crm", "root", "sb_aaaa", hashA), err: EINVALID, field: "scope", is: ErrUnknownScope},
		{name: "no scope", when: create(tokenA, "crm", "", "sb_aaaa", hashA), err: EINVALID, field: "scope", is: ErrUnknownScope},
		{name: "no hash", when: create(tokenA, "crm", ScopeRead, "sb_aaaa", TokenHash{}), err: EINVALID},
		{name: "no id", when: create(uuid.Nil, "crm", ScopeRead, "sb_aaaa", hashA), err: EINVALID},
		{name: "a prefix with a space", when: create(tokenA, "crm", ScopeRead, "sb aaaa", hashA), err: EINVALID, field: "prefix"},
		{name: "no prefix", when: create(tokenA, "crm", ScopeRead, "", hashA), err: EINVALID, field: "prefix"},
		{name: "a prefix in use", given: []Event{crm}, when: create(tokenB, "reports", ScopeRead, "sb_aaaa", hashB), err: EINVALID, field: "prefix"},
		{name: "a prefix a revoked token had", given: []Event{crm, crmRevoked}, when: create(tokenB, "reports", ScopeRead, "sb_aaaa", hashB), err: EINVALID, field: "prefix"},
		{name: "the id of another token", given: []Event{crm}, when: create(tokenA, "reports", ScopeRead, "sb_bbbb", hashB), err: ESTATE},
		{name: "a live token's name, in other case", given: []Event{crm}, when: create(tokenB, "CRM", ScopeRead, "sb_bbbb", hashB), err: EINVALID, field: "name"},
		{name: "a revoked token's name is free", given: []Event{crm, crmRevoked}, when: create(tokenB, "crm", ScopeAdmin, "sb_bbbb", hashB),
			then: created(tokenB, "crm", ScopeAdmin, "sb_bbbb", hashB)},
		{name: "revoke", given: []Event{crm}, when: RevokeToken{TokenID: tokenA, By: "admin:1", Reason: " leaked "},
			then: []Event{TokenRevoked{TokenID: tokenA, At: now, By: "admin:1", Reason: "leaked"}}},
		{name: "revoke twice", given: []Event{crm, crmRevoked}, when: RevokeToken{TokenID: tokenA, By: "admin:1"}},
		{name: "revoke an unknown token", given: []Event{crm}, when: RevokeToken{TokenID: tokenB, By: "cli"}, err: EINVALID, field: "token", is: ErrUnknownToken},
		{name: "a revoked token's use", given: []Event{crm, crmRevoked}, when: RecordRefusedUse{TokenID: tokenA, Scope: ScopeRead}, then: refused(ScopeRead, 0)},
		{name: "a second use within the interval is not recorded",
			given: []Event{crm, crmRevoked, TokenRefused{TokenID: tokenA, Scope: ScopeRead, At: now.Add(-RefusalInterval + time.Second)}},
			when:  RecordRefusedUse{TokenID: tokenA, Scope: ScopeAdmin, Suppressed: 5}},
		{name: "a use an interval later is, with the uses suppressed",
			given: []Event{crm, crmRevoked, TokenRefused{TokenID: tokenA, Scope: ScopeRead, At: now.Add(-RefusalInterval)}},
			when:  RecordRefusedUse{TokenID: tokenA, Scope: ScopeAdmin, Suppressed: 5}, then: refused(ScopeAdmin, 5)},
		{name: "a live token's use is not refused", given: []Event{crm}, when: RecordRefusedUse{TokenID: tokenA, Scope: ScopeRead}, err: ESTATE},
		{name: "an unknown token's use", when: RecordRefusedUse{TokenID: tokenA, Scope: ScopeRead}, err: EINVALID, field: "token", is: ErrUnknownToken},
	})
}

// The registry as its events leave it: found by prefix and live name,
// listed in the order of the log, refusals counted with the suppressed ones.
func TestEvolveTokens(t *testing.T) {
	var s Tokens
	if _, ok := s.ByPrefix("sb_aaaa"); ok || len(s.All()) != 0 {
		t.Fatal("an empty registry finds a token")
	}
	reports := TokenCreated{TokenID: tokenB, Name: "reports", Scope: ScopeRead, Prefix: "sb_bbbb", Hash: hashB, At: now.Add(-2 * time.Hour), By: "cli"}
	for _, e := range []Event{crm, reports, crmRevoked,
		TokenRefused{TokenID: tokenA, Scope: ScopeRead, At: now}, TokenRefused{TokenID: tokenA, Scope: ScopeRead, Suppressed: 3, At: now.Add(time.Minute)}} {
		s = EvolveTokens(s, e)
	}
	a, ok := s.ByPrefix("sb_aaaa")
	if !ok || !a.Revoked || a.RevokedBy != "cli" || a.Reason != "leaked" || a.Refused != 5 || !a.LastRefused.Equal(now.Add(time.Minute)) || a.Hash != hashA {
		t.Fatalf("crm: %+v", a)
	}
	if _, ok := s.LiveNamed("CRM"); ok {
		t.Fatal("a revoked token is live")
	}
	if b, ok := s.LiveNamed(" Reports "); !ok || b.ID != tokenB {
		t.Fatalf("reports by name: %+v %v", b, ok)
	}
	if all := s.All(); len(all) != 2 || all[0].ID != tokenA || all[1].ID != tokenB { // as created, whatever their times
		t.Fatalf("all: %+v", all)
	}
}

func TestScopes(t *testing.T) {
	for _, c := range []struct {
		have, need Scope
		allows     bool
	}{
		{ScopeRead, ScopeRead, true}, {ScopeRead, ScopeManage, false}, {ScopeRead, ScopeAdmin, false},
		{ScopeManage, ScopeRead, true}, {ScopeManage, ScopeManage, true}, {ScopeManage, ScopeAdmin, false},
		{ScopeAdmin, ScopeRead, true}, {ScopeAdmin, ScopeManage, true}, {ScopeAdmin, ScopeAdmin, true},
		{"", ScopeRead, false}, {"root", ScopeRead, false}, {ScopeAdmin, "", false}, {ScopeAdmin, "root", false},
	} {
		if got := c.have.Allows(c.need); got != c.allows {
			t.Errorf("%q allows %q: %v, want %v", c.have, c.need, got, c.allows)
		}
	}
	for in, want := range map[string]Scope{"read": ScopeRead, " Manage ": ScopeManage, "ADMIN": ScopeAdmin} {
		if got, err := ParseScope(in); err != nil || got != want {
			t.Errorf("ParseScope(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "write", "admin+", "rea d"} {
		_, err := ParseScope(in)
		if !errors.Is(err, ErrUnknownScope) || ErrorCode(err) != EINVALID || ErrorField(err) != "scope" {
			t.Errorf("ParseScope(%q): %v; want EINVALID on scope matching ErrUnknownScope", in, err)
		}
	}
}

// The hash is stored as hex and read back; printed, it is a placeholder.
func TestTokenHash(t *testing.T) {
	h := HashTokenSecret("s3cret")
	if !h.Matches("s3cret") || h.Matches("s3cret ") || h.Matches("") {
		t.Fatal("Matches")
	}
	b, err := json.Marshal(crm)
	if err != nil {
		t.Fatal(err)
	}
	var back TokenCreated
	if err := json.Unmarshal(b, &back); err != nil || back != crm {
		t.Fatalf("round trip: %+v %v (%s)", back, err, b)
	}
	for _, bad := range []string{`"abc"`, `12`, `null`, `"` + strings.Repeat("zz", 32) + `"`} {
		var x TokenHash
		if err := json.Unmarshal([]byte(bad), &x); err == nil {
			t.Errorf("%s reads as a hash", bad)
		}
	}
	hexed, decimal := fmt.Sprintf("%x", hashA[:]), strings.Trim(fmt.Sprint([32]byte(hashA)), "[]")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q", "%d"} {
		if out := fmt.Sprintf(verb, crm); strings.Contains(out, hexed) || strings.Contains(out, decimal) {
			t.Errorf("%s of an event shows the hash: %s", verb, out)
		}
	}
	if out := fmt.Sprintf("%v", crm); !strings.Contains(out, "[token hash]") {
		t.Errorf("%%v of an event: %s", out)
	}
}

func TestScopeError(t *testing.T) {
	var err error = fmt.Errorf("list dialogs: %w", &ScopeError{Token: "sb_aaaa", Have: ScopeRead, Need: ScopeAdmin})
	var se *ScopeError
	if !errors.Is(err, ErrForbidden) || errors.Is(err, ErrUnauthenticated) || !errors.As(err, &se) || se.Need != ScopeAdmin {
		t.Fatalf("%v", err)
	}
	if p := (Principal{Prefix: "sb_aaaa"}); p.Actor() != "token:sb_aaaa" {
		t.Fatal(p.Actor())
	}
}
