package crmsync_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/crmsync"
	"github.com/salesbot/salesbot/domain"
)

// The follower pushes a dialog once it qualifies, trying again while
// amoCRM fails; after a restart it goes on from its place: a later
// qualification of the same dialog creates nothing more.
func TestFollowerPushesQualifiedDialogsOnce(t *testing.T) {
	w := newWorld(t, false) // not qualified yet: the follower starts at the head
	var waits atomic.Int32
	start := func() (stop func()) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		f := crmsync.Follower{Store: w.store, Service: w.svc, CRM: w.client,
			Sleep: func(ctx context.Context, d time.Duration) error { waits.Add(1); return ctx.Err() }}
		go func() { done <- f.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}
	stop := start()
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) { // it has taken its place at the head
		if _, err := w.store.Secret(t.Context(), "crmsync/amocrm/checkpoint"); err == nil {
			break
		} else if time.Now().After(end) {
			t.Fatalf("the follower took no place: %v", err)
		}
	}
	w.srv.Fail("/api/v4/leads/complex", http.StatusInternalServerError, "") // the creation fails once
	qualify := func(score int) {
		t.Helper()
		d, err := w.h.LoadDialog(t.Context(), w.dialog)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.h.Dialog(t.Context(), w.dialog, d.ContactID, domain.UpdateQualification{Qual: domain.Qualification{
			Need: &domain.Field{Value: "CRM for 20 reps", Confidence: 0.9}, Score: &score}}); err != nil {
			t.Fatal(err)
		}
	}
	qualify(60)
	for end := time.Now().Add(10 * time.Second); len(w.srv.Leads()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no lead in amoCRM after 10 s; logs:\n%s", w.logs)
		}
	}
	if waits.Load() == 0 {
		t.Error("the failed attempt was not waited for and tried again")
	}
	stop()
	creates := w.creates() // the failed one and the one that made the lead
	stop = start()
	defer stop()
	qualify(80)
	time.Sleep(200 * time.Millisecond) // a second lead would be created by now
	if n := len(w.srv.Leads()); n != 1 || w.creates() != creates || creates != 2 {
		t.Fatalf("%d leads, %d creations (%d before the restart) after a restart and a new qualification, want 1 lead", n, w.creates(), creates)
	}
}
