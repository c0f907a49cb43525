package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

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

// campaignFlags are the flags of campaigns create, checked before the log
// is opened (accounts, which need the log, are resolved later).
type campaignFlags struct {
	name, tags, importID, scenario, variants, accounts string
	start, end, hours, tz, weekdays                    string
	days, dailyCap, totalCap                           int
	fields                                             []domain.SegmentField

	// Checked values.
	loc      *time.Location
	schedule domain.CampaignSchedule
	segment  domain.Segment
	weights  []domain.VariantWeight
	scName   string
	scVer    string
}

func (f *campaignFlags) register(fs *flag.FlagSet, a *app) {
	f.scenario = a.getenv("SALESBOT_SCENARIO")
	fs.StringVar(&f.name, "name", "", "the campaign's `name` managers know it by (required, unique)")
	fs.StringVar(&f.tags, "tags", "", "segment: contacts with all of these `tags` (comma-separated)")
	fs.Func("field", "segment: contacts whose custom field has this value, `name=value` (case-insensitive; repeat for more)", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || !domain.ValidFieldName(k) || strings.TrimSpace(val) == "" {
			return fmt.Errorf("want name=value with a field name like city or team_size, got %q", v)
		}
		f.fields = append(f.fields, domain.SegmentField{Name: k, Value: strings.TrimSpace(val)})
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

// check checks every flag that needs no log, naming the flag at fault.
func (f *campaignFlags) check() error {
	f.name = strings.TrimSpace(f.name)
	if f.name == "" {
		return usagef("--name is required")
	}
	if len([]rune(f.name)) > 100 {
		return usagef("--name: at most 100 characters")
	}
	f.loc = time.UTC
	if f.tz != "" {
		loc, err := time.LoadLocation(f.tz)
		if err != nil {
			return usagef("--tz: unknown time zone %q (e.g. Europe/Berlin)", f.tz)
		}
		f.loc = loc
	}
	if strings.TrimSpace(f.start) == "" {
		return usagef("--start is required, e.g. --start 2026-12-02T09:00")
	}
	start, err := parseWhen(f.start, f.loc)
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
		if end, err = parseWhen(f.end, f.loc); err != nil {
			return usagef("--end: %v", err)
		}
		if !end.After(start) {
			return usagef("--end (%s) must be after --start (%s)", end.In(f.loc).Format(whenLayout), start.In(f.loc).Format(whenLayout))
		}
	default:
		days := f.days
		if days == 0 {
			days = 7
		}
		end = start.AddDate(0, 0, days)
	}
	if start.Year() < 2000 || end.Year() > 2200 {
		return usagef("--start and --end must lie between the years 2000 and 2200 (got %s to %s)", start.Format(time.DateOnly), end.Format(time.DateOnly))
	}
	f.schedule = domain.CampaignSchedule{Start: start.UTC(), End: end.UTC(), TimeZone: f.tz}
	if f.hours != "" {
		from, to, ok := strings.Cut(f.hours, "-")
		s, err1 := minuteOfDay(from)
		e, err2 := minuteOfDay(to)
		if !ok || err1 != nil || err2 != nil {
			return usagef("--hours: want HH:MM-HH:MM, got %q", f.hours)
		}
		if s >= e {
			return usagef("--hours: %q does not end after it starts", f.hours)
		}
		f.schedule.StartMinute, f.schedule.EndMinute = s, e
	}
	if f.schedule.Days, err = parseDays(f.weekdays); err != nil {
		return usagef("--weekdays: %v", err)
	}
	if f.dailyCap < 0 {
		return usagef("--daily-cap: want 0 or more, got %d", f.dailyCap)
	}
	if f.totalCap < 0 {
		return usagef("--total-cap: want 0 or more, got %d", f.totalCap)
	}
	var tags []string
	for _, t := range strings.Split(f.tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	f.segment = domain.Segment{Tags: domain.NormalizeTags(tags), Fields: f.fields, Import: strings.TrimSpace(f.importID)}
	if strings.IndexFunc(f.segment.Import, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 || len(f.segment.Import) > 64 {
		return usagef("--import: %q is not an import id like imp-0193a0c0-…", f.importID)
	}
	for i, a := range f.fields {
		for _, b := range f.fields[:i] {
			if a.Name == b.Name {
				return usagef("--field: %s is given twice", a.Name)
			}
		}
	}
	sc, err := loadScenario(f.scenario)
	if err != nil {
		return err
	}
	f.scName, f.scVer = sc.Name, sc.Version
	known := map[string]bool{}
	var names []string
	for _, v := range sc.Variants {
		known[v.Name] = true
		names = append(names, v.Name)
	}
	if len(sc.Variants) == 0 {
		return usagef("--scenario: %s has no prompt variants to test; add some (docs/scenario.md)", sc.Name)
	}
	if strings.TrimSpace(f.variants) == "" {
		for _, v := range sc.Variants {
			f.weights = append(f.weights, domain.VariantWeight{Name: v.Name, Weight: max(v.Weight, 1)})
		}
	} else {
		for _, p := range strings.Split(f.variants, ",") {
			n, w, ok := strings.Cut(strings.TrimSpace(p), "=")
			n = strings.TrimSpace(n)
			weight, err := strconv.Atoi(strings.TrimSpace(w))
			switch {
			case !ok || n == "" || err != nil:
				return usagef("--variants: want NAME=WEIGHT,... like A=50,B=50, got %q", f.variants)
			case weight <= 0:
				return usagef("--variants: the weight of %s must be above 0", n)
			case !known[n]:
				return usagef("--variants: the scenario %s has no variant %q (it has %s)", sc.Name, n, orNone(strings.Join(names, ", ")))
			case slices.ContainsFunc(f.weights, func(v domain.VariantWeight) bool { return v.Name == n }):
				return usagef("--variants: %s is given twice", n)
			}
			f.weights = append(f.weights, domain.VariantWeight{Name: n, Weight: weight})
		}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
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

// findCampaign finds the campaign ref names (id, short id or name).
func findCampaign(ctx context.Context, sink projections.Sink, ref string) (projections.Campaign, error) {
	cs, err := sink.Campaigns(ctx)
	if err != nil {
		return projections.Campaign{}, fmt.Errorf("list campaigns: %w", err)
	}
	found := projections.MatchCampaigns(cs, ref)
	switch len(found) {
	case 0:
		return projections.Campaign{}, fmt.Errorf("no campaign %q (see 'salesbot campaigns list'): %w", ref, projections.ErrNotFound)
	case 1:
		return found[0], nil
	}
	var names []string
	for _, c := range found {
		names = append(names, fmt.Sprintf("%s (%s)", c.Name, projections.ShortID(c.ID)))
	}
	return projections.Campaign{}, fmt.Errorf("%q matches %d campaigns: %s; give more of the id", ref, len(found), strings.Join(names, ", "))
}

// segmentCount counts the contacts of the log the segment selects and
// that may be written to now; matched also counts those that may not
// (opted out, erased, unreachable).
func segmentCount(ctx context.Context, st eventstore.Store, seg domain.Segment) (contactable, matched int, err error) {
	log := eventlog.New(st)
	contacts := map[uuid.UUID]domain.Contact{}
	for from := uint64(1); from <= st.Head(); from += 5000 {
		err := st.Scan(ctx, from, 5000, func(r *eventstore.RecordedEvent) error {
			// r and its strings are valid only during the call: the key
			// is the id parsed out of the stream name, not the name.
			id, ok := domain.AggregateContact.ID(r.Stream)
			if !ok {
				return nil // not a contact's stream
			}
			e, err := log.Decode(r)
			if err != nil {
				return err
			}
			contacts[id] = domain.EvolveContact(contacts[id], e)
			return nil
		})
		if err != nil {
			return 0, 0, fmt.Errorf("read contacts: %w", err)
		}
	}
	for _, c := range contacts {
		if c.Exists && seg.Matches(c) {
			matched++
			if c.Contactable() == nil {
				contactable++
			}
		}
	}
	return contactable, matched, nil
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
			existing, err := sink.Campaigns(ctx)
			if err != nil {
				return fmt.Errorf("list campaigns: %w", err)
			}
			for _, c := range existing {
				if strings.EqualFold(c.Name, f.name) {
					return usagef("--name: campaign %s is called %q already; choose another name", projections.ShortID(c.ID), c.Name)
				}
			}
			accs, labels, err := resolveAccounts(ctx, sink, f.accounts)
			if err != nil {
				return err
			}
			contactable, matched, err := segmentCount(ctx, st, f.segment)
			if err != nil {
				return err
			}
			id := uuid.New() // random, so the first 8 characters tell campaigns apart
			h := domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: time.Now}
			if _, err := h.Campaign(ctx, id, domain.CreateCampaign{CampaignID: id, Name: f.name, Segment: f.segment,
				Scenario: f.scName, Version: f.scVer, Variants: f.weights, Accounts: accs, Schedule: f.schedule,
				Caps: domain.CampaignCaps{DailyNewDialogs: f.dailyCap, TotalDialogs: f.totalCap}, By: "cli"}); err != nil {
				if domain.ErrorCode(err) == domain.EINVALID {
					return usagef("%v", err)
				}
				return fmt.Errorf("create campaign %s: %w", id, err)
			}
			w := a.stdout
			fmt.Fprintf(w, "campaign %s created: %s (short id %s), active\n", id, f.name, projections.ShortID(id))
			fmt.Fprintf(w, "scenario %s %s, variants %s\n", f.scName, f.scVer, domain.VariantsText(f.weights))
			fmt.Fprintf(w, "runs %s\n", scheduleText(f.schedule))
			fmt.Fprintf(w, "caps: %s; accounts: %s\n", capsText(domain.CampaignCaps{DailyNewDialogs: f.dailyCap, TotalDialogs: f.totalCap}), orEvery(labels))
			fmt.Fprintf(w, "segment %s selects %s now", segmentText(f.segment), plural(contactable, "contact"))
			if matched > contactable {
				fmt.Fprintf(w, " (%d more match but may not be written to: do-not-contact, erased or unreachable)", matched-contactable)
			}
			fmt.Fprintln(w)
			return nil
		},
	}
}

// resolveAccounts turns --accounts (ids or labels) into account ids.
func resolveAccounts(ctx context.Context, sink projections.Sink, list string) ([]uuid.UUID, []string, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil, nil
	}
	accs, err := sink.Accounts(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list accounts: %w", err)
	}
	var ids []uuid.UUID
	var labels []string
	for _, ref := range strings.Split(list, ",") {
		ref = strings.TrimSpace(ref)
		if ref == "" {
			continue
		}
		id, idErr := uuid.Parse(ref)
		var found []projections.Account
		for _, a := range accs {
			if a.Status != string(domain.StatusRemoved) && ((idErr == nil && a.ID == id) || strings.EqualFold(a.Label, ref)) {
				found = append(found, a)
			}
		}
		switch {
		case len(found) == 0:
			return nil, nil, usagef("--accounts: no account %q (see 'salesbot accounts list')", ref)
		case len(found) > 1:
			return nil, nil, usagef("--accounts: %d accounts are labelled %q; give the id", len(found), ref)
		case slices.Contains(ids, found[0].ID):
			return nil, nil, usagef("--accounts: %s is given twice", ref)
		}
		ids, labels = append(ids, found[0].ID), append(labels, found[0].Label)
	}
	return ids, labels, nil
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

// campaignJSON is a campaign as list --json prints it.
type campaignJSON struct {
	ID       string                  `json:"id"`
	Short    string                  `json:"short_id"`
	Name     string                  `json:"name"`
	Status   string                  `json:"status"`
	Scenario string                  `json:"scenario"`
	Version  string                  `json:"version"`
	Variants []domain.VariantWeight  `json:"variants"`
	Segment  domain.Segment          `json:"segment"`
	Accounts []uuid.UUID             `json:"accounts"`
	Schedule domain.CampaignSchedule `json:"schedule"`
	Caps     domain.CampaignCaps     `json:"caps"`
	Targeted int                     `json:"targeted"`
	Totals   countsJSON              `json:"totals"`
	Created  time.Time               `json:"created_at"`
	Updated  time.Time               `json:"updated_at"`
}

// countsJSON is a funnel row with its rates (fractions of the dialogs).
type countsJSON struct {
	Variant       string  `json:"variant,omitempty"`
	Weight        int     `json:"weight,omitempty"`
	Dialogs       int     `json:"dialogs"`
	Replied       int     `json:"replied"`
	ReplyRate     float64 `json:"reply_rate"`
	Qualified     int     `json:"qualified"`
	QualifiedRate float64 `json:"qualified_rate"`
	Handoff       int     `json:"handoff"`
	HandoffRate   float64 `json:"handoff_rate"`
	OptedOut      int     `json:"opted_out"`
	OptOutRate    float64 `json:"opt_out_rate"`
	Lost          int     `json:"lost"`
	Won           int     `json:"won"`
}

func countsOf(v projections.VariantCounts) countsJSON {
	r := func(x int) float64 { return roundTo(projections.Rate(x, v.Dialogs), 4) }
	return countsJSON{Variant: v.Variant, Dialogs: v.Dialogs, Replied: v.Replied, ReplyRate: r(v.Replied),
		Qualified: v.Qualified, QualifiedRate: r(v.Qualified), Handoff: v.Handoffs, HandoffRate: r(v.Handoffs),
		OptedOut: v.OptedOut, OptOutRate: r(v.OptedOut), Lost: v.Lost, Won: v.Won}
}

func roundTo(x float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	if x < 0 {
		return -float64(int64(-x*p+0.5)) / p
	}
	return float64(int64(x*p+0.5)) / p
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
			cs, err := sink.Campaigns(ctx)
			if err != nil {
				return fmt.Errorf("list campaigns: %w", err)
			}
			items := make([]campaignJSON, 0, len(cs))
			for _, c := range cs {
				rows, err := sink.VariantFunnel(ctx, c.ID, time.Time{})
				if err != nil {
					return err
				}
				items = append(items, campaignJSON{ID: c.ID.String(), Short: projections.ShortID(c.ID), Name: c.Name, Status: c.Status,
					Scenario: c.Scenario, Version: c.Version, Variants: c.Variants, Segment: c.Segment, Accounts: append([]uuid.UUID{}, c.Accounts...),
					Schedule: c.Schedule, Caps: c.Caps, Targeted: c.Targeted, Totals: countsOf(projections.SumVariants(rows)),
					Created: c.CreatedAt, Updated: c.UpdatedAt})
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
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", it.Short, oneLine(it.Name), it.Status, domain.VariantsText(it.Variants),
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
			c, err := findCampaign(ctx, sink, args[0])
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

// statsJSON is what stats --json prints.
type statsJSON struct {
	Campaign campaignJSON `json:"campaign"`
	Since    *time.Time   `json:"since,omitempty"`
	Variants []countsJSON `json:"variants"`
	Tests    []testJSON   `json:"tests"`
}

type testJSON struct {
	Metric     string  `json:"metric"`
	Variant    string  `json:"variant"`
	Control    string  `json:"control"`
	Diff       float64 `json:"diff"`
	Z          float64 `json:"z"`
	P          float64 `json:"p"`
	OK         bool    `json:"ok"`
	LikelyReal bool    `json:"likely_real"`
	More       int     `json:"more_dialogs_per_variant,omitempty"`
	Verdict    string  `json:"verdict"`
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
			c, err := findCampaign(ctx, sink, args[0])
			if err != nil {
				return err
			}
			rows, err := sink.VariantFunnel(ctx, c.ID, from)
			if err != nil {
				return err
			}
			var names []string
			weights := map[string]int{}
			for _, v := range c.Variants {
				names, weights[v.Name] = append(names, v.Name), v.Weight
			}
			rows = projections.OrderVariants(rows, names)
			tests := projections.Compare(rows)
			if asJSON {
				return printStatsJSON(a.stdout, c, from, rows, weights, tests)
			}
			return printStats(a.stdout, c, from, rows, weights, tests)
		},
	}
}

func printStatsJSON(w io.Writer, c projections.Campaign, since time.Time, rows []projections.VariantCounts, weights map[string]int, tests []projections.Comparison) error {
	out := statsJSON{Campaign: campaignJSON{ID: c.ID.String(), Short: projections.ShortID(c.ID), Name: c.Name, Status: c.Status,
		Scenario: c.Scenario, Version: c.Version, Variants: c.Variants, Segment: c.Segment, Accounts: append([]uuid.UUID{}, c.Accounts...), Schedule: c.Schedule,
		Caps: c.Caps, Targeted: c.Targeted, Totals: countsOf(projections.SumVariants(rows)), Created: c.CreatedAt, Updated: c.UpdatedAt},
		Variants: []countsJSON{}, Tests: []testJSON{}}
	if !since.IsZero() {
		out.Since = &since
	}
	for _, r := range rows {
		cj := countsOf(r)
		cj.Weight = weights[r.Variant]
		out.Variants = append(out.Variants, cj)
	}
	for _, t := range tests {
		out.Tests = append(out.Tests, testJSON{Metric: t.Metric, Variant: t.Variant, Control: t.Control, Diff: roundTo(t.Diff, 4),
			Z: roundTo(t.Z, 3), P: roundTo(t.P, 4), OK: t.OK, LikelyReal: t.Real, More: t.More, Verdict: t.Verdict})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func printStats(w io.Writer, c projections.Campaign, since time.Time, rows []projections.VariantCounts, weights map[string]int, tests []projections.Comparison) error {
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
