package projections_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// Run follows the log live: events appended after it started reach the
// sink, each once, and it stops when its context ends.
func TestRunnerFollowsTheLog(t *testing.T) {
	store, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	log := eventlog.New(store)
	sink := projections.NewMemory()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- projections.Runner{Store: store, Decode: log.Decode, Sink: sink, Batch: 2}.Run(ctx)
	}()
	h := domain.Handlers{Log: log, Now: time.Now}
	c := domain.Contact{ID: uuid.New(), Exists: true, Source: domain.SourceManual, Basis: domain.BasisConsent, Username: "anna"}
	d := uuid.New()
	if _, err := h.Dialog(ctx, d, c.ID, domain.StartDialog{DialogID: d, N: 1, Contact: c, AccountID: uuid.New(), By: "admin:1"}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := h.Dialog(ctx, d, c.ID, domain.RecordInbound{TelegramMessageID: int64(i + 1), Text: "hi", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if cp, _ := sink.Checkpoint(ctx); cp.Position == store.Head() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the runner did not catch up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	got, err := sink.DialogByN(ctx, 1)
	if err != nil || got.Inbound != 5 {
		t.Fatalf("dialog after live events: %+v, %v", got, err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop with its context")
	}
}
