package main

import (
	"context"
	"flag"
	"math"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/app/contacts/contactsbench"
	"github.com/salesbot/salesbot/adapters/cli"
)

func benchImportCommand() *command {
	var rows, concurrency int
	var asJSON bool
	return &command{
		name:    "import",
		summary: "time a contacts import of generated rows",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			cli.IntRange(fs, &rows, "rows", 100000, 1, math.MaxInt, "rows to generate (`n`)")
			cli.IntRange(fs, &concurrency, "concurrency", 64, 1, math.MaxInt, "rows recorded at once (`n`)")
			fs.BoolVar(&asJSON, "json", false, "print one JSON line")
			return nil
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			s, done, err := a.benchStore(ctx, "import")
			if err != nil {
				return err
			}
			defer done()
			bar := contacts.NewProgress(a.stderr, "import", cli.IsTerminal(a.stderr))
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
