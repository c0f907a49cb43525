package datadir

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/storebench"
)

// LogURLEnv names the variable that gives --log.
const LogURLEnv = "SALESBOT_LOG_URL"

// LogFlag registers --log on fs (a command that works on a log on NATS
// JetStream instead of the data dir's), defaulting to $SALESBOT_LOG_URL.
func LogFlag(fs *flag.FlagSet, dst *string, getenv func(string) string) {
	fs.StringVar(dst, "log", getenv(LogURLEnv), "event log on NATS JetStream, `nats://host:4222/NAME` (user:pass@ allowed; ?replicas=3 on a cluster), instead of the one in --data-dir ["+LogURLEnv+"]")
}

// OpenLog opens the JetStream log at rawURL for mode, with the master key
// of --master-key-file (created in mode Create, announced on stderr), or
// with opts.PublicKey alone if it is set (mode Read or Audit). Errors
// never show the URL's credentials.
func (c *Config) OpenLog(ctx context.Context, rawURL string, mode Mode, opts eventstore.Options, stderr io.Writer) (*eventstore.JetStreamStore, error) {
	if _, err := eventstore.ParseLogURL(rawURL); err != nil {
		return nil, cli.Usagef("--log (%s): %v", LogURLEnv, err)
	}
	opts.ReadOnly = mode == Read || mode == Audit
	opts.MustExist = mode != Create
	if opts.PublicKey == nil {
		key, created, err := eventstore.LoadMasterKey(c.KeyFile(), mode == Create)
		if err != nil {
			return nil, c.Explain(err)
		}
		if created {
			fmt.Fprintf(stderr, "salesbot: created master key %s (mode 0600); keep a copy: without it secrets and personal data cannot be read\n", c.KeyFile())
		}
		opts.MasterKey = key
	}
	s, err := eventstore.OpenJetStream(ctx, rawURL, opts)
	if errors.Is(err, eventstore.ErrNoLog) {
		return nil, fmt.Errorf("%w (check --log)", err)
	}
	return s, err
}

// WithLog opens the JetStream log at rawURL as OpenLog does, runs fn on
// it and closes it.
func (c *Config) WithLog(ctx context.Context, rawURL string, mode Mode, opts eventstore.Options, stderr io.Writer, fn func(*eventstore.JetStreamStore) error) error {
	s, err := c.OpenLog(ctx, rawURL, mode, opts, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// BenchLog runs the append bench (storebench.Append) on the JetStream log
// at rawURL, which must hold no events yet, and hands print its result:
// the line 'bench append --log' prints after Pebble's.
func (c *Config) BenchLog(ctx context.Context, rawURL string, p storebench.Params, log *slog.Logger, stderr io.Writer, print func(storebench.Result)) error {
	return c.WithLog(ctx, rawURL, Create, eventstore.Options{Logger: log}, stderr, func(s *eventstore.JetStreamStore) error {
		res, err := storebench.AppendNew(ctx, s, "jetstream", p)
		if err != nil {
			return fmt.Errorf("--log %s: %w", s.URL(), err)
		}
		print(res)
		return nil
	})
}
