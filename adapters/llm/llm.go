// Package llm is the domain.Model port on any OpenAI-compatible chat
// completions API: OpenAI, Azure OpenAI, or a local server (Ollama, vLLM,
// LM Studio). One turn is one chat completion with a JSON schema response
// format: the system prompt carries the engine's fixed rules and the
// scenario, the history follows trimmed to a token budget, and the lead's
// new messages come last between delimiters as untrusted data.
//
// The answer is validated; an invalid one gets exactly one repair attempt,
// then Turn fails with domain.ErrModelOutputInvalid. Rate limits (429),
// server errors (5xx), timeouts and network errors are retried with
// exponential backoff and full jitter, honouring Retry-After; when they
// persist, or the provider refuses the request (401, 400, 404), Turn fails
// with domain.ErrModelUnavailable. The guards (opt-outs, bot questions,
// ungrounded prices) are the dialog engine's, applied to the answer after.
//
// openaitest is a fake server for tests.
package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/salesbot/salesbot/adapters/clock"
	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/domain"
)

// Defaults of Config.
const (
	DefaultBaseURL       = "https://api.openai.com/v1"
	DefaultTimeout       = 30 * time.Second
	DefaultMaxRetries    = 4
	DefaultMinBackoff    = time.Second
	DefaultMaxBackoff    = 30 * time.Second
	DefaultHistoryTokens = 3000
	// DefaultAzureAPIVersion is the first generally available Azure OpenAI
	// API version with structured outputs (json_schema).
	DefaultAzureAPIVersion = "2024-10-21"
	// MaxRetryAfter caps a provider's Retry-After: asked to wait longer,
	// Turn gives up at once and the dialog engine retries the turn later.
	MaxRetryAfter = 2 * time.Minute
)

// API types of Config.APIType.
const (
	APITypeOpenAI = "openai"
	APITypeAzure  = "azure"
)

// Config configures a Client. Zero values mean the defaults.
type Config struct {
	// BaseURL is the API's base URL, e.g. https://api.openai.com/v1 (the
	// default), http://localhost:11434/v1 for Ollama, or for Azure the
	// resource endpoint https://NAME.openai.azure.com.
	BaseURL string
	// APIKey is sent as a bearer token (as the api-key header for Azure).
	// It may be empty for a local server; OpenAI and Azure need one.
	APIKey string
	// Model is the model name; for Azure, the deployment name.
	Model string
	// TranscriptionModel is the audio model that transcribes leads' voice
	// notes (Client.Transcriber; default DefaultTranscriptionModel).
	TranscriptionModel string
	// APIType is "openai" (the default, also for local servers) or "azure".
	APIType string
	// APIVersion is Azure's api-version (default DefaultAzureAPIVersion).
	APIVersion string
	// Timeout bounds one HTTP call (default 30s); a call that takes longer
	// is retried like a network error.
	Timeout time.Duration
	// MaxRetries is how many times a failed call is retried (default 4;
	// negative = never). A repair call has retries of its own.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the wait between retries (default
	// 1s and 30s): before retry n (from 0) Turn waits a random time
	// between MinBackoff and min(MaxBackoff, MinBackoff·2ⁿ), or what the
	// provider's Retry-After says.
	MinBackoff, MaxBackoff time.Duration
	// HistoryTokens is the budget for the dialog's history (default 3000),
	// estimated at 4 characters (runes) a token; the oldest lines are
	// dropped first.
	HistoryTokens int
	// Temperature is the sampling temperature; 0 = the provider's default.
	Temperature float32
	// HTTPClient makes the calls (default a new http.Client); its
	// Transport is wrapped, the client itself is not changed.
	HTTPClient *http.Client
	// Log gets retries and repairs, never the dialog's text (default:
	// discarded).
	Log *slog.Logger
	// Sleep waits d or until ctx is done (default clock.Sleep); tests record
	// the waits instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// Observe, if set, is told of every turn once it is answered: its
	// usage (model, tokens, latency, calls) and its error (metrics).
	// It gets no text of the dialog.
	Observe func(u domain.Usage, err error)
}

// Client is a domain.Model on an OpenAI-compatible API. It is safe for
// concurrent use by many dialogs.
type Client struct {
	cfg Config
	api *openai.Client
	// secrets are the API key and any credentials in the base URL: no
	// error or log line of the Client shows them (a provider may echo the
	// key in its error body; a URL error shows the query string).
	secrets []string
}

var _ domain.Model = (*Client)(nil)

// New checks cfg, fills in its defaults and returns a Client. It makes no
// call: a wrong key or model shows on the first turn.
func New(cfg Config) (*Client, error) {
	cfg.APIType = strings.ToLower(strings.TrimSpace(cfg.APIType))
	if cfg.APIType == "" {
		cfg.APIType = APITypeOpenAI
	}
	if cfg.APIType != APITypeOpenAI && cfg.APIType != APITypeAzure {
		return nil, fmt.Errorf("llm: API type %q is neither openai nor azure", cfg.APIType)
	}
	if strings.TrimSpace(cfg.Model) == "" {
		if cfg.APIType == APITypeAzure {
			return nil, errors.New("llm: no model: give the Azure deployment name")
		}
		return nil, errors.New("llm: no model given (e.g. gpt-4o-mini, or the name a local server knows)")
	}
	if cfg.BaseURL == "" {
		if cfg.APIType == APITypeAzure {
			return nil, errors.New("llm: Azure needs the resource endpoint as base URL (https://NAME.openai.azure.com)")
		}
		cfg.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("llm: base URL %q is not an http(s) URL", redact.URL(cfg.BaseURL))
	}
	if cfg.APIKey == "" {
		switch {
		case cfg.APIType == APITypeAzure:
			return nil, errors.New("llm: Azure OpenAI needs an API key")
		case strings.EqualFold(u.Hostname(), "api.openai.com"):
			return nil, errors.New("llm: api.openai.com needs an API key (a local server may go without)")
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = DefaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		return nil, fmt.Errorf("llm: max backoff %v is below min backoff %v", cfg.MaxBackoff, cfg.MinBackoff)
	}
	if cfg.HistoryTokens <= 0 {
		cfg.HistoryTokens = DefaultHistoryTokens
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Sleep == nil {
		cfg.Sleep = clock.Sleep
	}

	var oc openai.ClientConfig
	if cfg.APIType == APITypeAzure {
		if cfg.APIVersion == "" {
			cfg.APIVersion = DefaultAzureAPIVersion
		}
		oc = openai.DefaultAzureConfig(cfg.APIKey, cfg.BaseURL)
		oc.APIVersion = cfg.APIVersion
		// The deployment is the model name as given (go-openai's default
		// mapper would strip dots and colons).
		oc.AzureModelMapperFunc = func(model string) string { return model }
	} else {
		oc = openai.DefaultConfig(cfg.APIKey)
		oc.BaseURL = cfg.BaseURL
	}
	oc.HTTPClient = wrapHTTPClient(cfg.HTTPClient)
	secrets := append([]string{cfg.APIKey}, redact.URLSecrets(cfg.BaseURL)...)
	return &Client{cfg: cfg, api: openai.NewClientWithConfig(oc), secrets: secrets}, nil
}

// Turn asks the model for one turn. It returns a
// *domain.InvalidOutputError (matching domain.ErrModelOutputInvalid) when
// the answer is still invalid after one repair attempt, one matching domain.ErrModelUnavailable when the API
// cannot be reached after the retries or refuses the request, and ctx's
// error when ctx ends first. Usage is filled in also with an error.
func (c *Client) Turn(ctx context.Context, in domain.TurnInput) (domain.TurnOutput, domain.Usage, error) {
	start := time.Now()
	usage := domain.Usage{Engine: "llm", Model: c.cfg.Model}
	done := func(out domain.TurnOutput, err error) (domain.TurnOutput, domain.Usage, error) {
		usage.Latency = time.Since(start)
		if c.cfg.Observe != nil {
			c.cfg.Observe(usage, err)
		}
		return out, usage, err
	}
	if in.Scenario == nil {
		return done(domain.TurnOutput{}, &domain.InvalidOutputError{Reason: "llm: the turn has no scenario"})
	}
	schema, err := turnSchema(in)
	if err != nil {
		return done(domain.TurnOutput{}, fmt.Errorf("llm: the response schema: %w", err))
	}
	req := openai.ChatCompletionRequest{
		Model:       c.cfg.Model,
		Messages:    c.messages(in),
		Temperature: c.cfg.Temperature,
		ResponseFormat: &openai.ChatCompletionResponseFormat{
			Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
				Name: "turn", Schema: schema, Strict: true,
			},
		},
	}

	ans, err := c.complete(ctx, req, &usage)
	if err != nil {
		return done(domain.TurnOutput{}, err)
	}
	out, first := decode(ans, in)
	if first == nil {
		return done(out, nil)
	}

	// One repair: the invalid answer back, and what is wrong with it.
	c.cfg.Log.Warn("llm: invalid model output, asking for a repair", "model", c.cfg.Model, "reason", first.Error())
	req.Messages = append(req.Messages,
		openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: orPlaceholder(ans.content)},
		openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: repairPrompt(first)},
	)
	ans, err = c.complete(ctx, req, &usage)
	if err != nil {
		return done(domain.TurnOutput{}, err)
	}
	out, second := decode(ans, in)
	if second != nil {
		// The dialog engine records the reason with the handoff.
		return done(domain.TurnOutput{}, &domain.InvalidOutputError{Reason: fmt.Sprintf("%v, still after a repair attempt (the first answer: %v)", second, first)})
	}
	return done(out, nil)
}

// repairPrompt asks for a corrected answer.
func repairPrompt(problem error) string {
	return "Your answer is not valid: " + problem.Error() + ".\n" +
		"Answer again with the corrected JSON object only: every field of the schema, no other text, no code fence."
}

// orPlaceholder keeps an assistant message non-empty (an empty one is
// rejected by some APIs).
func orPlaceholder(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(empty answer)"
	}
	return s
}
