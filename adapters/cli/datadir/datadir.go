// Package datadir is what every salesbot command has: the data dir with
// its event log, the master key and anchor that guard it, the PostgreSQL
// read models, and the running server a command may go through instead.
// It holds their options (flags and variables), opens the log and the
// read models as a command asks, and says which option mends a failure.
package datadir

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/cli/remote"
	"github.com/salesbot/salesbot/adapters/redact"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// MasterKeyCredential is the systemd credential holding the master key.
const MasterKeyCredential = "master-key"

// Config is the options every command has.
type Config struct {
	DataDir       string
	PostgresDSN   string // a secret: from --postgres, --postgres-file, ...
	MasterKeyFile string // empty: <data-dir>/master.key
	AnchorFile    string // empty: next to the master key
	MinFreeText   string
	MinFreeBytes  int64  // parsed from MinFreeText; -1 = no floor
	Server, Token string // --server, --token: a remote server
	// Set says which options were given on the command line.
	Set map[string]bool
}

// FromEnv is the configuration the environment gives.
func FromEnv(getenv func(string) string) Config {
	c := Config{DataDir: "./data", MasterKeyFile: getenv("SALESBOT_MASTER_KEY_FILE"), AnchorFile: getenv("SALESBOT_ANCHOR_FILE"),
		MinFreeText: getenv("SALESBOT_MIN_FREE_SPACE"), Server: getenv("SALESBOT_SERVER"), Set: map[string]bool{}}
	if v := getenv("SALESBOT_DATA_DIR"); v != "" {
		c.DataDir = v
	}
	if p := cli.CredentialPath(getenv(cli.CredentialsDirEnv), MasterKeyCredential); c.MasterKeyFile == "" && p != "" {
		if _, err := os.Stat(p); err == nil {
			c.MasterKeyFile = p
		}
	}
	if c.MinFreeText == "" {
		c.MinFreeText = "64MiB"
	}
	return c
}

// Register registers the options on fs.
func (c *Config) Register(fs *flag.FlagSet) {
	c.Set = map[string]bool{}
	set := func(name string, dst *string) func(string) error {
		return func(v string) error {
			*dst, c.Set[name] = v, true
			return nil
		}
	}
	fs.Func("data-dir", "`directory` of the event log and its secrets [SALESBOT_DATA_DIR] (default \"./data\")", set("data-dir", &c.DataDir))
	cli.SecretFlag(fs, &c.PostgresDSN, "postgres", "SALESBOT_POSTGRES_DSN", "postgres-dsn", "the PostgreSQL DSN",
		"PostgreSQL `DSN` for the read models; empty = embedded in-memory read models")
	fs.Func("master-key-file", "32-byte master key `file`, created with mode 0600 if absent; 'run' wants it outside the data dir [SALESBOT_MASTER_KEY_FILE] (default: the systemd credential \""+
		MasterKeyCredential+"\" in $"+cli.CredentialsDirEnv+", else \"<data-dir>/master.key\")", set("master-key-file", &c.MasterKeyFile))
	fs.StringVar(&c.AnchorFile, "anchor-file", c.AnchorFile, "`file` outside the data dir that holds the log's latest signed head; run and verify refuse a log behind it [SALESBOT_ANCHOR_FILE] (default \"anchor.json\" next to the master key)")
	fs.StringVar(&c.MinFreeText, "min-free-space", c.MinFreeText, "free disk `size` the log keeps (e.g. 64MiB, 1GiB; 0 = none): below it salesbot refuses to start and stops writing [SALESBOT_MIN_FREE_SPACE]")
	fs.Func("server", "`URL` of a running salesbot (http(s)://host:port) to run this command on, with --token; default: the one running on --data-dir, if any [SALESBOT_SERVER]", set("server", &c.Server))
	cli.SecretFlag(fs, &c.Token, "token", "SALESBOT_TOKEN", "api-token", "the API token for --server", "API `token` for --server")
}

// Validate checks the values, naming the option (and variable) at fault.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.DataDir) == "" {
		return cli.Usagef("--data-dir (SALESBOT_DATA_DIR) must not be empty")
	}
	if fi, err := os.Stat(c.DataDir); err == nil && !fi.IsDir() {
		return cli.Usagef("--data-dir (SALESBOT_DATA_DIR): %s is a file, not a directory", c.DataDir)
	}
	for _, f := range []struct{ path, name string }{{c.MasterKeyFile, "--master-key-file (SALESBOT_MASTER_KEY_FILE)"}, {c.AnchorFile, "--anchor-file (SALESBOT_ANCHOR_FILE)"}} {
		if fi, err := os.Stat(f.path); f.path != "" && err == nil && fi.IsDir() {
			return cli.Usagef("%s: %s is a directory", f.name, f.path)
		}
	}
	if dsn := c.PostgresDSN; dsn != "" {
		if err := projections.CheckDSN(dsn); err != nil {
			return cli.Usagef("--postgres (SALESBOT_POSTGRES_DSN): %v", redact.Error(err, redact.DSNSecrets(dsn)...))
		}
	}
	n, err := eventstore.ParseBytes(c.MinFreeText)
	if err != nil {
		return cli.Usagef("--min-free-space (SALESBOT_MIN_FREE_SPACE): %v", err)
	}
	c.MinFreeBytes = n
	if n == 0 {
		c.MinFreeBytes = -1
	}
	return nil
}

// KeyFile is the master key's file.
func (c *Config) KeyFile() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, "master.key")
}

// CheckKeyOutside refuses a master key inside the data dir: a copy of
// the directory would carry everything needed to read it and forge the
// log.
func (c *Config) CheckKeyOutside() error {
	key := c.KeyFile()
	if in, err := eventstore.KeyInDataDir(c.DataDir, key); err != nil || !in {
		return err
	}
	return cli.Usagef("the master key %s is inside the data dir %s, so a copy of the directory gives away every session and all personal data: "+
		"move it out (e.g. to /etc/salesbot/master.key, mode 0600, owned by the salesbot user) and give --master-key-file (SALESBOT_MASTER_KEY_FILE), "+
		"or load it as the systemd credential %q (docs/operations.md)", key, c.DataDir, MasterKeyCredential)
}

// Mode says how a command opens the log.
type Mode int

const (
	Create   Mode = iota // create the log (and master key) if absent
	Existing             // the log and the master key must exist
	Read                 // like Existing, read-only: changes no byte (replay)
	Audit                // read-only, and open a damaged log for verify to report
)

// Options are the eventstore options of the configuration for mode; a
// master key created is announced on stderr.
func (c *Config) Options(mode Mode, log *slog.Logger, stderr io.Writer) eventstore.DirOptions {
	readOnly := mode == Read || mode == Audit
	return eventstore.DirOptions{
		KeyFile: c.KeyFile(), Create: mode == Create,
		KeyCreated: func(path string) {
			fmt.Fprintf(stderr, "salesbot: created master key %s (mode 0600); keep a copy: without it secrets and personal data cannot be read\n", path)
		},
		Options: eventstore.Options{Logger: log, ForAudit: mode == Audit, ReadOnly: readOnly, AnchorFile: c.AnchorFile, MinFreeBytes: c.MinFreeBytes},
	}
}

// Explain adds to what opening the log failed with the option or the
// step that mends it.
func (c *Config) Explain(err error) error {
	var (
		nl *eventstore.NoLogError
		km *eventstore.KeyMissingError
		aw *eventstore.AnchorWriteError
		ae *eventstore.AnchorError
		de *eventstore.DiskFullError
	)
	switch {
	case errors.As(err, &nl):
		return fmt.Errorf("%w (check --data-dir)", err)
	case errors.As(err, &km):
		return fmt.Errorf("%w (give --master-key-file)", err)
	case errors.As(err, &aw):
		return fmt.Errorf("%w (set --anchor-file to a writable place outside the data dir)", err)
	case errors.As(err, &ae):
		return fmt.Errorf("%w; restore the newest copy of %s, or, if an older backup was restored on purpose, move %s aside (keep it: it shows what was lost) and start again",
			err, c.DataDir, ae.File)
	case errors.As(err, &de):
		return fmt.Errorf("%w (or lower --min-free-space)", err)
	}
	return err
}

// OpenSink opens the PostgreSQL read models if configured, else memory
// ones; done closes them.
func (c *Config) OpenSink(ctx context.Context) (sink projections.Sink, done func(), err error) {
	if c.PostgresDSN == "" {
		return projections.NewMemory(), func() {}, nil
	}
	pg, err := projections.OpenPostgres(ctx, c.PostgresDSN)
	if err != nil {
		// pgx masks the password it can find; an unparsable DSN may
		// still show in its errors.
		return nil, nil, redact.Error(err, redact.DSNSecrets(c.PostgresDSN)...)
	}
	return pg, pg.Close, nil
}

// Target is the server a command of scope-needing path goes through:
// --server with --token, or the one on the data dir's socket. ok is
// false when it runs here: a command that never goes through a server
// (remote false) without --server.
func (c *Config) Target(path string, remotable bool) (t remote.Target, ok bool, err error) {
	switch {
	case !remotable && c.Set["server"]:
		return t, false, cli.Usagef("--server: '%s' runs here only, not through a server", path)
	case !remotable:
		return t, false, nil
	case c.Server == "":
		return remote.Target{Socket: remote.Socket(c.DataDir)}, true, nil
	case c.Token == "":
		return t, false, cli.Usagef("--server needs --token (SALESBOT_TOKEN): an API token ('salesbot tokens create')")
	}
	return remote.Target{URL: c.Server, Token: c.Token}, true, nil
}
