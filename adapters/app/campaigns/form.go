package campaigns

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

// Form is a campaign to create as a person types it (the CLI's flags, a
// web form): lists comma-separated, times and hours as text. Request
// reads it into a CreateRequest.
type Form struct {
	Name     string
	Tags     string                // segment: contacts with all of these tags
	Fields   []domain.SegmentField // segment: custom fields equal to these
	Import   string                // segment: contacts from this import (imp-...)
	Variants string                // "A=50,B=50"; "" = the scenario's variants and weights
	Accounts string                // ids or labels; "" = every account
	// Start and End are times like 2026-12-02T09:00 in TimeZone (UTC if
	// none) or RFC 3339 (ParseWhen); without End the campaign runs Days
	// days (7 if 0).
	Start, End string
	Days       int
	Hours      string // campaign hours HH:MM-HH:MM in TimeZone; "" = the accounts' hours
	TimeZone   string // of Start, End and Hours, e.g. Europe/Berlin
	Weekdays   string // as domain.ParseWeekdays reads them; "" = every day
	DailyCap   int    // new dialogs per day for the whole campaign; 0 = only the accounts' caps
	TotalCap   int    // dialogs in all; 0 = no cap
	Optimize   string // the goal its weights are optimized for (domain.ParseGoal); "" or "none" = fixed weights
	By         string // who creates it: "cli", "admin:<id>"
}

// MaxDays is the most days a campaign runs by Form.Days.
const MaxDays = 3660

// Request reads the form into the campaign to create, checked with
// domain.NewCreateCampaign; the accounts are resolved by Create. load
// gives the scenario whose variants the campaign tests; it is called once
// the schedule is read, and its error is returned as is.
//
// Errors are *domain.Error with code EINVALID and the Field at fault: as
// NewCreateCampaign's, and "schedule.start" and "schedule.length" (Days).
// One that names two fields (an end before the start, End and Days both)
// or a missing start has no Field: its message names them by name, how
// the caller's user knows each field (the CLI: its flag); nil names them
// by their paths.
func (f Form) Request(load func() (*scenario.Scenario, error), name func(field string) string) (CreateRequest, error) {
	if name == nil {
		name = func(field string) string { return field }
	}
	loc := time.UTC
	if f.TimeZone != "" {
		l, err := time.LoadLocation(f.TimeZone)
		if err != nil {
			return CreateRequest{}, invalid("schedule.time_zone", "unknown time zone %q (e.g. Europe/Berlin)", f.TimeZone)
		}
		loc = l
	}
	if strings.TrimSpace(f.Start) == "" {
		return CreateRequest{}, invalid("", "%s is required, e.g. %[1]s 2026-12-02T09:00", name("schedule.start"))
	}
	start, err := ParseWhen(f.Start, loc)
	if err != nil {
		return CreateRequest{}, invalid("schedule.start", "%v", err)
	}
	var end time.Time
	switch {
	case f.End != "" && f.Days != 0:
		return CreateRequest{}, invalid("", "give %s or %s, not both", name("schedule.end"), name("schedule.length"))
	case f.Days < 0 || f.Days > MaxDays:
		return CreateRequest{}, invalid("schedule.length", "want 1 to %d, got %d", MaxDays, f.Days)
	case f.End != "":
		if end, err = ParseWhen(f.End, loc); err != nil {
			return CreateRequest{}, invalid("schedule.end", "%v", err)
		}
		if !end.After(start) {
			return CreateRequest{}, invalid("", "%s (%s) must be after %s (%s)", name("schedule.end"), end.In(loc).Format(whenLayout),
				name("schedule.start"), start.In(loc).Format(whenLayout))
		}
	default:
		end = start.AddDate(0, 0, cmp.Or(f.Days, 7))
	}
	schedule := domain.CampaignSchedule{Start: start.UTC(), End: end.UTC(), TimeZone: f.TimeZone}
	if f.Hours != "" {
		if schedule.StartMinute, schedule.EndMinute, err = domain.ParseHours(f.Hours); err != nil {
			return CreateRequest{}, invalid("schedule.hours", "%v", err)
		}
	}
	if schedule.Days, err = domain.ParseWeekdays(f.Weekdays); err != nil {
		return CreateRequest{}, invalid("schedule.days", "%v", err)
	}
	sc, err := load()
	if err != nil {
		return CreateRequest{}, err
	}
	if len(sc.Variants) == 0 {
		return CreateRequest{}, invalid("scenario", "%s has no prompt variants to test; add some (docs/scenario.md)", sc.Name)
	}
	offered := []domain.VariantWeight{}
	for _, v := range sc.Variants {
		offered = append(offered, domain.VariantWeight{Name: v.Name, Weight: v.Weight})
	}
	chosen, err := ParseVariants(f.Variants)
	if err != nil {
		return CreateRequest{}, err
	}
	cmd, err := domain.NewCreateCampaign(domain.CreateCampaign{Name: f.Name, Scenario: sc.Name, Version: sc.Version,
		Segment:  f.Segment(),
		Variants: chosen, Offered: offered, Schedule: schedule, By: f.By, Optimize: domain.Goal(f.Optimize),
		Caps: domain.CampaignCaps{DailyNewDialogs: f.DailyCap, TotalDialogs: f.TotalCap}})
	return CreateRequest{CreateCampaign: cmd, Accounts: SplitList(f.Accounts)}, err
}

// Segment is the form's segment: its tags, fields and import.
func (f Form) Segment() domain.Segment {
	return domain.Segment{Tags: domain.NormalizeTags(SplitList(f.Tags)), Fields: f.Fields, Import: strings.TrimSpace(f.Import)}
}

// ParseVariants reads prompt variants and their weights, "A=50,B=50"
// (nil for ""). A part that is not NAME=WEIGHT is a *domain.Error with
// code EINVALID and Field "variants"; the names and weights themselves
// are domain.NewCreateCampaign's to check.
func ParseVariants(s string) ([]domain.VariantWeight, error) {
	var out []domain.VariantWeight
	for _, p := range SplitList(s) {
		n, w, ok := strings.Cut(p, "=")
		weight, err := strconv.Atoi(strings.TrimSpace(w))
		if !ok || strings.TrimSpace(n) == "" || err != nil {
			return nil, invalid("variants", "want NAME=WEIGHT,... like A=50,B=50, got %q", s)
		}
		out = append(out, domain.VariantWeight{Name: strings.TrimSpace(n), Weight: weight})
	}
	return out, nil
}

// SplitList splits a comma-separated list, its items trimmed, empty ones
// left out.
func SplitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// ParseWhen reads a time as typed: 2026-12-02T09:00, 2026-12-02 09:00,
// with seconds, a date alone (midnight), all in loc; or RFC 3339 with its
// own offset.
func ParseWhen(s string, loc *time.Location) (time.Time, error) {
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

// invalid is an EINVALID *domain.Error about field ("": none).
func invalid(field, format string, args ...any) error {
	return &domain.Error{Code: domain.EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}
