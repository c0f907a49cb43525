package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
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
			campaignsPauseCommand(false), campaignsStatsCommand()},
	}
}

// campaignFlags are the flags of campaigns create, read into the request
// (campaigns.Form.Request) before the log is opened (accounts, which need
// the log, are resolved by campaigns.Create).
type campaignFlags struct {
	campaigns.Form
	scenario string
	req      campaigns.CreateRequest
	files    cli.Files // the client's, through a server
}

func (f *campaignFlags) register(fs *flag.FlagSet, a *app) {
	f.scenario, f.files = a.getenv("SALESBOT_SCENARIO"), a.files
	fs.StringVar(&f.Name, "name", "", "the campaign's `name` managers know it by (required, unique)")
	fs.StringVar(&f.Tags, "tags", "", "segment: contacts with all of these `tags` (comma-separated)")
	fs.Func("field", "segment: contacts whose custom field has this value, `name=value` (case-insensitive; repeat for more)", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok {
			return fmt.Errorf("want name=value with a field name like city or team_size, got %q", v)
		}
		f.Fields = append(f.Fields, domain.SegmentField{Name: strings.ToLower(strings.TrimSpace(k)), Value: strings.TrimSpace(val)})
		return nil
	})
	fs.StringVar(&f.Import, "import", "", "segment: contacts from this import (`id` as contacts import printed it, imp-...)")
	fs.StringVar(&f.scenario, "scenario", f.scenario, "scenario `file` whose variants the campaign tests; empty = the shipped example [SALESBOT_SCENARIO]")
	fs.StringVar(&f.Variants, "variants", "", "prompt variants and weights, `A=50,B=50`; names must be the scenario's (default: the scenario's variants and weights)")
	fs.StringVar(&f.Accounts, "accounts", "", "the accounts that may write for the campaign, `ids or labels` comma-separated (default: every account)")
	fs.StringVar(&f.Start, "start", "", "when the campaign starts, `time` 2026-12-02T09:00 in --tz (else UTC) or RFC 3339 (required)")
	fs.StringVar(&f.End, "end", "", "when it ends, `time` like --start (or give --days)")
	fs.IntVar(&f.Days, "days", 0, "how many `days` it runs from --start (default 7 when --end is not given)")
	fs.StringVar(&f.Hours, "hours", "", "campaign hours `HH:MM-HH:MM` in --tz (without it, in each account's own time zone), within each account's working hours (default: the accounts' hours)")
	fs.StringVar(&f.TimeZone, "tz", "", "`time zone` of --start, --end and --hours, e.g. Europe/Berlin (default UTC)")
	fs.StringVar(&f.Weekdays, "weekdays", "", "`days` it opens dialogs: mon-fri, all, or a list like mon,tue,thu (default all; the accounts' working days apply too)")
	fs.IntVar(&f.DailyCap, "daily-cap", 0, "new dialogs per day for the whole campaign at most (`n`); 0 = only the accounts' caps")
	fs.IntVar(&f.TotalCap, "total-cap", 0, "dialogs in all at most (`n`); 0 = no total cap")
}

// check reads the flags into the request and checks it against the
// domain's rules, naming the flag at fault.
func (f *campaignFlags) check() error {
	if strings.TrimSpace(f.Name) == "" {
		return usagef("--name is required")
	}
	f.By = "cli"
	var err error
	f.req, err = f.Request(func() (*scenario.Scenario, error) { return runflags.LoadScenario(f.files, f.scenario) }, func(field string) string { return campaignFlag[field] })
	return campaignUsage(err)
}

// campaignFlag is the flag of each field of a campaign the domain checks.
var campaignFlag = map[string]string{"name": "--name", "scenario": "--scenario", "variants": "--variants",
	"schedule": "--start and --end", "schedule.start": "--start", "schedule.end": "--end", "schedule.length": "--days",
	"schedule.hours": "--hours", "schedule.days": "--weekdays", "schedule.time_zone": "--tz",
	"caps.daily_new_dialogs": "--daily-cap", "caps.total_dialogs": "--total-cap",
	"segment.import": "--import", "segment.fields": "--field", "accounts": "--accounts"}

// campaignUsage turns a rule the campaign breaks into a usage error
// naming its flag.
func campaignUsage(err error) error {
	if domain.ErrorCode(err) != domain.EINVALID {
		return err
	}
	if flag, ok := campaignFlag[domain.ErrorField(err)]; ok {
		return usagef("%s: %v", flag, err)
	}
	return usagef("%v", err)
}

// logAndReadModels opens the log and its read models, brought up to date;
// done closes both.
func (a *app) logAndReadModels(ctx context.Context) (*eventstore.PebbleStore, projections.Sink, func(), error) {
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
	var f campaignFlags
	return &command{
		name:    "create",
		remote:  domain.ScopeManage,
		summary: "create a campaign: a segment of contacts, prompt variants with weights, a schedule and caps",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			f.register(fs, a)
			return f.check
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
			c, err := campaigns.Create(ctx, h, st, sink, f.req)
			if err != nil {
				return campaignUsage(err)
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
	var (
		asJSON  bool
		since   string
		from    time.Time
		metrics []string
	)
	return &command{
		name:    "stats",
		remote:  domain.ScopeRead,
		summary: "the campaign's funnel per variant, with rates and an A/B test of each variant against the first",
		usage:   " ID|NAME",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.BoolVar(&asJSON, "json", false, "print JSON")
			fs.StringVar(&since, "since", "", "count only dialogs started on or after this `date` (YYYY-MM-DD, UTC)")
			fs.Func("metric", "test the variants on these `rates` only, comma-separated or repeated: "+strings.Join(campaigns.Metrics(), ", ")+" (default: all but won)", func(v string) error {
				for _, m := range campaigns.SplitList(v) {
					if !slices.Contains(campaigns.Metrics(), m) {
						return fmt.Errorf("no metric %q (one of %s)", m, strings.Join(campaigns.Metrics(), ", "))
					}
					metrics = append(metrics, m)
				}
				return nil
			})
			return func() (err error) {
				if since != "" {
					if from, err = time.Parse(time.DateOnly, since); err != nil {
						return usagef("--since: %q is not a date like 2026-12-01", since)
					}
				}
				return nil
			}
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) != 1 {
				return usagef("give one campaign: its id, short id or name (see 'salesbot campaigns list')")
			}
			_, sink, closeAll, err := a.logAndReadModels(ctx)
			if err != nil {
				return err
			}
			defer closeAll()
			st, err := campaigns.StatsOn(ctx, sink, args[0], from, metrics...)
			if err != nil {
				return err
			}
			if asJSON {
				return cli.WriteJSON(a.stdout, st.JSON())
			}
			return st.WriteText(a.stdout)
		},
	}
}
