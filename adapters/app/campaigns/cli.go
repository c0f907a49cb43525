package campaigns

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

// The command line's pieces of `salesbot campaigns create` and `stats`:
// their options, read and checked, for cmd/salesbot to wire.

// CreateFlags are the options of campaigns create, read into Request
// (Form.Request) before the log is opened (accounts, which need the log,
// are resolved by Create).
type CreateFlags struct {
	Form
	Scenario string        // the scenario file; "" = the shipped example
	Request  CreateRequest // after Check
}

// Register registers the options on fs; scenario is the default
// scenario file (SALESBOT_SCENARIO).
func (f *CreateFlags) Register(fs *flag.FlagSet, scenario string) {
	f.Scenario = scenario
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
	fs.StringVar(&f.Scenario, "scenario", f.Scenario, "scenario `file` whose variants the campaign tests; empty = the shipped example [SALESBOT_SCENARIO]")
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
	fs.StringVar(&f.Optimize, "optimize", "", "let the variants' weights optimize themselves for this `goal`: "+strings.Join(domain.Goals(), ", ")+
		" (Thompson sampling; a variant with significantly more opt-outs than the first is paused); none = fixed weights (default)")
}

// Check reads the options into Request and checks it against the
// domain's rules, naming the option at fault (Usage). load loads a
// scenario file.
func (f *CreateFlags) Check(load func(file string) (*scenario.Scenario, error)) error {
	if strings.TrimSpace(f.Name) == "" {
		return cli.Usagef("--name is required")
	}
	f.By = "cli"
	var err error
	f.Request, err = f.Form.Request(func() (*scenario.Scenario, error) { return load(f.Scenario) }, func(field string) string { return flagOf[field] })
	return Usage(err)
}

// flagOf is the option of each field of a campaign the domain checks.
var flagOf = map[string]string{"name": "--name", "scenario": "--scenario", "variants": "--variants",
	"schedule": "--start and --end", "schedule.start": "--start", "schedule.end": "--end", "schedule.length": "--days",
	"schedule.hours": "--hours", "schedule.days": "--weekdays", "schedule.time_zone": "--tz",
	"caps.daily_new_dialogs": "--daily-cap", "caps.total_dialogs": "--total-cap",
	"segment.import": "--import", "segment.fields": "--field", "accounts": "--accounts", "optimize": "--optimize", "n": "--n"}

// Usage turns a rule a campaign breaks (EINVALID) into a usage error
// naming its option; other errors are returned as they are.
func Usage(err error) error {
	if domain.ErrorCode(err) != domain.EINVALID {
		return err
	}
	if flag, ok := flagOf[domain.ErrorField(err)]; ok {
		return cli.Usagef("%s: %v", flag, err)
	}
	return cli.Usagef("%v", err)
}

// StatsFlags are the options of campaigns stats.
type StatsFlags struct {
	JSON    bool
	From    time.Time // --since; zero: every dialog
	Metrics []string  // --metric; none: the default ones
	since   string
}

// Register registers the options on fs and returns their check.
func (s *StatsFlags) Register(fs *flag.FlagSet) func() error {
	fs.BoolVar(&s.JSON, "json", false, "print JSON")
	fs.StringVar(&s.since, "since", "", "count only dialogs started on or after this `date` (YYYY-MM-DD, UTC)")
	fs.Func("metric", "test the variants on these `rates` only, comma-separated or repeated: "+strings.Join(Metrics(), ", ")+" (default: all but won)", func(v string) error {
		for _, m := range SplitList(v) {
			if !slices.Contains(Metrics(), m) {
				return fmt.Errorf("no metric %q (one of %s)", m, strings.Join(Metrics(), ", "))
			}
			s.Metrics = append(s.Metrics, m)
		}
		return nil
	})
	return func() (err error) {
		if s.since != "" {
			if s.From, err = time.Parse(time.DateOnly, s.since); err != nil {
				return cli.Usagef("--since: %q is not a date like 2026-12-01", s.since)
			}
		}
		return nil
	}
}

// PreviewFlags are the options of campaigns preview.
type PreviewFlags struct{ N int }

// Register registers the options on fs and returns their check.
func (p *PreviewFlags) Register(fs *flag.FlagSet) func() error {
	fs.IntVar(&p.N, "n", DefaultPreview, fmt.Sprintf("how many openings: one for each of the campaign's first `n` contacts (1 to %d)", MaxPreview))
	return func() error {
		if p.N < 1 || p.N > MaxPreview {
			return cli.Usagef("--n: %d is not between 1 and %d", p.N, MaxPreview)
		}
		return nil
	}
}
