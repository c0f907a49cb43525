package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/gotd/td/telegram"

	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// masterKeyCredential is the systemd credential holding the master key.
const masterKeyCredential = "master-key"

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK    = cli.ExitOK
	exitFail  = cli.ExitFail  // the command ran and failed (verify found tampering, I/O error)
	exitUsage = cli.ExitUsage // bad command line or configuration
)

// usagef is a usage error (exit 2).
var usagef = cli.Usagef

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

// command is one subcommand (or a group with subcommands): a
// cli.Command whose flags and run are handed the invocation's app.
type command struct {
	name    string
	summary string
	usage   string // after "salesbot <path>"; may be empty
	noArgs  bool   // takes no positional arguments
	flags   func(fs *flag.FlagSet, a *app) func() error
	run     func(ctx context.Context, a *app, args []string) error
	sub     []*command
}

// helpText is the longer help of the commands: after "## <path>", up to
// the next such line.
//
//go:embed help.txt
var helpText string

// details is the longer help of the command at path ("campaigns create").
func details(path string) string {
	_, text, _ := strings.Cut(helpText, "## "+path+"\n")
	text, _, _ = strings.Cut(text, "\n## ")
	return text
}

// bind makes cs, below path, the cli's commands, run with a.
func (a *app) bind(path string, cs []*command) []*cli.Command {
	out := make([]*cli.Command, len(cs))
	for i, c := range cs {
		p := strings.TrimSpace(path + " " + c.name)
		out[i] = &cli.Command{Name: c.name, Summary: c.summary, Usage: c.usage, Details: details(p), NoArgs: c.noArgs, Sub: a.bind(p, c.sub)}
		if c.flags != nil {
			out[i].Flags = func(fs *flag.FlagSet) func() error { return c.flags(fs, a) }
		}
		if c.run != nil {
			out[i].Run = func(ctx context.Context, args []string) error { return c.run(ctx, a, args) }
		}
	}
	return out
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
		tokensCommand(),
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

// main runs args as a's command line.
func (a *app) main(ctx context.Context, args []string) int {
	p := &cli.Program{
		Name:  "salesbot",
		Title: "salesbot " + version + " — AI sales assistant for Telegram on an event-sourced log.",
		Footer: "Every flag can also be set by environment variable; a flag wins over its variable.\n" +
			"Secrets also come from files (--bot-token-file, SALESBOT_BOT_TOKEN_FILE, ...) or systemd credentials ($" + cli.CredentialsDirEnv + ").\n",
		Commands: a.bind("", commands()),
		Stdout:   a.stdout, Stderr: a.stderr, Getenv: a.getenv,
		Global: func(fs *flag.FlagSet) func() error {
			a.cfg.register(fs)
			return a.cfg.validate
		},
		Hide: func() []string { return redact.DSNSecrets(a.cfg.PostgresDSN) },
	}
	return p.Main(ctx, args)
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, getenv env) *app {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	a.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a.cfg = configFromEnv(getenv)
	return a
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
	if p := cli.CredentialPath(getenv(cli.CredentialsDirEnv), masterKeyCredential); c.MasterKeyFile == "" && p != "" {
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
	cli.SecretFlag(fs, &c.PostgresDSN, "postgres", "SALESBOT_POSTGRES_DSN", "postgres-dsn", "the PostgreSQL DSN",
		"PostgreSQL `DSN` for the read models; empty = embedded in-memory read models")
	fs.Func("master-key-file", "32-byte master key `file`, created with mode 0600 if absent; 'run' wants it outside the data dir [SALESBOT_MASTER_KEY_FILE] (default: the systemd credential \""+masterKeyCredential+"\" in $"+cli.CredentialsDirEnv+", else \"<data-dir>/master.key\")", func(v string) error {
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
		noArgs:  true,
		run: func(_ context.Context, a *app, _ []string) error {
			fmt.Fprintf(a.stdout, "salesbot %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
