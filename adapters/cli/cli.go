// Package cli is the command line's edge: a tree of commands whose flags
// may stand anywhere among the arguments, help written from the flags
// themselves, usage errors (exit 2) told apart from failures (exit 1), and
// secret options that come from a flag, a file, the environment or a
// systemd credential and never reach the terminal.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/domain/words"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitFail  = 1 // the command ran and failed (verify found tampering, I/O error)
	ExitUsage = 2 // bad command line or configuration
)

// UsageError is a bad flag, argument or configuration value; it exits 2.
type UsageError struct {
	Msg string
	err error // what caused it, if anything
}

func (e *UsageError) Error() string { return e.Msg }
func (e *UsageError) Unwrap() error { return e.err }

// ExitCode ends a command with its code and no message: the command
// (run elsewhere, through a server) has said all it had to say.
type ExitCode int

func (c ExitCode) Error() string { return fmt.Sprintf("exit code %d", int(c)) }

// Usagef is a *UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Command is one subcommand, or a group of them (Sub).
type Command struct {
	Name    string
	Summary string // one line, lower case; help capitalizes it
	Usage   string // what follows "<program> <path> [flags]"; may be empty
	Details string // more help text
	// NoArgs: the command takes no positional arguments (a usage error
	// says so before Run).
	NoArgs bool
	// Flags registers the command's flags and returns their check (nil:
	// none), run once they are parsed.
	Flags func(fs *flag.FlagSet) func() error
	Run   func(ctx context.Context, args []string) error
	Sub   []*Command
}

// Program is a command line: its commands and what every command shares.
type Program struct {
	Name     string // "salesbot"
	Title    string // the first line of the top help
	Footer   string // lines after the command list of a group's help
	Commands []*Command
	Stdout   io.Writer
	Stderr   io.Writer
	Getenv   func(string) string
	// ReadFile reads the files secret options name; nil: this machine's.
	ReadFile func(string) ([]byte, error)
	// Global registers the flags every command has; its check runs after
	// the command's own.
	Global func(fs *flag.FlagSet) func() error
	// Hide are more values (besides the secret options') no message may
	// show; called once the command has run.
	Hide func() []string
}

// Main runs the command args name and returns the exit code: 0, ExitFail
// when the command failed, ExitUsage for a bad command line (and for
// none: the help is printed).
func (p *Program) Main(ctx context.Context, args []string) int {
	cmds := p.Commands
	var path []string
	for {
		if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
			if len(args) > 1 && args[0] == "help" {
				args = append(args[1:], "--help")
				continue
			}
			p.printGroup(path, cmds)
			if len(args) == 0 && len(path) == 0 {
				return ExitUsage
			}
			return ExitOK
		}
		c := find(cmds, args[0])
		if c == nil {
			fmt.Fprintf(p.Stderr, "%s: unknown command %q (run '%s help%s')\n", p.Name, strings.Join(append(path, args[0]), " "), p.Name, prefixSpace(path))
			return ExitUsage
		}
		path = append(path, c.Name)
		args = args[1:]
		if len(c.Sub) > 0 {
			cmds = c.Sub
			continue
		}
		return p.exec(ctx, c, path, args)
	}
}

func prefixSpace(path []string) string {
	if len(path) == 0 {
		return ""
	}
	return " " + strings.Join(path, " ")
}

func find(cmds []*Command, name string) *Command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (p *Program) exec(ctx context.Context, c *Command, path []string, args []string) int {
	name := p.Name + " " + strings.Join(path, " ")
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var global, check func() error
	if p.Global != nil {
		global = p.Global(fs)
	}
	if c.Flags != nil {
		check = c.Flags(fs)
	}
	positional, err := ParseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		p.printCommand(name, c, fs)
		return ExitOK
	}
	if err != nil {
		err = Usagef("%s", flagMessage(err))
	}
	if err == nil {
		err = ResolveSecrets(fs, p.Getenv, p.ReadFile)
	}
	if err == nil && check != nil {
		err = check()
	}
	if err == nil && global != nil {
		err = global()
	}
	if err == nil && c.NoArgs && len(positional) > 0 {
		err = Usagef("takes no arguments, got %q", positional)
	}
	if err == nil {
		err = c.Run(ctx, positional)
	}
	// The adapters keep secrets out of their errors; this is the last
	// line of defence for what reaches the terminal.
	hide := SecretValues(fs)
	if p.Hide != nil {
		hide = append(hide, p.Hide()...)
	}
	var ue *UsageError
	var code ExitCode
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &ue):
		fmt.Fprintf(p.Stderr, "%s: %s (see '%s --help')\n", name, redact.String(ue.Msg, hide...), name)
		return ExitUsage
	default:
		fmt.Fprintf(p.Stderr, "%s: %s\n", name, redact.String(err.Error(), hide...))
		return ExitFail
	}
}

// ParseInterspersed parses flags anywhere among the arguments (the flag
// package stops at the first positional one), so `replay dialog 7 --json`
// works; "--" ends the flags.
func ParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// flagMessage rewrites the flag package's "-name" to the documented
// "--name" form.
func flagMessage(err error) string {
	return strings.Replace(err.Error(), " -", " --", 1)
}

func (p *Program) printGroup(path []string, cmds []*Command) {
	w := p.Stdout
	fmt.Fprintf(w, "%s\n\n", p.Title)
	fmt.Fprintf(w, "Usage: %s%s <command> [flags]\n\nCommands:\n", p.Name, prefixSpace(path))
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s%s <command> --help' for a command's flags.\n", p.Name, prefixSpace(path))
	fmt.Fprint(w, p.Footer)
}

func (p *Program) printCommand(name string, c *Command, fs *flag.FlagSet) {
	w := p.Stdout
	fmt.Fprintf(w, "Usage: %s [flags]%s\n\n%s.\n", name, c.Usage, words.Capitalize(c.Summary))
	if c.Details != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.Details))
	}
	fmt.Fprintf(w, "\nFlags:\n")
	var lines []string
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		if _, ok := f.Value.(*intRange); ok && typ == "value" {
			typ = "int"
		}
		line := "  --" + f.Name
		if typ != "" {
			line += " " + typ
		}
		line += "\n        " + usage
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			// Defaults may come from the environment: a URL loses its
			// credentials (secret options show no default at all).
			line += fmt.Sprintf(" (default %q)", redact.URL(f.DefValue))
		}
		lines = append(lines, line)
	})
	sort.Strings(lines)
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}
