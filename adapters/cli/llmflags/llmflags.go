// Package llmflags is the command line's options for the LLM that
// answers leads (docs/llm.md): an OpenAI-compatible API, Azure OpenAI or
// a local server, or none (the offline scenario engine answers).
package llmflags

import (
	"flag"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/llm"
	"github.com/salesbot/salesbot/adapters/redact"
)

// Flags are the LLM's options (docs/llm.md). The LLM is used
// when an API key or a base URL is given; otherwise the offline engine
// answers.
type Flags struct {
	baseURL, apiKey, model  string
	transcriptionModel      string
	apiType, apiVersion     string
	timeoutText, retriesStr string
	baseURLSet              bool // given, not the default: a local server needs no key

	timeout time.Duration
	retries int
}

// Register registers the options on fs, their defaults from getenv.
func (l *Flags) Register(fs *flag.FlagSet, getenv func(string) string) {
	envOr := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	l.baseURL = getenv("SALESBOT_LLM_BASE_URL")
	l.baseURLSet = l.baseURL != ""
	l.model, l.apiType = envOr("SALESBOT_LLM_MODEL", "gpt-4o-mini"), envOr("SALESBOT_LLM_API_TYPE", llm.APITypeOpenAI)
	l.apiVersion = getenv("SALESBOT_LLM_API_VERSION")
	l.timeoutText = envOr("SALESBOT_LLM_TIMEOUT", llm.DefaultTimeout.String())
	l.retriesStr = envOr("SALESBOT_LLM_RETRIES", strconv.Itoa(llm.DefaultMaxRetries))
	// Func flags: the key is never printed, and the base URL's default
	// shows as the default rather than what the environment set.
	fs.Func("llm-base-url", "OpenAI-compatible API base `URL`; for Azure the resource endpoint; a local server (Ollama, vLLM, LM Studio) needs no key [SALESBOT_LLM_BASE_URL] (default \""+llm.DefaultBaseURL+"\")", func(v string) error {
		l.baseURL, l.baseURLSet = v, v != ""
		return nil
	})
	cli.SecretFlag(fs, &l.apiKey, "llm-api-key", "SALESBOT_LLM_API_KEY", "llm-api-key", "the LLM API key",
		"the LLM API `key`; with a key or a base URL the LLM answers, else the offline engine")
	fs.StringVar(&l.model, "llm-model", l.model, "the model `name`; for Azure the deployment name [SALESBOT_LLM_MODEL]")
	l.transcriptionModel = envOr("SALESBOT_LLM_TRANSCRIPTION_MODEL", llm.DefaultTranscriptionModel)
	fs.StringVar(&l.transcriptionModel, "llm-transcription-model", l.transcriptionModel, "the audio `model` that transcribes leads' voice notes, on the same API [SALESBOT_LLM_TRANSCRIPTION_MODEL]")
	fs.StringVar(&l.apiType, "llm-api-type", l.apiType, "`type` of the API: openai (also local servers) or azure [SALESBOT_LLM_API_TYPE]")
	fs.StringVar(&l.apiVersion, "llm-api-version", l.apiVersion, "Azure's `api-version`; empty = "+llm.DefaultAzureAPIVersion+" [SALESBOT_LLM_API_VERSION]")
	fs.StringVar(&l.timeoutText, "llm-timeout", l.timeoutText, "`duration` one LLM call may take before it is retried [SALESBOT_LLM_TIMEOUT]")
	fs.StringVar(&l.retriesStr, "llm-retries", l.retriesStr, "retries of a failed LLM call (`n`; 0 = none) [SALESBOT_LLM_RETRIES]")
}

// Enabled says whether the LLM is configured: an API key or a base URL
// given.
func (l *Flags) Enabled() bool { return l.apiKey != "" || l.baseURLSet }

// Check parses and checks the values, naming the flag (and variable) at
// fault.
func (l *Flags) Check() error {
	d, err := time.ParseDuration(strings.TrimSpace(l.timeoutText))
	if err != nil || d <= 0 {
		return cli.Usagef("--llm-timeout (SALESBOT_LLM_TIMEOUT): %q is not a positive duration such as 30s", l.timeoutText)
	}
	l.timeout = d
	n, err := strconv.Atoi(strings.TrimSpace(l.retriesStr))
	if err != nil || n < 0 {
		return cli.Usagef("--llm-retries (SALESBOT_LLM_RETRIES): %q is not a number of retries (0 or more)", l.retriesStr)
	}
	l.retries = n
	l.apiType = strings.ToLower(strings.TrimSpace(l.apiType))
	switch l.apiType {
	case llm.APITypeOpenAI, llm.APITypeAzure:
	default:
		return cli.Usagef("--llm-api-type (SALESBOT_LLM_API_TYPE): %q is neither openai nor azure", l.apiType)
	}
	if !l.Enabled() {
		return nil
	}
	if strings.TrimSpace(l.model) == "" {
		return cli.Usagef("--llm-model (SALESBOT_LLM_MODEL) must not be empty")
	}
	base := l.url()
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cli.Usagef("--llm-base-url (SALESBOT_LLM_BASE_URL): %q is not an http(s) URL", redact.URL(base))
	} else if l.apiKey == "" && strings.EqualFold(u.Hostname(), "api.openai.com") {
		return cli.Usagef("--llm-api-key (SALESBOT_LLM_API_KEY) is required for %s (a local server may go without)", redact.URL(base))
	}
	if l.apiType == llm.APITypeAzure {
		if !l.baseURLSet {
			return cli.Usagef("--llm-base-url (SALESBOT_LLM_BASE_URL) must be the Azure resource endpoint (https://NAME.openai.azure.com) with --llm-api-type azure")
		}
		if l.apiKey == "" {
			return cli.Usagef("--llm-api-key (SALESBOT_LLM_API_KEY) is required with --llm-api-type azure")
		}
	}
	return nil
}

func (l *Flags) url() string {
	if l.baseURLSet {
		return l.baseURL
	}
	return llm.DefaultBaseURL
}

// Config is the LLM client's configuration, nil when no LLM is
// configured (the offline engine answers); call check first.
func (l *Flags) Config() *llm.Config {
	if !l.Enabled() {
		return nil
	}
	retries := l.retries
	if retries == 0 {
		retries = -1 // llm.Config: 0 is the default, negative is none
	}
	return &llm.Config{BaseURL: l.url(), APIKey: l.apiKey, Model: l.model, APIType: l.apiType, APIVersion: l.apiVersion,
		Timeout: l.timeout, MaxRetries: retries, TranscriptionModel: strings.TrimSpace(l.transcriptionModel)}
}
