package campaigns

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/salesbot/salesbot/projections"
)

// Top objections by variant: the objections the insights of a campaign's
// dialogs name (projections.TopObjections), part of its stats.

// MaxObjectionsShown is how many objections per variant the stats' text
// shows (the JSON has them all).
const MaxObjectionsShown = 5

// ObjectionJSON is one objection of one variant in the stats' JSON.
type ObjectionJSON struct {
	Variant     string  `json:"variant"`
	Objection   string  `json:"objection"`
	Dialogs     int     `json:"dialogs"`
	WithInsight int     `json:"with_insight"`
	Share       float64 `json:"share"`
}

// objectionsJSON is the stats' objections for JSON (never nil).
func objectionsJSON(l []projections.ObjectionCount) []ObjectionJSON {
	out := make([]ObjectionJSON, 0, len(l))
	for _, o := range l {
		out = append(out, ObjectionJSON{Variant: o.Variant, Objection: o.Objection, Dialogs: o.Dialogs, WithInsight: o.WithInsight, Share: o.Share})
	}
	return out
}

// writeObjections writes the top objections of each variant (nothing
// when no insight names one).
func (s Stats) writeObjections(w io.Writer) error {
	if len(s.Objections) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nTop objections (of the dialogs closed or handed off with an insight, all time):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIANT\tOBJECTION\tDIALOGS\tSHARE")
	shown := map[string]int{}
	for _, o := range s.Objections {
		if shown[o.Variant] >= MaxObjectionsShown {
			continue
		}
		shown[o.Variant]++
		fmt.Fprintf(tw, "%s\t%s\t%d of %d\t%.1f%%\n", variantName(o.Variant), o.Objection, o.Dialogs, o.WithInsight, 100*o.Share)
	}
	return tw.Flush()
}
