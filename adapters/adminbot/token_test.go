package adminbot_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/adminbot"
	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/projections"
)

// syncBuffer is a log destination the bot's goroutines may share.
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

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// tokenSecret is the token's secret part (the bot id before ":" is public).
var tokenSecret = token[strings.Index(token, ":")+1:]

func newBareBot(t *testing.T, apiURL string, log *syncBuffer) *adminbot.Bot {
	t.Helper()
	b, err := adminbot.New(adminbot.Config{Token: token, APIURL: apiURL, Sink: projections.NewMemory(),
		Admins: map[int64]adminbot.Role{ownerID: adminbot.RoleOwner}, NoticeInterval: 10 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A Bot API that cannot be reached: the notices' send errors are logged
// without the token.
func TestTokenNotLoggedWhenTheAPIIsDown(t *testing.T) {
	var log syncBuffer
	b := newBareBot(t, closedURL(t), &log)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b.Notify(accounts.Notice{Kind: "account-lost", Text: "sales-1 was logged out"})
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	for !strings.Contains(log.String(), "send message") {
		if ctx.Err() != nil {
			t.Fatalf("no send error logged:\n%s", log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if strings.Contains(log.String(), tokenSecret) {
		t.Fatalf("the token was logged:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "REDACTED") {
		t.Fatalf("the error does not show where the token was:\n%s", log.String())
	}
}

// The errors that leave the bot lose the token and keep their chain:
// a closed port is a *url.Error, a stalled server a deadline.
func TestTokenNotInErrors(t *testing.T) {
	var log syncBuffer
	b := newBareBot(t, closedURL(t), &log)
	err := b.RunWebhook(context.Background(), "127.0.0.1:0", "https://example.com/hook")
	var ue *url.Error
	if err == nil || strings.Contains(err.Error(), tokenSecret) || !errors.As(err, &ue) {
		t.Fatalf("setWebhook on a closed port: %v", err)
	}
	if strings.Contains(ue.Error(), tokenSecret) {
		t.Fatalf("the *url.Error in the chain holds the token: %v", ue)
	}

	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client leave
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer stalled.Close()
	b = newBareBot(t, stalled.URL, &log)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err = b.RunWebhook(ctx, "127.0.0.1:0", "https://example.com/hook")
	if err == nil || strings.Contains(err.Error(), tokenSecret) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("setWebhook on a stalled server: %v", err)
	}
	if strings.Contains(log.String(), tokenSecret) {
		t.Fatalf("the token was logged:\n%s", log.String())
	}
}
