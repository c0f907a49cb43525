package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/gotd/td/telegram"

	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

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
	cfg            datadir.Config
	logs           cli.LogOptions
	log            *slog.Logger
	// telegram overrides the gotd options that reach Telegram (tests point
	// them at a sandbox); nil = Telegram's servers.
	telegram *telegram.Options
	// onSandbox, if set, is handed the sandbox 'run --sandbox' starts
	// (tests watch it).
	onSandbox func(*telegramtest.Sandbox)
	// onDemo, if set, is handed what 'demo' found (its end-to-end test).
	onDemo func(*demo.Report)
	args   []string // the command line, for a server to run (remote.go)
	// live is set when the command runs inside run for a client, with the
	// client's files and terminal.
	live  *live
	files cli.Files
	ask   cli.Asker
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
	// remote: while run runs on the data dir (or with --server), the
	// command runs there, for principals of this scope; "": never.
	remote domain.Scope
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
			out[i].Run = func(ctx context.Context, args []string) error {
				if ran, err := a.throughServer(ctx, p, c.remote); ran {
					return err
				}
				return c.run(ctx, a, args)
			}
		}
	}
	return out
}

func commands() []*command {
	return []*command{
		versionCommand(),
		verifyCommand(),
		backupCommand(),
		webCommand(),
		restoreCommand(),
		keysCommand(),
		replayCommand(),
		projectionsCommand(),
		accountsCommand(),
		contactsCommand(),
		campaignsCommand(),
		tokensCommand(),
		webhooksCommand(),
		runCommand(),
		demoCommand(),
		chatCommand(),
		scenarioCommand(),
		logCommand(),
		clusterCommand(),
		{
			name:    "bench",
			summary: "measure the event log on this machine",
			sub:     []*command{benchAppendCommand(), benchReadCommand(), benchRebuildCommand(), benchAccountsCommand(), benchImportCommand(), benchAPICommand(), benchStartCommand(), benchPipelineCommand()},
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
		Stdout:   a.stdout, Stderr: a.stderr, Getenv: a.getenv, ReadFile: a.files,
		Global: func(fs *flag.FlagSet) func() error {
			a.cfg.Register(fs)
			a.logs.Register(fs, a.getenv)
			return func() error {
				if err := a.logs.Validate(); err != nil {
					return err
				}
				a.log = a.logs.Logger(a.stderr)
				return a.cfg.Validate()
			}
		},
		Hide: func() []string { return redact.DSNSecrets(a.cfg.PostgresDSN) },
	}
	a.args = args
	return p.Main(ctx, args)
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, getenv env) *app {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	a.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a.cfg = datadir.FromEnv(getenv)
	return a
}

// openStore opens the event log of a command: run's when the command
// runs inside the server (--server), else the one in the data dir,
// checked against its anchor; a signal abandons an open that hangs
// (eventstore.OpenDir). With $SALESBOT_LOG_URL set the log is on NATS
// JetStream, shared by running nodes: the command is refused rather than
// run on a data dir no node reads.
func (a *app) openStore(ctx context.Context, mode datadir.Mode) (eventstore.Log, error) {
	if a.live != nil {
		return eventstore.Retain(a.live.store), nil // run's, open: each Close lets go of it
	}
	if a.getenv(datadir.LogURLEnv) != "" {
		return nil, usagef("%s is set: the log is on NATS JetStream, and this command works on the log in --data-dir, which the nodes do not read; "+
			"run it in a node: on a node's machine with the node's --data-dir, or with --server URL --token (docs/scale-out.md); or unset %s to work on --data-dir %s", datadir.LogURLEnv, datadir.LogURLEnv, a.cfg.DataDir)
	}
	return a.openDir(ctx, mode)
}

// openDir opens the event log in the data dir.
func (a *app) openDir(ctx context.Context, mode datadir.Mode) (*eventstore.PebbleStore, error) {
	s, err := eventstore.OpenDir(ctx, a.cfg.DataDir, a.cfg.Options(mode, a.log, a.stderr))
	return s, a.cfg.Explain(err)
}

// openPebble is openStore for what works on a log in a data dir only
// (the benches' and the demo's own logs).
func (a *app) openPebble(ctx context.Context, mode datadir.Mode) (*eventstore.PebbleStore, error) {
	if a.live == nil {
		return a.openDir(ctx, mode)
	}
	if p, ok := eventstore.Retain(a.live.store).(*eventstore.PebbleStore); ok {
		return p, nil
	}
	return nil, usagef("this command works on a log in --data-dir, and the server's log is on NATS JetStream")
}

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print the version and build information",
		noArgs:  true,
		run: func(_ context.Context, a *app, _ []string) error {
			fmt.Fprintf(a.stdout, "salesbot %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			if bi, ok := debug.ReadBuildInfo(); ok { // the commit it was built from, when built in a git checkout
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" || s.Key == "vcs.time" || s.Key == "vcs.modified" {
						fmt.Fprintf(a.stdout, "%s: %s\n", s.Key, s.Value)
					}
				}
			}
			return nil
		},
	}
}

// envOr is the environment variable key, or def when it is empty or unset.
func (a *app) envOr(key, def string) string {
	if v := a.getenv(key); v != "" {
		return v
	}
	return def
}
