package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/gotd/td/telegram"

	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain/words"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and failed (verify found tampering, I/O error)
	exitUsage = 2 // bad command line or configuration
)

// usageError is a bad flag, argument or configuration value; it exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// env is how Run reads the environment (os.Getenv in main, a map in tests).
type env func(string) string

// app is what one invocation shares: standard streams, environment,
// config.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         env
	cfg            config
	log            *slog.Logger
	// telegram overrides the gotd options that reach Telegram (tests point
	// them at a sandbox); nil = Telegram's servers.
	telegram *telegram.Options
	// onSandbox, if set, is handed the sandbox 'run --sandbox' starts
	// (tests watch it).
	onSandbox func(*telegramtest.Sandbox)
	// onDemo, if set, is handed what 'demo' found (its end-to-end test).
	onDemo func(*demo.Report)
}

// command is one subcommand (or a group with subcommands).
type command struct {
	name    string
	summary string
	usage   string // after "salesbot <path>"; may be empty
	details string // extra help text
	flags   func(fs *flag.FlagSet, a *app) func() error
	run     func(ctx context.Context, a *app, args []string) error
	sub     []*command
}

func commands() []*command {
	return []*command{
		versionCommand(),
		verifyCommand(),
		keysCommand(),
		replayCommand(),
		projectionsCommand(),
		accountsCommand(),
		contactsCommand(),
		campaignsCommand(),
		runCommand(),
		demoCommand(),
		chatCommand(),
		scenarioCommand(),
		{
			name:    "bench",
			summary: "measure the event log on this machine",
			sub:     []*command{benchAppendCommand(), benchReadCommand(), benchRebuildCommand(), benchAccountsCommand(), benchImportCommand()},
		},
	}
}

// Run executes the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) int {
	return newApp(stdin, stdout, stderr, getenv).main(ctx, args)
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, getenv env) *app {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	a.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a.cfg = configFromEnv(getenv)
	return a
}

func (a *app) main(ctx context.Context, args []string) int {
	stdout, stderr := a.stdout, a.stderr

	cmds := commands()
	var path []string
	for {
		if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
			if len(args) > 1 && args[0] == "help" {
				args = append(args[1:], "--help")
				continue
			}
			printGroup(stdout, path, cmds)
			if len(args) == 0 && len(path) == 0 {
				return exitUsage
			}
			return exitOK
		}
		c := find(cmds, args[0])
		if c == nil {
			fmt.Fprintf(stderr, "salesbot: unknown command %q (run 'salesbot help%s')\n", strings.Join(append(path, args[0]), " "), prefixSpace(path))
			return exitUsage
		}
		path = append(path, c.name)
		args = args[1:]
		if len(c.sub) > 0 {
			cmds = c.sub
			continue
		}
		return a.exec(ctx, c, path, args)
	}
}

func prefixSpace(path []string) string {
	if len(path) == 0 {
		return ""
	}
	return " " + strings.Join(path, " ")
}

func find(cmds []*command, name string) *command {
	for _, c := range cmds {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (a *app) exec(ctx context.Context, c *command, path []string, args []string) int {
	name := "salesbot " + strings.Join(path, " ")
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.cfg.register(fs)
	var check func() error
	if c.flags != nil {
		check = c.flags(fs, a)
	}
	positional, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printCommand(a.stdout, name, c, fs)
		return exitOK
	}
	if err != nil {
		err = usagef("%s", flagMessage(err))
	}
	if err == nil {
		err = resolveSecrets(fs, a.getenv)
	}
	if err == nil && check != nil {
		err = check()
	}
	if err == nil {
		err = a.cfg.validate()
	}
	if err == nil {
		err = c.run(ctx, a, positional)
	}
	// The adapters keep secrets out of their errors; this is the last
	// line of defence for what reaches the terminal.
	hide := append(secretValues(fs), redact.DSNSecrets(a.cfg.PostgresDSN)...)
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(a.stderr, "%s: %s (see '%s --help')\n", name, redact.String(ue.msg, hide...), name)
		return exitUsage
	default:
		fmt.Fprintf(a.stderr, "%s: %s\n", name, redact.String(err.Error(), hide...))
		return exitFail
	}
}

// parseInterspersed parses flags anywhere among the arguments (the flag
// package stops at the first positional one), so `replay dialog 7 --json`
// works; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
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

func printGroup(w io.Writer, path []string, cmds []*command) {
	fmt.Fprintf(w, "salesbot %s — AI sales assistant for Telegram on an event-sourced log.\n\n", version)
	fmt.Fprintf(w, "Usage: salesbot%s <command> [flags]\n\nCommands:\n", prefixSpace(path))
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'salesbot%s <command> --help' for a command's flags.\n", prefixSpace(path))
	fmt.Fprintf(w, "Every flag can also be set by environment variable; a flag wins over its variable.\n")
	fmt.Fprintf(w, "Secrets also come from files (--bot-token-file, SALESBOT_BOT_TOKEN_FILE, ...) or systemd credentials ($%s).\n", credentialsDirEnv)
}

func printCommand(w io.Writer, name string, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s [flags]%s\n\n%s.\n", name, c.usage, words.Capitalize(c.summary))
	if c.details != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.details))
	}
	fmt.Fprintf(w, "\nFlags:\n")
	var lines []string
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
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

// config is the global configuration shared by every command.
type config struct {
	DataDir       string
	PostgresDSN   string // a secret: from --postgres, --postgres-file, ...
	MasterKeyFile string // empty: <data-dir>/master.key
	trustConfig
	set map[string]bool
}

func configFromEnv(getenv env) config {
	c := config{DataDir: "./data"}
	if v := getenv("SALESBOT_DATA_DIR"); v != "" {
		c.DataDir = v
	}
	c.MasterKeyFile = getenv("SALESBOT_MASTER_KEY_FILE")
	if p := credentialPath(getenv(credentialsDirEnv), masterKeyCredential); c.MasterKeyFile == "" && p != "" {
		if _, err := os.Stat(p); err == nil {
			c.MasterKeyFile = p
		}
	}
	c.trustConfig.fromEnv(getenv)
	return c
}

func (c *config) register(fs *flag.FlagSet) {
	c.set = map[string]bool{}
	fs.Func("data-dir", "`directory` of the event log and its secrets [SALESBOT_DATA_DIR] (default \"./data\")", func(v string) error {
		c.DataDir, c.set["data-dir"] = v, true
		return nil
	})
	secretFlag(fs, &c.PostgresDSN, "postgres", "SALESBOT_POSTGRES_DSN", "postgres-dsn", "the PostgreSQL DSN",
		"PostgreSQL `DSN` for the read models; empty = embedded in-memory read models")
	fs.Func("master-key-file", "32-byte master key `file`, created with mode 0600 if absent; 'run' wants it outside the data dir [SALESBOT_MASTER_KEY_FILE] (default: the systemd credential \""+masterKeyCredential+"\" in $"+credentialsDirEnv+", else \"<data-dir>/master.key\")", func(v string) error {
		c.MasterKeyFile, c.set["master-key-file"] = v, true
		return nil
	})
	c.trustConfig.register(fs)
}

// validate checks the global values, naming the flag (and variable) at fault.
func (c *config) validate() error {
	if strings.TrimSpace(c.DataDir) == "" {
		return usagef("--data-dir (SALESBOT_DATA_DIR) must not be empty")
	}
	if fi, err := os.Stat(c.DataDir); err == nil && !fi.IsDir() {
		return usagef("--data-dir (SALESBOT_DATA_DIR): %s is a file, not a directory", c.DataDir)
	}
	if c.MasterKeyFile != "" {
		if fi, err := os.Stat(c.MasterKeyFile); err == nil && fi.IsDir() {
			return usagef("--master-key-file (SALESBOT_MASTER_KEY_FILE): %s is a directory", c.MasterKeyFile)
		}
	}
	if dsn := c.PostgresDSN; dsn != "" {
		if err := projections.CheckDSN(dsn); err != nil {
			return usagef("--postgres (SALESBOT_POSTGRES_DSN): %v", redact.Error(err, redact.DSNSecrets(dsn)...))
		}
	}
	return c.trustConfig.validate()
}

func (c *config) keyFile() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, "master.key")
}

// storeMode says how a command opens the log.
type storeMode int

const (
	createLog   storeMode = iota // create the log (and master key) if absent
	existingLog                  // the log and the master key must exist
	readLog                      // like existingLog, read-only: changes no byte (replay)
	auditLog                     // read-only, and open a damaged log for verify to report
)

// openStore opens the event log in the data dir, checked against its
// anchor; a signal abandons an open that hangs (eventstore.OpenDir).
func (a *app) openStore(ctx context.Context, mode storeMode) (*eventstore.PebbleStore, error) {
	s, err := eventstore.OpenDir(ctx, a.cfg.DataDir, a.dirOptions(mode))
	return s, a.storeError(err)
}

// dirOptions are the flags' eventstore options for a mode.
func (a *app) dirOptions(mode storeMode) eventstore.DirOptions {
	readOnly := mode == readLog || mode == auditLog
	return eventstore.DirOptions{
		KeyFile: a.cfg.keyFile(), Create: mode == createLog,
		KeyCreated: func(path string) {
			fmt.Fprintf(a.stderr, "salesbot: created master key %s (mode 0600); keep a copy: without it secrets and personal data cannot be read\n", path)
		},
		Options: eventstore.Options{Logger: a.log, ForAudit: mode == auditLog, ReadOnly: readOnly, AnchorFile: a.cfg.AnchorFile, MinFreeBytes: a.cfg.minFreeBytes},
	}
}

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print the version and build information",
		run: func(_ context.Context, a *app, args []string) error {
			if len(args) > 0 {
				return usagef("takes no arguments, got %q", args)
			}
			fmt.Fprintf(a.stdout, "salesbot %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
