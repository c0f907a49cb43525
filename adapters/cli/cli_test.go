package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"math"
	"strings"
	"testing"
)

// program is a small command line: "greet [--loud] NAME", "store get"
// (a group), "fail", "secret --token T" (fails, naming the token).
func program(stdout, stderr *bytes.Buffer, env map[string]string) *Program {
	var loud bool
	var token, dataDir string
	var ran []string
	return &Program{
		Name: "prog", Title: "prog 1.0 — a test.", Footer: "Footer line.\n",
		Stdout: stdout, Stderr: stderr,
		Getenv: func(k string) string { return env[k] },
		Global: func(fs *flag.FlagSet) func() error {
			fs.StringVar(&dataDir, "data-dir", "./data", "data `directory`")
			return func() error {
				if dataDir == "" {
					return Usagef("--data-dir must not be empty")
				}
				return nil
			}
		},
		Commands: []*Command{
			{Name: "greet", Summary: "say hello", Usage: " NAME", Details: "Greets NAME.",
				Flags: func(fs *flag.FlagSet) func() error {
					fs.BoolVar(&loud, "loud", false, "shout")
					return nil
				},
				Run: func(_ context.Context, args []string) error {
					if len(args) != 1 {
						return Usagef("give one name")
					}
					msg := "hello " + args[0]
					if loud {
						msg = strings.ToUpper(msg)
					}
					stdout.WriteString(msg + "\n")
					return nil
				}},
			{Name: "store", Summary: "the store", Sub: []*Command{
				{Name: "get", Summary: "get it", NoArgs: true, Run: func(context.Context, []string) error {
					ran = append(ran, "get")
					return nil
				}},
			}},
			{Name: "fail", Summary: "fail", Run: func(context.Context, []string) error {
				return errors.New("disk on fire")
			}},
			{Name: "secret", Summary: "fail with a secret",
				Flags: func(fs *flag.FlagSet) func() error {
					SecretFlag(fs, &token, "token", "PROG_TOKEN", "token", "the token", "the `token`")
					return nil
				},
				Run: func(context.Context, []string) error {
					return errors.New("server refused token " + token)
				}},
		},
	}
}

func TestProgramMain(t *testing.T) {
	cases := []struct {
		args       []string
		env        map[string]string
		code       int
		out, err   string // substrings of stdout, stderr
		notOut     string
		notErr     string
		stderrLine bool // stderr is one line
	}{
		{args: nil, code: ExitUsage, out: "prog 1.0 — a test.\n\nUsage: prog <command> [flags]\n\nCommands:\n  greet      say hello\n"},
		{args: []string{"help"}, code: ExitOK, out: "Footer line.\n"},
		{args: []string{"help", "greet"}, code: ExitOK, out: "Usage: prog greet [flags] NAME\n\nSay hello.\n\nGreets NAME.\n\nFlags:\n  --data-dir directory\n        data directory (default \"./data\")\n  --loud\n        shout\n"},
		{args: []string{"store"}, code: ExitOK, out: "Usage: prog store <command> [flags]"},
		{args: []string{"greet", "ann", "--loud"}, code: ExitOK, out: "HELLO ANN\n"}, // flags after arguments
		{args: []string{"greet", "--", "--loud"}, code: ExitOK, out: "hello --loud\n"},
		{args: []string{"greet"}, code: ExitUsage, err: "prog greet: give one name (see 'prog greet --help')\n", stderrLine: true},
		{args: []string{"greet", "x", "--lod"}, code: ExitUsage, err: "flag provided but not defined: --lod", stderrLine: true},
		{args: []string{"greet", "x", "--data-dir", ""}, code: ExitUsage, err: "--data-dir must not be empty"},
		{args: []string{"nope"}, code: ExitUsage, err: "prog: unknown command \"nope\" (run 'prog help')\n"},
		{args: []string{"store", "put"}, code: ExitUsage, err: "unknown command \"store put\" (run 'prog help store')"},
		{args: []string{"store", "get", "x"}, code: ExitUsage, err: `takes no arguments, got ["x"]`},
		{args: []string{"store", "get"}, code: ExitOK},
		{args: []string{"fail"}, code: ExitFail, err: "prog fail: disk on fire\n"},
		{args: []string{"secret", "--token", "s3cr3t-value"}, code: ExitFail, err: "server refused token", notErr: "s3cr3t-value"},
		{args: []string{"secret"}, env: map[string]string{"PROG_TOKEN": "env-s3cr3t"}, code: ExitFail, notErr: "env-s3cr3t"},
		{args: []string{"secret", "--token", "a", "--token-file", "/nonexistent"}, code: ExitUsage, err: "give --token or --token-file, not both"},
		{args: []string{"help", "secret"}, code: ExitOK, out: "--token-file file", notOut: "s3cr3t"},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := program(&stdout, &stderr, c.env).Main(context.Background(), c.args)
		if code != c.code || !strings.Contains(stdout.String(), c.out) || !strings.Contains(stderr.String(), c.err) ||
			(c.notErr != "" && strings.Contains(stderr.String(), c.notErr)) || (c.notOut != "" && strings.Contains(stdout.String(), c.notOut)) ||
			(c.stderrLine && strings.Count(stderr.String(), "\n") != 1) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d", c.args, code, stdout.String(), stderr.String(), c.code)
		}
	}
}

func TestIntRange(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int
		err  string
	}{
		{nil, 5, ""},
		{[]string{"--n", "1"}, 1, ""},
		{[]string{"--n", "10"}, 10, ""},
		{[]string{"--n", "0"}, 0, "must be 1..10, got 0"},
		{[]string{"--n", "11"}, 0, "must be 1..10, got 11"},
		{[]string{"--n", "x"}, 0, `"x" is not a whole number`},
		{[]string{"--m", "-1"}, 0, "must be at least 0, got -1"},
	} {
		var n, m int
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		IntRange(fs, &n, "n", 5, 1, 10, "`n`")
		IntRange(fs, &m, "m", 0, 0, math.MaxInt, "m")
		_, err := ParseInterspersed(fs, c.args)
		if c.err == "" && (err != nil || n != c.want) || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%q: n=%d err=%v; want %d %q", c.args, n, err, c.want, c.err)
		}
	}
}

func TestLogOptions(t *testing.T) {
	for _, c := range []struct {
		env     map[string]string
		args    []string
		bad     string // the option a usage error names
		json    bool
		debugOK bool
	}{
		{args: nil},
		{args: []string{"--log-format", "json", "--log-level", "debug"}, json: true, debugOK: true},
		{env: map[string]string{"SALESBOT_LOG_FORMAT": "json", "SALESBOT_LOG_LEVEL": "WARN"}, json: true},
		{args: []string{"--log-format", "yaml"}, bad: "--log-format"},
		{args: []string{"--log-level", "loud"}, bad: "--log-level"},
	} {
		var o LogOptions
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		o.Register(fs, func(k string) string { return c.env[k] })
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		err := o.Validate()
		var ue *UsageError
		if c.bad != "" {
			if !errors.As(err, &ue) || !strings.HasPrefix(ue.Msg, c.bad) {
				t.Errorf("%v: %v, want a usage error naming %s", c.args, err, c.bad)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		var b strings.Builder
		l := o.Logger(&b)
		l.Debug("d")
		l.Info("i", "k", 1)
		out := b.String()
		if c.env["SALESBOT_LOG_LEVEL"] == "WARN" {
			if out != "" {
				t.Errorf("warn level logged info: %q", out)
			}
			continue
		}
		if strings.HasPrefix(out, "{") != c.json || strings.Contains(out, "msg=d") != (c.debugOK && !c.json) || strings.Contains(out, `"msg":"d"`) != (c.debugOK && c.json) {
			t.Errorf("%v %v: logged %q", c.env, c.args, out)
		}
	}
}
