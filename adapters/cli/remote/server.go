package remote

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Exec runs a command line for a client: args as typed after the
// program's name, with the client's side reached through s. It returns
// the exit code.
type Exec func(ctx context.Context, s *Session, args []string) int

// Upgrading says whether r asks for this protocol.
func Upgrading(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), Protocol) &&
		strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
}

// Serve takes over r's connection (the caller checked Upgrading, and
// who may run what) and runs the client's command line with exec. It
// returns once the command ended and the exit code was sent, or the
// client went away; an error says why the exchange failed (the command
// itself reports through its exit code).
func Serve(w http.ResponseWriter, r *http.Request, exec Exec) error {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Time{}) // the server's deadlines were the request's
	if _, err := io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "+Protocol+"\r\n\r\n"); err != nil {
		return err
	}
	// The start frame comes at once, and is small.
	_ = conn.SetReadDeadline(time.Now().Add(startWait))
	var start frame
	if err := readFrame(rw.Reader, maxStartFrame, &start); err != nil || start.Kind != kindStart {
		return protocolErr("the client sent no start frame")
	}
	_ = conn.SetReadDeadline(time.Time{})
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	s := &Session{conn: conn, enc: json.NewEncoder(conn), replies: make(chan frame), ctx: ctx}
	defer context.AfterFunc(ctx, s.Abort)() // a client gone: writes fail rather than block
	go func() {                             // the client's answers; its going away ends the command
		defer cancel()
		defer close(s.replies)
		for {
			var f frame
			if err := readFrame(rw.Reader, maxFrame, &f); err != nil {
				return
			}
			select {
			case s.replies <- f:
			case <-ctx.Done():
				return
			}
		}
	}()
	code := exec(ctx, s, start.Args)
	if err := s.send(frame{Kind: kindExit, Code: code}); err != nil {
		return err
	}
	// Half-close so the client reads the exit before the connection ends.
	if c, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = c.CloseWrite()
	}
	return nil
}

// Session is the client's side of a command the server runs: its
// output, its environment, its files and the person at its terminal. Its
// methods may be called from several goroutines.
type Session struct {
	ctx  context.Context
	conn net.Conn
	// out guards enc; reqMu serialises requests, each with its reply.
	out     sync.Mutex
	enc     *json.Encoder
	reqMu   sync.Mutex
	replies chan frame
}

// Abort ends the exchange: the client's connection fails every read and
// write from now on, so a command blocked on a client that stopped
// reading (a pager left open, a suspended terminal) ends. The server
// calls it when it stops.
func (s *Session) Abort() { _ = s.conn.SetDeadline(time.Unix(1, 0)) }

func (s *Session) send(f frame) error {
	s.out.Lock()
	defer s.out.Unlock()
	return s.enc.Encode(f)
}

// request sends f and waits for the client's answer of the same kind.
func (s *Session) request(f frame) (frame, error) {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	if err := s.send(f); err != nil {
		return frame{}, err
	}
	select {
	case r, ok := <-s.replies:
		if !ok {
			return frame{}, protocolErr("the client went away")
		}
		if r.Kind != f.Kind {
			return frame{}, protocolErr("asked %s, the client answered %s", f.Kind, r.Kind)
		}
		return r, nil
	case <-s.ctx.Done():
		return frame{}, s.ctx.Err()
	}
}

// writer writes to one of the client's streams.
type writer struct {
	s    *Session
	kind string
}

func (w writer) Write(p []byte) (int, error) {
	if err := w.s.send(frame{Kind: w.kind, Data: p}); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Stdout is the client's standard output.
func (s *Session) Stdout() io.Writer { return writer{s, kindOut} }

// Stderr is the client's standard error.
func (s *Session) Stderr() io.Writer { return writer{s, kindErr} }

// Getenv is the client's environment variable key ("" when unset or
// when the client is gone).
func (s *Session) Getenv(key string) string {
	r, err := s.request(frame{Kind: kindEnv, Text: key})
	if err != nil {
		return ""
	}
	return r.Text
}

// ReadFile reads the client's file name (relative to the client's
// working directory). A file the client does not have matches
// fs.ErrNotExist; one it may not read, fs.ErrPermission.
func (s *Session) ReadFile(name string) ([]byte, error) {
	r, err := s.request(frame{Kind: kindRead, Text: name})
	if err != nil {
		return nil, err
	}
	switch r.Error {
	case "":
		return r.Data, nil
	case errNotExist: // as the client's os.Open said it
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
	case errPermission:
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
	}
	return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New(r.Error)}
}

// Ask asks the person at the client's terminal and returns the answer.
func (s *Session) Ask(question string) (string, error) { return s.askClient(question, false) }

// AskSecret asks like Ask; the client's terminal does not echo the
// answer.
func (s *Session) AskSecret(question string) (string, error) { return s.askClient(question, true) }

func (s *Session) askClient(question string, secret bool) (string, error) {
	r, err := s.request(frame{Kind: kindAsk, Text: question, Secret: secret})
	if err != nil {
		return "", err
	}
	if r.Error != "" {
		return "", errors.New(r.Error)
	}
	return r.Text, nil
}

// Bounds of the frames a client sends: the start frame (the arguments)
// is small; a file's contents travel base64-encoded in one frame.
const (
	maxStartFrame = 1 << 20
	maxFrame      = maxFile/3*4 + 64<<10
	startWait     = 30 * time.Second
)

// readFrame reads one frame, a JSON line of at most limit bytes.
func readFrame(r *bufio.Reader, limit int, f *frame) error {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > limit {
			return protocolErr("a frame larger than %d bytes", limit)
		}
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(line, f)
	}
}

// What a client says when it cannot read a file.
const (
	errNotExist   = "file does not exist"
	errPermission = "permission denied"
)

// Listen listens on the unix socket path with mode 0600: only its owner
// (the user run runs as) may connect, and the data dir it lives in is
// 0700 besides. A socket left by a server that is gone is replaced: the
// caller holds the data dir, so no other server is there.
func Listen(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSocket != 0 {
		_ = os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}
