package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// importResult is what bench import prints.
type importResult struct {
	Rows         int     `json:"rows"`
	Concurrency  int     `json:"concurrency"`
	ParseSeconds float64 `json:"parse_seconds"`
	Seconds      float64 `json:"seconds"`
	RowsPerSec   float64 `json:"rows_per_sec"`
	Events       uint64  `json:"events"`
	Accepted     int     `json:"accepted"`
	Merged       int     `json:"merged"`
}

func benchImportCommand() *command {
	var rows, concurrency int
	var asJSON bool
	return &command{
		name:    "import",
		summary: "time a contacts import of generated rows",
		details: `
Generates a CSV of --rows rows (username, phone, name, tags and a custom
field; every 20th row repeats an earlier person), parses it and imports it
into a log in --data-dir (which must hold no events) or a temporary
directory, as 'salesbot contacts import' does; prints the parse time and
the import rate. Every append is synced.`,
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.IntVar(&rows, "rows", 100000, "rows to generate (`n`)")
			fs.IntVar(&concurrency, "concurrency", 64, "rows recorded at once (`n`)")
			fs.BoolVar(&asJSON, "json", false, "print one JSON line")
			return func() error {
				if rows < 1 {
					return usagef("--rows must be at least 1, got %d", rows)
				}
				if concurrency < 1 {
					return usagef("--concurrency must be at least 1, got %d", concurrency)
				}
				return nil
			}
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) > 0 {
				return usagef("takes no arguments, got %q", args)
			}
			var s *eventstore.PebbleStore
			cleanup := func() {}
			var err error
			if a.cfg.set["data-dir"] {
				if s, err = a.openStore(ctx, createLog); err == nil && s.Head() > 0 {
					s.Close()
					return usagef("--data-dir %s already holds %d events; bench import needs an empty directory", a.cfg.DataDir, s.Head())
				}
			} else {
				s, cleanup, err = openScratch(a)
			}
			if err != nil {
				return err
			}
			defer cleanup()
			defer s.Close()

			csv := generateContacts(rows)
			t0 := time.Now()
			f, err := contacts.Parse(bytes.NewReader(csv))
			if err != nil {
				return fmt.Errorf("parse the generated file: %w", err)
			}
			parsed := time.Since(t0)
			h := domain.Handlers{Log: eventlog.New(s), Index: domain.NewIndexKey(s.IndexKey()), Now: time.Now}
			bar := newProgress(a.stderr, "import")
			rep, err := contacts.Apply(ctx, h, f, contacts.Options{Basis: domain.BasisConsent, Note: "bench import",
				Concurrency: concurrency, Progress: bar.update})
			bar.finish()
			if err != nil {
				return err
			}
			res := importResult{Rows: rows, Concurrency: concurrency, ParseSeconds: parsed.Seconds(), Seconds: rep.Elapsed.Seconds(),
				RowsPerSec: float64(rows) / rep.Elapsed.Seconds(), Events: s.Head(), Accepted: rep.Accepted, Merged: rep.Merged}
			if asJSON {
				b, _ := json.Marshal(res)
				fmt.Fprintln(a.stdout, string(b))
				return nil
			}
			fmt.Fprintf(a.stdout, "import: %d rows (c=%d) parsed in %.2fs, imported in %.2fs: %.0f rows/s; %d new contacts, %d merged, %d events\n",
				res.Rows, res.Concurrency, res.ParseSeconds, res.Seconds, res.RowsPerSec, res.Accepted, res.Merged, res.Events)
			return nil
		},
	}
}

// generateContacts writes a contacts file of n rows; every 20th row is
// the person of an earlier row again (by phone, with another tag).
func generateContacts(n int) []byte {
	var b bytes.Buffer
	b.WriteString("username,phone,first_name,last_name,tags,company\n")
	for i := range n {
		if i%20 == 19 {
			fmt.Fprintf(&b, ",+49 151 %08d,,,returning,\n", i-10)
			continue
		}
		fmt.Fprintf(&b, "lead_%07d,+49 151 %08d,Lead,Number %d,\"fair-2026,b2b\",Company %d\n", i, i, i, i%997)
	}
	return b.Bytes()
}
