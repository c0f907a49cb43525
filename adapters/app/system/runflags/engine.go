package runflags

import (
	"flag"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/app/system"
	"github.com/salesbot/salesbot/adapters/caldav"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/cli/llmflags"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

// defaultDebounce is --debounce's default: a command that runs with
// quicker leads (a sandbox's) may shorten it when it was not changed.
const defaultDebounce = "15s"

// Engine configures the dialog engine: the scenario, the model (the
// LLM when configured, else the offline engine) and the reply timing.
type Engine struct {
	scenarioPath string
	debounceText string
	calendarPath string
	llm          llmflags.Flags

	sc       *scenario.Scenario
	files    engine.Files // the knowledge base's files
	debounce time.Duration
	calendar *caldav.Calendar
}

// Register registers the options on fs, their defaults from getenv.
func (e *Engine) Register(fs *flag.FlagSet, getenv func(string) string) {
	e.scenarioPath, e.debounceText = getenv("SALESBOT_SCENARIO"), envOr(getenv, "SALESBOT_DEBOUNCE", defaultDebounce)
	fs.StringVar(&e.scenarioPath, "scenario", e.scenarioPath, "scenario `file` (docs/scenario.md); empty = the shipped example (salesbot scenario example) [SALESBOT_SCENARIO]")
	fs.StringVar(&e.debounceText, "debounce", e.debounceText, "a reply waits until the lead is quiet this `long`, so a burst gets one answer [SALESBOT_DEBOUNCE]")
	e.calendarPath = getenv("SALESBOT_CALENDAR_CONFIG")
	fs.StringVar(&e.calendarPath, "calendar-config", e.calendarPath, "book meetings on the manager's CalDAV calendar: its configuration `file` "+
		"(JSON, see docs/integrations.md#meeting-booking-caldav); empty = none (the scenario's booking link, if any) [SALESBOT_CALENDAR_CONFIG]")
	e.llm.Register(fs, getenv)
}

// Check loads the scenario (a broken file is named with its line and the
// reason) and the other values.
func (e *Engine) Check() error {
	d, err := time.ParseDuration(strings.TrimSpace(e.debounceText))
	if err != nil || d < time.Second {
		return cli.Usagef("--debounce (SALESBOT_DEBOUNCE): %q is not a duration of 1s or more, such as 15s", e.debounceText)
	}
	e.debounce = d
	if e.sc, err = LoadScenario(nil, e.scenarioPath); err != nil {
		return err
	}
	if e.files, err = engine.LoadFiles(e.sc, filepath.Dir(e.scenarioPath)); err != nil {
		return cli.Usagef("--scenario (SALESBOT_SCENARIO): %s: %v", e.scenarioPath, err)
	}
	if e.calendarPath != "" {
		cal, err := caldav.LoadConfig(e.calendarPath)
		if err != nil {
			return cli.Usagef("--calendar-config (SALESBOT_CALENDAR_CONFIG): %v", err)
		}
		e.calendar = &cal
	}
	return e.llm.Check()
}

// Scenario is the scenario Check loaded.
func (e *Engine) Scenario() *scenario.Scenario { return e.sc }

// DebounceDefault says whether --debounce (SALESBOT_DEBOUNCE) is its
// default, 15s: a sandbox's quick leads get a shorter one then.
func (e *Engine) DebounceDefault() bool { return e.debounceText == defaultDebounce }

// LoadScenario reads and parses a scenario file (of files); "" is the
// shipped example.
func LoadScenario(files cli.Files, path string) (*scenario.Scenario, error) {
	if path == "" {
		return scenario.Default()
	}
	data, err := files.ReadFile(path)
	if err != nil {
		return nil, cli.Usagef("--scenario (SALESBOT_SCENARIO): %v", err)
	}
	sc, err := scenario.Parse(data)
	if err != nil {
		return nil, cli.Usagef("--scenario (SALESBOT_SCENARIO): %s: %v", path, err)
	}
	return sc, nil
}

// System is the dialog engine of the running system; call Check first.
func (e *Engine) System() system.Engine {
	return system.Engine{Scenario: e.sc, LLM: e.llm.Config(), Debounce: e.debounce, Calendar: e.calendar, Files: e.files}
}

// Core is the engine's turn-taker over handlers h, logging to log, and
// its model's name; call Check first.
func (e *Engine) Core(log *slog.Logger, h domain.Handlers) (*engine.Core, string, error) {
	core, name, err := engine.NewCore(engine.CoreConfig{H: h, Scenario: e.sc, LLM: e.llm.Config(), Log: log, Calendar: e.calendar})
	if err != nil {
		return nil, "", cli.Usagef("%v", err) // the LLM's settings
	}
	return core, name, nil
}
