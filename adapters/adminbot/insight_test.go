package adminbot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// /view shows a closed dialog's insight: summary, loss reason and
// objections, escaped; a dialog without one shows none.
func TestViewShowsTheInsight(t *testing.T) {
	w := newWorld(t)
	cid := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000c3")
	did := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000d3")
	w.must(w.h.Dialog(context.Background(), did, cid, domain.RecordInsights{Summary: "Asked the price for 10 <people>; found it too dear.",
		LossReason: "Too expensive", Objections: []string{"price", "timing"}, Known: []string{"price", "timing"}, By: domain.InsightByRules}))
	w.catchUp()
	got := text(t, w.say(managerID, "/view 3"))
	for _, want := range []string{
		"<b>Insight</b> (stopped, by rules)\nAsked the price for 10 &lt;people&gt;; found it too dear.\n",
		"Loss reason: Too expensive\n",
		"Objections: price, timing\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("/view 3 lacks %q:\n%s", want, got)
		}
	}
	if got := text(t, w.say(managerID, "/view 1")); strings.Contains(got, "Insight") {
		t.Errorf("/view 1 shows an insight it has not got:\n%s", got)
	}
}
