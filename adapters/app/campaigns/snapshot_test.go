package campaigns_test

import (
	"bytes"
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
	snap, err := snaps.Load(w.ctx, "campaigns", campaigns.SnapshotVersion)
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
	if after, err := snaps.Load(w.ctx, "campaigns", campaigns.SnapshotVersion); err != nil || after.Position != head {
		t.Fatalf("snapshot after the erasure: at %d, err %v; want the head %d", after.Position, err, head)
	}
}
