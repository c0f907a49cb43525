// Package radicaletest runs a real CalDAV server for tests: Debian's
// Radicale, on a free loopback port, with its storage in a temporary
// directory and one user in a plain htpasswd file. A test that calls
// Start is skipped where Radicale is not installed (.ci/run installs it).
package radicaletest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Server is a running Radicale.
type Server struct {
	// Base is the server's root URL, "http://127.0.0.1:PORT/".
	Base string
	// User and Password are its one user's login.
	User, Password string
}

// CalendarURL is the URL of the user's calendar collection name (created
// by the client's MakeCalendar, or by a PUT into it: Radicale creates
// neither on its own).
func (s *Server) CalendarURL(name string) string {
	return s.Base + s.User + "/" + name + "/"
}

// command is how to run Radicale here, or nil.
func command() []string {
	if p, err := exec.LookPath("radicale"); err == nil {
		return []string{p}
	}
	if p, err := exec.LookPath("python3"); err == nil {
		if exec.Command(p, "-c", "import radicale").Run() == nil {
			return []string{p, "-m", "radicale"}
		}
	}
	return nil
}

// Start runs a Radicale for t, stopped when t ends; it skips t where
// Radicale is not installed and fails it if Radicale does not answer
// within 15 s.
func Start(t testing.TB) *Server {
	t.Helper()
	cmdline := command()
	if cmdline == nil {
		t.Skip("radicale is not installed (apt-get install radicale)")
	}
	dir := t.TempDir()
	s := &Server{User: "manager", Password: "pw-" + rand.Text()}
	htpasswd := filepath.Join(dir, "users")
	if err := os.WriteFile(htpasswd, []byte(s.User+":"+s.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s.Base = "http://" + addr + "/"
	config := filepath.Join(dir, "config")
	cfg := fmt.Sprintf(`[server]
hosts = %s
[auth]
type = htpasswd
htpasswd_filename = %s
htpasswd_encryption = plain
delay = 0
[rights]
type = owner_only
[storage]
filesystem_folder = %s
[web]
type = none
[logging]
level = warning
`, addr, htpasswd, filepath.Join(dir, "collections"))
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(cmdline[0], append(cmdline[1:], "-C", config)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "HOME="+dir) // no user config of the machine's
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting radicale: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodOptions, s.Base, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return s
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("radicale exited: %v\n%s", err, out.String())
		case <-ctx.Done():
			t.Fatalf("radicale does not answer on %s:\n%s", addr, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

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
