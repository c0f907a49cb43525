package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// The campaigns, GET /web/campaigns: each campaign's status and funnel
// (from the read models), and for managers a form that counts a
// segment's contactable people (a dry run, Config.Audience) and creates
// a campaign (Config.Campaigns). A campaign, GET /web/campaigns/{id}:
// its funnel per variant as an SVG chart with 95% Wilson intervals, the
// A/B tests against the control in plain words, and pause or resume.

// MaxCampaigns bounds the campaigns list (the newest first), so the page
// stays small.
const MaxCampaigns = 200

// campaignsData is the campaigns page's content.
type campaignsData struct {
	Rows []campaignRow
	// CanCreate: the console has the campaigns' port and the person may
	// act.
	CanCreate bool
	HasCount  bool // the form can count the audience
	Form      campaignForm
	Count     string // the dry run's answer
	More      string // there were more than MaxCampaigns
	Goals     []goalOption
}

// goalOption is one choice of the form's optimize select.
type goalOption struct {
	Value, Label string
	Selected     bool
}

type campaignRow struct {
	ID, Name, Status, Class                    string
	Dialogs, Replied, Qualified, Handoffs, Won int
	ReplyRate                                  string
}

// campaignForm is the create form's values, as typed.
type campaignForm struct {
	Name, Tags, Import, Variants, Accounts, Start, End, Length, Hours, Days, TimeZone, Daily, Total, Optimize string
}

// campaignData is a campaign's page's content.
type campaignData struct {
	Available             bool
	ID, Name, Status      string
	Scenario, Created     string
	Targeted              int
	Paused, Ended, CanAct bool
	Chart                 chart
	Variants              []variantRow
	Tests                 []string
	Optimizer             *optimizerData // a self-optimizing campaign's
	Objections            []objectionRow // top objections by variant
}

// optimizerData is a self-optimizing campaign's optimizer as the page
// shows it.
type optimizerData struct {
	About, Last string
	Rows        []optimizerRow
}

type optimizerRow struct {
	Name, Share, Posterior, Mean, Interval string
	Paused                                 bool
}

type variantRow struct {
	Name                                       string
	Weight                                     int
	Dialogs, Replied, Qualified, Handoffs, Won int
	ReplyRate, QualifiedRate, HandoffRate      string
	WonRate                                    string
}

// campaignNotices are the results a campaign action's redirect names.
var campaignNotices = map[string]string{"paused": "DonePaused", "resumed": "DoneResumed", "created": "DoneCreated", "nothing": "DoneNothing"}

func (w *Web) campaigns(r *http.Request, v *view) error {
	return w.campaignsPage(r.Context(), v, campaignForm{Length: "7"})
}

// campaignsPage fills v with the campaigns and the create form of f.
func (w *Web) campaignsPage(ctx context.Context, v *view, f campaignForm) error {
	cs, err := w.cfg.ReadModels.Campaigns(ctx)
	if err != nil {
		return err
	}
	d := campaignsData{Form: f, CanCreate: w.cfg.Campaigns != nil && v.User != nil && v.User.CanAct, HasCount: w.cfg.Audience != nil}
	for _, g := range append([]string{"none"}, domain.Goals()...) {
		d.Goals = append(d.Goals, goalOption{Value: g, Label: v.L.label("Optimize", g),
			Selected: g == f.Optimize || (g == "none" && f.Optimize == "")})
	}
	if len(cs) > MaxCampaigns {
		cs, d.More = cs[:MaxCampaigns], v.L.T("MoreCampaigns", MaxCampaigns)
	}
	for _, c := range cs {
		rows, err := w.cfg.ReadModels.VariantFunnel(ctx, c.ID, time.Time{})
		if err != nil {
			return fmt.Errorf("campaign %s: %w", c.ID, err)
		}
		row := campaignRow{ID: c.ID.String(), Name: c.Name, Status: campaignStatus(v.L, c.Status), Class: c.Status, ReplyRate: "–"}
		for _, r := range rows {
			row.Dialogs += r.Dialogs
			row.Replied += r.Replied
			row.Qualified += r.Qualified
			row.Handoffs += r.Handoffs
			row.Won += r.Won
		}
		if row.Dialogs > 0 {
			row.ReplyRate = percent(float64(row.Replied) / float64(row.Dialogs))
		}
		d.Rows = append(d.Rows, row)
	}
	v.Title, v.Nav, v.Data = v.L["CampaignsTitle"], "campaigns", d
	return nil
}

// campaignStatus is a campaign's status in the page's language.
func campaignStatus(L catalog, s string) string { return L.label("Campaign", s) }

// campaignRef is the path's campaign: its id or short id.
func campaignRef(r *http.Request) (string, error) {
	ref := r.PathValue("id")
	if ref == "" || len(ref) > 64 {
		return "", fmt.Errorf("campaign %.64q: %w", ref, projections.ErrNotFound)
	}
	return ref, nil
}

// abMetrics are the metrics the campaign page tests, in its order.
var abMetrics = []string{"replied", "qualified", "handoff", "won"}

func (w *Web) campaign(r *http.Request, v *view) error {
	if key, ok := campaignNotices[r.URL.Query().Get("m")]; ok {
		v.Notice = v.L[key]
	}
	return w.campaignPage(r, v)
}

// campaignPage fills v with the path's campaign.
func (w *Web) campaignPage(r *http.Request, v *view) error {
	v.Title, v.Nav = v.L["CampaignTitle"], "campaigns"
	if w.cfg.Campaigns == nil {
		v.Data = campaignData{}
		return nil
	}
	ref, err := campaignRef(r)
	if err != nil {
		return err
	}
	st, err := w.cfg.Campaigns.Stats(r.Context(), ref, time.Time{}, abMetrics)
	if err != nil {
		return err
	}
	L, c := v.L, st.Campaign
	d := campaignData{Available: true, ID: c.ID, Name: c.Name, Status: campaignStatus(L, c.Status), Scenario: c.Scenario + " " + c.Version,
		Created: c.Created.UTC().Format(L["TimeFormat"]), Targeted: c.Targeted, Paused: c.Status == projections.CampaignPaused,
		Ended: c.Status == projections.CampaignEnded, CanAct: v.User != nil && v.User.CanAct}
	metrics := []string{L["Replied"], L["QualifiedRate"], L["Handoffs"], L["WonRate"]}
	var names []string
	vals := make([][]seriesValue, len(metrics))
	for _, vc := range st.Variants {
		names = append(names, vc.Variant)
		k := vc.Counts
		d.Variants = append(d.Variants, variantRow{Name: vc.Variant, Weight: vc.Weight, Dialogs: k.Dialogs, Replied: k.Replied,
			Qualified: k.Qualified, Handoffs: k.Handoff, Won: k.Won, ReplyRate: rateCI(k.Replied, k.Dialogs),
			QualifiedRate: rateCI(k.Qualified, k.Dialogs), HandoffRate: rateCI(k.Handoff, k.Dialogs), WonRate: rateCI(k.Won, k.Dialogs)})
		for m, x := range []int{k.Replied, k.Qualified, k.Handoff, k.Won} {
			vals[m] = append(vals[m], rateValue(vc.Variant, metrics[m], x, k.Dialogs))
		}
	}
	d.Chart = barChart(L.T("FunnelChart", c.Name), metrics, names, vals, true)
	for _, t := range st.Tests {
		d.Tests = append(d.Tests, verdict(L, t))
	}
	d.Optimizer = optimizerOf(L, st.Optimizer)
	d.Objections = objectionRows(st.Objections)
	v.Title, v.Data = L.T("CampaignNamed", c.Name), d
	return nil
}

// optimizerOf is the page's view of a self-optimizing campaign's
// optimizer (nil for fixed weights).
func optimizerOf(L catalog, o *httpapi.Optimizer) *optimizerData {
	if o == nil {
		return nil
	}
	d := &optimizerData{About: L.T("OptimizerAbout", L.label("Metric", o.Goal)), Last: L["OptimizerNoChange"]}
	if o.At != nil {
		d.Last = L.T("OptimizerLast", o.At.UTC().Format(L["TimeFormat"]), o.Reason)
	}
	for _, a := range o.Variants {
		d.Rows = append(d.Rows, optimizerRow{Name: a.Variant, Share: fmt.Sprintf("%.1f%%", 100*a.Share), Paused: a.Paused,
			Posterior: fmt.Sprintf("Beta(%g, %g)", a.Alpha, a.Beta), Mean: fmt.Sprintf("%.1f%%", 100*a.Mean),
			Interval: fmt.Sprintf("%.1f–%.1f%%", 100*a.Low, 100*a.High)})
	}
	return d
}

// rateValue is one bar: x of n as a rate with its Wilson interval.
func rateValue(series, metric string, x, n int) seriesValue {
	if n == 0 {
		return seriesValue{Title: series + ", " + metric + ": –"}
	}
	lo, hi := wilson(x, n)
	return seriesValue{V: float64(x) / float64(n), Lo: lo, Hi: hi,
		Title: fmt.Sprintf("%s, %s: %d/%d = %s (95%%: %s–%s)", series, metric, x, n, percent(float64(x)/float64(n)), percent(lo), percent(hi))}
}

// rateCI is x of n as a rate and its 95% interval: "12% (8–17%)".
func rateCI(x, n int) string {
	if n == 0 {
		return "–"
	}
	lo, hi := wilson(x, n)
	return fmt.Sprintf("%s (%s–%s)", percent(float64(x)/float64(n)), strings.TrimSuffix(percent(lo), "%"), percent(hi))
}

// verdict says an A/B test's result in the page's language, as a
// sentence.
func verdict(L catalog, t httpapi.ABTest) string {
	s := verdictText(L, t)
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func verdictText(L catalog, t httpapi.ABTest) string {
	metric := L.label("Metric", t.Metric)
	points := fmt.Sprintf("%+.1f", t.Diff*100)
	switch {
	case !t.OK:
		return L.T("VerdictNoTest", metric, t.Variant, t.Control)
	case t.LikelyReal && t.Diff > 0:
		return L.T("VerdictBetter", t.Variant, t.Control, metric, points, t.P)
	case t.LikelyReal:
		return L.T("VerdictWorse", t.Variant, t.Control, metric, points, t.P)
	case t.MoreDialogs > 0:
		return L.T("VerdictChance", metric, t.Variant, t.Control, points, t.P) + " " + L.T("VerdictMore", t.MoreDialogs)
	}
	return L.T("VerdictChance", metric, t.Variant, t.Control, points, t.P)
}

// pauseCampaign serves POST /web/campaigns/{id}/pause and /resume
// (managers and owners).
func (w *Web) pauseCampaign(pause bool) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		p, cookie, ok := w.admitPost(rw, r, domain.ScopeManage)
		if !ok {
			return
		}
		if w.cfg.Campaigns == nil {
			w.problem(rw, r, http.StatusNotFound, "NotFoundTitle", "NotAvailable")
			return
		}
		ref, err := campaignRef(r)
		if err != nil {
			w.fail(rw, r, err)
			return
		}
		id, changed, err := w.cfg.Campaigns.SetPaused(r.Context(), ref, pause, p.Actor())
		var de *domain.Error
		switch {
		case err == nil:
			notice := "resumed"
			if pause {
				notice = "paused"
			}
			if w.cfg.Fresh != nil {
				_ = w.cfg.Fresh(r.Context()) // the page shows the change if it can; it says it was done anyway
			}
			http.Redirect(rw, r, fmt.Sprintf("/web/campaigns/%s?m=%s", id, pick(changed, notice)), http.StatusSeeOther)
		case errors.As(err, &de) && (de.Code == domain.ESTATE || de.Code == domain.EINVALID):
			v := w.viewOf(r, &p, cookie)
			v.LangURL = "/web/campaigns/" + ref + "?lang=" + v.L["OtherLang"]
			if err := w.campaignPage(r, v); err != nil {
				w.fail(rw, r, err)
				return
			}
			v.Alert, v.Status = v.L.T("ErrCampaign", de.Message), http.StatusConflict
			w.render(rw, r, v)
		default:
			w.fail(rw, r, err)
		}
	}
}

// createCampaign serves POST /web/campaigns: do=count counts the
// segment's audience (nothing is recorded), anything else creates the
// campaign and goes to it. A refusal shows the form again, as typed,
// with why (422).
func (w *Web) createCampaign(rw http.ResponseWriter, r *http.Request) {
	p, cookie, ok := w.admitPost(rw, r, domain.ScopeManage)
	if !ok {
		return
	}
	if w.cfg.Campaigns == nil {
		w.problem(rw, r, http.StatusNotFound, "NotFoundTitle", "NotAvailable")
		return
	}
	fv := r.PostForm.Get
	f := campaignForm{Name: fv("name"), Tags: fv("tags"), Import: fv("import"), Variants: fv("variants"), Accounts: fv("accounts"),
		Start: fv("start"), End: fv("end"), Length: fv("length"), Hours: fv("hours"), Days: fv("days"), TimeZone: fv("time_zone"),
		Daily: fv("daily"), Total: fv("total"), Optimize: fv("optimize")}
	v := w.viewOf(r, &p, cookie)
	v.LangURL = "/web/campaigns?lang=" + v.L["OtherLang"]
	ctx := r.Context()
	req, err := f.request()
	var count string
	if err == nil && fv("do") == "count" {
		if w.cfg.Audience == nil {
			w.problem(rw, r, http.StatusNotFound, "NotFoundTitle", "NotAvailable")
			return
		}
		var contactable, matched int
		contactable, matched, err = w.cfg.Audience.Count(ctx, req.Segment)
		if err != nil {
			w.fail(rw, r, err)
			return
		}
		count = v.L.T("AudienceCount", contactable, matched)
	} else if err == nil {
		if w.cfg.Fresh != nil {
			if err := w.cfg.Fresh(ctx); err != nil {
				w.fail(rw, r, err)
				return
			}
		}
		var id uuid.UUID
		id, err = w.cfg.Campaigns.Create(ctx, req, p.Actor())
		if err == nil {
			http.Redirect(rw, r, fmt.Sprintf("/web/campaigns/%s?m=created", id), http.StatusSeeOther)
			return
		}
	}
	var de *domain.Error
	if err != nil && !(errors.As(err, &de) && de.Code == domain.EINVALID) {
		w.fail(rw, r, err)
		return
	}
	if err := w.campaignsPage(ctx, v, f); err != nil {
		w.fail(rw, r, err)
		return
	}
	d := v.Data.(campaignsData)
	d.Count = count
	v.Data = d
	if de != nil {
		msg := de.Message
		if de.Field != "" {
			msg = de.Field + ": " + msg
		}
		v.Alert, v.Status = v.L.T("ErrInvalid", msg), http.StatusUnprocessableEntity
	}
	w.render(rw, r, v)
}

// request is the form as the API's request: lists split at commas,
// variants as name=weight.
func (f campaignForm) request() (httpapi.CampaignRequest, error) {
	req := httpapi.CampaignRequest{Name: strings.TrimSpace(f.Name), Optimize: strings.TrimSpace(f.Optimize),
		Segment:  httpapi.SegmentRequest{Tags: split(f.Tags), Import: strings.TrimSpace(f.Import)},
		Accounts: split(f.Accounts),
		Schedule: httpapi.ScheduleRequest{Start: strings.TrimSpace(f.Start), End: strings.TrimSpace(f.End), Hours: strings.TrimSpace(f.Hours),
			TimeZone: strings.TrimSpace(f.TimeZone), Days: strings.TrimSpace(f.Days)}}
	num := func(field, s string) (int, error) {
		if s = strings.TrimSpace(s); s == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, &domain.Error{Code: domain.EINVALID, Field: field, Message: "a whole number, 0 or more"}
		}
		return n, nil
	}
	var err error
	if req.Schedule.Length, err = num("schedule.length", f.Length); err != nil {
		return req, err
	}
	if req.Caps.DailyNewDialogs, err = num("caps.daily_new_dialogs", f.Daily); err != nil {
		return req, err
	}
	if req.Caps.TotalDialogs, err = num("caps.total_dialogs", f.Total); err != nil {
		return req, err
	}
	for _, vw := range split(f.Variants) {
		name, weight, _ := strings.Cut(vw, "=")
		n, err := strconv.Atoi(strings.TrimSpace(weight))
		if err != nil || strings.TrimSpace(name) == "" {
			return req, &domain.Error{Code: domain.EINVALID, Field: "variants", Message: "each variant as name=weight, like A=50, B=50"}
		}
		req.Variants = append(req.Variants, domain.VariantWeight{Name: strings.TrimSpace(name), Weight: n})
	}
	return req, nil
}

// split is a comma-separated list without its blanks.
func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
