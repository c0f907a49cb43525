package adminbot

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/mymmrac/telego"

	"github.com/salesbot/salesbot/adapters/redact"
)

// The Bot API puts the bot token in every URL (/bot<TOKEN>/method, file
// downloads at /file/bot<TOKEN>/path), and net/http copies the URL into
// its errors (*url.Error), which end up in logs. So telego never gets
// the token: it gets a stand-in with the same bot id and a fixed secret
// part, and the bot's one HTTP transport (tokenTransport) swaps the real
// token in on the way out. Every URL outside that transport, and so
// every error, log line and file download URL, carries the stand-in;
// errors keep their chain (errors.Is(err, context.DeadlineExceeded),
// errors.As(err, **url.Error)) because nothing is rewrapped.

// tokenMarker is the stand-in's secret part: 35 characters, as telego
// checks.
const tokenMarker = "REDACTED_" + "REDACTED_" + "REDACTED_" + "REDACTED"

// tokenPattern is the form of a bot token (as telego checks it).
var tokenPattern = regexp.MustCompile(`^\d+:[\w-]{35}$`)

// standInToken returns the stand-in for token, or telego's error for a
// malformed one.
func standInToken(token string) (string, error) {
	if token == "" {
		return "", telego.ErrEmptyToken
	}
	if !tokenPattern.MatchString(token) {
		return "", telego.ErrInvalidToken
	}
	id, _, _ := strings.Cut(token, ":")
	return id + ":" + tokenMarker, nil
}

// tokenTransport puts the real token into requests carrying the
// stand-in.
type tokenTransport struct {
	base           http.RoundTripper
	token, standIn string
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.Contains(req.URL.Path, t.standIn) {
		return t.base.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	out.URL.Path = strings.Replace(out.URL.Path, t.standIn, t.token, 1)
	out.URL.RawPath = strings.Replace(out.URL.RawPath, t.standIn, t.token, 1)
	resp, err := t.base.RoundTrip(out)
	if resp != nil {
		resp.Request = req // the caller's request, with the stand-in
	}
	// The transport's own errors do not name the path; should one ever
	// do, it loses the token here.
	return resp, redact.Error(err, t.token)
}

// newHTTPClient returns the bot's one HTTP client (API calls and file
// downloads) and the token to give telego.
func newHTTPClient(token string, base http.RoundTripper) (*http.Client, string, error) {
	standIn, err := standInToken(token)
	if err != nil {
		return nil, "", err
	}
	if base == nil {
		base = http.DefaultTransport
	}
	// net/http honours request contexts (shutdown never waits on a long
	// poll); the timeout bounds a stalled connection.
	client := &http.Client{Timeout: 60 * time.Second, Transport: &tokenTransport{base: base, token: token, standIn: standIn}}
	return client, standIn, nil
}
