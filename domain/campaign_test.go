package domain

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

var campaignID = uuid.MustParse("0193a0c0-0000-7000-8000-0000000000ca")

func create() CreateCampaign {
	return CreateCampaign{CampaignID: campaignID, Name: " Q1 ", Scenario: "acme", Version: "1.0",
		Variants: []VariantWeight{{"A", 50}, {"B", 50}}, Schedule: CampaignSchedule{Start: now, End: now.Add(7 * 24 * time.Hour)}, By: "admin:1"}
}

func TestDecideCampaign(t *testing.T) {
	created := CampaignCreated{CampaignID: campaignID, Name: "Q1", Scenario: "acme", Version: "1.0",
		Variants: []VariantWeight{{"A", 50}, {"B", 50}}, Schedule: CampaignSchedule{Start: now, End: now.Add(7 * 24 * time.Hour)}, By: "admin:1"}
	bad := func(f func(*CreateCampaign)) CreateCampaign { c := create(); f(&c); return c }
	for _, c := range []struct {
		name  string
		given []Event
		when  CampaignCommand
		then  []Event
		err   Code
		field string // of the error, if it names one
	}{
		{"create", nil, create(), []Event{created}, "", ""},
		{"twice", []Event{created}, create(), nil, ESTATE, ""},
		{"no name", nil, bad(func(c *CreateCampaign) { c.Name = " " }), nil, EINVALID, "name"},
		{"no variants", nil, bad(func(c *CreateCampaign) { c.Variants = nil }), nil, EINVALID, "variants"},
		{"zero weight", nil, bad(func(c *CreateCampaign) { c.Variants[1].Weight = 0 }), nil, EINVALID, "variants"},
		{"variant twice", nil, bad(func(c *CreateCampaign) { c.Variants[1].Name = "A" }), nil, EINVALID, "variants"},
		{"ends before it starts", nil, bad(func(c *CreateCampaign) { c.Schedule.End = now.Add(-time.Hour) }), nil, EINVALID, "schedule.end"},
		{"bad hours", nil, bad(func(c *CreateCampaign) { c.Schedule.StartMinute, c.Schedule.EndMinute = 600, 500 }), nil, EINVALID, "schedule.hours"},
		{"bad zone", nil, bad(func(c *CreateCampaign) { c.Schedule.TimeZone = "Mars/Olympus" }), nil, EINVALID, "schedule.time_zone"},
		{"no id", nil, bad(func(c *CreateCampaign) { c.CampaignID = uuid.Nil }), nil, EINVALID, ""},
		{"name too long", nil, bad(func(c *CreateCampaign) { c.Name = strings.Repeat("я", 101) }), nil, EINVALID, "name"},
		{"name of 100 characters", nil, bad(func(c *CreateCampaign) { c.Name = strings.Repeat("я", 100) }),
			[]Event{func() CampaignCreated { e := created; e.Name = strings.Repeat("я", 100); return e }()}, "", ""},
		{"before 2000", nil, bad(func(c *CreateCampaign) { c.Schedule.Start = time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC) }), nil, EINVALID, "schedule"},
		{"no start", nil, bad(func(c *CreateCampaign) { c.Schedule.Start = time.Time{} }), nil, EINVALID, "schedule"},
		{"after 2200", nil, bad(func(c *CreateCampaign) { c.Schedule.End = time.Date(2201, 1, 1, 0, 0, 0, 0, time.UTC) }), nil, EINVALID, "schedule"},
		{"not a weekday", nil, bad(func(c *CreateCampaign) { c.Schedule.Days = []time.Weekday{time.Monday, 7} }), nil, EINVALID, "schedule.days"},
		{"negative daily cap", nil, bad(func(c *CreateCampaign) { c.Caps.DailyNewDialogs = -1 }), nil, EINVALID, "caps.daily_new_dialogs"},
		{"negative total cap", nil, bad(func(c *CreateCampaign) { c.Caps.TotalDialogs = -1 }), nil, EINVALID, "caps.total_dialogs"},
		{"bad import id", nil, bad(func(c *CreateCampaign) { c.Segment.Import = "imp 1" }), nil, EINVALID, "segment.import"},
		{"bad field name", nil, bad(func(c *CreateCampaign) { c.Segment.Fields = []SegmentField{{"1city", "x"}} }), nil, EINVALID, "segment.fields"},
		{"field without a value", nil, bad(func(c *CreateCampaign) { c.Segment.Fields = []SegmentField{{"city", " "}} }), nil, EINVALID, "segment.fields"},
		{"field twice", nil, bad(func(c *CreateCampaign) { c.Segment.Fields = []SegmentField{{"city", "a"}, {"city", "b"}} }), nil, EINVALID, "segment.fields"},
		{"variant the scenario lacks", nil, bad(func(c *CreateCampaign) { c.Offered = []VariantWeight{{"A", 1}} }), nil, EINVALID, "variants"},
		{"the scenario's variants by default", nil, bad(func(c *CreateCampaign) {
			c.Variants, c.Offered = nil, []VariantWeight{{"A", 50}, {"B", 0}}
		}), []Event{func() CampaignCreated { e := created; e.Variants = []VariantWeight{{"A", 50}, {"B", 1}}; return e }()}, "", ""},
		{"pause", []Event{created}, PauseCampaign{By: "admin:1"}, []Event{CampaignPaused{By: "admin:1"}}, "", ""},
		{"pause paused", []Event{created, CampaignPaused{}}, PauseCampaign{}, nil, "", ""},
		{"resume", []Event{created, CampaignPaused{}}, ResumeCampaign{By: "x"}, []Event{CampaignResumed{By: "x"}}, "", ""},
		{"resume ended", []Event{created, CampaignEnded{}}, ResumeCampaign{}, nil, ESTATE, ""},
		{"unknown", nil, PauseCampaign{}, nil, EINVALID, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s Campaign
			for _, e := range c.given {
				s = EvolveCampaign(s, e)
			}
			got, err := DecideCampaign(s, c.when, now)
			if ErrorCode(err) != c.err || (c.err == "" && err != nil) {
				t.Fatalf("error %v, want code %q", err, c.err)
			}
			if c.field != "" && ErrorField(err) != c.field {
				t.Fatalf("error %v names field %q, want %q", err, ErrorField(err), c.field)
			}
			if !reflect.DeepEqual(got, c.then) {
				t.Fatalf("events\n got %#v\nwant %#v", got, c.then)
			}
		})
	}
}

func TestSegmentMatches(t *testing.T) {
	c := Contact{Exists: true, Tags: NormalizeTags([]string{"SaaS", "berlin"}), Fields: []ContactField{{Name: "city", Value: "Berlin "}}, Import: "imp-1"}
	for _, s := range []struct {
		seg  Segment
		want bool
	}{
		{Segment{}, true},
		{Segment{Tags: []string{"saas"}}, true},
		{Segment{Tags: []string{"saas", "retail"}}, false},
		{Segment{Fields: []SegmentField{{"city", "berlin"}}}, true},
		{Segment{Fields: []SegmentField{{"city", "Paris"}}}, false},
		{Segment{Fields: []SegmentField{{"size", "10"}}}, false},
		{Segment{Import: "imp-1"}, true},
		{Segment{Import: "imp-2"}, false},
	} {
		if got := s.seg.Matches(c); got != s.want {
			t.Errorf("%+v matches %v, want %v", s.seg, got, s.want)
		}
	}
}

func TestNewDialogCap(t *testing.T) {
	msk, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	ramped := limits
	ramped.Ramp = []int{1, 2}
	// Registered on Monday 2026-11-23 at 22:30 UTC: Tuesday 01:30 in Moscow.
	reg := time.Date(2026, 11, 23, 22, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		given []Event
		at    time.Time
		loc   *time.Location
		want  int
	}{
		{"daily cap", []Event{registered}, now, nil, 3},
		{"no cap", []Event{AccountRegistered{AccountID: accountID, Label: "x", Limits: Limits{TimeZone: "UTC", EndMinute: 60}, At: reg}}, now, nil, math.MaxInt},
		{"ramp: the next day in UTC", []Event{AccountRegistered{AccountID: accountID, Label: "x", Limits: ramped, At: reg}}, reg.Add(2 * time.Hour), nil, 2},
		{"ramp: the same day in Moscow", []Event{AccountRegistered{AccountID: accountID, Label: "x", Limits: ramped, At: reg}}, reg.Add(2 * time.Hour), msk, 1},
		{"ramp day 2 (Moscow)", []Event{AccountRegistered{AccountID: accountID, Label: "x", Limits: ramped, At: reg}}, reg.Add(25 * time.Hour), msk, 2},
		{"after the ramp", []Event{AccountRegistered{AccountID: accountID, Label: "x", Limits: ramped, At: reg}}, reg.Add(49 * time.Hour), msk, 3},
		{"limits changed", []Event{registered, AccountLimitsChanged{Limits: Limits{DailyNewDialogs: 7, TimeZone: "UTC", EndMinute: 60}}}, now, nil, 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			var a Account
			for _, e := range c.given {
				a = EvolveAccount(a, e)
			}
			if got := NewDialogCap(a, c.at, c.loc); got != c.want {
				t.Fatalf("cap %d, want %d", got, c.want)
			}
		})
	}
}

// Variants read in the campaign's order (the first is the control).
func TestVariantsText(t *testing.T) {
	for _, c := range []struct {
		vs   []VariantWeight
		want string
	}{
		{nil, ""},
		{[]VariantWeight{{Name: "A", Weight: 1}}, "A 1"},
		{[]VariantWeight{{Name: "B", Weight: 30}, {Name: "A", Weight: 70}}, "B 30, A 70"},
		{[]VariantWeight{{Name: "короткий", Weight: 5}, {Name: "long", Weight: 95}}, "короткий 5, long 95"},
	} {
		if got := VariantsText(c.vs); got != c.want {
			t.Errorf("VariantsText(%v) = %q, want %q", c.vs, got, c.want)
		}
	}
}
