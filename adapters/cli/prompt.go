package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// Prompter asks questions on out and reads the answers, a line each,
// from stdin.
type Prompter struct {
	stdin io.Reader
	in    *bufio.Reader
	out   io.Writer
}

// NewPrompter asks on out (standard error) and reads stdin.
func NewPrompter(stdin io.Reader, out io.Writer) *Prompter {
	return &Prompter{stdin: stdin, in: bufio.NewReader(stdin), out: out}
}

// Ask asks question and reads one line.
func (p *Prompter) Ask(question string) (string, error) {
	fmt.Fprint(p.out, question)
	line, err := p.in.ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "" && err != nil {
		return "", fmt.Errorf("no answer on standard input: %w", err)
	}
	return line, nil
}

// AskSecret asks like Ask, but on a terminal the answer is not echoed.
// Elsewhere (a pipe, a test) it reads a line as Ask does.
func (p *Prompter) AskSecret(question string) (string, error) {
	f, ok := p.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || p.in.Buffered() > 0 {
		return p.Ask(question)
	}
	fmt.Fprint(p.out, question)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(p.out) // the newline the terminal did not echo
	if err != nil {
		return "", fmt.Errorf("read the answer from the terminal: %w", err)
	}
	line := strings.TrimSpace(string(b))
	if line == "" {
		return "", errors.New("no answer on the terminal")
	}
	return line, nil
}

// IsTerminal says whether stream is a terminal (progress lines and
// prompts only make sense there).
func IsTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// WriteJSON writes v as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Asker asks the person at the terminal: a *Prompter, or a client's
// terminal when the command runs inside a server (remote.Session).
type Asker interface {
	Ask(question string) (string, error)
	AskSecret(question string) (string, error)
}

// Files reads the files a command line names; nil reads this machine's
// (a command inside a server reads its client's: remote.Session).
type Files func(name string) ([]byte, error)

// Open opens file name.
func (f Files) Open(name string) (io.ReadCloser, error) {
	if f == nil {
		return os.Open(name)
	}
	b, err := f(name)
	return io.NopCloser(bytes.NewReader(b)), err
}

// ReadFile reads file name.
func (f Files) ReadFile(name string) ([]byte, error) {
	if f == nil {
		return os.ReadFile(name)
	}
	return f(name)
}
