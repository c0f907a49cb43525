package main

import (
	"errors"
	"flag"
	"os"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/offline"
	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

// engineConfig configures the dialog engine: the scenario, the model (the
// LLM when configured, else the offline engine) and the reply timing.
type engineConfig struct {
	scenarioPath string
	debounceText string
	llm          llmConfig

	sc       *scenario.Scenario
	debounce time.Duration
}

func (e *engineConfig) register(fs *flag.FlagSet, a *app) {
	e.scenarioPath, e.debounceText = a.getenv("SALESBOT_SCENARIO"), a.getenv("SALESBOT_DEBOUNCE")
	if e.debounceText == "" {
		e.debounceText = "15s"
	}
	fs.StringVar(&e.scenarioPath, "scenario", e.scenarioPath, "scenario `file` (docs/scenario.md); empty = the shipped example (salesbot scenario example) [SALESBOT_SCENARIO]")
	fs.StringVar(&e.debounceText, "debounce", e.debounceText, "a reply waits until the lead is quiet this `long`, so a burst gets one answer [SALESBOT_DEBOUNCE]")
	e.llm.register(fs, a)
}

// check loads the scenario (a broken file is named with its line and the
// reason) and the other values.
func (e *engineConfig) check() error {
	d, err := time.ParseDuration(strings.TrimSpace(e.debounceText))
	if err != nil || d < time.Second {
		return usagef("--debounce (SALESBOT_DEBOUNCE): %q is not a duration of 1s or more, such as 15s", e.debounceText)
	}
	e.debounce = d
	if e.sc, err = loadScenario(e.scenarioPath); err != nil {
		return err
	}
	return e.llm.check()
}

// loadScenario reads and parses a scenario file; "" is the shipped example.
func loadScenario(path string) (*scenario.Scenario, error) {
	if path == "" {
		return scenario.Default()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--scenario (SALESBOT_SCENARIO): %v", err)
	}
	sc, err := scenario.Parse(data)
	if err != nil {
		var se *scenario.Error
		if errors.As(err, &se) {
			return nil, usagef("--scenario (SALESBOT_SCENARIO): %s: %v", path, err)
		}
		return nil, usagef("--scenario (SALESBOT_SCENARIO): %s: %v", path, err)
	}
	return sc, nil
}

// model is the LLM when configured, else the offline scenario engine.
func (e *engineConfig) model(a *app) (domain.Model, string, error) {
	if !e.llm.enabled() {
		return offline.New(), "offline scenario engine", nil
	}
	c, err := e.llm.client(a.log)
	if err != nil {
		return nil, "", err
	}
	return c, "LLM " + e.llm.model + " at " + redact.URL(e.llm.url()), nil
}

// core is the engine's turn-taker over handlers h.
func (e *engineConfig) core(a *app, h domain.Handlers) (*engine.Core, string, error) {
	m, name, err := e.model(a)
	if err != nil {
		return nil, "", err
	}
	core := &engine.Core{H: h, Model: m, Scenario: e.sc, Log: a.log}
	if e.llm.enabled() {
		// A turn may take every retry of a call, each up to the timeout,
		// the backoff between them and one repair.
		core.TurnTimeout = max(3*time.Minute, time.Duration(2*(e.llm.retries+1))*e.llm.timeout+2*time.Minute)
	}
	return core, name, nil
}
