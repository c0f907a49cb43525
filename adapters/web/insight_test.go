package web_test

import (
	"strings"
	"testing"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// A dialog's page shows its insight once it has one: the summary (text,
// not HTML), how it ended and who wrote it, the loss reason and the
// objections, in either language.
func TestDialogShowsItsInsight(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	if body := w.get(t, "/web/dialogs/1", cookie).Body.String(); strings.Contains(body, "Insight") {
		t.Fatal("a dialog without an insight shows one")
	}
	w.apply(t, projections.PutInsight{DialogID: w.ids[1], At: now, Insight: domain.InsightsRecorded{Summary: "Asked the <b>price</b>; found it too dear.",
		LossReason: "Too expensive", Objections: []string{"price", "timing"}, By: domain.InsightByRules, Outcome: domain.OutcomeLost}})
	body := w.get(t, "/web/dialogs/1", cookie).Body.String()
	for _, want := range []string{"<dt>Insight</dt>", "Asked the &lt;b&gt;price&lt;/b&gt;; found it too dear. <small>(when it was lost; by keyword rules)</small>",
		"<dt>Loss reason</dt><dd>Too expensive</dd>", `<dd class="objections">price, timing</dd>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the dialog's page lacks %q", want)
		}
	}
}

// A campaign's page shows its top objections by variant.
func TestCampaignShowsTopObjections(t *testing.T) {
	w := newWorld(t, nil)
	cookie, _ := w.sessions.session(t, domain.ScopeRead)
	body := w.get(t, "/web/campaigns/"+w.campaign.String(), cookie).Body.String()
	for _, want := range []string{"<h2>Top objections by variant</h2>", "<tr><td>A</td><td>price</td><td class=\"num\">30 / 80</td><td class=\"num\">37.5%</td></tr>",
		"<td>has_a_tool</td><td class=\"num\">12 / 70</td><td class=\"num\">17.1%</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the campaign's page lacks %q", want)
		}
	}
}
