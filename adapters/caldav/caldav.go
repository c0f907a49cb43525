// Package caldav is a CalDAV client (RFC 4791) over net/http for one
// calendar collection: the busy times in a range (REPORT calendar-query),
// a new event (PUT with If-None-Match: *), its removal (DELETE), and the
// collection itself (MKCALENDAR). Booker, on top of it, proposes free
// slots and books one, checked again right before it is written.
//
// Tested against Radicale; the URL shapes of Nextcloud and Google
// Calendar are in docs/integrations.md.
//
// The password never appears in an error, a log line or fmt output:
// Password prints as redact.Marker, and transport errors are redacted.
package caldav

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/redact"
)

// Errors of the client's methods; each comes wrapped in a *StatusError
// (or a wrapping of it) that names the operation and the HTTP status.
var (
	// ErrUnauthorized: the server refused the username and password (401).
	ErrUnauthorized = errors.New("caldav: unauthorized")
	// ErrForbidden: the user may not do this on the collection (403).
	ErrForbidden = errors.New("caldav: forbidden")
	// ErrNotFound: no such collection or event (404).
	ErrNotFound = errors.New("caldav: not found")
	// ErrConflict: the event's resource exists already (412 on
	// If-None-Match: *, or 409), or — from Booker.Confirm — the slot is
	// taken; the slot is not booked.
	ErrConflict = errors.New("caldav: conflict: already taken")
	// ErrUnsupported: the calendar holds data this client cannot read
	// into busy times (an unknown time zone, a recurrence rule it does
	// not expand); rather than guess free times, Busy fails.
	ErrUnsupported = errors.New("caldav: unsupported calendar data")
)

// StatusError is an HTTP answer the operation did not expect.
type StatusError struct {
	Op     string // "busy", "book", "delete", "mkcalendar"
	Status int
	// Err is the sentinel the status matches (ErrUnauthorized,
	// ErrConflict, ...), or nil.
	Err error
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("caldav: %s: %d %s", e.Op, e.Status, http.StatusText(e.Status))
}

// Unwrap returns Err.
func (e *StatusError) Unwrap() error { return e.Err }

// Password is the calendar account's password (or app password). It
// prints, formats, marshals and logs as redact.Marker; Reveal gives it.
type Password struct{ s string }

// NewPassword wraps s.
func NewPassword(s string) Password { return Password{s: s} }

// Reveal returns the password itself, for the Authorization header.
func (p Password) Reveal() string { return p.s }

// String returns redact.Marker (or "" for no password).
func (p Password) String() string {
	if p.s == "" {
		return ""
	}
	return redact.Marker
}

// GoString is String: %#v shows no password either.
func (p Password) GoString() string { return p.String() }

// MarshalJSON writes the marker, never the password.
func (p Password) MarshalJSON() ([]byte, error) { return []byte(`"` + p.String() + `"`), nil }

// MarshalText writes the marker, never the password.
func (p Password) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// LogValue logs the marker, never the password.
func (p Password) LogValue() slog.Value { return slog.StringValue(p.String()) }

// Config is one calendar collection and how to reach it.
type Config struct {
	// URL of the calendar collection (it ends with "/"; one is added):
	// Radicale https://HOST/USER/CALENDAR/, Nextcloud
	// https://HOST/remote.php/dav/calendars/USER/CALENDAR/, Google
	// https://apidata.googleusercontent.com/caldav/v2/CALENDAR_ID/events/.
	// No user info in it: Username and Password.
	URL      string
	Username string
	Password Password
	// BearerToken, if set, is sent instead of basic auth (Google's OAuth
	// 2.0 access token); it is redacted like the password.
	BearerToken Password
	// HTTPClient sends the requests; nil means a client of its own.
	HTTPClient *http.Client
	// Timeout bounds each request; 0 means 15 s.
	Timeout time.Duration
	// Zone is where floating times and all-day events fall (the calendar
	// owner's zone); nil means UTC.
	Zone *time.Location
}

// Client talks to one calendar collection. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	cfg     Config
	http    *http.Client
	timeout time.Duration
	zone    *time.Location
}

// maxBody bounds what the client reads of an answer.
const maxBody = 16 << 20

// New checks cfg and returns its client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("caldav: the calendar URL must be an http(s) URL of a calendar collection")
	}
	if u.User != nil {
		return nil, fmt.Errorf("caldav: the calendar URL must not hold a user or password: give them as the username and password")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	c := &Client{base: u, cfg: cfg, http: cfg.HTTPClient, timeout: cfg.Timeout, zone: cfg.Zone}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.timeout <= 0 {
		c.timeout = 15 * time.Second
	}
	if c.zone == nil {
		c.zone = time.UTC
	}
	return c, nil
}

// URL is the calendar collection's URL (with its trailing slash).
func (c *Client) URL() string { return c.base.String() }

// resolve turns an href (absolute, or a path as a server's multistatus
// gives it) into a URL on the collection's server.
func (c *Client) resolve(href string) (*url.URL, error) {
	r, err := url.Parse(href)
	if err != nil {
		return nil, fmt.Errorf("caldav: bad href %q", href)
	}
	u := c.base.ResolveReference(r)
	if u.Host != c.base.Host || u.Scheme != c.base.Scheme {
		return nil, fmt.Errorf("caldav: href %q is not on the calendar's server", href)
	}
	return u, nil
}

// do sends one request and returns the answer's status and body. An
// answer with a status not in ok is a *StatusError.
func (c *Client) do(ctx context.Context, op, method string, u *url.URL, hdr map[string]string, body []byte, ok ...int) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, nil, fmt.Errorf("caldav: %s: %w", op, err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if tok := c.cfg.BearerToken.Reveal(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if c.cfg.Username != "" || c.cfg.Password.Reveal() != "" {
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password.Reveal())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, redact.Error(fmt.Errorf("caldav: %s: %w", op, err), c.cfg.Password.Reveal(), c.cfg.BearerToken.Reveal())
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, redact.Error(fmt.Errorf("caldav: %s: reading the answer: %w", op, err), c.cfg.Password.Reveal(), c.cfg.BearerToken.Reveal())
	}
	for _, s := range ok {
		if resp.StatusCode == s {
			return resp.StatusCode, data, nil
		}
	}
	se := &StatusError{Op: op, Status: resp.StatusCode}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		se.Err = ErrUnauthorized
	case http.StatusForbidden:
		se.Err = ErrForbidden
	case http.StatusNotFound:
		se.Err = ErrNotFound
	case http.StatusPreconditionFailed, http.StatusConflict:
		se.Err = ErrConflict
	}
	return resp.StatusCode, data, se
}
