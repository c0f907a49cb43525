package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/salesbot/salesbot/adapters/app/audit"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

func verifyCommand() *command {
	var (
		asJSON                      bool
		publicKeyFile, want, logURL string
		o                           audit.VerifyOptions
	)
	return &command{
		name:    "verify",
		remote:  domain.ScopeRead,
		summary: "prove the event log was not altered",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.BoolVar(&asJSON, "json", false, "print the result as one JSON line")
			fs.StringVar(&publicKeyFile, "public-key", "", "verify with this public key `file` instead of the master key (see 'salesbot keys public')")
			datadir.LogFlag(fs, &logURL, a.getenv)
			fs.StringVar(&want, "expect-head", "", "`POS:HASH` the log must hold: the hash of the event at position POS, as a previous verify printed it")
			return func() error {
				if want == "" {
					return nil
				}
				head, err := audit.ParseHead(want)
				if err != nil {
					return usagef("--expect-head: %v", err)
				}
				o.Expect = &head
				return nil
			}
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			if !asJSON {
				o.Progress = a.stderr
			}
			opts, err := a.cfg.Options(datadir.Audit, a.log, a.stderr), error(nil)
			if publicKeyFile != "" {
				opts, err = a.auditorOptions(publicKeyFile)
			}
			var rep audit.Report
			switch {
			case err == nil && logURL != "": // a log on JetStream
				err = a.cfg.WithLog(ctx, logURL, datadir.Audit, opts.Options, a.stderr, func(s *eventstore.JetStreamStore) (err error) {
					rep, err = audit.VerifyLog(ctx, s, o)
					return err
				})
			case a.live != nil && publicKeyFile != "":
				return usagef("--public-key: run holds this data dir and verifies it with its own keys; an auditor with the public key verifies a copy of the dir")
			case err == nil && a.live != nil: // run's open log, from a snapshot
				rep, err = audit.VerifyLog(ctx, a.live.store, o)
				rep.AnchorFile = opts.Anchor()
			case err == nil:
				rep, err = audit.Verify(ctx, a.cfg.DataDir, opts, o)
			}
			failed := audit.Failed(err)
			if !failed {
				err = a.cfg.Explain(err)
			}
			switch {
			case asJSON:
				rep.WriteJSON(a.stdout, err)
				return err
			case failed:
				return fmt.Errorf("FAILED: %w", a.cfg.Explain(err))
			case err != nil:
				return err
			}
			return rep.WriteText(a.stdout)
		},
	}
}

// auditorOptions open the log with the public key in file alone
// ('verify --public-key') and the anchor only if one is given.
func (a *app) auditorOptions(file string) (eventstore.DirOptions, error) {
	b, err := a.files.ReadFile(file)
	if err != nil {
		return eventstore.DirOptions{}, usagef("--public-key: %v", err)
	}
	pub, err := eventstore.ParsePublicKey(b)
	if err != nil {
		return eventstore.DirOptions{}, usagef("--public-key %s: %v", file, err)
	}
	return eventstore.DirOptions{Options: eventstore.Options{PublicKey: pub, AnchorFile: a.cfg.AnchorFile, Logger: a.log}}, nil
}

func keysCommand() *command {
	return &command{
		name:    "keys",
		summary: "print the log's public key, for auditors",
		sub: []*command{{
			name:    "public",
			summary: "print the Ed25519 public key that checks the log's signatures",
			noArgs:  true,
			run: func(_ context.Context, a *app, _ []string) error {
				key, _, err := eventstore.LoadMasterKey(a.cfg.KeyFile(), false)
				if err != nil {
					return a.cfg.Explain(err)
				}
				pub, err := eventstore.PublicKey(key)
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, eventstore.FormatPublicKey(pub))
				return nil
			},
		}},
	}
}
