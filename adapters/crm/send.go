package crm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/salesbot/salesbot/adapters/redact"
)

// Request is one call of a CRM's JSON API with a bearer token (Send).
type Request struct {
	Method    string
	URL       string
	Body      []byte // JSON; nil: no body
	Token     Secret // sent as "Authorization: Bearer ..."
	UserAgent string
	Prefix    string // what errors begin with: "amocrm: create lead"
}

// Send sends r once and reads the answer's body (at most 8 MiB; the
// body is closed). Its errors begin with r.Prefix and never hold the
// token.
func Send(ctx context.Context, hc *http.Client, r Request) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", r.Prefix, err)
	}
	req.Header.Set("Authorization", "Bearer "+r.Token.Reveal())
	req.Header.Set("Accept", "application/json")
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", r.UserAgent)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, redact.Error(fmt.Errorf("%s: %w", r.Prefix, err), r.Token.Reveal())
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	resp.Body.Close()
	if err != nil {
		return nil, nil, redact.Error(fmt.Errorf("%s: read the answer: %w", r.Prefix, err), r.Token.Reveal())
	}
	return resp, data, nil
}
