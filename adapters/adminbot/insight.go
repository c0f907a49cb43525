package adminbot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/projections"
)

// writeInsight adds a dialog's insight to /view: its summary, the loss
// reason and the objections met; nothing when it has none yet.
func writeInsight(ctx context.Context, s projections.Sink, dialog uuid.UUID, sb *strings.Builder) error {
	in, err := s.Insight(ctx, dialog)
	if errors.Is(err, projections.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(sb, "\n<b>Insight</b> (%s, by %s)\n%s\n", Escape(in.Ended), Escape(in.By), Escape(in.Summary))
	if in.LossReason != "" {
		fmt.Fprintf(sb, "Loss reason: %s\n", Escape(in.LossReason))
	}
	if len(in.Objections) > 0 {
		fmt.Fprintf(sb, "Objections: %s\n", Escape(strings.Join(in.Objections, ", ")))
	}
	return nil
}
