package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// campaignsWhileRunning is said in the help of every campaigns command.
const campaignsWhileRunning = `

The command opens the data directory by itself: stop 'salesbot run' first,
or, while it runs, use the admin bot (/campaigns, /campaign_pause,
/campaign_resume, /stats). See docs/campaigns.md.`

func campaignsCommand() *command {
	return &command{
		name:    "campaigns",
		summary: "create outreach campaigns, pause and resume them, read their A/B stats",
		sub: []*command{campaignsCreateCommand(), campaignsListCommand(), campaignsPauseCommand(true),
			campaignsPauseCommand(false), campaignsStatsCommand()},
	}
}

// campaignFlags are the flags of campaigns create, parsed into the
// command before the log is opened (accounts, which need the log, are
// resolved by campaigns.Create).
type campaignFlags struct {
	name, tags, importID, scenario, variants, accounts string
	start, end, hours, tz, weekdays                    string
	days, dailyCap, totalCap                           int
	fields                                             []domain.SegmentField

	cmd domain.CreateCampaign // checked (domain.NewCreateCampaign)
}

func (f *campaignFlags) register(fs *flag.FlagSet, a *app) {
	f.scenario = a.getenv("SALESBOT_SCENARIO")
	fs.StringVar(&f.name, "name", "", "the campaign's `name` managers know it by (required, unique)")
	fs.StringVar(&f.tags, "tags", "", "segment: contacts with all of these `tags` (comma-separated)")
	fs.Func("field", "segment: contacts whose custom field has this value, `name=value` (case-insensitive; repeat for more)", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok {
			return fmt.Errorf("want name=value with a field name like city or team_size, got %q", v)
		}
		f.fields = append(f.fields, domain.SegmentField{Name: strings.ToLower(strings.TrimSpace(k)), Value: strings.TrimSpace(val)})
		return nil
	})
	fs.StringVar(&f.importID, "import", "", "segment: contacts from this import (`id` as contacts import printed it, imp-...)")
	fs.StringVar(&f.scenario, "scenario", f.scenario, "scenario `file` whose variants the campaign tests; empty = the shipped example [SALESBOT_SCENARIO]")
	fs.StringVar(&f.variants, "variants", "", "prompt variants and weights, `A=50,B=50`; names must be the scenario's (default: the scenario's variants and weights)")
	fs.StringVar(&f.accounts, "accounts", "", "the accounts that may write for the campaign, `ids or labels` comma-separated (default: every account)")
	fs.StringVar(&f.start, "start", "", "when the campaign starts, `time` 2026-12-02T09:00 in --tz (else UTC) or RFC 3339 (required)")
	fs.StringVar(&f.end, "end", "", "when it ends, `time` like --start (or give --days)")
	fs.IntVar(&f.days, "days", 0, "how many `days` it runs from --start (default 7 when --end is not given)")
	fs.StringVar(&f.hours, "hours", "", "campaign hours `HH:MM-HH:MM` in --tz (without it, in each account's own time zone), within each account's working hours (default: the accounts' hours)")
	fs.StringVar(&f.tz, "tz", "", "`time zone` of --start, --end and --hours, e.g. Europe/Berlin (default UTC)")
	fs.StringVar(&f.weekdays, "weekdays", "", "`days` it opens dialogs: mon-fri, all, or a list like mon,tue,thu (default all; the accounts' working days apply too)")
	fs.IntVar(&f.dailyCap, "daily-cap", 0, "new dialogs per day for the whole campaign at most (`n`); 0 = only the accounts' caps")
	fs.IntVar(&f.totalCap, "total-cap", 0, "dialogs in all at most (`n`); 0 = no total cap")
}

// check parses the flags into the command and checks it against the
// domain's rules, naming the flag at fault.
func (f *campaignFlags) check() error {
	name := strings.TrimSpace(f.name)
	if name == "" {
		return usagef("--name is required")
	}
	loc := time.UTC
	if f.tz != "" {
		l, err := time.LoadLocation(f.tz)
		if err != nil {
			return usagef("--tz: unknown time zone %q (e.g. Europe/Berlin)", f.tz)
		}
		loc = l
	}
	if strings.TrimSpace(f.start) == "" {
		return usagef("--start is required, e.g. --start 2026-12-02T09:00")
	}
	start, err := parseWhen(f.start, loc)
	if err != nil {
		return usagef("--start: %v", err)
	}
	var end time.Time
	switch {
	case f.end != "" && f.days != 0:
		return usagef("give --end or --days, not both")
	case f.days < 0 || f.days > 3660:
		return usagef("--days: want 1 to 3660, got %d", f.days)
	case f.end != "":
		if end, err = parseWhen(f.end, loc); err != nil {
			return usagef("--end: %v", err)
		}
		if !end.After(start) {
			return usagef("--end (%s) must be after --start (%s)", end.In(loc).Format(whenLayout), start.In(loc).Format(whenLayout))
		}
	default:
		end = start.AddDate(0, 0, cmp.Or(f.days, 7))
	}
	schedule := domain.CampaignSchedule{Start: start.UTC(), End: end.UTC(), TimeZone: f.tz}
	if f.hours != "" {
		if schedule.StartMinute, schedule.EndMinute, err = domain.ParseHours(f.hours); err != nil {
			return usagef("--hours: %v", err)
		}
	}
	if schedule.Days, err = domain.ParseWeekdays(f.weekdays); err != nil {
		return usagef("--weekdays: %v", err)
	}
	sc, err := loadScenario(f.scenario)
	if err != nil {
		return err
	}
	if len(sc.Variants) == 0 {
		return usagef("--scenario: %s has no prompt variants to test; add some (docs/scenario.md)", sc.Name)
	}
	offered := []domain.VariantWeight{}
	for _, v := range sc.Variants {
		offered = append(offered, domain.VariantWeight{Name: v.Name, Weight: v.Weight})
	}
	var chosen []domain.VariantWeight
	for _, p := range splitList(f.variants) {
		n, w, ok := strings.Cut(p, "=")
		weight, err := strconv.Atoi(strings.TrimSpace(w))
		if !ok || strings.TrimSpace(n) == "" || err != nil {
			return usagef("--variants: want NAME=WEIGHT,... like A=50,B=50, got %q", f.variants)
		}
		chosen = append(chosen, domain.VariantWeight{Name: strings.TrimSpace(n), Weight: weight})
	}
	f.cmd, err = domain.NewCreateCampaign(domain.CreateCampaign{Name: name, Scenario: sc.Name, Version: sc.Version,
		Segment:  domain.Segment{Tags: domain.NormalizeTags(splitList(f.tags)), Fields: f.fields, Import: strings.TrimSpace(f.importID)},
		Variants: chosen, Offered: offered, Schedule: schedule, By: "cli",
		Caps: domain.CampaignCaps{DailyNewDialogs: f.dailyCap, TotalDialogs: f.totalCap}})
	return campaignUsage(err)
}

// campaignFlag is the flag of each field of a campaign the domain checks.
var campaignFlag = map[string]string{"name": "--name", "scenario": "--scenario", "variants": "--variants",
	"schedule": "--start and --end", "schedule.end": "--end", "schedule.hours": "--hours", "schedule.days": "--weekdays",
	"schedule.time_zone": "--tz", "caps.daily_new_dialogs": "--daily-cap", "caps.total_dialogs": "--total-cap",
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

// splitList splits a comma-separated flag, its items trimmed, empty ones
// left out.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

const whenLayout = "2006-01-02 15:04"

// parseWhen reads a time as typed: 2026-12-02T09:00, 2026-12-02 09:00,
// with seconds, a date alone (midnight), all in loc; or RFC 3339 with its
// own offset.
func parseWhen(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time like 2026-12-02T09:00", s)
}

// readModels opens the read models (PostgreSQL with --postgres, else in
// memory) and brings them up to the log's head.
// logAndReadModels opens the log and its read models, brought up to date;
// done closes both.
func (a *app) logAndReadModels(ctx context.Context) (*eventstore.PebbleStore, projections.Sink, func(), error) {
	st, err := a.openStore(ctx, existingLog)
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

func (a *app) readModels(ctx context.Context, st eventstore.Store) (projections.Sink, func(), error) {
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
		summary: "create a campaign: a segment of contacts, prompt variants with weights, a schedule and caps",
		details: `
Examples:
  salesbot campaigns create --name "Q1 Berlin" --tags saas,berlin --field city=Berlin \
    --variants A=50,B=50 --start 2026-12-02T09:00 --days 14 --tz Europe/Berlin \
    --hours 09:00-18:00 --weekdays mon-fri --daily-cap 40 --total-cap 500
  salesbot campaigns create --name "Fair leads" --import imp-0193a0c0-... --start 2026-12-02

The segment is every contact with all the --tags, every --field equal and
(with --import) from that import; no segment flags select every contact.
Prints the campaign's id and how many contactable people the segment
selects now (the do-not-contact list, erased and unreachable people left
out). The scheduler of 'salesbot run' opens the dialogs within the
schedule, the caps and every account's own limits; each person gets one
cold first message per campaign at most, with a variant chosen by the
weights and kept for the whole dialog.` + campaignsWhileRunning,
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
			h := domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: time.Now}
			c, err := campaigns.Create(ctx, h, st, sink, campaigns.CreateRequest{CreateCampaign: f.cmd, Accounts: splitList(f.accounts)})
			if err != nil {
				return campaignUsage(err)
			}
			w := a.stdout
			fmt.Fprintf(w, "campaign %s created: %s (short id %s), active\n", c.CampaignID, c.Name, projections.ShortID(c.CampaignID))
			fmt.Fprintf(w, "scenario %s %s, variants %s\n", c.Scenario, c.Version, weightsText(c.Variants))
			fmt.Fprintf(w, "runs %s\n", scheduleText(c.Schedule))
			fmt.Fprintf(w, "caps: %s; accounts: %s\n", capsText(c.Caps), orEvery(c.Labels))
			fmt.Fprintf(w, "segment %s selects %s now", segmentText(c.Segment), plural(c.Audience.Contactable, "contact"))
			if more := c.Audience.Matched - c.Audience.Contactable; more > 0 {
				fmt.Fprintf(w, " (%d more match but may not be written to: do-not-contact, erased or unreachable)", more)
			}
			fmt.Fprintln(w)
			return nil
		},
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func orEvery(labels []string) string {
	if len(labels) == 0 {
		return "every account"
	}
	return strings.Join(labels, ", ")
}

func weightsText(ws []domain.VariantWeight) string {
	var parts []string
	for _, w := range ws {
		parts = append(parts, fmt.Sprintf("%s %d", w.Name, w.Weight))
	}
	return strings.Join(parts, ", ")
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// scheduleText says when a campaign runs, in its time zone.
func scheduleText(s domain.CampaignSchedule) string {
	loc := time.UTC
	if s.TimeZone != "" {
		if l, err := time.LoadLocation(s.TimeZone); err == nil {
			loc = l
		}
	}
	out := fmt.Sprintf("%s to %s %s", s.Start.In(loc).Format(whenLayout), s.End.In(loc).Format(whenLayout), loc)
	if len(s.Days) > 0 {
		var ds []string
		for _, d := range s.Days {
			if d >= 0 && int(d) < len(dayNames) {
				ds = append(ds, dayNames[d])
			}
		}
		out += ", " + strings.Join(ds, ",")
	} else {
		out += ", every day"
	}
	if s.StartMinute != 0 || s.EndMinute != 0 {
		out += fmt.Sprintf(", %02d:%02d-%02d:%02d", s.StartMinute/60, s.StartMinute%60, s.EndMinute/60, s.EndMinute%60)
		if s.TimeZone == "" {
			out += " in each account's time zone"
		}
	}
	return out + ", within each account's working hours"
}

func capsText(c domain.CampaignCaps) string {
	daily, total := "accounts' own", "none"
	if c.DailyNewDialogs > 0 {
		daily = strconv.Itoa(c.DailyNewDialogs)
	}
	if c.TotalDialogs > 0 {
		total = strconv.Itoa(c.TotalDialogs)
	}
	return fmt.Sprintf("%s new dialogs a day, total %s", daily, total)
}

func segmentText(s domain.Segment) string {
	var parts []string
	if len(s.Tags) > 0 {
		parts = append(parts, "tags "+strings.Join(s.Tags, ", "))
	}
	for _, f := range s.Fields {
		parts = append(parts, f.Name+" = "+f.Value)
	}
	if s.Import != "" {
		parts = append(parts, "import "+s.Import)
	}
	if len(parts) == 0 {
		return "(every contact)"
	}
	return "(" + strings.Join(parts, "; ") + ")"
}

func campaignsListCommand() *command {
	var asJSON bool
	return &command{
		name:    "list",
		summary: "list the campaigns with status, schedule and dialogs so far",
		details: campaignsWhileRunning,
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.BoolVar(&asJSON, "json", false, "print JSON")
			return nil
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) > 0 {
				return usagef("takes no arguments, got %q", args)
			}
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
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(items)
			}
			if len(items) == 0 {
				fmt.Fprintln(a.stdout, "no campaigns yet: create one with 'salesbot campaigns create'")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tVARIANTS\tSTART (UTC)\tEND (UTC)\tDIALOGS\tREPLIED\tQUALIFIED")
			for _, it := range items {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", it.Short, oneLine(it.Name), it.Status, weightsText(it.Variants),
					it.Schedule.Start.UTC().Format(whenLayout), it.Schedule.End.UTC().Format(whenLayout), it.Totals.Dialogs, it.Totals.Replied, it.Totals.Qualified)
			}
			return tw.Flush()
		},
	}
}

// oneLine keeps a name on its table row.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func campaignsPauseCommand(pause bool) *command {
	name, summary := "pause", "pause a campaign: it opens no new dialogs; open dialogs go on"
	if !pause {
		name, summary = "resume", "resume a paused campaign"
	}
	return &command{
		name:    name,
		summary: summary,
		usage:   " ID|NAME",
		details: "ID is the campaign's id or its first characters (as 'salesbot campaigns list' shows), or its name." + campaignsWhileRunning,
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) != 1 {
				return usagef("give one campaign: its id, short id or name (see 'salesbot campaigns list')")
			}
			st, sink, closeAll, err := a.logAndReadModels(ctx)
			if err != nil {
				return err
			}
			defer closeAll()
			c, err := campaigns.Find(ctx, sink, args[0])
			if err != nil {
				return err
			}
			var cmd domain.CampaignCommand = domain.PauseCampaign{By: "cli"}
			done, already := "paused: it opens no new dialogs until resumed; open dialogs go on", "is paused already"
			if !pause {
				cmd, done, already = domain.ResumeCampaign{By: "cli"}, "resumed: it opens dialogs again within its schedule", "is active already"
			}
			h := domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: time.Now}
			evs, err := h.Campaign(ctx, c.ID, cmd)
			if err != nil {
				return fmt.Errorf("%s campaign %s: %w", name, c.ID, err)
			}
			if len(evs) == 0 {
				fmt.Fprintf(a.stdout, "campaign %s (%s) %s\n", c.Name, projections.ShortID(c.ID), already)
				return nil
			}
			fmt.Fprintf(a.stdout, "campaign %s (%s) %s\n", c.Name, projections.ShortID(c.ID), done)
			return nil
		},
	}
}

func campaignsStatsCommand() *command {
	var (
		asJSON bool
		since  string
	)
	return &command{
		name:    "stats",
		summary: "the campaign's funnel per variant, with rates and an A/B test of each variant against the first",
		usage:   " ID|NAME",
		details: `
Per prompt variant: dialogs, replies (the lead wrote back), qualified (the
lead's interest score reached 50), handoffs to a manager, opt-outs, lost and
won. Each variant is tested against the campaign's first variant (the
control) on every rate with a two-proportion z-test: "likely real" when
p < 0.05, else how many more dialogs per variant would show a difference
of the size seen. p is the chance of a difference at least this large if
the two variants were in truth equal. With --postgres the numbers come from
the PostgreSQL read models (brought up to date first).` + campaignsWhileRunning,
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.BoolVar(&asJSON, "json", false, "print JSON")
			fs.StringVar(&since, "since", "", "count only dialogs started on or after this `date` (YYYY-MM-DD, UTC)")
			return func() error {
				if since != "" {
					if _, err := time.Parse(time.DateOnly, since); err != nil {
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
			var from time.Time
			if since != "" {
				from, _ = time.Parse(time.DateOnly, since)
			}
			_, sink, closeAll, err := a.logAndReadModels(ctx)
			if err != nil {
				return err
			}
			defer closeAll()
			st, err := campaigns.StatsOf(ctx, sink, args[0], from)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st.JSON())
			}
			return printStats(a.stdout, st)
		},
	}
}

func printStats(w io.Writer, s campaigns.Stats) error {
	c, since, rows, weights, tests := s.Campaign, s.Since, s.Rows, s.Weights, s.Tests
	total := projections.SumVariants(rows)
	fmt.Fprintf(w, "%s (%s) — %s; scenario %s %s\n", c.Name, projections.ShortID(c.ID), c.Status, c.Scenario, c.Version)
	fmt.Fprintf(w, "runs %s\n", scheduleText(c.Schedule))
	period := "all time"
	if !since.IsZero() {
		period = "started since " + since.Format(time.DateOnly)
	}
	fmt.Fprintf(w, "%d dialogs (%s), %d contacts targeted\n\n", total.Dialogs, period, c.Targeted)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIANT\tWEIGHT\tDIALOGS\tREPLIED\tQUALIFIED\tHANDOFF\tOPTED OUT\tLOST\tWON")
	for _, r := range rows {
		cell := func(x int) string { return fmt.Sprintf("%d (%.1f%%)", x, 100*projections.Rate(x, r.Dialogs)) }
		weight := "–"
		if wt, ok := weights[r.Variant]; ok {
			weight = strconv.Itoa(wt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%d\t%d\n", variantName(r.Variant), weight, r.Dialogs, cell(r.Replied), cell(r.Qualified),
			cell(r.Handoffs), cell(r.OptedOut), r.Lost, r.Won)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(tests) == 0 {
		fmt.Fprintln(w, "\nOne variant only: nothing to compare.")
		return nil
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	last := ""
	for _, t := range tests {
		if t.Variant != last {
			fmt.Fprintf(tw, "\n%s against %s (the control):\n", variantName(t.Variant), variantName(t.Control))
			last = t.Variant
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", t.Title, t.Points(), t.Verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nQualified: the lead's interest score reached %d. p is the chance of a difference at least this large if the variants were in truth equal; below %.2f it is called likely real.\n",
		projections.QualifiedScore, projections.Significance)
	return err
}

func variantName(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}
