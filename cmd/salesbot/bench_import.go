package main

import (
	"context"
	"flag"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/app/contacts/contactsbench"
)

func benchImportCommand() *command {
	var rows, concurrency int
	var asJSON bool
	return &command{
		name:    "import",
		summary: "time a contacts import of generated rows",
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
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			s, done, err := a.benchStore(ctx, "import")
			if err != nil {
				return err
			}
			defer done()
			bar := contacts.NewProgress(a.stderr, "import", isTerminal(a.stderr))
			res, err := contactsbench.Run(ctx, s, rows, concurrency, bar.Update)
			bar.Finish()
			if err != nil {
				return err
			}
			printBench(a, res, asJSON)
			return nil
		},
	}
}
