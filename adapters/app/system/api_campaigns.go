package system

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// CampaignsAPI is the campaigns' use cases (adapters/app/campaigns) as
// httpapi.CampaignActions.
type CampaignsAPI struct {
	H        domain.Handlers
	Store    eventstore.Store
	Sink     projections.Sink
	Scenario *scenario.Scenario // whose variants a new campaign tests: the one the engine runs
}

var _ httpapi.CampaignActions = CampaignsAPI{}

// Create reads the request as campaigns create reads its flags
// (campaigns.Form.Request, fields named by their JSON paths) and creates
// the campaign (campaigns.Create).
func (c CampaignsAPI) Create(ctx context.Context, req httpapi.CampaignRequest, by string) (uuid.UUID, error) {
	variants := make([]string, len(req.Variants))
	for i, v := range req.Variants {
		variants[i] = fmt.Sprintf("%s=%d", v.Name, v.Weight)
	}
	f := segmentForm(req.Segment)
	f.Name, f.Variants, f.Accounts, f.By = req.Name, strings.Join(variants, ","), strings.Join(req.Accounts, ","), by
	f.Start, f.End, f.Days, f.Hours = req.Schedule.Start, req.Schedule.End, req.Schedule.Length, req.Schedule.Hours
	f.TimeZone, f.Weekdays = req.Schedule.TimeZone, req.Schedule.Days
	f.DailyCap, f.TotalCap, f.Optimize = req.Caps.DailyNewDialogs, req.Caps.TotalDialogs, req.Optimize
	cr, err := f.Request(func() (*scenario.Scenario, error) { return c.Scenario, nil }, nil)
	if err != nil {
		return uuid.Nil, err
	}
	created, err := campaigns.Create(ctx, c.H, c.Store, c.Sink, cr)
	return created.CampaignID, err
}

// segmentForm is a request's segment as campaigns.Form holds it (as
// 'campaigns create' reads its flags).
func segmentForm(seg httpapi.SegmentRequest) campaigns.Form {
	f := campaigns.Form{Tags: strings.Join(seg.Tags, ","), Import: seg.Import}
	for _, sf := range seg.Fields {
		f.Fields = append(f.Fields, domain.SegmentField{Name: strings.ToLower(strings.TrimSpace(sf.Name)), Value: strings.TrimSpace(sf.Value)})
	}
	return f
}

// webAudience counts the contacts a segment selects, as the campaign
// created with it would target them (the web console's dry run).
type webAudience struct{ store eventstore.Store }

func (a webAudience) Count(ctx context.Context, seg httpapi.SegmentRequest) (contactable, matched int, err error) {
	au, err := campaigns.CountSegment(ctx, a.store, eventlog.New(a.store).Decode, segmentForm(seg).Segment())
	return au.Contactable, au.Matched, err
}

// Campaign is campaigns.Find with the campaign's funnel totals.
func (c CampaignsAPI) Campaign(ctx context.Context, ref string) (httpapi.CampaignDetail, error) {
	pc, err := campaigns.Find(ctx, c.Sink, ref)
	if err != nil {
		return httpapi.CampaignDetail{}, err
	}
	rows, err := c.Sink.VariantFunnel(ctx, pc.ID, time.Time{})
	if err != nil {
		return httpapi.CampaignDetail{}, fmt.Errorf("campaign %s: %w", pc.ID, err)
	}
	s := campaigns.SummaryOf(pc, rows)
	out := httpapi.CampaignDetail{Campaign: campaignOf(s), Accounts: s.Accounts, Schedule: httpapi.ScheduleOf(s.Schedule),
		Segment: httpapi.Segment{Tags: s.Segment.Tags, Import: nilIfEmpty(s.Segment.Import)},
		Caps:    httpapi.Caps{DailyNewDialogs: s.Caps.DailyNewDialogs, TotalDialogs: s.Caps.TotalDialogs}}
	for _, f := range s.Segment.Fields {
		out.Segment.Fields = append(out.Segment.Fields, httpapi.SegmentField{Name: f.Name, Value: f.Value})
	}
	return out, nil
}

// SetPaused is campaigns.SetPaused.
func (c CampaignsAPI) SetPaused(ctx context.Context, ref string, pause bool, by string) (uuid.UUID, bool, error) {
	pc, changed, err := campaigns.SetPaused(ctx, c.H, c.Sink, ref, pause, by)
	return pc.ID, changed, err
}

// Stats is campaigns.StatsOn in its JSON shape (Stats.JSON).
func (c CampaignsAPI) Stats(ctx context.Context, ref string, since time.Time, metrics []string) (httpapi.CampaignStats, error) {
	for _, m := range metrics {
		if !slices.Contains(campaigns.Metrics(), m) {
			return httpapi.CampaignStats{}, &domain.Error{Code: domain.EINVALID, Field: "metric",
				Message: fmt.Sprintf("no metric %q (one of %s)", m, strings.Join(campaigns.Metrics(), ", "))}
		}
	}
	st, err := campaigns.StatsOn(ctx, c.Sink, ref, since, metrics...)
	if err != nil {
		return httpapi.CampaignStats{}, err
	}
	j := st.JSON()
	out := httpapi.CampaignStats{Campaign: campaignOf(j.Campaign), Since: j.Since, Objections: []httpapi.ObjectionCount{}}
	for _, o := range j.Objections {
		out.Objections = append(out.Objections, httpapi.ObjectionCount(o))
	}
	for _, v := range j.Variants {
		out.Variants = append(out.Variants, httpapi.VariantCounts{Variant: v.Variant, Weight: v.Weight, Counts: countsOf(v)})
	}
	for _, t := range j.Tests {
		out.Tests = append(out.Tests, httpapi.ABTest{Metric: t.Metric, Variant: t.Variant, Control: t.Control, Diff: t.Diff, Z: t.Z, P: t.P,
			OK: t.OK, LikelyReal: t.LikelyReal, MoreDialogs: t.More, Verdict: t.Verdict})
	}
	if o := j.Optimizer; o != nil {
		out.Optimizer = &httpapi.Optimizer{Goal: o.Goal, Reason: o.Reason, At: o.At, Variants: []httpapi.OptimizedVariant{}}
		for _, a := range o.Variants {
			out.Optimizer.Variants = append(out.Optimizer.Variants, httpapi.OptimizedVariant{Variant: a.Variant, Weight: a.Weight,
				Share: a.Share, Alpha: a.Alpha, Beta: a.Beta, Mean: a.Mean, Low: a.Low, High: a.High, Paused: a.Paused})
		}
	}
	return out, nil
}

// campaignOf is a campaign's summary as the API lists it.
func campaignOf(s campaigns.Summary) httpapi.Campaign {
	return httpapi.Campaign{ID: s.ID, Short: s.Short, Name: s.Name, Status: s.Status, Scenario: s.Scenario, Version: s.Version,
		Variants: s.Variants, Targeted: s.Targeted, Totals: countsOf(s.Totals), Created: s.Created, Updated: s.Updated}
}

// countsOf is a funnel row as the API shows it.
func countsOf(t campaigns.Counts) httpapi.Counts {
	out := httpapi.Counts{Dialogs: t.Dialogs, Replied: t.Replied, ReplyRate: t.ReplyRate, Qualified: t.Qualified, QualifiedRate: t.QualifiedRate,
		Handoff: t.Handoff, HandoffRate: t.HandoffRate, OptedOut: t.OptedOut, OptOutRate: t.OptOutRate, Lost: t.Lost, Won: t.Won, Revenue: []httpapi.Money{}}
	for _, m := range t.Revenue {
		out.Revenue = append(out.Revenue, httpapi.Money{Amount: m.Amount, Currency: m.Currency})
	}
	return out
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
