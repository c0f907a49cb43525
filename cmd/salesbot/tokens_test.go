package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// tokens create prints the token once, on stdout only; list and revoke
// never show it; a revoked token is listed as such; bad input exits 2.
func TestTokensCreateListRevoke(t *testing.T) {
	dir := makeLog(t, 1)
	r := run(t, nil, "tokens", "create", "--name", "crm", "--scope", "manage", "--data-dir", dir)
	token := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(token, "sb_") || strings.Count(r.stdout, "\n") != 1 || strings.Contains(r.stderr, token) {
		t.Fatalf("create: %+v", r)
	}
	prefix := token[:strings.LastIndex(token, "_")]
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "--name", "crm", "--scope", "read"}, `called "crm" already`},
		{[]string{"create", "--name", "x", "--scope", "root"}, `--scope: unknown scope "root"`},
		{[]string{"create", "--scope", "read"}, "--name is required"},
		{[]string{"revoke"}, "give one token"},
	} {
		if r := run(t, nil, append(append([]string{"tokens"}, c.args...), "--data-dir", dir)...); r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: %+v, want exit 2 saying %q", c.args, r, c.want)
		}
	}

	r = run(t, nil, "tokens", "list", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, prefix) || !strings.Contains(r.stdout, "manage") || !strings.Contains(r.stdout, "live") || strings.Contains(r.stdout+r.stderr, token) {
		t.Fatalf("list: %+v", r)
	}
	if r := run(t, nil, "tokens", "revoke", prefix, "--reason", "leaked", "--data-dir", dir); r.code != 0 || !strings.Contains(r.stdout, "revoked token "+prefix) {
		t.Fatalf("revoke: %+v", r)
	}
	if r := run(t, nil, "tokens", "revoke", prefix, "--data-dir", dir); r.code != 0 || !strings.Contains(r.stdout, "revoked already") {
		t.Fatalf("revoke again: %+v", r)
	}
	if r := run(t, nil, "tokens", "revoke", "sb_nope", "--data-dir", dir); r.code != 1 || !strings.Contains(r.stderr, "no token") {
		t.Fatalf("revoke an unknown token: %+v", r)
	}
	r = run(t, nil, "tokens", "list", "--json", "--data-dir", dir)
	var list []struct {
		Prefix, Scope, Reason string
		Revoked               *string
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 1 || list[0].Prefix != prefix || list[0].Revoked == nil || list[0].Reason != "leaked" || strings.Contains(r.stdout, token) {
		t.Fatalf("list --json: %v %+v", err, r)
	}
	// --json: the token with its facts, for a script.
	r = run(t, nil, "tokens", "create", "--name", "reports", "--scope", "read", "--json", "--data-dir", dir)
	var created struct{ Token, Prefix, Scope string }
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil || r.code != 0 || !strings.HasPrefix(created.Token, created.Prefix+"_") || created.Scope != "read" {
		t.Fatalf("create --json: %v %+v", err, r)
	}
	// The events are in the log, and it verifies.
	if r := run(t, nil, "verify", "--data-dir", dir); r.code != 0 {
		t.Fatalf("verify: %+v", r)
	}
}
