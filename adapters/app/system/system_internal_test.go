package system

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/adminbot"
	"github.com/salesbot/salesbot/adapters/llm"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// testConfig is a Config on a new log in a temp dir, offline, without a
// bot.
func testConfig(t *testing.T) Config {
	t.Helper()
	st, err := eventstore.Open(t.TempDir(), eventstore.Options{MasterKey: bytes.Repeat([]byte{7}, eventstore.MasterKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	return Config{Store: st, ReadModels: projections.NewMemory(), Telegram: &telegram.Dialer{Secrets: st, IndexKey: st.IndexKey()},
		Engine: Engine{Scenario: sc, Debounce: time.Second}}
}

func newTestSystem(t *testing.T) *System {
	t.Helper()
	s, err := New(t.Context(), testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A part that fails stops every other part (they see their context end)
// and Run returns its error, once all of them have returned.
func TestSystemStopsOnAFailure(t *testing.T) {
	s := newTestSystem(t)
	boom := errors.New("boom")
	var stopped atomic.Int32
	waitThenStop := func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // a slow stop is waited for
		stopped.Add(1)
		return ctx.Err() // an error after the stop is not a failure
	}
	s.services = []func(context.Context) error{
		waitThenStop,
		func(context.Context) error { time.Sleep(20 * time.Millisecond); return boom },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.Run(ctx, func(ctx context.Context) { _ = waitThenStop(ctx) })
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "service 2: boom") {
		t.Fatalf("Run = %v, want service 2's failure", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Run waited for the test's deadline, not for the failure")
	}
	if n := stopped.Load(); n != 2 {
		t.Fatalf("Run returned with %d of 2 parts still running", 2-n)
	}
}

// Without a failure Run returns nil when its context ends, after every
// part has stopped.
func TestSystemStopsWithItsContext(t *testing.T) {
	s := newTestSystem(t)
	var stopped atomic.Bool
	s.services = []func(context.Context) error{func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond)
		stopped.Store(true)
		return nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	if err := s.Run(ctx); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if !stopped.Load() {
		t.Fatal("Run returned before a part stopped")
	}
}

// A part that refuses its configuration is named by a *ConfigError, so
// the caller can name its setting; without a bot or an LLM New builds
// the offline engine and no bot.
func TestNewNamesTheRefusingPart(t *testing.T) {
	cfg := testConfig(t)
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.bot != nil || s.Model() != "offline scenario engine" || s.ReadModels() != cfg.ReadModels || s.Accounts() == nil {
		t.Fatalf("system %+v: want the offline engine, no bot, the given read models", s)
	}
	cases := []struct {
		name string
		edit func(*Config)
		part Part
	}{
		{"an LLM without a model", func(c *Config) { c.Engine.LLM = &llm.Config{BaseURL: "http://localhost:11434/v1"} }, PartModel},
		{"a bot without admins", func(c *Config) { c.Bot = &Bot{Token: "123:abc", Admins: map[int64]adminbot.Role{}} }, PartBot},
	}
	for _, c := range cases {
		cfg := testConfig(t)
		c.edit(&cfg)
		_, err := New(t.Context(), cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Part != c.part || ce.Error() != ce.Err.Error() {
			t.Errorf("%s: New = %v, want a *ConfigError of part %d", c.name, err, c.part)
		}
	}
}
