// Package remote runs a command line inside a running server: the CLI
// through `salesbot run`. While run holds the data dir, a command such as
// `salesbot campaigns list` connects to run's unix socket in the data dir
// (or, with --server URL --token T, to its HTTP server), and run executes
// the very same command on its open log and read models, so the output is
// what the command prints without a server.
//
// # Protocol
//
// The client sends POST /api/v1/cli with "Connection: Upgrade" and
// "Upgrade: salesbot-cli/1"; the server answers 101 Switching Protocols
// and both sides then exchange JSON frames, one per line, on the
// connection. The client's first frame holds the arguments. From then on
// the server leads: it sends output (stdout, stderr) and requests, which
// the client answers one at a time from its own side:
//
//   - env: a variable of the client's environment;
//   - read: a file of the client's (a CSV to import, a public key, a
//     secret's file), so a path means what it means where it was typed;
//   - ask: a question for the person at the terminal (a login code, a 2FA
//     password without echo).
//
// The last frame is the exit code. A client that goes away cancels the
// command.
package remote

import (
	"errors"
	"fmt"
	"path/filepath"
)

// Path is the endpoint, on the unix socket and on the HTTP server.
const Path = "/api/v1/cli"

// Protocol is the Upgrade header's value.
const Protocol = "salesbot-cli/1"

// SocketName is the unix socket's name in the data dir.
const SocketName = "salesbot.sock"

// Socket is the unix socket of the server on data dir dir.
func Socket(dir string) string { return filepath.Join(dir, SocketName) }

// Frame kinds.
const (
	kindStart = "start" // client: Args
	kindOut   = "out"   // server: Data to stdout
	kindErr   = "err"   // server: Data to stderr
	kindEnv   = "env"   // server: Text names a variable; client: Text is its value
	kindRead  = "read"  // server: Text is a path; client: Data, or Text an error
	kindAsk   = "ask"   // server: Text is a question, Secret says not to echo; client: Text is the answer, or Error
	kindExit  = "exit"  // server: Code
)

// frame is one message either way.
type frame struct {
	Kind   string   `json:"k"`
	Args   []string `json:"args,omitempty"`
	Data   []byte   `json:"d,omitempty"`
	Text   string   `json:"s,omitempty"`
	Error  string   `json:"e,omitempty"`
	Secret bool     `json:"secret,omitempty"`
	Code   int      `json:"c,omitempty"`
}

// maxFile bounds a file the client sends (a contacts CSV of about half a
// million rows).
const maxFile = 64 << 20

// ErrNoServer: no server runs on the data dir (no socket, or nobody
// listens on it); the command runs on the directory itself.
var ErrNoServer = errors.New("remote: no server on the data dir")

// ErrProtocol: the other side broke the protocol (not a salesbot server,
// another version, a connection cut in the middle).
var ErrProtocol = errors.New("remote: protocol")

func protocolErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
}
