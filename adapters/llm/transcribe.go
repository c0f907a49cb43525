package llm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/domain"
)

// DefaultTranscriptionModel is the audio model Transcriber uses unless
// told otherwise.
const DefaultTranscriptionModel = "whisper-1"

// Transcriber is a domain.Transcriber on the same OpenAI-compatible API
// as a Client (its base URL, key and HTTP client): POST
// /audio/transcriptions with the audio as a multipart file (go-openai's
// CreateTranscription). It is safe for concurrent use.
type Transcriber struct {
	c     *Client
	model string
}

var _ domain.Transcriber = (*Transcriber)(nil)

// Transcriber returns a Transcriber with model (DefaultTranscriptionModel
// if empty).
func (c *Client) Transcriber(model string) *Transcriber {
	if strings.TrimSpace(model) == "" {
		model = DefaultTranscriptionModel
	}
	return &Transcriber{c: c, model: strings.TrimSpace(model)}
}

// Model is the transcription model's name.
func (t *Transcriber) Model() string { return t.model }

// Transcribe returns what is said in a. Network trouble, timeouts, 429
// and 5xx are retried like a turn's calls; what still fails is an error
// matching domain.ErrTranscription (no key or text of the audio in it).
func (t *Transcriber) Transcribe(ctx context.Context, a domain.Audio) (string, error) {
	if len(a.Data) == 0 {
		return "", fmt.Errorf("%w: the audio is empty", domain.ErrTranscription)
	}
	name := a.Name
	if strings.TrimSpace(name) == "" {
		name = "voice.ogg" // the service reads the format from the name
	}
	var last error
	for n := 0; n <= t.c.cfg.MaxRetries; n++ {
		if n > 0 {
			if err := t.c.cfg.Sleep(ctx, t.c.backoff(n-1)); err != nil {
				return "", fmt.Errorf("%w: %w", domain.ErrTranscription, err)
			}
		}
		cctx, cancel := context.WithTimeout(ctx, t.c.cfg.Timeout)
		res, err := t.c.api.CreateTranscription(cctx, openai.AudioRequest{
			Model: t.model, FilePath: name, Reader: bytes.NewReader(a.Data), Format: openai.AudioResponseFormatJSON,
		})
		cancel()
		if err == nil {
			return strings.TrimSpace(res.Text), nil
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("%w: %w", domain.ErrTranscription, ctx.Err())
		}
		last = err
		if !transient(err) {
			break
		}
	}
	return "", fmt.Errorf("%w: %s", domain.ErrTranscription, redact.String(last.Error(), t.c.secrets...))
}

// transient says whether a failed call is worth another try.
func transient(err error) bool {
	var api *openai.APIError
	if errors.As(err, &api) {
		return api.HTTPStatusCode == 429 || api.HTTPStatusCode >= 500
	}
	var req *openai.RequestError
	if errors.As(err, &req) {
		return req.HTTPStatusCode == 429 || req.HTTPStatusCode >= 500
	}
	return true // network errors, timeouts
}
