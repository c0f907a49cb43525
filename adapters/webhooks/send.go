package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds one delivery attempt: connect, send, answer.
const DefaultTimeout = 10 * time.Second

// ErrStatus: the receiver answered with a status other than 2xx (a
// redirect too: redirects are not followed). The error is a
// *StatusError.
var ErrStatus = errors.New("webhooks: the receiver refused the delivery")

// StatusError is a delivery the receiver answered with a non-2xx status.
type StatusError struct{ Status int }

func (e *StatusError) Error() string {
	return fmt.Sprintf("webhooks: the receiver answered %d %s", e.Status, http.StatusText(e.Status))
}

// Is makes errors.Is(err, ErrStatus) true.
func (e *StatusError) Is(target error) bool { return target == ErrStatus }

// Sender POSTs signed deliveries. It is safe for concurrent use.
type Sender struct {
	client *http.Client
	now    func() time.Time
}

// SenderConfig is what a Sender needs; the zero value is usable.
type SenderConfig struct {
	// AllowPrivate lets deliveries reach private addresses.
	AllowPrivate bool
	// Timeout bounds each attempt; 0: DefaultTimeout.
	Timeout time.Duration
	// Now is the clock (the timestamp a delivery is signed with, and
	// Retry-After's dates); nil: time.Now.
	Now func() time.Time
	// Transport, if set, replaces the guarded one (tests that reach a
	// receiver some other way). The redirect rule stays.
	Transport http.RoundTripper
}

// NewSender returns a Sender whose client dials through Dialer (private
// addresses refused at connect time unless AllowPrivate), uses no proxy
// from the environment (it would dial on the service's behalf, past the
// guard), follows no redirect and gives each attempt Timeout.
func NewSender(cfg SenderConfig) *Sender {
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	rt := cfg.Transport
	if rt == nil {
		rt = &http.Transport{
			Proxy:                 nil,
			DialContext:           Dialer(cfg.AllowPrivate).DialContext,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Sender{now: now, client: &http.Client{
		Transport:     rt,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Result is how one attempt went.
type Result struct {
	Status  int           // the answer's status; 0 when there was none
	Latency time.Duration // from sending to the answer (or the failure)
	// RetryAfter is what a 429 or 503 answer's Retry-After asks for
	// (seconds or an HTTP date, from now); 0 when it asks nothing.
	RetryAfter time.Duration
	// Err is nil for a 2xx answer; a *StatusError for another status;
	// else why no answer came (refused, timed out, a private address:
	// errors.Is(Err, ErrPrivate)). It never holds the URL.
	Err error
}

// Send POSTs body to target signed with secret as delivery id, with the
// current time as its timestamp.
func (s *Sender) Send(ctx context.Context, target string, secret Secret, id string, body []byte) Result {
	at := s.now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Result{Err: errors.New("webhooks: the URL does not make a request")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "salesbot-webhooks/1")
	if err := Headers(req.Header, secret, id, at, body); err != nil {
		return Result{Err: err}
	}
	resp, err := s.client.Do(req)
	lat := s.now().Sub(at)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text holds the URL, and the URL may hold a token
		}
		return Result{Latency: lat, Err: fmt.Errorf("webhooks: deliver %s: %w", id, err)}
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	r := Result{Status: resp.StatusCode, Latency: lat}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		r.Err = &StatusError{Status: resp.StatusCode}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			r.RetryAfter = RetryAfter(resp.Header.Get("Retry-After"), s.now())
		}
	}
	return r
}

// RetryAfter reads a Retry-After value at now: delay-seconds or an HTTP
// date. Anything else, or a time past, is 0.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(365*24*3600))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
