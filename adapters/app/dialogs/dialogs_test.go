package dialogs_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/dialogs"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

func TestRecordOutcome(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	store, err := eventstore.NewMemory(eventstore.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h := domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: func() time.Time { return now }}
	cid, did := uuid.New(), uuid.New()
	if _, err := h.Contact(ctx, cid, domain.AddContact{ContactID: cid, Source: domain.SourceImport, Basis: domain.BasisConsent, Username: "anna"}); err != nil {
		t.Fatal(err)
	}
	c, err := h.LoadContact(ctx, cid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Dialog(ctx, did, cid, domain.StartDialog{DialogID: did, N: 4, Contact: c, AccountID: uuid.New(), By: "ai"}); err != nil {
		t.Fatal(err)
	}
	svc := dialogs.Service{H: h}
	won := domain.RecordOutcome{Outcome: domain.OutcomeWon, Amount: "300", Currency: "EUR", By: "api:crm"}
	if changed, err := svc.RecordOutcome(ctx, 4, won); err != nil || !changed {
		t.Fatalf("first: %v, %v", changed, err)
	}
	if changed, err := svc.RecordOutcome(ctx, 4, won); err != nil || changed {
		t.Fatalf("again: %v, %v", changed, err)
	}
	d, err := h.LoadDialog(ctx, did)
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
