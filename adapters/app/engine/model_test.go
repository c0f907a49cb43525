package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/llm"
	"github.com/salesbot/salesbot/adapters/offline"
	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/domain/scenario"
)

// Without an LLM the offline scenario engine answers, with the default
// turn timeout.
func TestNewCoreOffline(t *testing.T) {
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	core, name, err := engine.NewCore(engine.CoreConfig{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := core.Model.(*offline.Engine); !ok || name != "offline scenario engine" {
		t.Fatalf("model %T named %q, want the offline scenario engine", core.Model, name)
	}
	if core.Scenario != sc || core.TurnTimeout != 0 {
		t.Fatalf("core %+v: want the scenario and the default turn timeout", core)
	}
}

// With an LLM the client answers; its name keeps the URL's credentials
// out; a turn may take every retry of a call.
func TestNewCoreLLM(t *testing.T) {
	cases := []struct {
		cfg  llm.Config
		name string
		turn time.Duration
	}{
		{llm.Config{BaseURL: "http://user:s3cret@localhost:11434/v1", Model: "llama3"},
			"LLM llama3 at http://user:" + redact.Marker + "@localhost:11434/v1", 2*5*llm.DefaultTimeout + 2*time.Minute},
		{llm.Config{APIKey: "k", Model: "gpt-4o-mini", Timeout: time.Minute, MaxRetries: 2},
			"LLM gpt-4o-mini at " + llm.DefaultBaseURL, 2*3*time.Minute + 2*time.Minute},
		{llm.Config{APIKey: "k", Model: "gpt-4o-mini", Timeout: 10 * time.Second, MaxRetries: -1},
			"LLM gpt-4o-mini at " + llm.DefaultBaseURL, 3 * time.Minute},
	}
	for _, c := range cases {
		core, name, err := engine.NewCore(engine.CoreConfig{LLM: &c.cfg})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := core.Model.(*llm.Client); !ok {
			t.Fatalf("%+v: model %T, want the LLM client", c.cfg, core.Model)
		}
		if name != c.name || strings.Contains(name, "s3cret") {
			t.Errorf("%+v: named %q, want %q", c.cfg, name, c.name)
		}
		if core.TurnTimeout != c.turn {
			t.Errorf("%+v: turn timeout %v, want %v", c.cfg, core.TurnTimeout, c.turn)
		}
	}
}

// A configuration the LLM client refuses is returned as its error.
func TestNewCoreRefusedLLM(t *testing.T) {
	core, _, err := engine.NewCore(engine.CoreConfig{LLM: &llm.Config{APIType: llm.APITypeAzure, BaseURL: "https://x.openai.azure.com", Model: "d"}})
	if err == nil || core != nil || !strings.Contains(err.Error(), "Azure OpenAI needs an API key") {
		t.Fatalf("NewCore = %v, %v; want llm.New's refusal", core, err)
	}
}
