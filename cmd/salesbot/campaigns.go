package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/app/system/runflags"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

func campaignsCommand() *command {
	return &command{
		name:    "campaigns",
		summary: "create outreach campaigns, pause and resume them, read their A/B stats",
		sub: []*command{campaignsCreateCommand(), campaignsListCommand(), campaignsPauseCommand(true),
			campaignsPauseCommand(false), campaignsStatsCommand(), campaignsPreviewCommand()},
	}
}

// logAndReadModels opens the log and its read models, brought up to date;
// done closes both.
func (a *app) logAndReadModels(ctx context.Context) (eventstore.Log, projections.Sink, func(), error) {
	st, err := a.openStore(ctx, datadir.Existing)
	if err != nil {
		return nil, nil, nil, err
	}
	sink, closeSink, err := a.readModels(ctx, st)
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return st, sink, func() { closeSink(); st.Close() }, nil
}

// readModels opens the read models (PostgreSQL with --postgres, else in
// memory) and brings them up to the log's head; done closes them.
func (a *app) readModels(ctx context.Context, st eventstore.Store) (projections.Sink, func(), error) {
	if a.live != nil { // run keeps them up to date
		return a.live.sink, func() {}, a.live.sys.Fresh(ctx)
	}
	sink, closeSink, err := a.openSink(ctx)
	if err != nil {
		return nil, nil, err
	}
	r := projections.Runner{Store: st, Decode: eventlog.New(st).Decode, Sink: sink, Batch: 5000}
	if _, err := r.CatchUp(ctx); err != nil {
		closeSink()
		return nil, nil, fmt.Errorf("read models: %w", err)
	}
	return sink, closeSink, nil
}

func campaignsCreateCommand() *command {
	var f campaigns.CreateFlags
	return &command{
		name:    "create",
		remote:  domain.ScopeManage,
		summary: "create a campaign: a segment of contacts, prompt variants with weights, a schedule and caps",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			f.Register(fs, a.getenv("SALESBOT_SCENARIO"))
			files := a.files // the client's, through a server
			return func() error {
				return f.Check(func(file string) (*scenario.Scenario, error) { return runflags.LoadScenario(files, file) })
			}
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) > 0 {
				return usagef("takes no arguments, got %q (quote a --name with spaces)", args)
			}
			st, sink, done, err := a.logAndReadModels(ctx)
			if err != nil {
				return err
			}
			defer done()
			h := handlers(st)
			c, err := campaigns.Create(ctx, h, st, sink, f.Request)
			if err != nil {
				return campaigns.Usage(err)
			}
			return c.WriteText(a.stdout)
		},
	}
}

func campaignsListCommand() *command {
	var asJSON bool
	return &command{
		name:    "list",
		remote:  domain.ScopeRead,
		summary: "list the campaigns with status, schedule and dialogs so far",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.BoolVar(&asJSON, "json", false, "print JSON")
			return nil
		},
		noArgs: true,
		run: func(ctx context.Context, a *app, _ []string) error {
			_, sink, done, err := a.logAndReadModels(ctx)
			if err != nil {
				return err
			}
			defer done()
			items, err := campaigns.List(ctx, sink)
			if err != nil {
				return fmt.Errorf("list campaigns: %w", err)
			}
			if asJSON {
				return cli.WriteJSON(a.stdout, items)
			}
			if len(items) == 0 {
				fmt.Fprintln(a.stdout, "no campaigns yet: create one with 'salesbot campaigns create'")
				return nil
			}
			return campaigns.WriteList(a.stdout, items)
		},
	}
}

func campaignsPauseCommand(pause bool) *command {
	name, summary := "pause", "pause a campaign: it opens no new dialogs; open dialogs go on"
	says := map[bool]string{true: "paused: it opens no new dialogs until resumed; open dialogs go on", false: "is paused already"}
	if !pause {
		name, summary = "resume", "resume a paused campaign"
		says = map[bool]string{true: "resumed: it opens dialogs again within its schedule", false: "is active already"}
	}
	return pauseCommand(name, summary, "campaign: its id, short id or name (see 'salesbot campaigns list')", domain.ScopeManage, says,
		func(ctx context.Context, h domain.Handlers, sink projections.Sink, ref string) (string, bool, error) {
			c, changed, err := campaigns.SetPaused(ctx, h, sink, ref, pause, "cli")
			return fmt.Sprintf("campaign %s (%s)", c.Name, projections.ShortID(c.ID)), changed, err
		})
}

// pauseCommand pauses or resumes one thing (a campaign, an account) by
// the reference its argument gives: set does it and names what it did it
// to; says[changed] tells what became of it.
func pauseCommand(name, summary, one string, scope domain.Scope, says map[bool]string,
	set func(ctx context.Context, h domain.Handlers, sink projections.Sink, ref string) (what string, changed bool, err error)) *command {
	return &command{name: name, summary: summary, usage: " " + strings.ToUpper(strings.TrimSuffix(strings.Fields(one)[0], ":")), remote: scope,
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) != 1 {
				return usagef("give one %s", one)
			}
			st, sink, closeAll, err := a.logAndReadModels(ctx)
			if err != nil {
				return err
			}
			defer closeAll()
			what, changed, err := set(ctx, handlers(st), sink, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s %s\n", what, says[changed])
			return nil
		}}
}

func campaignsStatsCommand() *command {
	var f campaigns.StatsFlags
	return &command{
		name:    "stats",
		remote:  domain.ScopeRead,
		summary: "the campaign's funnel per variant, with rates and an A/B test of each variant against the first",
		usage:   " ID|NAME",
		flags:   func(fs *flag.FlagSet, a *app) func() error { return f.Register(fs) },
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) != 1 {
				return usagef("give one campaign: its id, short id or name (see 'salesbot campaigns list')")
			}
			_, sink, closeAll, err := a.logAndReadModels(ctx)
			if err != nil {
				return err
			}
			defer closeAll()
			st, err := campaigns.StatsOn(ctx, sink, args[0], f.From, f.Metrics...)
			if err != nil {
				return err
			}
			if f.JSON {
				return cli.WriteJSON(a.stdout, st.JSON())
			}
			return st.WriteText(a.stdout)
		},
	}
}

func campaignsPreviewCommand() *command {
	var eng runflags.Engine
	var f campaigns.PreviewFlags
	return &command{name: "preview", remote: domain.ScopeRead, usage: " ID|NAME",
		summary: "show the openings a campaign would send its first contacts, written as the engine writes them; nothing is sent or recorded",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			eng.Register(fs, a.getenv)
			check := f.Register(fs)
			return func() error {
				if err := check(); err != nil || a.live != nil { // run's engine writes them
					return err
				}
				return eng.Check()
			}
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) != 1 {
				return usagef("give one campaign: its id, short id or name (see 'salesbot campaigns list')")
			}
			st, sink, done, err := a.logAndReadModels(ctx)
			if err != nil {
				return err
			}
			defer done()
			var core *engine.Core
			if a.live != nil {
				core = a.live.sys.Openings()
			} else if core, _, err = eng.Core(a.log, handlers(st)); err != nil {
				return err
			}
			p, err := campaigns.PreviewOpenings(ctx, handlers(st), st, eventlog.New(st).Decode, sink, core, campaigns.PreviewRequest{Ref: args[0], N: f.N})
			if err != nil {
				return campaigns.Usage(err)
			}
			return p.WriteText(a.stdout)
		}}
}
