package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

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
		remote:  domain.ScopeManage,
		summary: "import contacts from a CSV file",
		usage:   " FILE.csv",
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
				if strings.TrimSpace(basis) == "" {
					return usagef("--basis is required: consent, contract or legitimate-interest")
				}
				if _, err := domain.ParseBasis(basis); err != nil {
					return usagef("--basis: %v", err)
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
			b, _ := domain.ParseBasis(basis) // checked with the flags
			file, err := a.files.Open(args[0])
			if err != nil {
				return fmt.Errorf("open the contacts file: %w", err)
			}
			defer file.Close()
			f, err := contacts.Parse(file)
			if err != nil {
				return fmt.Errorf("%s: %w; nothing was imported", args[0], err)
			}
			st, h, err := a.contactsLog(ctx, datadir.Create)
			if err != nil {
				return err
			}
			defer st.Close()
			opts := contacts.Options{Basis: b, Note: strings.TrimSpace(source) + " (file " + filepath.Base(args[0]) + ")",
				MaxErrors: maxErrors, Partial: partial, Concurrency: concurrency}
			if maxErrors == 0 {
				opts.MaxErrors = -1 // none allowed
			}
			var bar *contacts.Progress
			if len(f.Rows) > 2000 {
				bar = contacts.NewProgress(a.stderr, "import", cli.IsTerminal(a.stderr))
				opts.Progress = bar.Update
			}
			rep, err := contacts.Apply(ctx, h, f, opts)
			bar.Finish()
			write := func() error { return rep.WriteText(a.stdout, args[0], maxListed) }
			if asJSON {
				write = func() error { return rep.WriteJSON(a.stdout, args[0]) }
			}
			if perr := write(); perr != nil && err == nil {
				err = perr
			}
			if errors.Is(err, contacts.ErrTooManyErrors) {
				return fmt.Errorf("%w: nothing was imported; fix the file or use --partial", err)
			}
			return err
		},
	}
}

func contactsOptOutCommand() *command {
	var reason string
	return &command{
		name:    "optout",
		remote:  domain.ScopeManage,
		summary: "put a person on the do-not-contact list and end their open dialogs",
		usage:   " @username|ID|+phone",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.StringVar(&reason, "reason", "", "why, in the person's or your words (`text`)")
			return nil
		},
		run: func(ctx context.Context, a *app, args []string) error {
			p, err := personArg(args)
			if err != nil {
				return err
			}
			st, h, err := a.contactsLog(ctx, datadir.Existing)
			if err != nil {
				return err
			}
			defer st.Close()
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
		remote:  domain.ScopeAdmin,
		summary: "erase a person: their personal data becomes unreadable (crypto-shredding)",
		usage:   " @username|ID|+phone",
		run: func(ctx context.Context, a *app, args []string) error {
			p, err := personArg(args)
			if err != nil {
				return err
			}
			st, err := a.openStore(ctx, datadir.Existing)
			if err != nil {
				return err
			}
			defer st.Close()
			req := contacts.EraseRequest{Person: p, By: "cli", Log: a.log}
			if a.cfg.PostgresDSN != "" {
				req.ReadModels = a.openSink
			}
			erased, err := contacts.Erase(ctx, st, handlers(st), req)
			for _, id := range erased.Contacts {
				fmt.Fprintf(a.stdout, "contact %s erased: its personal data is unreadable; it stays on the do-not-contact list as keyed hashes\n", id)
			}
			if rm := (*contacts.ReadModelsError)(nil); errors.As(err, &rm) {
				return fmt.Errorf("the erasure is recorded, but the PostgreSQL read models still hold the person's rows: %w; "+
					"they are blanked when 'salesbot run' starts or by 'salesbot projections rebuild'", rm.Err)
			}
			if err != nil {
				return err
			}
			if erased.ReadModels {
				fmt.Fprintln(a.stdout, "PostgreSQL read models updated: the erased rows are blanked")
			}
			return nil
		},
	}
}

func joinInts(ns []int64) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(s, ", ")
}

// personArg reads the one person argument of optout and forget.
func personArg(args []string) (contacts.Person, error) {
	if len(args) != 1 {
		return contacts.Person{}, usagef("say whom: @username, a Telegram user id or a +phone")
	}
	p, err := contacts.ParsePerson(args[0])
	if err != nil {
		return contacts.Person{}, usagef("%v", err)
	}
	return p, nil
}

// contactsLog opens the log for a contacts command, its index brought up
// to date (contacts.Refresh).
func (a *app) contactsLog(ctx context.Context, mode datadir.Mode) (eventstore.Log, domain.Handlers, error) {
	st, err := a.openStore(ctx, mode)
	if err != nil {
		return nil, domain.Handlers{}, err
	}
	h := handlers(st)
	if err := contacts.Refresh(ctx, st, h, a.log); err != nil {
		st.Close()
		return nil, domain.Handlers{}, err
	}
	return st, h, nil
}

// handlers are the command handlers over the log st.
func handlers(st eventstore.Log) domain.Handlers {
	return domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: time.Now}
}
