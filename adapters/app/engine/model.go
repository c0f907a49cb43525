package engine

import (
	"log/slog"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/caldav"
	"github.com/salesbot/salesbot/adapters/llm"
	"github.com/salesbot/salesbot/adapters/offline"
	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

// CoreConfig is what NewCore builds a Core from.
type CoreConfig struct {
	H        domain.Handlers
	Scenario *scenario.Scenario
	// LLM, if set, is the LLM that answers (llm.Config's zero values are
	// its defaults; its base URL should be set, for Model's name); nil =
	// the offline scenario engine.
	LLM *llm.Config
	Log *slog.Logger
	// Calendar, if set, is the manager's calendar meetings are booked on
	// (Core.Meetings); without one the scenario's booking link, if any,
	// is given.
	Calendar *caldav.Calendar
}

// NewCore returns a Core whose model is the LLM of cfg.LLM, or the
// offline scenario engine without one, and that model's name for the log
// and the output: "offline scenario engine", or "LLM <model> at <base
// URL>" with the URL's credentials redacted. Its only error is llm.New's
// refusal of cfg.LLM, unwrapped: the caller names the setting at fault.
func NewCore(cfg CoreConfig) (*Core, string, error) {
	core := &Core{H: cfg.H, Scenario: cfg.Scenario, Log: cfg.Log, Meetings: newMeetings(cfg.Calendar, cfg.Scenario)}
	if cfg.LLM == nil {
		core.Model = offline.New()
		return core, "offline scenario engine", nil
	}
	lc := *cfg.LLM
	name := "LLM " + lc.Model + " at " + redact.URL(baseURL(lc))
	lc.Model = strings.TrimSpace(lc.Model)
	if lc.Log == nil {
		lc.Log = cfg.Log
	}
	c, err := llm.New(lc)
	if err != nil {
		return nil, "", err
	}
	core.Model = c
	core.TurnTimeout = llmTurnTimeout(lc)
	return core, name, nil
}

// llmTurnTimeout is how long a turn may take with the LLM of c: every
// retry of a call, each up to the timeout, the backoff between them and
// one repair; 3 minutes at least.
func llmTurnTimeout(c llm.Config) time.Duration {
	timeout, retries := c.Timeout, c.MaxRetries
	if timeout <= 0 {
		timeout = llm.DefaultTimeout
	}
	switch {
	case retries == 0:
		retries = llm.DefaultMaxRetries
	case retries < 0:
		retries = 0
	}
	return max(3*time.Minute, time.Duration(2*(retries+1))*timeout+2*time.Minute)
}

// baseURL is the base URL the LLM client of c talks to.
func baseURL(c llm.Config) string {
	if c.BaseURL == "" {
		return llm.DefaultBaseURL
	}
	return c.BaseURL
}

// newMeetings is the meeting booking on cal, or with the scenario's
// booking link alone; nil when there is neither.
func newMeetings(cal *caldav.Calendar, sc *scenario.Scenario) *Meetings {
	switch {
	case cal != nil && cal.Booker != nil:
		zone, _ := time.LoadLocation(cal.Booker.Rules.TimeZone) // checked when the file was read
		return &Meetings{Calendar: cal.Booker, Manager: cal.Manager, Email: cal.Email, Location: cal.Location, Zone: zone}
	case sc != nil && strings.TrimSpace(sc.Booking.Link) != "":
		return &Meetings{}
	}
	return nil
}
