package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/salesbot/salesbot/adapters/app/audit"
	"github.com/salesbot/salesbot/eventstore"
)

func verifyCommand() *command {
	var (
		asJSON              bool
		publicKeyFile, want string
	)
	return &command{
		name:    "verify",
		summary: "prove the event log was not altered",
		details: `
Re-walks the whole log: every event must decode, follow the previous one
without a gap, carry the SHA-256 of the event before it, keep its stream's
versions contiguous and match the stream index; the last event must match
the chain tip, which is authenticated with the master key. Every key of a
contact whose personal data the log holds must be there, signed, or erased
by a signed tombstone bound to the event that recorded the erasure. The
log's latest signed head must match the chain, and so must the anchor
(--anchor-file): a log behind its anchor (an older copy restored, newest
events removed) fails. See docs/event-log.md for exactly what is proven.

Verify opens the data dir read-only and changes no byte in it.

--public-key FILE verifies without the master key (an auditor's check):
everything above but the event MACs and the chain tip, which need the
master key; events after the latest signed head are counted as unsigned.
Nothing personal is read. 'salesbot keys public' prints the key.

--expect-head POS:HASH also checks that the event at POS has the hash an
auditor wrote down earlier (printed by a previous verify).

Exit status: 0 intact, 1 altered, behind its anchor or unreadable (the
first bad position is named), 2 bad flags.`,
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.BoolVar(&asJSON, "json", false, "print the result as one JSON line")
			fs.StringVar(&publicKeyFile, "public-key", "", "verify with this public key `file` instead of the master key (see 'salesbot keys public')")
			fs.StringVar(&want, "expect-head", "", "`POS:HASH` the log must hold: the hash of the event at position POS, as a previous verify printed it")
			return func() error {
				if want != "" {
					if _, err := audit.ParseHead(want); err != nil {
						return usagef("--expect-head: %v", err)
					}
				}
				return nil
			}
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) > 0 {
				return usagef("takes no arguments, got %q", args)
			}
			var s *eventstore.PebbleStore
			var err error
			if publicKeyFile != "" {
				s, err = a.openForAuditor(publicKeyFile)
			} else {
				s, err = a.openStore(ctx, auditLog)
			}
			if err != nil {
				return reportVerify(a, asJSON, eventstore.VerifyReport{}, 0, err)
			}
			defer s.Close()
			start := time.Now()
			last := start
			rep, err := s.Verify(ctx, func(done, total uint64) {
				if !asJSON && time.Since(last) > time.Second {
					last = time.Now()
					fmt.Fprintf(a.stderr, "verify: %d/%d events\n", done, total)
				}
			})
			if err == nil && want != "" {
				head, _ := audit.ParseHead(want) // checked with the flags
				err = audit.ExpectHead(ctx, s, head)
			}
			return reportVerify(a, asJSON, rep, time.Since(start), err)
		},
	}
}

// openForAuditor opens the log read-only with a public key alone.
func (a *app) openForAuditor(file string) (*eventstore.PebbleStore, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, usagef("--public-key: %v", err)
	}
	pub, err := eventstore.ParsePublicKey(b)
	if err != nil {
		return nil, usagef("--public-key %s: %v", file, err)
	}
	anchor := a.cfg.AnchorFile // an auditor's anchor is given, never guessed
	s, err := eventstore.Open(a.cfg.DataDir, eventstore.Options{PublicKey: pub, ReadOnly: true, ForAudit: true, AnchorFile: anchor, Logger: a.log})
	if errors.Is(err, eventstore.ErrNoLog) {
		return nil, fmt.Errorf("no event log in %s (check --data-dir)", a.cfg.DataDir)
	}
	return s, err
}

func reportVerify(a *app, asJSON bool, rep eventstore.VerifyReport, took time.Duration, err error) error {
	if asJSON {
		b, _ := json.Marshal(audit.VerifyJSON(rep, took, err))
		fmt.Fprintln(a.stdout, string(b))
		return err
	}
	if err != nil {
		if errors.Is(err, eventstore.ErrTampered) || errors.Is(err, audit.ErrExpectedHead) {
			return fmt.Errorf("FAILED: %w", a.storeError(err))
		}
		return err
	}
	how := "with the master key"
	if rep.PublicKeyOnly {
		how = "with the public key"
	}
	fmt.Fprintf(a.stdout, "ok: %d events in %d streams intact, verified %s (%.2fs); head position %d hash %x\n",
		rep.Events, rep.Streams, how, took.Seconds(), rep.Events, rep.HeadHash)
	fmt.Fprintf(a.stdout, "log %s; %d contacts' keys present or erased by signed tombstones (%d erased, %d of them before erasures were bound to their event)\n",
		rep.LogID, rep.Subjects, rep.Erased, rep.Unbound)
	if h := rep.SignedHead; h != nil {
		fmt.Fprintf(a.stdout, "signed head: %s, signed %s; %d events after it\n", h, h.Time.Format(time.RFC3339), rep.Unsigned)
	} else {
		fmt.Fprintf(a.stdout, "signed head: none yet (the log is signed when salesbot next opens it for writing)\n")
	}
	if h := rep.Anchor; h != nil {
		fmt.Fprintf(a.stdout, "anchor: %s matches the log\n", h)
	} else if !rep.PublicKeyOnly || a.cfg.AnchorFile != "" {
		fmt.Fprintf(a.stdout, "anchor: none found, so a rollback to an older copy cannot be ruled out (see --anchor-file)\n")
	}
	if rep.UnsignedKeys > 0 {
		fmt.Fprintf(a.stdout, "note: %d key records are from before key records were signed; they are signed when salesbot next opens the log for writing\n", rep.UnsignedKeys)
	}
	return nil
}

func keysCommand() *command {
	return &command{
		name:    "keys",
		summary: "print the log's public key, for auditors",
		sub: []*command{{
			name:    "public",
			summary: "print the Ed25519 public key that checks the log's signatures",
			details: `
Derived from the master key. Give it to auditors: 'salesbot verify
--public-key FILE' checks the log with it, without the master key. It
cannot decrypt anything or forge a signature.`,
			run: func(_ context.Context, a *app, args []string) error {
				if len(args) > 0 {
					return usagef("takes no arguments, got %q", args)
				}
				key, err := a.masterKey(false)
				if err != nil {
					return err
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
