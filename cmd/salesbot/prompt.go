package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"
)

// prompt asks on standard error and reads one line from standard input.
func (a *app) prompt(in *bufio.Reader, question string) (string, error) {
	fmt.Fprint(a.stderr, question)
	line, err := in.ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "" && err != nil {
		return "", fmt.Errorf("no answer on standard input: %w", err)
	}
	return line, nil
}

// promptSecret asks like prompt, but on a terminal the answer is not
// echoed. Elsewhere (a pipe, a test) it reads a line as prompt does.
func (a *app) promptSecret(in *bufio.Reader, question string) (string, error) {
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || in.Buffered() > 0 {
		return a.prompt(in, question)
	}
	fmt.Fprint(a.stderr, question)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(a.stderr) // the newline the terminal did not echo
	if err != nil {
		return "", fmt.Errorf("read the answer from the terminal: %w", err)
	}
	line := strings.TrimSpace(string(b))
	if line == "" {
		return "", errors.New("no answer on the terminal")
	}
	return line, nil
}
