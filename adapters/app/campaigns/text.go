package campaigns

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// The campaigns as people read them: the CLI prints these texts.

const whenLayout = "2006-01-02 15:04"

// WriteText writes what Create created, as 'campaigns create' prints it.
func (c Created) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "campaign %s created: %s (short id %s), active\n", c.CampaignID, c.Name, projections.ShortID(c.CampaignID))
	fmt.Fprintf(w, "scenario %s %s, variants %s", c.Scenario, c.Version, domain.VariantsText(c.Variants))
	if c.Optimize != domain.GoalNone {
		fmt.Fprintf(w, " to start with; their weights optimize themselves for %s (Thompson sampling, at least %.0f%% each)", c.Optimize, 100*domain.BanditMinShare)
	}
	fmt.Fprintf(w, "\nruns %s\n", scheduleText(c.Schedule))
	fmt.Fprintf(w, "caps: %s; accounts: %s\n", capsText(c.Caps), orEvery(c.Labels))
	fmt.Fprintf(w, "segment %s selects %s now", segmentText(c.Segment), plural(c.Audience.Contactable, "contact"))
	if more := c.Audience.Matched - c.Audience.Contactable; more > 0 {
		fmt.Fprintf(w, " (%d more match but may not be written to: do-not-contact, erased or unreachable)", more)
	}
	_, err := fmt.Fprintln(w)
	return err
}

// WriteList writes the campaigns as a table, as 'campaigns list' prints
// them.
func WriteList(w io.Writer, items []Summary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tVARIANTS\tSTART (UTC)\tEND (UTC)\tDIALOGS\tREPLIED\tQUALIFIED")
	for _, it := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", it.Short, oneLine(it.Name), it.Status, domain.VariantsText(it.Variants),
			it.Schedule.Start.UTC().Format(whenLayout), it.Schedule.End.UTC().Format(whenLayout), it.Totals.Dialogs, it.Totals.Replied, it.Totals.Qualified)
	}
	return tw.Flush()
}

// WriteText writes the stats as 'campaigns stats' prints them: the
// campaign, a table of the variants' funnels with rates, and each
// variant's tests against the control.
func (s Stats) WriteText(w io.Writer) error {
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
	for _, r := range rows {
		if len(r.Revenue) > 0 {
			var sums []string
			for _, m := range r.Revenue {
				sums = append(sums, m.String())
			}
			fmt.Fprintf(w, "revenue of %s: %s\n", variantName(r.Variant), strings.Join(sums, ", "))
		}
	}
	if err := s.writeOptimizer(w); err != nil {
		return err
	}
	if err := s.writeObjections(w); err != nil {
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

// writeOptimizer writes a self-optimizing campaign's weights,
// posteriors and paused variants (nothing for fixed weights).
func (s Stats) writeOptimizer(w io.Writer) error {
	if s.Optimizer == nil {
		return nil
	}
	c := s.Campaign
	fmt.Fprintf(w, "\nOptimizing for %s (Thompson sampling, at least %.0f%% per active variant; a variant with significantly more opt-outs than the control is paused)\n",
		c.Optimize, 100*domain.BanditMinShare)
	if c.Bandit == nil {
		fmt.Fprintln(w, "no weight change yet: the weights above hold, the posteriors are the uniform prior")
	} else {
		fmt.Fprintf(w, "last change %s UTC: %s\n", c.Bandit.At.UTC().Format(whenLayout), c.Bandit.Reason)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIANT\tSHARE\tPOSTERIOR\tMEAN\t95% INTERVAL")
	for _, a := range s.Optimizer {
		share := fmt.Sprintf("%.1f%%", 100*a.Share)
		if a.Paused {
			share = "paused"
		}
		fmt.Fprintf(tw, "%s\t%s\tBeta(%g, %g)\t%.1f%%\t%.1f–%.1f%%\n", variantName(a.Variant), share, a.Alpha, a.Beta, 100*a.Mean, 100*a.Low, 100*a.High)
	}
	return tw.Flush()
}

func variantName(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
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

// oneLine keeps a name on its table row.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
