package domain

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The bounds of a campaign.
const (
	MaxCampaignName   = 100  // characters
	FirstCampaignYear = 2000 // a schedule lies within these years
	LastCampaignYear  = 2200
)

// NewCreateCampaign checks a campaign before it is created and returns
// it as DecideCampaign records it: the name trimmed and, with Offered,
// the variants resolved (none given: all the scenario's). Every caller
// (the CLI, the admin bot, the API) gets the same rules; DecideCampaign
// applies them again. Errors are *Error with code EINVALID and the Field
// at fault ("name", "scenario", "variants", "schedule", "schedule.end",
// "schedule.hours", "schedule.days", "schedule.time_zone",
// "caps.daily_new_dialogs", "caps.total_dialogs", "segment.import",
// "segment.fields", "optimize"). The id is not checked: the decider wants one.
func NewCreateCampaign(cmd CreateCampaign) (CreateCampaign, error) {
	cmd.Name = strings.TrimSpace(cmd.Name)
	switch {
	case cmd.Name == "":
		return cmd, fieldErrorf(EINVALID, "name", "a campaign needs a name")
	case utf8.RuneCountInString(cmd.Name) > MaxCampaignName:
		return cmd, fieldErrorf(EINVALID, "name", "a campaign's name has at most %d characters", MaxCampaignName)
	case strings.TrimSpace(cmd.Scenario) == "":
		return cmd, fieldErrorf(EINVALID, "scenario", "a campaign needs a scenario")
	}
	if err := checkSchedule(cmd.Schedule); err != nil {
		return cmd, err
	}
	switch {
	case cmd.Caps.DailyNewDialogs < 0:
		return cmd, fieldErrorf(EINVALID, "caps.daily_new_dialogs", "a campaign's daily cap must be 0 or more, got %d", cmd.Caps.DailyNewDialogs)
	case cmd.Caps.TotalDialogs < 0:
		return cmd, fieldErrorf(EINVALID, "caps.total_dialogs", "a campaign's total cap must be 0 or more, got %d", cmd.Caps.TotalDialogs)
	}
	if err := checkSegment(cmd.Segment); err != nil {
		return cmd, err
	}
	var err error
	if cmd.Variants, err = campaignVariants(cmd.Scenario, cmd.Variants, cmd.Offered); err != nil {
		return cmd, err
	}
	if cmd.Optimize, err = ParseGoal(string(cmd.Optimize)); err != nil {
		return cmd, err
	}
	if cmd.Optimize != GoalNone && len(cmd.Variants) < 2 {
		return cmd, fieldErrorf(EINVALID, "optimize", "optimizing for %s needs two variants or more to choose between (got %d)", cmd.Optimize, len(cmd.Variants))
	}
	return cmd, nil
}

func checkSchedule(s CampaignSchedule) error {
	if !s.End.After(s.Start) { // a zero Start is outside the years below
		return fieldErrorf(EINVALID, "schedule.end", "the campaign's schedule must end after it starts")
	}
	if s.Start.Year() < FirstCampaignYear || s.End.Year() > LastCampaignYear {
		return fieldErrorf(EINVALID, "schedule", "a campaign must lie between the years %d and %d (got %s to %s)",
			FirstCampaignYear, LastCampaignYear, s.Start.Format(time.DateOnly), s.End.Format(time.DateOnly))
	}
	if s.StartMinute != 0 || s.EndMinute != 0 {
		if s.StartMinute < 0 || s.EndMinute > 24*60 || s.StartMinute >= s.EndMinute {
			return fieldErrorf(EINVALID, "schedule.hours", "campaign hours %s–%s are not a range within a day", hm(s.StartMinute), hm(s.EndMinute))
		}
	}
	for _, d := range s.Days {
		if d < time.Sunday || d > time.Saturday {
			return fieldErrorf(EINVALID, "schedule.days", "day %d is not a weekday (0 = Sunday … 6 = Saturday)", d)
		}
	}
	if s.TimeZone != "" {
		if _, err := time.LoadLocation(s.TimeZone); err != nil {
			return fieldErrorf(EINVALID, "schedule.time_zone", "unknown time zone %q", s.TimeZone)
		}
	}
	return nil
}

func checkSegment(s Segment) error {
	if s.Import != "" {
		if err := checkImportID(s.Import); err != nil {
			return fieldErrorf(EINVALID, "segment.import", "%s", err.Error())
		}
	}
	for i, f := range s.Fields {
		switch {
		case !validFieldName(f.Name):
			return fieldErrorf(EINVALID, "segment.fields", "%q is not a field name like city or team_size", clip(f.Name))
		case strings.TrimSpace(f.Value) == "":
			return fieldErrorf(EINVALID, "segment.fields", "the field %s needs a value", f.Name)
		case slices.ContainsFunc(s.Fields[:i], func(g SegmentField) bool { return g.Name == f.Name }):
			return fieldErrorf(EINVALID, "segment.fields", "%s is given twice", f.Name)
		}
	}
	return nil
}

// campaignVariants checks the chosen variants against those the scenario
// offers (if known), choosing all of them when none are.
func campaignVariants(scenario string, chosen, offered []VariantWeight) ([]VariantWeight, error) {
	if len(chosen) == 0 && len(offered) > 0 {
		for _, v := range offered {
			chosen = append(chosen, VariantWeight{Name: v.Name, Weight: max(v.Weight, 1)})
		}
	}
	if len(chosen) == 0 {
		return nil, fieldErrorf(EINVALID, "variants", "a campaign needs at least one prompt variant")
	}
	var names []string
	for _, v := range offered {
		names = append(names, v.Name)
	}
	for i, v := range chosen {
		switch {
		case strings.TrimSpace(v.Name) == "":
			return nil, fieldErrorf(EINVALID, "variants", "a variant needs a name")
		case v.Weight <= 0:
			return nil, fieldErrorf(EINVALID, "variants", "the weight of %s must be above 0", v.Name)
		case offered != nil && !slices.Contains(names, v.Name):
			return nil, fieldErrorf(EINVALID, "variants", "the scenario %s has no variant %q (it has %s)", scenario, v.Name, orNone(strings.Join(names, ", ")))
		case slices.ContainsFunc(chosen[:i], func(w VariantWeight) bool { return w.Name == v.Name }):
			return nil, fieldErrorf(EINVALID, "variants", "%s is given twice", v.Name)
		}
	}
	return chosen, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
