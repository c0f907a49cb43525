package main

import (
	"flag"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/cli/llmflags"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/app/system"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

// engineConfig configures the dialog engine: the scenario, the model (the
// LLM when configured, else the offline engine) and the reply timing.
type engineConfig struct {
	scenarioPath string
	debounceText string
	llm          llmflags.Flags

	sc       *scenario.Scenario
	debounce time.Duration
}

func (e *engineConfig) register(fs *flag.FlagSet, a *app) {
	e.scenarioPath, e.debounceText = a.getenv("SALESBOT_SCENARIO"), a.envOr("SALESBOT_DEBOUNCE", "15s")
	fs.StringVar(&e.scenarioPath, "scenario", e.scenarioPath, "scenario `file` (docs/scenario.md); empty = the shipped example (salesbot scenario example) [SALESBOT_SCENARIO]")
	fs.StringVar(&e.debounceText, "debounce", e.debounceText, "a reply waits until the lead is quiet this `long`, so a burst gets one answer [SALESBOT_DEBOUNCE]")
	e.llm.Register(fs, a.getenv)
}

// check loads the scenario (a broken file is named with its line and the
// reason) and the other values.
func (e *engineConfig) check() error {
	d, err := time.ParseDuration(strings.TrimSpace(e.debounceText))
	if err != nil || d < time.Second {
		return usagef("--debounce (SALESBOT_DEBOUNCE): %q is not a duration of 1s or more, such as 15s", e.debounceText)
	}
	e.debounce = d
	if e.sc, err = loadScenario(nil, e.scenarioPath); err != nil {
		return err
	}
	return e.llm.Check()
}

// loadScenario reads and parses a scenario file (of files); "" is the
// shipped example.
func loadScenario(files cli.Files, path string) (*scenario.Scenario, error) {
	if path == "" {
		return scenario.Default()
	}
	data, err := files.ReadFile(path)
	if err != nil {
		return nil, usagef("--scenario (SALESBOT_SCENARIO): %v", err)
	}
	sc, err := scenario.Parse(data)
	if err != nil {
		return nil, usagef("--scenario (SALESBOT_SCENARIO): %s: %v", path, err)
	}
	return sc, nil
}

// system is the dialog engine of the running system; call check first.
func (e *engineConfig) system() system.Engine {
	return system.Engine{Scenario: e.sc, LLM: e.llm.Config(), Debounce: e.debounce}
}

// core is the engine's turn-taker over handlers h, and its model's name.
func (e *engineConfig) core(a *app, h domain.Handlers) (*engine.Core, string, error) {
	core, name, err := engine.NewCore(engine.CoreConfig{H: h, Scenario: e.sc, LLM: e.llm.Config(), Log: a.log})
	if err != nil {
		return nil, "", usagef("%v", err) // the LLM's settings
	}
	return core, name, nil
}
