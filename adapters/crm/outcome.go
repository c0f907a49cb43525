package crm

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/salesbot/salesbot/domain"
)

// Record records cmd, the outcome a CRM's webhook brought for lead, on
// dialog n through record, as each connector's webhook does: an amount
// the domain refuses (too large) is dropped and the outcome recorded
// without it; an outcome still refused, or a dialog that is gone, is
// logged and left (nil: the CRM need not send it again). Other errors
// are returned (the webhook answers 500, so the CRM sends it again).
// what names the webhook in the log ("amocrm webhook").
func Record(ctx context.Context, record RecordOutcome, log *slog.Logger, what, lead string, n int64, cmd domain.RecordOutcome) error {
	changed, err := record(ctx, n, 0, cmd)
	var de *domain.Error
	if errors.As(err, &de) && de.Code == domain.EINVALID && cmd.Amount != "" {
		log.Warn(what+": the amount was refused; the outcome recorded without it", "lead", lead, "dialog", n, "field", de.Field)
		cmd.Amount, cmd.Currency = "", ""
		changed, err = record(ctx, n, 0, cmd)
	}
	switch {
	case errors.As(err, &de) && de.Code == domain.EINVALID:
		log.Warn(what+": the outcome was refused", "lead", lead, "dialog", n, "field", de.Field)
		return nil
	case errors.Is(err, domain.ErrUnknownDialog):
		log.Info(what+": the linked dialog is gone", "lead", lead, "dialog", n)
		return nil
	case err != nil:
		return err
	}
	log.Info(what+": outcome", "lead", lead, "dialog", n, "outcome", cmd.Outcome, "changed", changed)
	return nil
}

// WriteProblem answers a webhook's request with an
// application/problem+json of status.
func WriteProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail})
}
