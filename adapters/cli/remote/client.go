package remote

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/salesbot/salesbot/adapters/cli"
)

// Target is the server a client reaches: its unix socket, or its HTTP
// server's URL with an API token.
type Target struct {
	Socket string // the unix socket's path; wins over URL
	URL    string // http(s)://host:port of a remote server
	Token  string // the API token for URL (bearer)
	TLS    *tls.Config
}

// Host is the client's side: its streams, environment, files and
// terminal.
type Host struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// ReadFile reads one of the client's files; nil: os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// Ask asks the person at the terminal (AskSecret without echo);
	// nil: there is nobody to ask.
	Ask cli.Asker
}

// Conn is a connection to a server, ready to run one command line.
type Conn struct {
	rwc io.ReadWriteCloser
	r   *bufio.Reader
}

// ServerError is the server refusing the connection: a problem's status
// and detail (a bad token, a scope too low, an unknown route on an old
// server).
type ServerError struct {
	Status int
	Detail string
}

func (e *ServerError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("the server answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("the server answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Detail)
}

// Dial connects to t. For a socket nobody listens on (none, or one a
// server left behind), the error matches ErrNoServer.
func Dial(ctx context.Context, t Target) (*Conn, error) {
	tr := &http.Transport{TLSClientConfig: t.TLS, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}, // HTTP/1.1: the upgrade
		DisableKeepAlives: true, ResponseHeaderTimeout: 30 * time.Second}
	base := strings.TrimRight(t.URL, "/")
	if t.Socket != "" {
		sock := t.Socket
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
		base = "http://salesbot"
	} else if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("remote: the server's URL must be http(s)://host:port, got %q", t.URL)
	} else if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("remote: http://%s would carry the API token unencrypted: use https:// (plain http only on the loopback)", u.Host)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+Path, nil)
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", Protocol)
	if t.Token != "" && t.Socket == "" {
		req.Header.Set("Authorization", "Bearer "+t.Token)
	}
	resp, err := (&http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		if t.Socket != "" && (errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOENT)) {
			return nil, fmt.Errorf("%w: %w", ErrNoServer, err)
		}
		return nil, fmt.Errorf("remote: connect to the server: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer resp.Body.Close()
		var p struct {
			Detail string `json:"detail"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &p) != nil {
			p.Detail = ""
		}
		return nil, &ServerError{Status: resp.StatusCode, Detail: p.Detail}
	}
	rwc, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		resp.Body.Close()
		return nil, protocolErr("the server's answer cannot be written to")
	}
	return &Conn{rwc: rwc, r: bufio.NewReader(rwc)}, nil
}

// Run runs args on the server, with h as the client's side, and returns
// the command's exit code. ctx ending (a signal) ends the connection and
// so the command. Run closes c.
func (c *Conn) Run(ctx context.Context, args []string, h Host) (int, error) {
	defer c.rwc.Close()
	stop := context.AfterFunc(ctx, func() { c.rwc.Close() })
	defer stop()
	read := h.ReadFile
	if read == nil {
		read = readFile
	}
	enc, dec := json.NewEncoder(c.rwc), json.NewDecoder(c.r)
	named := map[string]bool{} // files the variables the command read name
	if err := enc.Encode(frame{Kind: kindStart, Args: args}); err != nil {
		return 0, fmt.Errorf("remote: send the command: %w", err)
	}
	for {
		var f frame
		if err := dec.Decode(&f); err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, protocolErr("the server ended the connection before the command's end: %v", err)
		}
		var reply frame
		switch f.Kind {
		case kindOut:
			_, _ = h.Stdout.Write(f.Data)
			continue
		case kindErr:
			_, _ = h.Stderr.Write(f.Data)
			continue
		case kindExit:
			return f.Code, nil
		case kindEnv: // salesbot's variables only
			reply = frame{Kind: kindEnv}
			if strings.HasPrefix(f.Text, "SALESBOT_") || f.Text == cli.CredentialsDirEnv {
				reply.Text = h.Getenv(f.Text)
			}
			if strings.HasSuffix(f.Text, "_FILE") && reply.Text != "" {
				named[reply.Text] = true
			}
		case kindRead: // only files the command line or salesbot's variables name
			reply = frame{Kind: kindRead}
			if !mayRead(f.Text, args, named, h.Getenv) {
				reply.Error = errPermission
				break
			}
			reply.Data, reply.Error = fileReply(read(f.Text))
		case kindAsk:
			reply = frame{Kind: kindAsk}
			if h.Ask == nil {
				reply.Error = "no terminal to ask on"
			} else if answer, err := ask(h.Ask, f.Text, f.Secret); err != nil {
				reply.Error = err.Error()
			} else {
				reply.Text = answer
			}
		default:
			return 0, protocolErr("unknown frame %q", f.Kind)
		}
		if err := enc.Encode(reply); err != nil {
			return 0, protocolErr("answer the server: %v", err)
		}
	}
}

// mayRead says whether the server may read the client's file name: one
// the arguments name (as an argument or a flag's value), one a
// SALESBOT_..._FILE variable the command read names (named), or a
// systemd credential.
func mayRead(name string, args []string, named map[string]bool, getenv func(string) string) bool {
	for _, a := range args {
		if a == name || strings.HasSuffix(a, "="+name) {
			return true
		}
	}
	if dir := getenv(cli.CredentialsDirEnv); dir != "" && filepath.Dir(filepath.Clean(name)) == filepath.Clean(dir) {
		return true
	}
	return named[name]
}

func ask(a cli.Asker, question string, secret bool) (string, error) {
	if secret {
		return a.AskSecret(question)
	}
	return a.Ask(question)
}

func fileReply(b []byte, err error) ([]byte, string) {
	switch {
	case err == nil:
		return b, ""
	case errors.Is(err, fs.ErrNotExist):
		return nil, errNotExist
	case errors.Is(err, fs.ErrPermission):
		return nil, errPermission
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return nil, pe.Err.Error()
	}
	return nil, err.Error()
}

// readFile reads a file of at most maxFile bytes.
func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err == nil && len(b) > maxFile {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("larger than %d MiB", maxFile>>20)}
	}
	return b, err
}
