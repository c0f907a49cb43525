package httpapi

import (
	"time"

	"github.com/salesbot/salesbot/projections"
)

// Insight is what a dialog's close or handoff taught: a summary, why it
// was lost, the objections the lead raised (ids of the scenario's list).
// The summary and the loss reason are personal: a read token gets them
// as null, named in Withheld.
type Insight struct {
	Ended      string    `json:"ended"` // handoff, nurture, or how it closed: lost, won, opted-out, stopped, unreachable
	Summary    *string   `json:"summary"`
	LossReason *string   `json:"loss_reason"`
	Objections []string  `json:"objections"`
	By         string    `json:"by"` // llm, rules
	RecordedAt time.Time `json:"recorded_at"`
	Withheld   []string  `json:"withheld"`
}

// insightOf is the API's form of a dialog_insights row.
func insightOf(in projections.Insight) *Insight {
	obj := in.Objections
	if obj == nil {
		obj = []string{}
	}
	return &Insight{Ended: in.Ended, Summary: &in.Summary, LossReason: stringOrNil(in.LossReason), Objections: obj, By: in.By,
		RecordedAt: in.RecordedAt.UTC(), Withheld: []string{}}
}

// withholdPersonal is c without the insight's personal fields.
func withholdPersonal(c Card) Card {
	if c.Insight == nil {
		return c
	}
	in := *c.Insight
	in.Summary, in.LossReason, in.Withheld = nil, nil, []string{"summary", "loss_reason"}
	c.Insight = &in
	return c
}
