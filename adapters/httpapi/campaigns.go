package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// CampaignActions creates and steers campaigns (adapters/app/campaigns:
// Form.Request and Create, Find, SetPaused, StatsOn), as salesbot
// campaigns create, pause, resume and stats do. A campaign is named by
// ref: its id, or the first characters of it (its short_id); none is an
// error matching projections.ErrNotFound, several an EINVALID
// *domain.Error without a Field.
type CampaignActions interface {
	// Create creates a campaign of the running scenario by the domain's
	// rules and returns its id. The read models are up to date when it
	// is called (the name must be unique). Errors: an EINVALID
	// *domain.Error with the Field at fault, as the request's JSON path
	// ("name", "segment.import", "segment.fields", "variants",
	// "accounts", "schedule.start", "schedule.end", "schedule.length",
	// "schedule.hours", "schedule.days", "schedule.time_zone",
	// "schedule", "caps.daily_new_dialogs", "caps.total_dialogs"), or
	// none when it is about two of them (an end before the start).
	Create(ctx context.Context, req CampaignRequest, by string) (uuid.UUID, error)
	// Campaign returns the campaign ref names.
	Campaign(ctx context.Context, ref string) (CampaignDetail, error)
	// SetPaused pauses (pause) or resumes the campaign ref names and
	// returns its id; changed is false when it was so already. Errors:
	// Campaign's, an ESTATE *domain.Error for a campaign that has ended.
	SetPaused(ctx context.Context, ref string, pause bool, by string) (id uuid.UUID, changed bool, err error)
	// Stats is the campaign's funnel per variant (of dialogs started
	// since since; zero: all) with each variant tested against the first
	// on metrics (none: replied, qualified, handoff, opted_out). Errors:
	// Campaign's, an EINVALID *domain.Error with Field "metric" for a
	// name that is no metric.
	Stats(ctx context.Context, ref string, since time.Time, metrics []string) (CampaignStats, error)
}

// CampaignRequest is the body of POST /api/v1/campaigns: the flags of
// salesbot campaigns create, as JSON.
type CampaignRequest struct {
	Name     string                 `json:"name"`
	Segment  SegmentRequest         `json:"segment"`
	Variants []domain.VariantWeight `json:"variants"` // none: the scenario's variants and weights
	Accounts []string               `json:"accounts"` // ids or labels; none: every account
	Schedule ScheduleRequest        `json:"schedule"`
	Caps     Caps                   `json:"caps"`
	// Optimize: the goal the variants' weights optimize themselves for
	// (replied, qualified or won); "" or "none": fixed weights.
	Optimize string `json:"optimize,omitempty"`
}

// SegmentRequest is whom a campaign writes to: contacts with all the
// tags, the fields' values and from the import (each optional).
type SegmentRequest struct {
	Tags   []string       `json:"tags"`
	Fields []SegmentField `json:"fields"`
	Import string         `json:"import"`
}

// ScheduleRequest is when a campaign opens dialogs, as typed: times like
// 2026-12-02T09:00 in TimeZone (UTC if none) or RFC 3339; End or Length
// (days; 7 without either); Hours HH:MM-HH:MM; Days mon-fri, all or a
// list like mon,tue,thu.
type ScheduleRequest struct {
	Start    string `json:"start"`
	End      string `json:"end"`
	Length   int    `json:"length"`
	Hours    string `json:"hours"`
	TimeZone string `json:"time_zone"`
	Days     string `json:"days"`
}

// CampaignDetail is a campaign with its segment, accounts, schedule and
// caps.
type CampaignDetail struct {
	Campaign
	Segment  Segment     `json:"segment"`
	Accounts []uuid.UUID `json:"accounts"` // empty: every account
	Schedule Schedule    `json:"schedule"`
	Caps     Caps        `json:"caps"`
}

// Segment is whom a campaign writes to.
type Segment struct {
	Tags   []string       `json:"tags"`
	Fields []SegmentField `json:"fields"`
	Import *string        `json:"import"`
}

// SegmentField is a custom field a segment's contacts have, with its
// value (compared case-insensitively).
type SegmentField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Schedule is when a campaign opens dialogs.
type Schedule struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	TimeZone *string   `json:"time_zone"` // of Hours; null: UTC
	Hours    *string   `json:"hours"`     // HH:MM-HH:MM; null: the accounts' hours
	Days     []string  `json:"days"`      // mon, tue, ...; empty: every day
}

// ScheduleOf is a domain schedule as the API shows it.
func ScheduleOf(s domain.CampaignSchedule) Schedule {
	out := Schedule{Start: s.Start.UTC(), End: s.End.UTC(), TimeZone: stringOrNil(s.TimeZone), Days: []string{}}
	if s.StartMinute != 0 || s.EndMinute != 0 {
		h := fmt.Sprintf("%02d:%02d-%02d:%02d", s.StartMinute/60, s.StartMinute%60, s.EndMinute/60, s.EndMinute%60)
		out.Hours = &h
	}
	for _, d := range s.Days {
		out.Days = append(out.Days, strings.ToLower(d.String()[:3]))
	}
	return out
}

// Caps bound a campaign beyond the accounts' limits: new dialogs a day
// and dialogs in all (0: no bound).
type Caps struct {
	DailyNewDialogs int `json:"daily_new_dialogs"`
	TotalDialogs    int `json:"total_dialogs"`
}

// CampaignStats is a campaign's funnel per variant with the A/B tests,
// as salesbot campaigns stats --json prints them.
type CampaignStats struct {
	Campaign Campaign        `json:"campaign"`
	Since    *time.Time      `json:"since"`
	Variants []VariantCounts `json:"variants"` // the campaign's order, the control first
	Tests    []ABTest        `json:"tests"`
	// Optimizer: a self-optimizing campaign's (absent for fixed weights).
	Optimizer *Optimizer `json:"optimizer,omitempty"`
	// Objections: the top objections by variant (never null).
	Objections []ObjectionCount `json:"objections"`
}

// ObjectionCount is one objection of one variant: the dialogs whose
// insight names it, of those with an insight, and their share.
type ObjectionCount struct {
	Variant     string  `json:"variant"`
	Objection   string  `json:"objection"`
	Dialogs     int     `json:"dialogs"`
	WithInsight int     `json:"with_insight"`
	Share       float64 `json:"share"`
}

// Optimizer is a self-optimizing campaign's goal, its variants' current
// weights, posteriors and pauses, and its last weight change.
type Optimizer struct {
	Goal     string             `json:"goal"` // replied, qualified, won
	Variants []OptimizedVariant `json:"variants"`
	Reason   string             `json:"reason"` // of the last change
	At       *time.Time         `json:"at"`     // null: no change yet
}

// OptimizedVariant is a variant of a self-optimizing campaign: its
// weight (per mille after the first change) and share of new dialogs,
// its Beta(alpha, beta) posterior of the rate on the goal with the mean
// and the 95% credible interval, and whether the stop rule paused it.
type OptimizedVariant struct {
	Variant string  `json:"variant"`
	Weight  int     `json:"weight"`
	Share   float64 `json:"share"`
	Alpha   float64 `json:"alpha"`
	Beta    float64 `json:"beta"`
	Mean    float64 `json:"mean"`
	Low     float64 `json:"low"`
	High    float64 `json:"high"`
	Paused  bool    `json:"paused"`
}

// VariantCounts is one variant's funnel row.
type VariantCounts struct {
	Variant string `json:"variant"`
	Weight  int    `json:"weight"` // 0: not a variant of the campaign (a dialog's own)
	Counts
}

// ABTest is one metric of one variant tested against the control (the
// first variant).
type ABTest struct {
	Metric      string  `json:"metric"`
	Variant     string  `json:"variant"`
	Control     string  `json:"control"`
	Diff        float64 `json:"diff"` // the variant's rate minus the control's
	Z           float64 `json:"z"`
	P           float64 `json:"p"`
	OK          bool    `json:"ok"` // the test could be made
	LikelyReal  bool    `json:"likely_real"`
	MoreDialogs int     `json:"more_dialogs_per_variant"` // about how many more before a difference this size would show; 0: none needed
	Verdict     string  `json:"verdict"`
}

// routeCampaigns serves the campaigns' actions, if the API has
// Config.CampaignActions.
func (a *API) routeCampaigns() {
	if a.cfg.CampaignActions == nil {
		return
	}
	a.route("POST /api/v1/campaigns", domain.ScopeManage, a.createCampaign)
	a.route("GET /api/v1/campaigns/{id}", domain.ScopeRead, a.getCampaign)
	a.route("POST /api/v1/campaigns/{id}/pause", domain.ScopeManage, a.pauseCampaign(true))
	a.route("POST /api/v1/campaigns/{id}/resume", domain.ScopeManage, a.pauseCampaign(false))
	a.route("GET /api/v1/campaigns/{id}/stats", domain.ScopeRead, a.campaignStats)
}

// campaignFields are the fields of a CampaignRequest's objects, by path.
var campaignFields = map[string][]string{
	"":                {"name", "segment", "variants", "accounts", "schedule", "caps", "optimize"},
	"segment":         {"tags", "fields", "import"},
	"segment.fields.": {"name", "value"},
	"variants.":       {"name", "weight"},
	"schedule":        {"start", "end", "length", "hours", "time_zone", "days"},
	"caps":            {"daily_new_dialogs", "total_dialogs"},
}

// createCampaign: POST /api/v1/campaigns.
func (a *API) createCampaign(r *http.Request, p domain.Principal) (any, error) {
	body, err := io.ReadAll(r.Body) // bounded by MaxBody (idempotent)
	if err != nil {
		return nil, problemError{invalid("the body could not be read")}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var req CampaignRequest
	if err := decode(r, &req, campaignFields[""]...); err != nil {
		return nil, err
	}
	if bad := unknownNested(body, campaignFields); len(bad) > 0 {
		return nil, problemError{invalid("unknown fields", bad...)}
	}
	var bad []FieldError
	if strings.TrimSpace(req.Name) == "" {
		bad = append(bad, FieldError{"name", "required: the name managers know the campaign by"})
	}
	if strings.TrimSpace(req.Schedule.Start) == "" {
		bad = append(bad, FieldError{"schedule.start", "required: when the campaign starts, e.g. 2026-12-02T09:00"})
	}
	if len(bad) > 0 {
		return nil, problemError{invalid("required fields are missing", bad...)}
	}
	if err := a.fresh(r.Context()); err != nil { // the names taken
		return nil, err
	}
	id, err := a.cfg.CampaignActions.Create(r.Context(), req, p.Actor())
	if err != nil {
		return nil, err
	}
	if err := a.fresh(r.Context()); err != nil {
		return nil, err
	}
	return a.campaign(r.Context(), id.String())
}

// unknownNested names the fields of body's nested objects that known
// does not list for their path ("segment"; an array's items at the
// array's path and ".": "variants."). The top level is decode's.
func unknownNested(body []byte, known map[string][]string) []FieldError {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil // decode said so
	}
	var bad []FieldError
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			allowed, checked := known[path]
			for k, x := range v {
				field := k
				if path != "" {
					field = strings.TrimSuffix(path, ".") + "." + k
				}
				if path != "" && checked && !slices.Contains(allowed, k) {
					bad = append(bad, FieldError{field, "unknown field; this takes " + strings.Join(allowed, ", ")})
					continue
				}
				walk(field, x)
			}
		case []any:
			for _, x := range v {
				walk(path+".", x)
			}
		}
	}
	walk("", v)
	slices.SortFunc(bad, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	return slices.CompactFunc(bad, func(a, b FieldError) bool { return a.Field == b.Field })
}

// campaignRef is the path's campaign: its id or the first characters of
// it, as short_id shows them.
var campaignRef = regexp.MustCompile(`^[0-9a-fA-F-]{4,36}$`)

func refOf(r *http.Request) (string, error) {
	ref := r.PathValue("id")
	if !campaignRef.MatchString(ref) {
		return "", problemError{badField("id", "a campaign's id or its short_id (at least 4 characters of the id)")}
	}
	return strings.ToLower(ref), nil
}

// campaign answers the campaign ref names, a 404 problem if none.
func (a *API) campaign(ctx context.Context, ref string) (CampaignDetail, error) {
	c, err := a.cfg.CampaignActions.Campaign(ctx, ref)
	if err != nil {
		return CampaignDetail{}, campaignError(err)
	}
	normalizeCampaign(&c.Campaign)
	if c.Accounts == nil {
		c.Accounts = []uuid.UUID{}
	}
	if c.Segment.Tags == nil {
		c.Segment.Tags = []string{}
	}
	if c.Segment.Fields == nil {
		c.Segment.Fields = []SegmentField{}
	}
	if c.Schedule.Days == nil {
		c.Schedule.Days = []string{}
	}
	return c, nil
}

// campaignError names the campaign for a not found, and the path's id
// for a ref that names several.
func campaignError(err error) error {
	if p, ok := problemOf(err, time.Time{}); ok {
		switch {
		case p.Status == http.StatusNotFound:
			p.Detail = "no campaign has that id"
			return problemError{p}
		case p.Status == http.StatusBadRequest && len(p.Errors) == 0:
			return problemError{badField("id", "%s", p.Detail)}
		}
	}
	return err
}

func normalizeCampaign(c *Campaign) {
	if c.Totals.Revenue == nil {
		c.Totals.Revenue = []Money{}
	}
	if c.Variants == nil {
		c.Variants = []domain.VariantWeight{}
	}
}

// getCampaign: GET /api/v1/campaigns/{id}.
func (a *API) getCampaign(r *http.Request, _ domain.Principal) (any, error) {
	ref, err := refOf(r)
	if err != nil {
		return nil, err
	}
	return a.campaign(r.Context(), ref)
}

// pauseCampaign: POST /api/v1/campaigns/{id}/pause and .../resume.
func (a *API) pauseCampaign(pause bool) handler {
	return func(r *http.Request, p domain.Principal) (any, error) {
		ref, err := refOf(r)
		if err != nil {
			return nil, err
		}
		id, _, err := a.cfg.CampaignActions.SetPaused(r.Context(), ref, pause, p.Actor())
		if err != nil {
			return nil, campaignError(err)
		}
		if err := a.fresh(r.Context()); err != nil {
			return nil, err
		}
		return a.campaign(r.Context(), id.String())
	}
}

// campaignStats: GET /api/v1/campaigns/{id}/stats.
func (a *API) campaignStats(r *http.Request, _ domain.Principal) (any, error) {
	ref, err := refOf(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	var metrics []string
	for _, v := range q["metric"] {
		for _, m := range strings.Split(v, ",") {
			if m = strings.TrimSpace(m); m != "" && !slices.Contains(metrics, m) {
				metrics = append(metrics, m)
			}
		}
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		if since, err = time.Parse(time.RFC3339, v); err != nil {
			if since, err = time.Parse(time.DateOnly, v); err != nil {
				return nil, problemError{badField("since", "a date (2026-12-01, UTC) or a time as RFC 3339")}
			}
		}
	}
	st, err := a.cfg.CampaignActions.Stats(r.Context(), ref, since, metrics)
	if err != nil {
		return nil, campaignError(err)
	}
	normalizeCampaign(&st.Campaign)
	if st.Since != nil {
		t := st.Since.UTC()
		st.Since = &t
	}
	if st.Variants == nil {
		st.Variants = []VariantCounts{}
	}
	for i := range st.Variants {
		if st.Variants[i].Revenue == nil {
			st.Variants[i].Revenue = []Money{}
		}
	}
	if st.Tests == nil {
		st.Tests = []ABTest{}
	}
	return st, nil
}
