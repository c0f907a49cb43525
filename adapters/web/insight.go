package web

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/projections"
)

// insightView is a dialog's insight as its page shows it.
type insightView struct {
	Summary, LossReason, Objections, About string
}

// insightOf reads a dialog's insight (nil: none yet).
func insightOf(ctx context.Context, rm ReadModels, dialog uuid.UUID, L catalog) (*insightView, error) {
	in, err := rm.Insight(ctx, dialog)
	if errors.Is(err, projections.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &insightView{Summary: in.Summary, LossReason: in.LossReason, Objections: strings.Join(in.Objections, ", "),
		About: L.T("InsightAbout", L.label("Insight", in.Ended), L.label("InsightBy", in.By))}, nil
}

// objectionRow is one objection of one variant on a campaign's page.
type objectionRow struct {
	Variant, Objection, Dialogs, Share string
}

// objectionRows are a campaign's top objections by variant.
func objectionRows(l []httpapi.ObjectionCount) []objectionRow {
	var out []objectionRow
	for _, o := range l {
		out = append(out, objectionRow{Variant: o.Variant, Objection: o.Objection, Dialogs: fmt.Sprintf("%d / %d", o.Dialogs, o.WithInsight),
			Share: fmt.Sprintf("%.1f%%", 100*o.Share)})
	}
	return out
}
