package campaigns_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

func TestParseWhen(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]time.Time{
		"2026-12-02T09:00":          time.Date(2026, 12, 2, 9, 0, 0, 0, berlin),
		" 2026-12-02 09:00 ":        time.Date(2026, 12, 2, 9, 0, 0, 0, berlin),
		"2026-12-02T09:00:30":       time.Date(2026, 12, 2, 9, 0, 30, 0, berlin),
		"2026-12-02":                time.Date(2026, 12, 2, 0, 0, 0, 0, berlin),
		"2026-12-02T09:00:00+03:00": time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC),
	} {
		if got, err := campaigns.ParseWhen(in, berlin); err != nil || !got.Equal(want) {
			t.Errorf("ParseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "next monday", "2026-12-02T25:00", strings.Repeat("9", 5000)} {
		if _, err := campaigns.ParseWhen(in, time.UTC); err == nil {
			t.Errorf("ParseWhen(%q) took it", in)
		}
	}
}

func TestParseVariantsAndSplitList(t *testing.T) {
	if got := campaigns.SplitList(" a, ,b ,,"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("SplitList = %q", got)
	}
	if got := campaigns.SplitList(""); got != nil {
		t.Errorf("SplitList of nothing = %q", got)
	}
	got, err := campaigns.ParseVariants(" A = 50, B=50,")
	if want := []domain.VariantWeight{{Name: "A", Weight: 50}, {Name: "B", Weight: 50}}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseVariants = %+v, %v; want %+v", got, err, want)
	}
	for _, in := range []string{"A", "=5", "A=many", "=,=,"} {
		if _, err := campaigns.ParseVariants(in); domain.ErrorField(err) != "variants" {
			t.Errorf("ParseVariants(%q): %v; want an error on variants", in, err)
		}
	}
}

// A form is read into the command to create, or refused naming the field
// at fault; an error about two fields names both as the caller calls
// them.
func TestFormRequest(t *testing.T) {
	sc := &scenario.Scenario{Name: "acme", Version: "3", Variants: []scenario.Variant{{Name: "A", Weight: 1}, {Name: "B", Weight: 3}}}
	load := func() (*scenario.Scenario, error) { return sc, nil }
	good := campaigns.Form{Name: " Q1 ", Tags: "SaaS, berlin", Import: " imp-0193a0c0-0000-7000-8000-000000000001 ", Accounts: "sales-1, sales-2",
		Start: "2026-12-02T09:00", Days: 14, Hours: "09:00-18:00", TimeZone: "Europe/Berlin", Weekdays: "mon-fri", DailyCap: 40, By: "cli"}
	req, err := good.Request(load, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := req.CreateCampaign
	if c.Name != "Q1" || c.Scenario != "acme" || c.Version != "3" || !reflect.DeepEqual(c.Segment.Tags, []string{"berlin", "saas"}) ||
		c.Segment.Import != "imp-0193a0c0-0000-7000-8000-000000000001" || !reflect.DeepEqual(req.Accounts, []string{"sales-1", "sales-2"}) ||
		!c.Schedule.Start.Equal(time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)) || !c.Schedule.End.Equal(time.Date(2026, 12, 16, 8, 0, 0, 0, time.UTC)) ||
		c.Schedule.StartMinute != 9*60 || c.Schedule.EndMinute != 18*60 || len(c.Schedule.Days) != 5 || c.Caps.DailyNewDialogs != 40 ||
		!reflect.DeepEqual(c.Variants, []domain.VariantWeight{{Name: "A", Weight: 1}, {Name: "B", Weight: 3}}) || c.By != "cli" {
		t.Fatalf("Request = %+v", req)
	}
	if req, err := (campaigns.Form{Name: "x", Start: "2026-12-02"}).Request(load, nil); err != nil || !req.Schedule.End.Equal(time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("no end: %+v, %v; want 7 days", req.Schedule, err)
	}
	flags := map[string]string{"schedule.start": "--start", "schedule.end": "--end", "schedule.length": "--days"}
	name := func(f string) string { return flags[f] }
	broken := errors.New("no such file")
	for _, c := range []struct {
		edit  func(*campaigns.Form)
		load  func() (*scenario.Scenario, error)
		field string
		msg   string
	}{
		{func(f *campaigns.Form) { f.TimeZone = "Mars/Olympus" }, nil, "schedule.time_zone", `unknown time zone "Mars/Olympus"`},
		{func(f *campaigns.Form) { f.Start = " " }, nil, "", "--start is required, e.g. --start 2026-12-02T09:00"},
		{func(f *campaigns.Form) { f.Start = "soon" }, nil, "schedule.start", `"soon" is not a time`},
		{func(f *campaigns.Form) { f.End = "2026-12-09" }, nil, "", "give --end or --days, not both"},
		{func(f *campaigns.Form) { f.Days = campaigns.MaxDays + 1 }, nil, "schedule.length", "want 1 to 3660, got 3661"},
		{func(f *campaigns.Form) { f.Days, f.End = 0, "2026-12-01T09:00" }, nil, "", "--end (2026-12-01 09:00) must be after --start (2026-12-02 09:00)"},
		{func(f *campaigns.Form) { f.Days, f.End = 0, "later" }, nil, "schedule.end", "is not a time"},
		{func(f *campaigns.Form) { f.Hours = "9-5" }, nil, "schedule.hours", "want HH:MM-HH:MM"},
		{func(f *campaigns.Form) { f.Weekdays = "funday" }, nil, "schedule.days", "is not a day"},
		{func(f *campaigns.Form) { f.Variants = "A" }, nil, "variants", "want NAME=WEIGHT"},
		{func(f *campaigns.Form) { f.Variants = "C=1" }, nil, "variants", `has no variant "C"`},
		{func(f *campaigns.Form) {}, func() (*scenario.Scenario, error) { return &scenario.Scenario{Name: "bare"}, nil }, "scenario", "bare has no prompt variants"},
		{func(f *campaigns.Form) { f.TotalCap = -1 }, nil, "caps.total_dialogs", "total cap"},
	} {
		f := good
		c.edit(&f)
		l := load
		if c.load != nil {
			l = c.load
		}
		_, err := f.Request(l, name)
		if domain.ErrorCode(err) != domain.EINVALID || domain.ErrorField(err) != c.field || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: %v (field %q); want EINVALID, field %q, %q", f, err, domain.ErrorField(err), c.field, c.msg)
		}
	}
	if _, err := good.Request(func() (*scenario.Scenario, error) { return nil, broken }, name); !errors.Is(err, broken) {
		t.Fatalf("a scenario that cannot be loaded: %v", err)
	}
	if _, err := (campaigns.Form{Name: "x"}).Request(load, nil); !strings.Contains(err.Error(), "schedule.start is required") {
		t.Fatalf("no start, no names: %v", err)
	}
}
