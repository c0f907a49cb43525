package main

import (
	"context"
	"flag"
	"io"
	"path/filepath"

	"github.com/salesbot/salesbot/adapters/app/audit"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

func backupCommand() *command {
	var (
		to     string
		asJSON bool
	)
	return &command{
		name:    "backup",
		remote:  domain.ScopeAdmin,
		summary: "copy the event log consistently, while run writes it",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.StringVar(&to, "to", "", "`directory` to write the backup to: absent or empty (required)")
			fs.BoolVar(&asJSON, "json", false, "print the result as one JSON line")
			return func() error {
				if to == "" {
					return usagef("--to is required: the directory to write the backup to")
				}
				return nil
			}
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			if a.live != nil && !filepath.IsAbs(to) {
				return usagef("--to %s: give an absolute path: the running server writes the backup, on its machine", to)
			}
			s, err := a.openStore(ctx, datadir.Read)
			if err != nil {
				return err
			}
			defer s.Close()
			rep, err := audit.Backup(ctx, s, to)
			switch {
			case err != nil:
				return err
			case asJSON:
				return rep.WriteJSON(a.stdout)
			}
			return rep.WriteText(a.stdout)
		},
	}
}

func restoreCommand() *command {
	var (
		from          string
		asJSON, force bool
	)
	return &command{
		name:    "restore",
		summary: "verify a backup and restore it into a new data dir",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.StringVar(&from, "from", "", "backup `directory` made by 'salesbot backup' (required)")
			fs.BoolVar(&force, "replace-anchor", false, "replace an anchor file of another log instead of refusing")
			fs.BoolVar(&asJSON, "json", false, "print the result as one JSON line")
			return func() error {
				if from == "" {
					return usagef("--from is required: the backup directory")
				}
				return nil
			}
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			var progress io.Writer
			if !asJSON {
				progress = a.stderr
			}
			opts := eventstore.RestoreOptions{KeyFile: a.cfg.KeyFile(), AnchorFile: a.cfg.AnchorFile, ReplaceAnchor: force}
			rep, err := audit.Restore(ctx, from, a.cfg.DataDir, opts, progress)
			if asJSON {
				rep.WriteJSON(a.stdout, err)
			}
			if err != nil {
				return a.cfg.Explain(err)
			}
			if asJSON {
				return nil
			}
			return rep.WriteText(a.stdout)
		},
	}
}
