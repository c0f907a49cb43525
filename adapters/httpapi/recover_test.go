package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

type anyToken struct{}

func (anyToken) Authenticate(_ context.Context, authorization string, _ domain.Scope) (domain.Principal, error) {
	if authorization == "" {
		return domain.Principal{}, domain.ErrUnauthenticated
	}
	return domain.Principal{TokenID: uuid.MustParse("0193a0c0-0000-7000-8000-00000000700c"), Scope: domain.ScopeAdmin, Prefix: "sb_test"}, nil
}

type noLimit struct{}

func (noLimit) Allow(uuid.UUID) (bool, time.Duration) { return true, 0 }

type panicky struct{}

func (panicky) Campaigns(context.Context) ([]httpapi.Campaign, error) { panic("campaigns broke") }
func (panicky) RecordOutcomeAt(context.Context, int64, uint64, domain.RecordOutcome) (bool, error) {
	panic("outcomes broke")
}
func (panicky) Version(context.Context, int64) (uint64, error)            { panic("versions broke") }
func (panicky) Stop(context.Context, int64, uint64, string) (bool, error) { panic("stop broke") }
func (panicky) TakeOver(context.Context, int64, uint64, string) (bool, error) {
	panic("takeover broke")
}
func (panicky) Release(context.Context, int64, uint64, string) error { panic("release broke") }
func (panicky) Reply(context.Context, int64, uint64, string, string) (bool, error) {
	panic("reply broke")
}
func (panicky) Open(context.Context, httpapi.OpenRequest) (int64, error) { panic("open broke") }
func (panicky) WriteText(context.Context, int64, io.Writer) error        { panic("export broke") }

// syncBuffer is a log both the server and the test touch.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPanicIsA500: a panicking port is answered with a 500 problem and
// logged with its stack, without the token or the request's body; the
// server goes on serving.
func TestPanicIsA500(t *testing.T) {
	var logs syncBuffer
	api, err := httpapi.New(httpapi.Config{ReadModels: projections.NewMemory(), Tokens: anyToken{}, Limiter: noLimit{},
		Dialogs: panicky{}, Campaigns: panicky{}, Opener: panicky{}, Transcripts: panicky{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	const secret, body = "sb_supersecret_token", `{"outcome":"lost","reason":"private words"}`
	for _, c := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/campaigns", ""},
		{http.MethodPost, "/api/v1/dialogs/1/outcome", body},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), c.method, srv.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "k1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusInternalServerError || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s %s: %d %s", c.method, c.path, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	l := logs.String()
	if strings.Count(l, "handler panicked") != 2 || !strings.Contains(l, "campaigns broke") {
		t.Fatalf("logs:\n%s", l)
	}
	for _, s := range []string{secret, "private words", "Authorization"} {
		if strings.Contains(l, s) {
			t.Errorf("the log holds %q:\n%s", s, l)
		}
	}
	// A 5xx is not kept for the key: the same request runs again.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/api/v1/dialogs/1/outcome", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "k1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusInternalServerError || strings.Count(logs.String(), "handler panicked") != 3 {
		t.Fatalf("repeat after a 500: %d", res.StatusCode)
	}
}
