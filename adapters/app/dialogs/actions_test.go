package dialogs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/dialogs"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// newDialog is a log holding dialog 4, open, and the service on it.
func newDialog(t *testing.T) (dialogs.Service, uuid.UUID) {
	t.Helper()
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
	return dialogs.Service{H: h}, did
}

func TestActions(t *testing.T) {
	ctx := t.Context()
	svc, did := newDialog(t)
	load := func() domain.Dialog {
		t.Helper()
		d, err := svc.H.LoadDialog(ctx, did)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	version := func() uint64 {
		t.Helper()
		v, err := svc.Version(ctx, 4)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v1 := version()
	if v1 != 1 {
		t.Fatalf("version %d", v1)
	}
	// Release before a take-over: the state machine refuses.
	if err := svc.Release(ctx, 4, dialogs.AnyVersion, "token:sb_1"); domain.ErrorCode(err) != domain.ESTATE {
		t.Fatalf("release: %v", err)
	}
	if changed, err := svc.TakeOver(ctx, 4, v1, "token:sb_1"); err != nil || !changed || !load().TakenOver {
		t.Fatalf("take over: %v %v", changed, err)
	}
	if changed, err := svc.TakeOver(ctx, 4, dialogs.AnyVersion, "token:sb_1"); err != nil || changed {
		t.Fatalf("take over again: %v %v", changed, err)
	}
	// At the version before the take-over: stale.
	var stale *domain.StaleError
	if err := svc.Release(ctx, 4, v1, "token:sb_1"); !errors.Is(err, domain.ErrConflict) || !errors.As(err, &stale) || stale.Version != version() {
		t.Fatalf("release at %d: %v", v1, err)
	}
	if err := svc.Release(ctx, 4, version(), "token:sb_1"); err != nil || load().TakenOver {
		t.Fatalf("release: %v", err)
	}

	// A reply takes the dialog over and plans the message.
	took, err := svc.Reply(ctx, 4, version(), "token:sb_1", "Привет! Менеджер на связи.")
	if err != nil || !took {
		t.Fatalf("reply: %v %v", took, err)
	}
	d := load()
	if !d.TakenOver || len(d.Pending) != 1 {
		t.Fatalf("after the reply: taken over %v, pending %v", d.TakenOver, d.Pending)
	}
	for _, text := range d.Pending {
		if text != "Привет! Менеджер на связи." {
			t.Fatalf("planned %q", text)
		}
	}
	if took, err := svc.Reply(ctx, 4, dialogs.AnyVersion, "token:sb_1", "one more"); err != nil || took {
		t.Fatalf("second reply: %v %v", took, err)
	}
	for _, text := range []string{"", "  \n", strings.Repeat("я", dialogs.MaxReply+1)} {
		if _, err := svc.Reply(ctx, 4, dialogs.AnyVersion, "token:sb_1", text); domain.ErrorCode(err) != domain.EINVALID || domain.ErrorField(err) != "text" {
			t.Errorf("reply %.10q: %v", text, err)
		}
	}
	if _, err := svc.Reply(ctx, 4, dialogs.AnyVersion, "token:sb_1", strings.Repeat("я", dialogs.MaxReply)); err != nil {
		t.Fatalf("the longest reply: %v", err)
	}

	if changed, err := svc.Stop(ctx, 4, version(), "token:sb_1"); err != nil || !changed || load().Stage != domain.StageClosed {
		t.Fatalf("stop: %v %v", changed, err)
	}
	if changed, err := svc.Stop(ctx, 4, dialogs.AnyVersion, "token:sb_1"); err != nil || changed {
		t.Fatalf("stop again: %v %v", changed, err)
	}
	if _, err := svc.Reply(ctx, 4, dialogs.AnyVersion, "token:sb_1", "hello?"); domain.ErrorCode(err) != domain.ESTATE {
		t.Fatalf("reply to a closed dialog: %v", err)
	}
	if _, err := svc.RecordOutcomeAt(ctx, 4, 1, domain.RecordOutcome{Outcome: domain.OutcomeWon, By: "token:sb_1"}); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("outcome at 1: %v", err)
	}
	if changed, err := svc.RecordOutcomeAt(ctx, 4, version(), domain.RecordOutcome{Outcome: domain.OutcomeWon, By: "token:sb_1"}); err != nil || !changed {
		t.Fatalf("outcome: %v %v", changed, err)
	}

	for name, act := range map[string]func(context.Context) error{
		"version":  func(ctx context.Context) error { _, err := svc.Version(ctx, 5); return err },
		"stop":     func(ctx context.Context) error { _, err := svc.Stop(ctx, 5, 0, "x"); return err },
		"takeover": func(ctx context.Context) error { _, err := svc.TakeOver(ctx, 5, 0, "x"); return err },
		"release":  func(ctx context.Context) error { return svc.Release(ctx, 5, 0, "x") },
		"reply":    func(ctx context.Context) error { _, err := svc.Reply(ctx, 5, 0, "x", "hi"); return err },
	} {
		if err := act(ctx); !errors.Is(err, dialogs.ErrUnknownDialog) {
			t.Errorf("%s of dialog 5: %v", name, err)
		}
	}
}
