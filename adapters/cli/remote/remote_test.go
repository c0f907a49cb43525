package remote_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/cli/remote"
)

// serveSocket serves exec on a unix socket in a temporary dir.
func serveSocket(t *testing.T, exec remote.Exec) string {
	t.Helper()
	path := remote.Socket(t.TempDir())
	ln, err := remote.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !remote.Upgrading(r) {
			http.Error(w, "no", http.StatusUpgradeRequired)
			return
		}
		_ = remote.Serve(w, r, exec)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return path
}

func TestRunThroughSocket(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "leads.csv")
	if err := os.WriteFile(csv, []byte("username\n@lead\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := serveSocket(t, func(ctx context.Context, s *remote.Session, args []string) int {
		fmt.Fprintf(s.Stdout(), "args=%s\n", strings.Join(args, ","))
		fmt.Fprintf(s.Stdout(), "env=%s\n", s.Getenv("SALESBOT_X"))
		b, err := s.ReadFile(args[0])
		fmt.Fprintf(s.Stdout(), "file=%q err=%v\n", b, err)
		if _, err := s.ReadFile(args[1]); !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(s.Stderr(), "missing file: want fs.ErrNotExist, got %v\n", err)
		}
		code, err := s.Ask("Code: ")
		pw, err2 := s.AskSecret("Password: ")
		fmt.Fprintf(s.Stderr(), "code=%s pw=%s %v %v\n", code, pw, err, err2)
		return 3
	})
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v %v", fi, err)
	}
	c, err := remote.Dial(t.Context(), remote.Target{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	var asked []string
	code, err := c.Run(t.Context(), []string{csv, filepath.Join(dir, "none.csv")}, remote.Host{Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return map[string]string{"SALESBOT_X": "x1"}[k] },
		Ask: askFunc(func(q string, secret bool) (string, error) {
			asked = append(asked, fmt.Sprintf("%s%v", q, secret))
			return map[bool]string{false: "12345", true: "hunter2"}[secret], nil
		})})
	if err != nil || code != 3 {
		t.Fatalf("Run = %d, %v; stderr %s", code, err, errOut.String())
	}
	want := "args=" + csv + "," + filepath.Join(dir, "none.csv") + "\nenv=x1\nfile=\"username\\n@lead\\n\" err=<nil>\n"
	if out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), want)
	}
	if errOut.String() != "code=12345 pw=hunter2 <nil> <nil>\n" {
		t.Errorf("stderr: %q", errOut.String())
	}
	if strings.Join(asked, "|") != "Code: false|Password: true" {
		t.Errorf("asked %q", asked)
	}
}

// askFunc is a cli.Asker of one function.
type askFunc func(q string, secret bool) (string, error)

func (f askFunc) Ask(q string) (string, error)       { return f(q, false) }
func (f askFunc) AskSecret(q string) (string, error) { return f(q, true) }

func TestClientGoneCancelsCommand(t *testing.T) {
	ended := make(chan error, 1)
	sock := serveSocket(t, func(ctx context.Context, s *remote.Session, _ []string) int {
		fmt.Fprintln(s.Stdout(), "started")
		select {
		case <-ctx.Done():
			ended <- ctx.Err()
		case <-time.After(10 * time.Second):
			ended <- errors.New("the command was not cancelled")
		}
		return 0
	})
	c, err := remote.Dial(t.Context(), remote.Target{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	out := &notifyWriter{wrote: make(chan struct{}, 1)}
	go func() {
		<-out.wrote
		cancel() // the person pressed Ctrl-C
	}()
	if _, err := c.Run(ctx, nil, remote.Host{Stdout: out, Stderr: out, Getenv: os.Getenv}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel: %v", err)
	}
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Error(err)
	}
}

type notifyWriter struct{ wrote chan struct{} }

func (w *notifyWriter) Write(p []byte) (int, error) {
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func TestDialNoServer(t *testing.T) {
	dir := t.TempDir()
	if _, err := remote.Dial(t.Context(), remote.Target{Socket: remote.Socket(dir)}); !errors.Is(err, remote.ErrNoServer) {
		t.Errorf("no socket: %v", err)
	}
	// A socket its server left behind: nobody listens.
	ln, err := remote.Listen(remote.Socket(dir))
	if err != nil {
		t.Fatal(err)
	}
	ln.(interface{ SetUnlinkOnClose(bool) }).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(remote.Socket(dir)); err != nil {
		t.Fatalf("the stale socket should stay for this test: %v", err)
	}
	if _, err := remote.Dial(t.Context(), remote.Target{Socket: remote.Socket(dir)}); !errors.Is(err, remote.ErrNoServer) {
		t.Errorf("stale socket: %v", err)
	}
	// And a new server replaces it.
	ln, err = remote.Listen(remote.Socket(dir))
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	ln.Close()
}

func TestDialRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"status":401,"detail":"no valid API token"}`)
			return
		}
		_ = remote.Serve(w, r, func(_ context.Context, s *remote.Session, args []string) int {
			fmt.Fprint(s.Stdout(), strings.Join(args, " "))
			return 0
		})
	}))
	defer srv.Close()
	_, err := remote.Dial(t.Context(), remote.Target{URL: srv.URL, Token: "bad"})
	var se *remote.ServerError
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized || se.Detail != "no valid API token" {
		t.Fatalf("bad token: %v", err)
	}
	if strings.Contains(err.Error(), "bad") {
		t.Errorf("the error shows the token: %v", err)
	}
	c, err := remote.Dial(t.Context(), remote.Target{URL: srv.URL + "/", Token: "good"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code, err := c.Run(t.Context(), []string{"campaigns", "list"}, remote.Host{Stdout: &out, Stderr: &out, Getenv: os.Getenv}); err != nil || code != 0 || out.String() != "campaigns list" {
		t.Errorf("over HTTP: %d %v %q", code, err, out.String())
	}
	if _, err := remote.Dial(t.Context(), remote.Target{URL: "ftp://x"}); err == nil {
		t.Error("an ftp URL was dialled")
	}
}

// TestAbortUnblocksWrites: a client that stops reading (a pager left
// open) blocks the command's writes until the server aborts the session.
func TestAbortUnblocksWrites(t *testing.T) {
	ended := make(chan error, 1)
	sock := serveSocket(t, func(ctx context.Context, s *remote.Session, _ []string) int {
		time.AfterFunc(300*time.Millisecond, s.Abort) // the server stops
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for {
			if _, err := s.Stdout().Write(chunk); err != nil {
				ended <- err
				return 1
			}
		}
	})
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n{\"k\":\"start\"}\n", remote.Path, remote.Protocol)
	select { // and never reads
	case err := <-ended:
		if err == nil {
			t.Fatal("no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the command's writes stayed blocked after Abort")
	}
}

// TestGiantFrameRefused: a start frame past its bound ends the exchange
// before the command runs, without reading it all.
func TestGiantFrameRefused(t *testing.T) {
	ran := make(chan struct{}, 1)
	sock := serveSocket(t, func(context.Context, *remote.Session, []string) int {
		ran <- struct{}{}
		return 0
	})
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n{\"k\":\"start\",\"args\":[\"", remote.Path, remote.Protocol)
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	filler := bytes.Repeat([]byte("a"), 64<<10)
	var werr error
	for i := 0; i < 64 && werr == nil; i++ { // 4 MiB, past the 1 MiB bound
		_, werr = conn.Write(filler)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(io.LimitReader(conn, 1<<10))
	if !strings.HasPrefix(string(b), "HTTP/1.1 101") || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("answer: %q, %v (the server should end the connection at the bound, not wait for the frame's end)", b, err)
	}
	select {
	case <-ran:
		t.Fatal("the command ran on a giant start frame")
	default:
	}
}

// TestClientAnswersOnlyWhatTheCommandNames: the server gets salesbot's
// variables and the files the command line (or a SALESBOT_..._FILE
// variable it read) names, nothing else of the client's.
func TestClientAnswersOnlyWhatTheCommandNames(t *testing.T) {
	dir := t.TempDir()
	named, secret, other := filepath.Join(dir, "named.csv"), filepath.Join(dir, "dsn"), filepath.Join(dir, "id_ed25519")
	for _, p := range []string{named, secret, other} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sock := serveSocket(t, func(_ context.Context, s *remote.Session, args []string) int {
		_, errNamed := s.ReadFile(named)
		_, errOther := s.ReadFile(other)
		_, errBefore := s.ReadFile(secret) // before the command read the variable naming it
		file := s.Getenv("SALESBOT_X_FILE")
		_, errAfter := s.ReadFile(file)
		fmt.Fprintf(s.Stdout(), "home=%q named=%v other=%v before=%v after=%v",
			s.Getenv("HOME"), errNamed == nil, errors.Is(errOther, fs.ErrPermission), errors.Is(errBefore, fs.ErrPermission), errAfter == nil)
		return 0
	})
	c, err := remote.Dial(t.Context(), remote.Target{Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	env := map[string]string{"HOME": "/home/ann", "SALESBOT_X_FILE": secret}
	if _, err := c.Run(t.Context(), []string{"contacts", "import", "--file=" + named}, remote.Host{Stdout: &out, Stderr: &out, Getenv: func(k string) string { return env[k] }}); err != nil {
		t.Fatal(err)
	}
	if want := `home="" named=true other=true before=true after=true`; out.String() != want {
		t.Errorf("got %s, want %s", out.String(), want)
	}
	if _, err := remote.Dial(t.Context(), remote.Target{URL: "http://salesbot.example.com:8080", Token: "sb_x"}); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("plain http to another host: %v", err)
	}
}
