package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/system/runflags"
)

// TestMain: every run of this package's tests serves HTTP on a free
// port, so runs side by side (and other programs on 8080) never meet.
func TestMain(m *testing.M) {
	runflags.DefaultHTTPListen = "127.0.0.1:0"
	os.Exit(m.Run())
}

func TestRunServesAPI(t *testing.T) {
	addr := closedAddr(t)
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
		{[]string{"--http-tls-cert", "x", "--http-tls-key", "y"}, "read the certificate file x"},
	} {
		r := run(t, nil, append([]string{"run", "--sandbox", "--data-dir", t.TempDir()}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: %d %q", c.args, r.code, r.stderr)
		}
	}
}

// TestRunServesHTTPS: with a certificate and its key from files, run
// serves the API over TLS.
func TestRunServesHTTPS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}

	addr := closedAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader(""), &out, &errb, func(k string) string {
		return map[string]string{"SALESBOT_HTTP_TLS_KEY_FILE": keyFile}[k]
	})
	done := make(chan int, 1)
	go func() {
		done <- a.main(ctx, []string{"run", "--sandbox", "--sandbox-leads", "0", "--data-dir", filepath.Join(dir, "data"),
			"--http-listen", addr, "--http-tls-cert", certFile}) // a path, or the PEM itself
	}()
	for {
		res, err := client.Get("https://" + addr + "/api/v1/dialogs")
		if err == nil {
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("https dialogs without a token: %d", res.StatusCode)
			}
			break
		}
		select {
		case code := <-done:
			t.Fatalf("run ended (%d) before serving: %s", code, errb.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("run: %d %s", code, errb.String())
	}
}
