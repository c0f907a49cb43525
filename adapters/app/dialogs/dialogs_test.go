package dialogs_test

import (
	"errors"
	"testing"

	"github.com/salesbot/salesbot/adapters/app/dialogs"
	"github.com/salesbot/salesbot/domain"
)

func TestRecordOutcome(t *testing.T) {
	ctx := t.Context()
	svc, did := newDialog(t)
	won := domain.RecordOutcome{Outcome: domain.OutcomeWon, Amount: "300", Currency: "EUR", By: "api:crm"}
	if changed, err := svc.RecordOutcome(ctx, 4, won); err != nil || !changed {
		t.Fatalf("first: %v, %v", changed, err)
	}
	if changed, err := svc.RecordOutcome(ctx, 4, won); err != nil || changed {
		t.Fatalf("again: %v, %v", changed, err)
	}
	d, err := svc.H.LoadDialog(ctx, did)
	if err != nil || d.Deal != (domain.Deal{Outcome: domain.OutcomeWon, Value: domain.Money{Minor: 30000, Currency: "EUR"}}) || d.Stage != domain.StageClosed {
		t.Fatalf("dialog: %+v, %v", d, err)
	}
	if _, err := svc.RecordOutcome(ctx, 5, won); !errors.Is(err, dialogs.ErrUnknownDialog) {
		t.Fatalf("dialog 5: %v", err)
	}
	bad := won
	bad.Currency = "EURO"
	if _, err := svc.RecordOutcome(ctx, 4, bad); !errors.Is(err, domain.ErrCurrency) || domain.ErrorField(err) != "currency" {
		t.Fatalf("bad currency: %v", err)
	}
}
