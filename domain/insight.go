package domain

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/salesbot/salesbot/domain/scenario"
)

// Insights of a dialog: when a dialog closes (lost, opted out, stopped,
// won, unreachable, a scenario's closed-lost exit), is handed off to a
// person or enters a scenario's nurture exit, the engine records once what
// happened in it: a short summary,
// why it was lost, and the objections the lead raised, named by the ids of
// the scenario's objections list. The LLM writes them; the offline engine
// uses keyword rules.

// Analyst writes a dialog's insight: an LLM behind an OpenAI-compatible
// API, or the offline engine's keyword rules. Objections it names that
// are not the scenario's are dropped by RecordInsights.
type Analyst interface {
	// Insight returns ctx's error when ctx ends first; an LLM returns an
	// error matching ErrModelOutputInvalid for an answer that does not
	// read and ErrModelUnavailable when it cannot be reached. Usage is
	// filled in also with an error.
	Insight(ctx context.Context, in InsightInput) (InsightOutput, Usage, error)
}

// InsightInput is what an Analyst reads: the dialog as it ended.
type InsightInput struct {
	Scenario *scenario.Scenario
	Language string // "en" or "ru": the language to write in
	// Reached is the last stage the dialog was in before it closed or
	// was handed off.
	Reached Stage
	Outcome Outcome // how it closed; "" for a handoff or a nurture exit
	Handoff bool
	Nurture bool // it entered a nurture exit stage
	// Reason is the close's or the handoff's reason as recorded.
	Reason     string
	Qual       Qualification
	Transcript []Line // oldest first
}

// InsightOutput is an Analyst's answer.
type InsightOutput struct {
	Summary    string
	LossReason string // "" unless the dialog closed without a win
	Objections []string
}

// Who wrote an insight.
const (
	InsightByLLM   = "llm"
	InsightByRules = "rules"
)

// Limits of an insight's texts, in characters; longer ones are cut.
const (
	MaxInsightSummary    = 600
	MaxInsightLossReason = 300
)

// RecordInsights records the insight of a dialog's latest close, handoff
// or nurture exit. It is recorded once per close, handoff or entry into a
// nurture exit (again it records nothing), and only in a dialog that had
// one. Graph is the scenario's stage graph (GraphOf), which says which
// stages are nurture exits; nil for fixed stages.
type RecordInsights struct {
	Summary    string
	LossReason string // why the dialog was lost; dropped unless it closed without a win
	// Objections are ids of the scenario's objections; those not in Known
	// (the scenario's list, scenario.ObjectionIDs) are dropped, and each
	// is kept once.
	Objections []string
	Known      []string
	By         string // InsightByLLM or InsightByRules
	Usage      Usage  // the model's tokens (zero for rules)
	Graph      StageGraph
}

func (RecordInsights) dialogCommand() {}

// InsightsRecorded is the insight of a dialog's close or handoff. The
// summary and the loss reason are written about the lead from their
// words, so they are personal data. Outcome is how the dialog had closed
// ("" when it was handed off, Handoff true, or parked in a nurture exit,
// Nurture true).
type InsightsRecorded struct {
	Summary    string   `json:"summary" personal:"summary"`
	LossReason string   `json:"loss_reason,omitempty" personal:"loss_reason"`
	Objections []string `json:"objections,omitempty"`
	By         string   `json:"by"`
	Outcome    Outcome  `json:"outcome,omitempty"`
	Handoff    bool     `json:"handoff,omitempty"`
	Nurture    bool     `json:"nurture,omitempty"`
	// The model's name and tokens, when By is llm.
	Model              string `json:"model,omitempty"`
	PromptTokens       int    `json:"prompt_tokens,omitempty"`
	CachedPromptTokens int    `json:"cached_prompt_tokens,omitempty"`
	CompletionTokens   int    `json:"completion_tokens,omitempty"`
}

func (InsightsRecorded) EventType() string { return "InsightsRecorded" }

// DialogInsights is what a dialog knows of its insights.
type DialogInsights struct {
	// Ends counts the dialog's closes and handoffs; Recorded is Ends when
	// the last insight was recorded.
	Ends, Recorded int
	// Moves counts its stage changes; MovesRecorded is Moves when the last
	// insight was recorded (a nurture exit entered since is due one).
	Moves, MovesRecorded int
	// Last is the latest insight (nil: none yet).
	Last *InsightsRecorded
}

// NeedsInsight says whether the dialog closed or was handed off since
// its last insight.
func (d Dialog) NeedsInsight() bool { return d.Insights.Ends > d.Insights.Recorded }

// InsightDue says whether the dialog is due an insight: it closed or was
// handed off since its last one, or it is in a nurture exit stage of g
// it entered since.
func (d Dialog) InsightDue(g StageGraph) bool {
	return d.NeedsInsight() || (d.Nurturing(g) && d.Insights.Moves > d.Insights.MovesRecorded)
}

// Nurturing says whether the dialog is in a nurture exit stage of g.
func (d Dialog) Nurturing(g StageGraph) bool {
	st, ok := g.Spec(d.Stage)
	return ok && st.Exit == scenario.ExitNurture
}

func decideInsights(d Dialog, c RecordInsights) ([]Event, error) {
	if c.By != InsightByLLM && c.By != InsightByRules {
		return nil, fieldErrorf(EINVALID, "by", "an insight is by %s or %s, not %q", InsightByLLM, InsightByRules, c.By)
	}
	summary := cutRunes(strings.TrimSpace(c.Summary), MaxInsightSummary)
	if summary == "" {
		return nil, fieldErrorf(EINVALID, "summary", "an insight needs a summary")
	}
	nurture := d.Nurturing(c.Graph)
	if d.Insights.Ends == 0 && !nurture {
		return nil, errorf(ESTATE, "dialog %d is neither closed nor handed off nor nurtured: it has no insight yet", d.N)
	}
	if !d.InsightDue(c.Graph) {
		return nil, nil // this close, handoff or nurture exit has its insight
	}
	e := InsightsRecorded{Summary: summary, By: c.By}
	switch {
	case d.Stage == StageClosed:
		e.Outcome = d.Outcome
		if d.Outcome != OutcomeWon {
			e.LossReason = cutRunes(strings.TrimSpace(c.LossReason), MaxInsightLossReason)
		}
	case nurture:
		e.Nurture = true
	default:
		e.Handoff = true
	}
	for _, id := range c.Objections {
		id = strings.TrimSpace(id)
		if slices.Contains(c.Known, id) && !slices.Contains(e.Objections, id) {
			e.Objections = append(e.Objections, id)
		}
	}
	if c.By == InsightByLLM {
		e.Model, e.PromptTokens, e.CachedPromptTokens, e.CompletionTokens = c.Usage.Model, c.Usage.PromptTokens, c.Usage.CachedPromptTokens, c.Usage.CompletionTokens
	}
	return []Event{e}, nil
}

// evolveInsights counts the dialog's ends and keeps its latest insight.
func evolveInsights(d Dialog, e Event) Dialog {
	switch e := e.(type) {
	case DialogClosed:
		d.Insights.Ends++
	case StageChanged:
		d.Insights.Moves++
		if e.To == StageHandoff {
			d.Insights.Ends++
		}
	case InsightsRecorded:
		d.Insights.Recorded = d.Insights.Ends
		d.Insights.MovesRecorded = d.Insights.Moves
		d.Insights.Last = &e
	}
	return d
}

// cutRunes is s cut to at most n characters, with "…" when cut.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
