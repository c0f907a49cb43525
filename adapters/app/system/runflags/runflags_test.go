package runflags_test

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/system/runflags"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/web"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// part is what every part's options have.
type part interface {
	Register(fs *flag.FlagSet, getenv func(string) string)
	Check() error
}

// parse registers p with env as the environment, parses args and checks.
func parse(t *testing.T, p part, env map[string]string, args ...string) error {
	t.Helper()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	getenv := func(k string) string { return env[k] }
	p.Register(fs, getenv)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	if err := cli.ResolveSecrets(fs, getenv, nil); err != nil {
		t.Fatalf("resolve %q: %v", args, err)
	}
	return p.Check()
}

// TestCheckNamesTheOption: a bad value is a usage error naming the flag
// and the variable that set it.
func TestCheckNamesTheOption(t *testing.T) {
	for _, c := range []struct {
		name string
		p    part
		env  map[string]string
		args []string
		want string
	}{
		{"debounce", &runflags.Engine{}, nil, []string{"--debounce", "500ms"}, "--debounce (SALESBOT_DEBOUNCE)"},
		{"debounce env", &runflags.Engine{}, map[string]string{"SALESBOT_DEBOUNCE": "soon"}, nil, `"soon" is not a duration`},
		{"scenario", &runflags.Engine{}, nil, []string{"--scenario", "/nonexistent/s.yaml"}, "--scenario (SALESBOT_SCENARIO)"},
		{"llm", &runflags.Engine{}, nil, []string{"--llm-retries", "-1"}, "--llm-retries (SALESBOT_LLM_RETRIES)"},
		{"admins", &runflags.Bot{}, nil, []string{"--bot-token", "1:x"}, "--admin-ids (SALESBOT_ADMIN_IDS) is required with a bot token"},
		{"webhook", &runflags.Bot{}, map[string]string{"SALESBOT_BOT_WEBHOOK_URL": "http://x"}, nil, "is not an https URL"},
		{"tls pair", &runflags.HTTP{}, nil, []string{"--http-tls-cert", "c"}, "go together: give both or neither"},
		{"tls off", &runflags.HTTP{}, nil, []string{"--http-listen", "off", "--http-tls-cert", "c", "--http-tls-key", "k"}, "need --http-listen"},
		{"prompt price", &runflags.HTTP{}, nil, []string{"--llm-price-prompt", "-0.15"}, `--llm-price-prompt (SALESBOT_LLM_PRICE_PROMPT): "-0.15" is not a price`},
		{"completion price env", &runflags.HTTP{}, map[string]string{"SALESBOT_LLM_PRICE_COMPLETION": "$0.60"}, nil,
			`--llm-price-completion (SALESBOT_LLM_PRICE_COMPLETION): "$0.60" is not a price`},
		{"price not a number", &runflags.HTTP{}, nil, []string{"--llm-price-completion", "NaN"}, "--llm-price-completion (SALESBOT_LLM_PRICE_COMPLETION)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := parse(t, c.p, c.env, c.args...)
			var ue *cli.UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check = %v, want a usage error with %q", err, c.want)
			}
		})
	}
}

// TestSystem: what the parts give the running system, from flags and
// the environment.
func TestSystem(t *testing.T) {
	var h runflags.HTTP
	if err := parse(t, &h, map[string]string{"SALESBOT_HTTP_LISTEN": "127.0.0.1:9"}); err != nil {
		t.Fatal(err)
	}
	if s := h.System(); s == nil || s.Listen != "127.0.0.1:9" || s.TLS != nil {
		t.Fatalf("HTTP.System() = %+v, want 127.0.0.1:9 without TLS", s)
	}
	if err := parse(t, &h, nil, "--http-listen", "off"); err != nil || h.System() != nil {
		t.Fatalf("off: %v, %+v, want no server", err, h.System())
	}
	// The LLM's prices, for the console's analytics: none by default; the
	// flag wins over the variable.
	if err := parse(t, &h, nil); err != nil || h.System().LLMPrice != (web.LLMPrice{}) {
		t.Fatalf("no prices: %v, %+v", err, h.System())
	}
	if err := parse(t, &h, map[string]string{"SALESBOT_LLM_PRICE_PROMPT": "0.15", "SALESBOT_LLM_PRICE_COMPLETION": "9"},
		"--llm-price-completion", " 0.6 "); err != nil || h.System().LLMPrice != (web.LLMPrice{Prompt: 0.15, Completion: 0.6}) {
		t.Fatalf("prices: %v, %+v", err, h.System())
	}
	// The cached price: the prompt price unless given (0 is a price).
	if err := parse(t, &h, map[string]string{"SALESBOT_LLM_PRICE_PROMPT": "0.15", "SALESBOT_LLM_PRICE_CACHED": "0.075"}); err != nil ||
		h.System().LLMPrice != (web.LLMPrice{Prompt: 0.15, Cached: 0.075, HasCached: true}) {
		t.Fatalf("cached price: %v, %+v", err, h.System())
	}
	if err := parse(t, &h, nil, "--llm-price-prompt", "0.15", "--llm-price-cached", "0"); err != nil ||
		h.System().LLMPrice != (web.LLMPrice{Prompt: 0.15, HasCached: true}) {
		t.Fatalf("cached price 0: %v, %+v", err, h.System())
	}
	// A price list per 1,000 tokens, as given: 1,000 times it per million.
	if err := parse(t, &h, map[string]string{"SALESBOT_LLM_PRICE_COMPLETION": "0.0006/1K"}, "--llm-price-prompt", "0.00015 /1k", "--llm-price-cached", "0.075/1m"); err != nil ||
		math.Abs(h.System().LLMPrice.Prompt-0.15) > 1e-12 || math.Abs(h.System().LLMPrice.Completion-0.6) > 1e-12 || h.System().LLMPrice.Cached != 0.075 {
		t.Fatalf("prices per 1k: %v, %+v", err, h.System())
	}
	if err := parse(t, &h, nil, "--llm-price-prompt", "/1k"); err == nil {
		t.Fatal("a price of /1k alone: accepted")
	}
	if err := parse(t, &h, nil, "--llm-price-cached", "cheap"); err == nil || !strings.Contains(err.Error(), "--llm-price-cached (SALESBOT_LLM_PRICE_CACHED)") {
		t.Fatalf("a bad cached price: %v", err)
	}

	var b runflags.Bot
	if err := parse(t, &b, map[string]string{"SALESBOT_ADMIN_IDS": "7:owner"}); err != nil || b.System() != nil {
		t.Fatalf("no token: %v, %+v, want no bot", err, b.System())
	}
	if err := parse(t, &b, map[string]string{"SALESBOT_ADMIN_IDS": "7:owner"}, "--bot-token", "1:x"); err != nil {
		t.Fatal(err)
	}
	if s := b.System(); s == nil || s.Token != "1:x" || len(s.Admins) != 1 || s.Listen != ":8443" {
		t.Fatalf("Bot.System() = %+v, want the token, one admin, :8443", s)
	}

	var e runflags.Engine
	if err := parse(t, &e, nil); err != nil {
		t.Fatal(err)
	}
	if s := e.System(); !e.DebounceDefault() || s.Debounce != 15*time.Second || s.Scenario == nil || s.Scenario != e.Scenario() || s.LLM != nil {
		t.Fatalf("default Engine: DebounceDefault %v, System() %+v, want 15s, the shipped scenario, no LLM", e.DebounceDefault(), s)
	}
	if err := parse(t, &e, nil, "--debounce", "2s"); err != nil || e.DebounceDefault() || e.System().Debounce != 2*time.Second {
		t.Fatalf("--debounce 2s: %v, DebounceDefault %v, Debounce %v", err, e.DebounceDefault(), e.System().Debounce)
	}
}

// TestCore: the offline engine answers without an LLM.
func TestCore(t *testing.T) {
	var e runflags.Engine
	if err := parse(t, &e, nil); err != nil {
		t.Fatal(err)
	}
	mem, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	h := domain.Handlers{Log: eventlog.New(mem), Index: domain.NewIndexKey(mem.IndexKey()), Now: time.Now}
	core, name, err := e.Core(slog.New(slog.DiscardHandler), h)
	if err != nil || core == nil || name == "" {
		t.Fatalf("Core = %v, %q, %v", core, name, err)
	}
}
