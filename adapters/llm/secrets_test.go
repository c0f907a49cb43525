package llm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/domain"
)

// The API key and the credentials in the base URL appear in no error and
// no log line: not when the provider echoes the key in its 401 body, not
// in a network error (which names the URL with its query string).
func TestSecretsNotInErrorsOrLogs(t *testing.T) {
	const key = "sk-test-0123456789abcdefSECRET"
	const urlPass, urlKey = "proxy-pass-SECRET", "query-key-SECRET"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"message":"Incorrect API key provided: `+r.Header.Get("Authorization")+`","type":"invalid_request_error","code":"invalid_api_key"}}`)
	}))
	defer echo.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	for name, base := range map[string]string{
		"401 echoing the key":           echo.URL + "/v1",
		"closed port, secrets in query": "http://" + closed + "/v1?api-key=" + urlKey,
		"closed port, user info":        "http://user:" + urlPass + "@" + closed + "/v1",
	} {
		var log bytes.Buffer
		c, err := New(Config{BaseURL: base, APIKey: key, Model: "m", MaxRetries: 1,
			MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
			Log: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Turn(context.Background(), testInput())
		if !errors.Is(err, domain.ErrModelUnavailable) {
			t.Fatalf("%s: %v", name, err)
		}
		for _, secret := range []string{key, urlPass, urlKey} {
			if strings.Contains(err.Error(), secret) || strings.Contains(log.String(), secret) {
				t.Errorf("%s: a secret shows:\nerr: %v\nlog: %s", name, err, log.String())
			}
		}
	}
	// A bad base URL is named without its password.
	_, err = New(Config{BaseURL: "ftp://user:" + urlPass + "@host/v1", APIKey: key, Model: "m"})
	if err == nil || strings.Contains(err.Error(), urlPass) {
		t.Fatalf("a bad base URL: %v", err)
	}
}
