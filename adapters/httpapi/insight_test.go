package httpapi_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
)

// A dialog's card carries its insight once it closed: in full for a
// manage token; without the summary and the loss reason (withheld) for a
// read token. Every answer passes the OpenAPI document.
func TestDialogInsight(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	ctx := t.Context()
	id, found, err := w.h.DialogOfNumber(ctx, 2)
	if err != nil || !found {
		t.Fatalf("dialog 2: %v %v", found, err)
	}
	d, err := w.h.LoadDialog(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var card httpapi.Card
	w.get(t, "/api/v1/dialogs/2", w.manage).json(t, &card)
	if card.Insight != nil {
		t.Fatalf("an open dialog has an insight: %+v", card.Insight)
	}
	if _, err := w.h.Dialog(ctx, id, d.ContactID, domain.CloseDialog{Outcome: domain.OutcomeLost, By: "admin:1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.h.Dialog(ctx, id, d.ContactID, domain.RecordInsights{Summary: "Found Team too dear for 5 reps.", LossReason: "price",
		Objections: []string{"price"}, Known: []string{"price"}, By: domain.InsightByRules}); err != nil {
		t.Fatal(err)
	}
	card = httpapi.Card{}
	w.get(t, "/api/v1/dialogs/2", w.manage).json(t, &card)
	in := card.Insight
	if in == nil || in.Ended != "lost" || in.Summary == nil || *in.Summary != "Found Team too dear for 5 reps." || in.LossReason == nil || *in.LossReason != "price" ||
		!reflect.DeepEqual(in.Objections, []string{"price"}) || in.By != "rules" || len(in.Withheld) != 0 {
		t.Fatalf("manage: %+v", in)
	}
	a := w.get(t, "/api/v1/dialogs/2", w.read)
	card = httpapi.Card{}
	a.json(t, &card)
	in = card.Insight
	if in == nil || in.Summary != nil || in.LossReason != nil || !reflect.DeepEqual(in.Withheld, []string{"summary", "loss_reason"}) ||
		!reflect.DeepEqual(in.Objections, []string{"price"}) {
		t.Fatalf("read: %+v", in)
	}
	if strings.Contains(string(a.body), "too dear") {
		t.Fatalf("a read token got the summary: %s", a.body)
	}
}
