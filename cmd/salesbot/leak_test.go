package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
)

// Secrets the leak test hands salesbot; none may show in its output.
const (
	leakBotToken = "987654:SECRETbotTOKEN0123456789abcdefghijk" // the part after ":" is the secret
	leakLLMKey   = "sk-SECRETllmKEY0123456789"
	leakDBPass   = "SECRETdbPASS42"
	leakAppHash  = "SECRETappHASH0123456789abcdef"
	leakURLPass  = "SECRETurlPASS"
	leakURLToken = "SECRETurlTOKEN"
	leakBadToken = "SECRETmalformedTOKEN"
)

var leakSecrets = []string{leakBotToken[strings.Index(leakBotToken, ":")+1:], leakLLMKey, leakDBPass, leakAppHash, leakURLPass, leakURLToken, leakBadToken}

// lockedBuffer is a buffer the CLI and the test may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// closedAddr is host:port of a port nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// keyOutside returns a master key path outside any data dir.
func keyOutside(t *testing.T) string {
	return filepath.Join(t.TempDir(), "master.key")
}

// Every command path that can fail on the network or on a bad value,
// with every secret given: no secret appears on stdout or stderr (where
// the logs go).
func TestNoSecretLeaks(t *testing.T) {
	t.Parallel() // one case waits a minute for reconnects: beside the others
	closed := closedAddr(t)
	_, port, _ := net.SplitHostPort(closed)
	// An OpenAI-compatible server that refuses the key and echoes it, as
	// some proxies do.
	echo401 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"message":"Incorrect API key provided: `+r.Header.Get("Authorization")+`","type":"invalid_request_error"}}`)
	}))
	defer echo401.Close()
	botAPIDown := "http://bot:" + leakURLPass + "@" + closed
	llmDown := "http://llm:" + leakURLPass + "@" + closed + "/v1?api-key=" + leakURLToken
	dsnDown := "postgres://app:" + leakDBPass + "@" + closed + "/sales"
	dsnDownKV := "host=127.0.0.1 port=" + port + " user=app password=" + leakDBPass + " dbname=sales"
	allEnv := map[string]string{
		"SALESBOT_BOT_TOKEN": leakBotToken, "SALESBOT_LLM_API_KEY": leakLLMKey, "SALESBOT_TG_APP_HASH": leakAppHash,
		"SALESBOT_TG_APP_ID": "12345", "SALESBOT_POSTGRES_DSN": dsnDown, "SALESBOT_BOT_API_URL": botAPIDown,
		"SALESBOT_LLM_BASE_URL": llmDown, "SALESBOT_BOT_WEBHOOK_URL": "https://hook:" + leakURLPass + "@example.com/hook?token=" + leakURLToken,
		"SALESBOT_ADMIN_IDS": "42",
	}
	logDir := makeLog(t, 2)

	type leakCase struct {
		name  string
		env   map[string]string
		stdin string
		args  []string
		// sane says the path under test did run (so the test can fail).
		sane func(r result) bool
		// until, if set, stops the command (a 'run') once its standard
		// error holds all of these.
		until []string
	}
	has := func(code int, texts ...string) func(result) bool {
		return func(r result) bool {
			for _, s := range texts {
				if !strings.Contains(r.stdout+r.stderr, s) {
					return false
				}
			}
			return code < 0 || r.code == code
		}
	}
	cases := []leakCase{
		{name: "run: the bot API at a closed port, the LLM answering 401",
			env: map[string]string{"SALESBOT_BOT_TOKEN": leakBotToken, "SALESBOT_LLM_API_KEY": leakLLMKey, "SALESBOT_LLM_BASE_URL": echo401.URL + "/v1"},
			args: []string{"run", "--sandbox", "--sandbox-leads", "2", "--data-dir", t.TempDir(),
				"--bot-api-url", botAPIDown, "--admin-ids", "42", "--llm-retries", "0"},
			until: []string{"adminbot: send message", "401 Unauthorized"},
			sane:  has(0, "adminbot: send message", "connection refused", "401 Unauthorized")},
		{name: "run: the real Telegram's credentials, the bot API at a closed port",
			env:  map[string]string{"SALESBOT_TG_APP_HASH": leakAppHash, "SALESBOT_BOT_TOKEN": leakBotToken},
			args: []string{"run", "--tg-app-id", "12345", "--master-key-file", keyOutside(t), "--for", "2s", "--data-dir", t.TempDir(), "--bot-api-url", botAPIDown, "--admin-ids", "42"},
			sane: has(0, "salesbot: running")},
		{name: "chat: the LLM at a closed port", env: map[string]string{"SALESBOT_LLM_API_KEY": leakLLMKey, "SALESBOT_LLM_BASE_URL": llmDown},
			stdin: "Hello\n", args: []string{"chat", "--no-opening", "--llm-retries", "0"},
			sane: has(0, "connection refused")},
		{name: "chat: the LLM answering 401 with the key", env: map[string]string{"SALESBOT_LLM_API_KEY": leakLLMKey, "SALESBOT_LLM_BASE_URL": echo401.URL + "/v1"},
			stdin: "Hello\n", args: []string{"chat", "--no-opening"},
			sane: has(0, "401", "Incorrect API key")},
		{name: "projections: PostgreSQL at a closed port", args: []string{"projections", "status", "--data-dir", logDir, "--postgres", dsnDown},
			sane: has(1, "connect")},
		{name: "projections: PostgreSQL key=value at a closed port", env: map[string]string{"SALESBOT_POSTGRES_DSN": dsnDownKV},
			args: []string{"projections", "rebuild", "--data-dir", logDir}, sane: has(1, "connect")},
		{name: "run: PostgreSQL at a closed port", env: map[string]string{"SALESBOT_POSTGRES_DSN": dsnDown, "SALESBOT_TG_APP_HASH": leakAppHash},
			args: []string{"run", "--tg-app-id", "12345", "--master-key-file", keyOutside(t), "--for", "60s", "--data-dir", t.TempDir()}, sane: has(1, "connect")},
		{name: "a DSN that is not a URL", args: []string{"verify", "--data-dir", logDir, "--postgres", "postgres://app:" + leakDBPass + "@db:port/sales"},
			sane: has(2, "--postgres")},
		{name: "a DSN that is not key=value", env: map[string]string{"SALESBOT_POSTGRES_DSN": "password=" + leakDBPass + " nonsense"},
			args: []string{"verify", "--data-dir", logDir}, sane: has(2, "--postgres")},
		{name: "a DSN pgx refuses", args: []string{"projections", "status", "--data-dir", logDir, "--postgres", dsnDown + "?sslmode=bogus"},
			sane: has(1, "sslmode")},
		{name: "a bot API URL that is not http", args: []string{"run", "--sandbox", "--data-dir", t.TempDir(), "--bot-token", leakBotToken, "--admin-ids", "42",
			"--bot-api-url", "ftp://bot:" + leakURLPass + "@example.com/?token=" + leakURLToken}, sane: has(2, "--bot-api-url")},
		{name: "a webhook URL that is not https", args: []string{"run", "--sandbox", "--data-dir", t.TempDir(), "--bot-token", leakBotToken, "--admin-ids", "42",
			"--bot-webhook-url", "http://hook:" + leakURLPass + "@example.com/hook?token=" + leakURLToken}, sane: has(2, "--bot-webhook-url")},
		{name: "an LLM base URL that is not http", env: map[string]string{"SALESBOT_LLM_API_KEY": leakLLMKey},
			args: []string{"chat", "--llm-base-url", "ftp://llm:" + leakURLPass + "@example.com/v1?api-key=" + leakURLToken}, sane: has(2, "--llm-base-url")},
		{name: "a malformed bot token", args: []string{"run", "--sandbox", "--data-dir", t.TempDir(), "--bot-token", leakBadToken, "--admin-ids", "42", "--for", "120s"},
			sane: has(2, "--bot-token")},
		{name: "a bot token without admins", env: map[string]string{"SALESBOT_BOT_TOKEN": leakBotToken},
			args: []string{"run", "--sandbox", "--data-dir", t.TempDir()}, sane: has(2, "--admin-ids")},
		{name: "run with the master key in the data dir", env: allEnv, args: []string{"run", "--data-dir", t.TempDir()}, sane: has(2, "master key")},
		{name: "help", env: allEnv, args: []string{"help"}, sane: has(0, "Commands:")},
	}
	// --help of every command, with every secret and credential-bearing
	// URL in the environment.
	var walk func(path []string, cmds []*command)
	walk = func(path []string, cmds []*command) {
		for _, c := range cmds {
			p := append(append([]string{}, path...), c.name)
			if len(c.sub) > 0 {
				walk(p, c.sub)
				continue
			}
			cases = append(cases, leakCase{name: strings.Join(p, " ") + " --help", env: allEnv, args: append(p, "--help"), sane: has(0, "Usage: salesbot")})
		}
	}
	walk(nil, commands())

	for _, c := range cases {
		var r result
		if c.until == nil {
			r = runIn(t, c.env, c.stdin, c.args...)
		} else {
			r = runUntil(t, c.env, c.until, c.args...)
		}
		if !c.sane(r) {
			t.Errorf("%s: the path did not run as expected: %+v", c.name, r)
		}
		for _, s := range leakSecrets {
			if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
				t.Errorf("%s: %q shows:\nstdout: %s\nstderr: %s", c.name, s, r.stdout, r.stderr)
			}
		}
	}
}

// runUntil runs the CLI until its standard error holds every text of
// until (or two minutes pass), then stops it as SIGINT would.
func runUntil(t *testing.T, env map[string]string, until []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb lockedBuffer
	go func() {
		for ctx.Err() == nil {
			all := true
			for _, u := range until {
				all = all && strings.Contains(errb.String(), u)
			}
			if all {
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	code := Run(ctx, args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return result{code, out.String(), errb.String()}
}

// 'accounts add' against a Telegram that cannot be reached shows neither
// the API hash nor anything else secret.
func TestNoSecretLeaksAccountsAdd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sb, err := telegramtest.New(ctx, telegramtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts := sb.ClientOptions()
	sb.Close() // nothing answers at its address now
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader("12345\n"), &out, &errb, func(k string) string {
		return map[string]string{"SALESBOT_TG_APP_HASH": leakAppHash}[k]
	})
	a.telegram = &opts
	lctx, lcancel := context.WithTimeout(ctx, 3*time.Second)
	defer lcancel()
	code := a.main(lctx, []string{"accounts", "add", "--tg-app-id", "12345", "--data-dir", t.TempDir(), "--label", "x", "--phone", "+15550003333"})
	if code == 0 {
		t.Fatalf("add against nothing: %s %s", out.String(), errb.String())
	}
	if strings.Contains(out.String()+errb.String(), leakAppHash) {
		t.Fatalf("the API hash shows:\n%s\n%s", out.String(), errb.String())
	}
}
