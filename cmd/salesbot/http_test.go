package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain: every run of this package's tests serves HTTP on a free
// port, so runs side by side (and other programs on 8080) never meet.
func TestMain(m *testing.M) {
	defaultHTTPListen = "127.0.0.1:0"
	os.Exit(m.Run())
}

// freeAddr is a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestRunServesAPI(t *testing.T) {
	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader(""), &out, &errb, func(string) string { return "" })
	done := make(chan int, 1)
	go func() {
		done <- a.main(ctx, []string{"run", "--sandbox", "--sandbox-leads", "0", "--data-dir", t.TempDir(), "--http-listen", addr})
	}()
	get := func(path string) (*http.Response, []byte, error) {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			return nil, nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res, b, err
	}
	var doc []byte
	for {
		res, b, err := get("/api/v1/openapi.json")
		if err == nil && res.StatusCode == http.StatusOK {
			doc = b
			break
		}
		select {
		case code := <-done:
			t.Fatalf("run ended (%d) before serving: %s", code, errb.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !bytes.Contains(doc, []byte(`"openapi": "3.1.0"`)) {
		t.Fatalf("openapi.json: %.200s", doc)
	}
	res, b, err := get("/api/v1/dialogs")
	if err != nil || res.StatusCode != http.StatusUnauthorized || res.Header.Get("Content-Type") != "application/problem+json" ||
		!strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("dialogs without a token: %v %v %s", res, err, b)
	}
	// The address is taken now: a second run fails at once, saying so.
	r := run(t, nil, "run", "--sandbox", "--sandbox-leads", "0", "--data-dir", t.TempDir(), "--http-listen", addr, "--for", "30s")
	if r.code != 1 || !strings.Contains(r.stderr, addr) || !strings.Contains(r.stderr, "address already in use") {
		t.Errorf("a second run on %s: %d %q", addr, r.code, r.stderr)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("run: %d %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "http: serving on "+addr) {
		t.Fatalf("no serving line in the logs:\n%s", errb.String())
	}
	if _, _, err := get("/api/v1/openapi.json"); err == nil {
		t.Fatal("still serving after run returned")
	}
}

func TestRunHTTPFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--http-tls-cert", "x"}, "give both or neither"},
		{[]string{"--http-tls-cert", "x", "--http-tls-key", "y"}, "not a certificate"},
	} {
		r := run(t, nil, append([]string{"run", "--sandbox", "--data-dir", t.TempDir()}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: %d %q", c.args, r.code, r.stderr)
		}
	}
}
