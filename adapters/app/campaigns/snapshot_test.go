package campaigns_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// A scheduler that starts from a snapshot and reads the rest of the log
// knows what one that read the whole log knows: claims, openings per
// day, opt-outs, an erasure, a restricted account, contacts and a
// campaign added after the snapshot. (The other tests restart their
// schedulers from snapshots: the world saves them often.)
func TestSnapshotFoldsLikeTheLog(t *testing.T) {
	w := newWorld(t, week, 5)
	accs, cs := setup(w, 3, 30, utcLimits(4))
	w.createCampaign(domain.CreateCampaign{Variants: []domain.VariantWeight{{Name: "A", Weight: 1}, {Name: "B", Weight: 1}},
		Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 5)}})
	w.run(day(0, "09:00"), day(0, "12:00"), func(now time.Time) {
		if now.Equal(day(0, "10:00")) {
			w.optOut(cs[3])
			w.account(accs[1], domain.MarkRestricted{Reason: "PEER_FLOOD"})
		}
	})
	snaps := &eventstore.Snapshots{Store: w.store, Secrets: w.store}
	snap, err := snaps.Load(w.ctx, "campaigns", 1)
	if err != nil {
		t.Fatalf("the scheduler saved no snapshot: %v", err)
	}
	// After the snapshot: an erasure, new contacts, a second campaign.
	if _, err := w.h.Contact(w.ctx, cs[7], domain.ForgetContact{By: "admin:1"}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		w.addContact(100+i, "saas")
	}
	w.createCampaign(domain.CreateCampaign{Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 5)}})
	if w.store.Head() <= snap.Position {
		t.Fatalf("no events after the snapshot at %d", snap.Position)
	}

	// In the evening, outside working hours: they read the log and open
	// nothing.
	w.clock.Set(day(0, "20:00"))
	full, err := campaigns.New(campaigns.Config{Store: w.store, Decode: w.ev.Decode, H: w.h, Opener: w.opener, Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	resumed := w.newScheduler(w.h)
	head := w.store.Head()
	for _, s := range []*campaigns.Scheduler{full, resumed} {
		if err := s.Step(w.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if w.store.Head() != head {
		t.Fatalf("the schedulers appended %d events in the evening", w.store.Head()-head)
	}
	a, err := campaigns.Fold(full)
	if err != nil {
		t.Fatal(err)
	}
	b, err := campaigns.Fold(resumed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("a scheduler from the snapshot at %d of %d knows other things than one that read the whole log: %s", snap.Position, head, campaigns.FoldDiff(a, b))
	}
	// The erasure was scrubbed into a new snapshot at once.
	if after, err := snaps.Load(w.ctx, "campaigns", 1); err != nil || after.Position != head {
		t.Fatalf("snapshot after the erasure: at %d, err %v; want the head %d", after.Position, err, head)
	}
}

// A snapshot is not used when it does not fit: another format, or a log
// that no longer holds its event (restored from an older backup,
// rewritten).
func TestSnapshotThatDoesNotFit(t *testing.T) {
	ctx := context.Background()
	st, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	snaps := eventstore.Snapshots{Store: st, Secrets: st}
	if _, err := snaps.Load(ctx, "x", 1); !errors.Is(err, eventstore.ErrNoSnapshot) {
		t.Fatalf("no snapshot yet: %v", err)
	}
	for range 3 {
		if _, err := st.Append(ctx, "s-1", eventstore.Any, eventstore.Event{Type: "T", Payload: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := snaps.Save(ctx, "x", 1, eventstore.Snapshot{Position: 2, State: []byte("state")}); err != nil {
		t.Fatal(err)
	}
	got, err := snaps.Load(ctx, "x", 1)
	if err != nil || got.Position != 2 || string(got.State) != "state" {
		t.Fatalf("Load = %d %q %v", got.Position, got.State, err)
	}
	if _, err := snaps.Load(ctx, "x", 2); !errors.Is(err, eventstore.ErrNoSnapshot) {
		t.Fatalf("another format: %v", err)
	}
	// The same snapshot in another log (a copy of the secrets on a log
	// whose event 2 differs) is refused.
	other, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := other.Append(ctx, "s-1", eventstore.Any, eventstore.Event{Type: "U", Payload: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	sealed, err := st.Secret(ctx, "snapshot/x")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.PutSecret(ctx, "snapshot/x", sealed); err != nil {
		t.Fatal(err)
	}
	if _, err := (eventstore.Snapshots{Store: other, Secrets: other}).Load(ctx, "x", 1); !errors.Is(err, eventstore.ErrNoSnapshot) {
		t.Fatalf("another log's snapshot: %v", err)
	}
}
