package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// whileRunning is said in the help of every contacts command.
const whileRunning = `

The command opens the data directory by itself: stop 'salesbot run' first,
or, while it runs, use the admin bot (/import with the CSV file, /optout).`

func contactsCommand() *command {
	return &command{
		name:    "contacts",
		summary: "import contacts, keep the do-not-contact list, erase a person",
		sub:     []*command{contactsImportCommand(), contactsOptOutCommand(), contactsForgetCommand()},
	}
}

// maxListed is how many rejected rows a report lists.
const maxListed = 20

func contactsImportCommand() *command {
	var (
		source, basis string
		partial       bool
		maxErrors     float64
		asJSON        bool
		concurrency   int
	)
	return &command{
		name:    "import",
		summary: "import contacts from a CSV file",
		usage:   " FILE.csv",
		details: `
Every contact needs its lawful basis (--basis) and where the list came from
(--source, recorded on each new contact with the file name). The file is
CSV in UTF-8 (with or without a byte order mark), separated by commas,
semicolons or tabs; a first row of column names (username, user_id,
phone, name or first_name/last_name, tags, and custom fields) is a header,
else the columns are guessed per row. See docs/contacts.md.

Every row is checked first. If more than --max-errors of the rows are
rejected nothing is imported (exit 1), unless --partial. A person who is a
contact already gets the new tags and fields (merged, not doubled); a
person on the do-not-contact list or erased is skipped. Importing the same
file again adds nothing.

Exit codes: 0 imported, 1 nothing imported (too many rejected rows, a
broken file, an I/O error), 2 bad flags.` + whileRunning,
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.StringVar(&source, "source", "", "`text` saying where the list came from (required), e.g. \"visitors of the Berlin fair 2026\"")
			fs.StringVar(&basis, "basis", "", "the lawful `basis` of every contact: consent, contract or legitimate-interest (required)")
			fs.BoolVar(&partial, "partial", false, "import the valid rows however many are rejected")
			fs.Float64Var(&maxErrors, "max-errors", contacts.DefaultMaxErrors, "the largest `fraction` of rejected rows (0..1) that still imports the valid ones")
			fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
			fs.IntVar(&concurrency, "concurrency", 64, "rows recorded at once (`n`)")
			return func() error {
				if strings.TrimSpace(source) == "" {
					return usagef("--source is required: say where the list came from")
				}
				if _, err := parseBasis(basis); err != nil {
					return err
				}
				if maxErrors < 0 || maxErrors > 1 {
					return usagef("--max-errors: want a fraction from 0 to 1, got %v", maxErrors)
				}
				if concurrency < 1 {
					return usagef("--concurrency: want at least 1, got %d", concurrency)
				}
				return nil
			}
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) != 1 {
				return usagef("give one CSV file")
			}
			b, _ := parseBasis(basis)
			file, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("open the contacts file: %w", err)
			}
			defer file.Close()
			f, err := contacts.Parse(file)
			if err != nil {
				return fmt.Errorf("%s: %w; nothing was imported", args[0], err)
			}
			st, err := a.openStore(ctx, createLog)
			if err != nil {
				return err
			}
			defer st.Close()
			h := domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: time.Now}
			if err := a.reindex(ctx, st, h); err != nil {
				return err
			}
			opts := contacts.Options{Basis: b, Note: strings.TrimSpace(source) + " (file " + filepath.Base(args[0]) + ")",
				MaxErrors: maxErrors, Partial: partial, Concurrency: concurrency}
			if maxErrors == 0 {
				opts.MaxErrors = -1 // none allowed
			}
			var bar *progress
			if len(f.Rows) > 2000 {
				bar = newProgress(a.stderr, "import")
				opts.Progress = bar.update
			}
			rep, err := contacts.Apply(ctx, h, f, opts)
			bar.finish()
			if perr := printReport(a.stdout, args[0], rep, asJSON); perr != nil && err == nil {
				err = perr
			}
			if errors.Is(err, contacts.ErrTooManyErrors) {
				return fmt.Errorf("%w: nothing was imported; fix the file or use --partial", err)
			}
			return err
		},
	}
}

func parseBasis(s string) (domain.Basis, error) {
	switch b := domain.Basis(strings.ToLower(strings.TrimSpace(s))); b {
	case domain.BasisConsent, domain.BasisContract, domain.BasisLegitimateInterest:
		return b, nil
	case "":
		return "", usagef("--basis is required: consent, contract or legitimate-interest")
	}
	return "", usagef("--basis: %q is not consent, contract or legitimate-interest", s)
}

func printReport(w io.Writer, name string, r contacts.Report, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(r.JSON(name))
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
	if r.Rows == 0 {
		return nil // the options were refused before any row
	}
	_, err := fmt.Fprintf(w, "%s: %s", filepath.Base(name), r.Text(maxListed))
	return err
}

// progress draws an import's progress on standard error: one line redrawn
// with \r on a terminal, else a line every 10%.
type progress struct {
	w        io.Writer
	what     string
	terminal bool
	start    time.Time
	mu       sync.Mutex
	last     time.Time
	step     int // the last 10% step printed
}

func newProgress(w io.Writer, what string) *progress {
	return &progress{w: w, what: what, start: time.Now(), terminal: isTerminal(w)}
}

func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := func() string {
		took := time.Since(p.start)
		rate := float64(done) / max(took.Seconds(), 1e-9)
		eta := time.Duration(0)
		if rate > 0 && total > done {
			eta = time.Duration(float64(total-done) / rate * float64(time.Second))
		}
		return fmt.Sprintf("%s: %d/%d rows (%d%%), %.0f rows/s, ETA %s", p.what, done, total, done*100/max(total, 1), rate, eta.Round(time.Second))
	}
	if p.terminal {
		if time.Since(p.last) >= 200*time.Millisecond || done == total {
			p.last = time.Now()
			fmt.Fprintf(p.w, "\r%s\033[K", line())
		}
		return
	}
	if step := done * 10 / max(total, 1); step > p.step {
		p.step = step
		fmt.Fprintln(p.w, line())
	}
}

func (p *progress) finish() {
	if p != nil && p.terminal {
		fmt.Fprintln(p.w)
	}
}

func contactsOptOutCommand() *command {
	var reason string
	return &command{
		name:    "optout",
		summary: "put a person on the do-not-contact list and end their open dialogs",
		usage:   " @username|ID|+phone",
		details: `
No account writes to the person again; their open dialogs end at once. A
person who is not a contact yet is recorded (source manual) with what you
give, so a later import or message finds them on the list. The username is
looked up in the log, not at Telegram: if it changed hands, give the user
id.` + whileRunning,
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.StringVar(&reason, "reason", "", "why, in the person's or your words (`text`)")
			return nil
		},
		run: func(ctx context.Context, a *app, args []string) error {
			_, h, p, done, err := a.openPerson(ctx, args)
			if err != nil {
				return err
			}
			defer done()
			id, ended, err := contacts.OptOut(ctx, h, contacts.OptOutRequest{Person: p, By: "cli", Reason: strings.TrimSpace(reason), Open: contacts.DialogsOf(h)})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s is on the do-not-contact list (contact %s); no account writes to them again", p, id)
			if len(ended) > 0 {
				fmt.Fprintf(a.stdout, "; ended dialogs %s", joinInts(ended))
			}
			fmt.Fprintln(a.stdout)
			return nil
		},
	}
}

func contactsForgetCommand() *command {
	return &command{
		name:    "forget",
		summary: "erase a person: their personal data becomes unreadable (crypto-shredding)",
		usage:   " @username|ID|+phone",
		details: `
Ends the person's open dialogs, records the erasure and deletes the
contact's key, so every personal field (name, username, phone, custom
fields, message texts, handoff reasons, notes) reads [forgotten] in
replays, exports and read models; the log stays intact and 'salesbot
verify' still passes. With --postgres (SALESBOT_POSTGRES_DSN) the
PostgreSQL read models are brought up to date before the command returns,
so the person's rows are blanked at once. The person stays on the
do-not-contact list: the index keeps keyed hashes of their user id,
username and phone (HMAC under a key derived from the master key), never
the values.` + whileRunning,
		run: func(ctx context.Context, a *app, args []string) error {
			st, h, p, done, err := a.openPerson(ctx, args)
			if err != nil {
				return err
			}
			defer done()
			erased, err := contacts.ForgetPerson(ctx, h, st, p, "cli", contacts.DialogsOf(h))
			for _, id := range erased {
				fmt.Fprintf(a.stdout, "contact %s erased: its personal data is unreadable; it stays on the do-not-contact list as keyed hashes\n", id)
			}
			if err != nil {
				return err
			}
			return a.scrubReadModels(ctx, st)
		},
	}
}

// scrubReadModels brings the PostgreSQL read models (when --postgres is
// set) up to the log's head after an erasure, so the erased person's rows
// are blanked now rather than when 'run' next starts. The in-memory read
// models are rebuilt from the log at every start: nothing to do.
func (a *app) scrubReadModels(ctx context.Context, st *eventstore.PebbleStore) error {
	if a.cfg.PostgresDSN == "" {
		return nil
	}
	sink, closeSink, err := a.openSink(ctx)
	if err == nil {
		defer closeSink()
		_, err = projections.Runner{Store: st, Decode: eventlog.New(st).Decode, Sink: sink}.CatchUp(ctx)
	}
	if err != nil {
		return fmt.Errorf("the erasure is recorded, but the PostgreSQL read models still hold the person's rows: %w; "+
			"they are blanked when 'salesbot run' starts or by 'salesbot projections rebuild'", err)
	}
	fmt.Fprintln(a.stdout, "PostgreSQL read models updated: the erased rows are blanked")
	return nil
}

// reindex brings the contacts index up to date with the log
// (contacts.Reindex): contacts recorded since the last run, or before the
// username and phone indexes existed, become findable. It also completes
// the erasures a crash interrupted (contacts.RepairErasures).
func (a *app) reindex(ctx context.Context, st *eventstore.PebbleStore, h domain.Handlers) error {
	n, err := contacts.Reindex(ctx, st, h)
	if n > 0 {
		a.log.Info("contacts: indexed the usernames, phones and user ids of earlier contacts", "links", n)
	}
	if err != nil {
		return err
	}
	n, err = contacts.RepairErasures(ctx, st)
	if n > 0 {
		a.log.Info("contacts: completed interrupted erasures", "contacts", n)
	}
	return err
}

func joinInts(ns []int64) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(s, ", ")
}

// openPerson reads the one person argument of optout and forget and opens
// the log (indexed) to act on them; done closes it.
func (a *app) openPerson(ctx context.Context, args []string) (*eventstore.PebbleStore, domain.Handlers, contacts.Person, func(), error) {
	if len(args) != 1 {
		return nil, domain.Handlers{}, contacts.Person{}, nil, usagef("say whom: @username, a Telegram user id or a +phone")
	}
	p, err := contacts.ParsePerson(args[0])
	if err != nil {
		return nil, domain.Handlers{}, contacts.Person{}, nil, usagef("%v", err)
	}
	st, err := a.openStore(ctx, existingLog)
	if err != nil {
		return nil, domain.Handlers{}, contacts.Person{}, nil, err
	}
	h := domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: time.Now}
	if err := a.reindex(ctx, st, h); err != nil {
		st.Close()
		return nil, domain.Handlers{}, contacts.Person{}, nil, err
	}
	return st, h, p, func() { st.Close() }, nil
}
