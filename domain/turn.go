package domain

import (
	"context"
	"errors"
	"time"

	"github.com/salesbot/salesbot/domain/scenario"
)

// TurnKind says why a turn is taken.
type TurnKind string

const (
	TurnOpening  TurnKind = "opening"   // the first message of a dialog salesbot starts
	TurnReply    TurnKind = "reply"     // an answer to the lead's new messages
	TurnFollowUp TurnKind = "follow-up" // the lead has not answered
)

// Role is who wrote a line of a dialog's history.
type Role string

const (
	RoleLead      Role = "lead"
	RoleAssistant Role = "assistant"
	RoleManager   Role = "manager"
)

// Line is one message of a dialog's history.
type Line struct {
	Role Role
	Text string
}

// TurnInput is everything a Model sees for one turn. New holds the lead's
// messages since the last turn: untrusted input, to be delimited as such.
type TurnInput struct {
	Kind     TurnKind
	Scenario *scenario.Scenario
	Variant  scenario.Variant
	Language string // "en" or "ru": the language to answer in
	Stage    Stage
	Qual     Qualification
	History  []Line   // oldest first, without New
	New      []string // the lead's new messages, oldest first
	// Lead is the contact's own fields, for an opening written for them
	// (TurnOpening): personal data, to be delimited as data, never logged.
	Lead Lead
}

// FieldUpdate is one qualification field a model learned this turn.
type FieldUpdate struct {
	Name       string  `json:"name"` // need, budget, timeline, authority or a custom field
	Value      string  `json:"value"`
	Quote      string  `json:"quote"`      // the lead's own words
	Confidence float64 `json:"confidence"` // 0..1
}

// TurnFlags are what a model noticed about the lead's messages.
type TurnFlags struct {
	WantsHuman bool `json:"wants_human"`
	OptOut     bool `json:"opt_out"`
	AsksIfBot  bool `json:"asks_if_bot"`
	OffTopic   bool `json:"off_topic"`
	NeedsInfo  bool `json:"needs_info"` // the answer is not in the knowledge base
}

// TurnOutput is a model's structured answer for one turn.
type TurnOutput struct {
	Reply         string        `json:"reply"`
	NextStage     Stage         `json:"next_stage"` // a scenario stage, or "closed" when the lead is not interested
	Qualification []FieldUpdate `json:"qualification"`
	Score         int           `json:"interest_score"` // 0..100
	Flags         TurnFlags     `json:"flags"`
	HandoffReason string        `json:"handoff_reason"` // non-empty: the model wants a person to take over
	File          string        `json:"file,omitempty"` // a knowledge-base file to send with the reply (TurnRules.Files); "" = none
}

// Usage is what a turn cost.
type Usage struct {
	Engine       string // "offline" or "llm"
	Model        string // the model's name, for the LLM
	PromptTokens int
	// CachedPromptTokens are the prompt tokens the provider served from
	// its prompt cache (part of PromptTokens, billed lower); 0 when it
	// does not say.
	CachedPromptTokens int
	CompletionTokens   int
	Latency            time.Duration
	Attempts           int // calls made, including retries and a repair
}

// Model decides what the assistant says in one turn: an LLM behind an
// OpenAI-compatible API, or the offline scenario engine. It never sends
// anything; the dialog engine applies the guards and records the turn.
//
// Turn returns an error matching ErrModelOutputInvalid (an
// *InvalidOutputError saying why) when the model's answer stays invalid
// after one repair attempt, or ErrModelRefused when
// the provider refuses this very request (a context too long, a content
// filter) — in both cases the lead goes to a person — or one matching
// ErrModelUnavailable when the model cannot be reached after its retries
// (the dialog waits and admins are told). Usage is filled in as far as it
// is known, also with an error.
type Model interface {
	Turn(ctx context.Context, in TurnInput) (TurnOutput, Usage, error)
}

// Errors of Model.Turn.
var (
	ErrModelOutputInvalid = errors.New("domain: model output invalid")
	ErrModelUnavailable   = errors.New("domain: model unavailable")
	ErrModelRefused       = errors.New("domain: model refused the request")
)

// InvalidOutputError is a Model's answer that stayed invalid; it matches
// ErrModelOutputInvalid. Reason says what is wrong with it, as the turn
// records it.
type InvalidOutputError struct {
	Reason string
}

func (e *InvalidOutputError) Error() string {
	return ErrModelOutputInvalid.Error() + ": " + e.Reason
}

// Is makes errors.Is(err, ErrModelOutputInvalid) true.
func (e *InvalidOutputError) Is(target error) bool { return target == ErrModelOutputInvalid }

// Turn events.
type (
	// TurnTaken records one turn of the assistant: which engine, scenario
	// and variant answered, what it cost, what the model flagged and what
	// the guards did. The turn's other effects (qualification, stage, the
	// planned reply, a handoff, an opt-out) follow it in the same append.
	TurnTaken struct {
		Kind            TurnKind `json:"kind"`
		Engine          string   `json:"engine"` // offline, llm
		Model           string   `json:"model,omitempty"`
		Scenario        string   `json:"scenario"`
		ScenarioVersion string   `json:"scenario_version"`
		Variant         string   `json:"variant,omitempty"`
		VariantVersion  string   `json:"variant_version,omitempty"`
		Language        string   `json:"language"`
		// Answered is how many of the lead's messages the dialog had when
		// the turn was taken: every message up to it is answered.
		Answered         int `json:"answered"`
		PromptTokens     int `json:"prompt_tokens,omitempty"`
		CompletionTokens int `json:"completion_tokens,omitempty"`
		// CachedPromptTokens: of PromptTokens, those the provider served
		// from its prompt cache (0 where it does not say).
		CachedPromptTokens int      `json:"cached_prompt_tokens,omitempty"`
		LatencyMs          int64    `json:"latency_ms"`
		Attempts           int      `json:"attempts,omitempty"`
		Score              *int     `json:"score,omitempty"`
		Flags              []string `json:"flags,omitempty"`  // what the model or a guard noticed: opt-out, asks-if-bot, wants-human, off-topic, needs-info
		Guards             []string `json:"guards,omitempty"` // what the guards changed, e.g. "ungrounded figure 90%: reply withheld"
	}
	// TurnFailed records a turn whose model could not be reached (each
	// attempt): the dialog waits (nothing is sent, nothing is dropped) and
	// the turn is tried again at RetryAt.
	TurnFailed struct {
		Engine           string `json:"engine"`
		Model            string `json:"model,omitempty"`
		Reason           string `json:"reason"`
		Attempts         int    `json:"attempts"`
		PromptTokens     int    `json:"prompt_tokens,omitempty"` // spent on calls that failed in the end (a failed repair)
		CompletionTokens int    `json:"completion_tokens,omitempty"`
		// CachedPromptTokens: of PromptTokens, those served from the
		// provider's prompt cache.
		CachedPromptTokens int       `json:"cached_prompt_tokens,omitempty"`
		LatencyMs          int64     `json:"latency_ms"`
		RetryAt            time.Time `json:"retry_at"`
	}
)

func (TurnTaken) EventType() string  { return "TurnTaken" }
func (TurnFailed) EventType() string { return "TurnFailed" }
