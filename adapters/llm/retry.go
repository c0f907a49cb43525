package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/domain"
)

// answer is the model's message of one completion.
type answer struct {
	content string
	refusal string // the model declined (structured outputs)
	finish  openai.FinishReason
}

// complete makes one chat completion with retries. It adds each HTTP call
// and its tokens to usage.
func (c *Client) complete(ctx context.Context, req openai.ChatCompletionRequest, usage *domain.Usage) (answer, error) {
	for retry := 0; ; retry++ {
		ans, f := c.call(ctx, req, usage)
		if f == nil {
			return ans, nil
		}
		if ctx.Err() != nil {
			return answer{}, stopped(ctx, f.reason)
		}
		if f.refused {
			return answer{}, fmt.Errorf("llm: %w: %s", domain.ErrModelRefused, f.reason)
		}
		if !f.retry {
			return answer{}, fmt.Errorf("llm: %w: %s (not retried)", domain.ErrModelUnavailable, f.reason)
		}
		if retry >= c.cfg.MaxRetries {
			return answer{}, fmt.Errorf("llm: %w: %s, after %d attempts", domain.ErrModelUnavailable, f.reason, retry+1)
		}
		wait := c.backoff(retry)
		if f.hasRetryAfter {
			if f.retryAfter > MaxRetryAfter {
				return answer{}, fmt.Errorf("llm: %w: %s; the provider asks to wait %v, more than %v", domain.ErrModelUnavailable, f.reason, f.retryAfter, MaxRetryAfter)
			}
			wait = f.retryAfter
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return answer{}, fmt.Errorf("llm: %w: %s; the turn's deadline comes before the next try in %v", domain.ErrModelUnavailable, f.reason, wait)
		}
		c.cfg.Log.Warn("llm: retrying", "model", c.cfg.Model, "reason", f.reason, "retry", retry+1, "wait", wait)
		if err := c.cfg.Sleep(ctx, wait); err != nil {
			return answer{}, stopped(ctx, f.reason)
		}
	}
}

// stopped is the error of a turn whose context ended: its deadline
// passing is the model being unavailable in time; a cancellation is the
// caller's (shutdown) and only wraps context.Canceled.
func stopped(ctx context.Context, last string) error {
	cause := context.Cause(ctx)
	if cause == nil {
		cause = context.Canceled
	}
	if errors.Is(cause, context.DeadlineExceeded) {
		return fmt.Errorf("llm: %w: the turn's deadline passed (last: %s): %w", domain.ErrModelUnavailable, last, cause)
	}
	return fmt.Errorf("llm: turn stopped: %w", cause)
}

// failure is why one HTTP call failed.
type failure struct {
	reason        string // "HTTP 503 Service Unavailable: ...", "timeout after 30s", ...
	retry         bool
	refused       bool // the provider refuses this very request (400, 422)
	hasRetryAfter bool
	retryAfter    time.Duration
}

// call makes one HTTP call with the per-call timeout.
func (c *Client) call(ctx context.Context, req openai.ChatCompletionRequest, usage *domain.Usage) (answer, *failure) {
	rec := &recorder{}
	cctx, cancel := context.WithTimeout(context.WithValue(ctx, recorderKey{}, rec), c.cfg.Timeout)
	defer cancel()
	resp, err := c.api.CreateChatCompletion(cctx, req)
	if rec.wasSent() {
		usage.Attempts++
	}
	if err == nil {
		usage.PromptTokens += resp.Usage.PromptTokens
		usage.CompletionTokens += resp.Usage.CompletionTokens
		if d := resp.Usage.PromptTokensDetails; d != nil {
			usage.CachedPromptTokens += d.CachedTokens
		}
		if len(resp.Choices) == 0 {
			// Not the model's output: a broken server. Retry.
			return answer{}, &failure{reason: "the API answered without choices", retry: true}
		}
		ch := resp.Choices[0]
		return answer{content: ch.Message.Content, refusal: ch.Message.Refusal, finish: ch.FinishReason}, nil
	}
	if ctx.Err() != nil {
		return answer{}, &failure{reason: ctx.Err().Error()}
	}
	f := classify(err, cctx.Err() != nil, c.cfg.Timeout)
	// Every error and log line of a failed call is made from its reason.
	f.reason = redact.String(f.reason, c.secrets...)
	if status, header := rec.get(); status != 0 && f.retry {
		f.retryAfter, f.hasRetryAfter = retryAfter(header, time.Now())
	}
	return answer{}, f
}

// classify says whether a failed call is worth retrying.
func classify(err error, timedOut bool, timeout time.Duration) *failure {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	status, msg := 0, ""
	switch {
	case errors.As(err, &apiErr):
		status, msg = apiErr.HTTPStatusCode, apiErr.Message
	case errors.As(err, &reqErr):
		status, msg = reqErr.HTTPStatusCode, strings.TrimSpace(string(reqErr.Body))
	}
	if status != 0 {
		reason := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
		if msg != "" {
			reason += ": " + truncate(msg, 200)
		}
		switch {
		case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
			return &failure{reason: reason, retry: true}
		case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
			// This request is refused (too long a context, a content
			// filter): asking again will not help; a person takes over.
			return &failure{reason: reason, refused: true}
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			reason += " (check the API key)"
		case status == http.StatusNotFound:
			reason += " (check the base URL and the model or deployment name)"
		}
		return &failure{reason: reason}
	}
	if timedOut {
		return &failure{reason: fmt.Sprintf("timeout after %v", timeout), retry: true}
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &typ) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &failure{reason: "a malformed response body: " + err.Error(), retry: true}
	}
	// Every error of http.Client.Do is a *url.Error, and net.Error too:
	// both have Timeout.
	var netErr interface{ Timeout() bool }
	if errors.As(err, &netErr) {
		return &failure{reason: "network: " + err.Error(), retry: true}
	}
	// Refused before any call (go-openai's checks of the request).
	return &failure{reason: err.Error()}
}

// backoff is the wait before retry n (from 0): full jitter between
// MinBackoff and min(MaxBackoff, MinBackoff·2ⁿ).
func (c *Client) backoff(n int) time.Duration {
	ceil := c.cfg.MaxBackoff
	if n < 30 {
		if d := c.cfg.MinBackoff << n; d > 0 && d < ceil {
			ceil = d
		}
	}
	if ceil <= c.cfg.MinBackoff {
		return c.cfg.MinBackoff
	}
	return c.cfg.MinBackoff + rand.N(ceil-c.cfg.MinBackoff+1)
}

// retryAfter reads how long the provider asks to wait: Retry-After in
// seconds or as an HTTP date, or Azure's and OpenAI's retry-after-ms.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > (24 * time.Hour).Seconds() {
			return 24 * time.Hour, true
		}
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// The Retry-After header of a failed call: go-openai's errors carry the
// status but not the headers, so a wrapping RoundTripper records each
// response's status and headers in a recorder that the call puts in its
// request's context. One recorder per HTTP call: concurrent turns never
// see each other's headers.
type (
	recorderKey struct{}
	recorder    struct {
		mu     sync.Mutex
		sent   bool // the request reached the transport: an HTTP call
		status int
		header http.Header
	}
	recordingTransport struct{ base http.RoundTripper }
)

func (r *recorder) set(status int, h http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.header = status, h
}

func (r *recorder) markSent() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = true
}

func (r *recorder) wasSent() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent
}

func (r *recorder) get() (int, http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status, r.header
}

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec, _ := req.Context().Value(recorderKey{}).(*recorder)
	if rec != nil {
		rec.markSent()
	}
	resp, err := t.base.RoundTrip(req)
	if resp != nil && rec != nil {
		rec.set(resp.StatusCode, resp.Header.Clone())
	}
	return resp, err
}

// wrapHTTPClient returns a copy of hc (or a new client) whose transport
// records responses.
func wrapHTTPClient(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = recordingTransport{base: base}
	return &c
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
