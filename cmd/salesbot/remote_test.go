package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/cli/remote"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
)

// startRun runs `run --sandbox` on a new data dir until the test ends,
// and returns the dir and the HTTP address once the CLI's socket answers.
func startRun(t *testing.T, extra ...string) (dir, addr string, sb *telegramtest.Sandbox) {
	t.Helper()
	dir, addr = t.TempDir(), closedAddr(t)
	sandbox := make(chan *telegramtest.Sandbox, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errb lockedBuffer
	go func() {
		a := newApp(strings.NewReader(""), &lockedBuffer{}, &errb, func(string) string { return "" })
		a.onSandbox = func(sb *telegramtest.Sandbox) { sandbox <- sb }
		done <- a.main(ctx, append([]string{"run", "--sandbox", "--sandbox-leads", "2", "--data-dir", dir, "--http-listen", addr}, extra...))
	}()
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			t.Logf("run's log:\n%s", errb.String())
		}
		if code := <-done; code != 0 {
			t.Errorf("run: %d\n%s", code, errb.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := remote.Dial(ctx, remote.Target{Socket: remote.Socket(dir)}); err == nil {
			c.Run(ctx, []string{"version"}, remote.Host{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: os.Getenv})
			return dir, addr, <-sandbox
		}
		select {
		case code := <-done:
			t.Fatalf("run ended (%d) before its socket answered:\n%s", code, errb.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no socket after a minute:\n%s", errb.String())
		}
	}
}

// TestCommandsThroughTheRunningServer: while run holds the data dir,
// the commands on it go through its socket (or --server) and print what
// they print without a server.
func TestCommandsThroughTheRunningServer(t *testing.T) {
	dir, addr, sb := startRun(t)
	if fi, err := os.Stat(remote.Socket(dir)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi, err)
	}
	r := run(t, nil, "campaigns", "list", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "no campaigns yet") {
		t.Fatalf("campaigns list: %+v", r)
	}
	r = run(t, nil, "verify", "--data-dir", dir)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "ok: ") {
		t.Fatalf("verify: %+v", r)
	}
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) { // the sandbox's leads begin
		r = run(t, nil, "replay", "dialog", "2", "--data-dir", dir, "--json")
		if r.code == 0 || time.Now().After(end) {
			break
		}
	}
	if r.code != 0 || !strings.Contains(r.stdout, `"DialogStarted"`) {
		t.Fatalf("replay: %+v", r)
	}
	// A token made through the socket works on the HTTP API at once.
	r = run(t, nil, "tokens", "create", "--name", "dash", "--scope", "read", "--data-dir", dir)
	token := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(token, "sb_") {
		t.Fatalf("tokens create: %+v", r)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/dialogs", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the new token on the API: %v %v", res, err)
	}
	var page struct{ Items []json.RawMessage }
	err = json.NewDecoder(res.Body).Decode(&page)
	res.Body.Close()
	if err != nil || len(page.Items) < 2 {
		t.Fatalf("the sandbox's dialogs: %d, %v", len(page.Items), err)
	}
	// Over HTTP the token's scope decides: read may list campaigns, not tokens.
	server := "http://" + addr
	if r := run(t, nil, "campaigns", "list", "--server", server, "--token", token); r.code != 0 || !strings.Contains(r.stdout, "no campaigns yet") {
		t.Errorf("campaigns list --server: %+v", r)
	}
	if r := run(t, map[string]string{"SALESBOT_SERVER": server, "SALESBOT_TOKEN": token}, "tokens", "list"); r.code != 1 || !strings.Contains(r.stderr, "needs admin") || strings.Contains(r.stderr, token) {
		t.Errorf("tokens list with a read token: %+v", r)
	}
	if r := run(t, nil, "tokens", "list", "--server", server, "--token", "sb_nope"); r.code != 1 || !strings.Contains(r.stderr, "401") {
		t.Errorf("a bad token: %+v", r)
	}
	if r := run(t, nil, "campaigns", "list", "--server", server); r.code != 2 || !strings.Contains(r.stderr, "--token") {
		t.Errorf("--server without --token: %+v", r)
	}
	if r := run(t, nil, "bench", "read", "--server", server, "--token", token); r.code != 2 || !strings.Contains(r.stderr, "runs here only") {
		t.Errorf("a local command with --server: %+v", r)
	}
	// Signing an account in: the login code and the 2FA password are
	// asked at the client's terminal; the running system takes it up.
	if _, err := sb.AddUser(telegramtest.UserSpec{Phone: "+15550009999", Username: "acme_late", FirstName: "Late", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := Run(t.Context(), []string{"accounts", "add", "--data-dir", dir, "--label", "late-1", "--phone", "+15550009999"},
		&codeReader{sb: sb, phone: "+15550009999", password: "pw"}, &out, &errb, func(string) string { return "" })
	if code != 0 || !strings.Contains(out.String(), "signed in as Late (@acme_late)") || !strings.Contains(errb.String(), "2FA password") {
		t.Fatalf("accounts add through the socket: %d %s %s", code, out.String(), errb.String())
	}
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r = run(t, nil, "accounts", "list", "--data-dir", dir)
		if regexp.MustCompile(`late-1 +active`).MatchString(r.stdout) || time.Now().After(end) {
			break
		}
	}
	if r.code != 0 || !regexp.MustCompile(`late-1 +active`).MatchString(r.stdout) {
		t.Errorf("accounts list after add: %+v", r)
	}
	for _, c := range []struct{ args, want string }{
		{"accounts pause late-1", "account late-1 paused: it sends nothing until resumed\n"},
		{"accounts pause LATE-1", "account late-1 is paused already\n"},
		{"accounts resume late-1", "account late-1 resumed\n"},
	} {
		if r := run(t, nil, append(strings.Fields(c.args), "--data-dir", dir)...); r.code != 0 || r.stdout != c.want {
			t.Errorf("%s: %+v", c.args, r)
		}
	}
	if r := run(t, nil, "accounts", "pause", "nobody", "--data-dir", dir); r.code != 1 || !strings.Contains(r.stderr, `account "nobody"`) {
		t.Errorf("pause an unknown account: %+v", r)
	}
	// The client's file, read where the command was typed.
	file := filepath.Join(t.TempDir(), "leads.csv")
	if err := os.WriteFile(file, []byte("username,first_name\n@remote_lead_1,Ann\n@remote_lead_2,Bob\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, nil, "contacts", "import", file, "--data-dir", dir, "--source", "fair", "--basis", "consent", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"accepted":2`) {
		t.Errorf("contacts import through the socket: %+v", r)
	}
	if r := run(t, nil, "contacts", "import", filepath.Join(t.TempDir(), "none.csv"), "--data-dir", dir, "--source", "fair", "--basis", "consent"); r.code != 1 || !strings.Contains(r.stderr, "none.csv") {
		t.Errorf("a missing file: %+v", r)
	}
	// A campaign's openings are previewed by run's engine, through the socket.
	if r = run(t, nil, "campaigns", "create", "--name", "Later", "--start", "2030-01-02T09:00", "--data-dir", dir); r.code != 0 {
		t.Fatalf("campaigns create: %+v", r)
	}
	if r = run(t, nil, "campaigns", "preview", "Later", "--n", "1", "--data-dir", dir); r.code != 0 ||
		!strings.Contains(r.stdout, "nothing is sent or recorded") || !strings.Contains(r.stdout, "1. contact ") || strings.Contains(r.stdout, "2. contact ") {
		t.Fatalf("campaigns preview: %+v", r)
	}
}
