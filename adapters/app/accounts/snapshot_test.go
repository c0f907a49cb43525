package accounts_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections/projectionsbench"
)

// The service started from the snapshot it saved when it stopped, plus
// what the log got since, knows what a service that read the whole log
// knows: accounts, their open dialogs, the messages still to send and
// the counts of those planned, sent and failed.
func TestSnapshotFoldsLikeTheLog(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	acc, _ := w.addAccount("sales-1")
	w.persona("lead_dora", telegramtest.Persona{Reply: telegramtest.Script("hello")})
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })
	st := w.startDialog("lead_dora", "Hi Dora")
	w.eventually("the reply is recorded", func() bool { return count[domain.InboundReceived](w.events(domain.DialogStream(st.DialogID))) == 1 })
	w.halt()
	ctx := context.Background()
	snaps := &eventstore.Snapshots{Store: w.store, Secrets: w.store}
	snap, err := snaps.Load(ctx, "accounts", 1)
	if err != nil {
		t.Fatalf("no snapshot when the service stopped: %v", err)
	}
	// While it is down: another account with 30 dialogs, some ended, and
	// a message planned but not sent.
	const seed = 7
	other := uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "account-%d", seed)) // projectionsbench's account of seed
	if _, err := w.h.Account(ctx, other, domain.RegisterAccount{AccountID: other, Label: "sales-2", Limits: openLimits}); err != nil {
		t.Fatal(err)
	}
	if err := projectionsbench.GenerateDialogs(ctx, w.store, 1000, 30, 2, seed); err != nil {
		t.Fatal(err)
	}
	c, err := w.h.LoadContact(ctx, st.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.h.Dialog(ctx, st.DialogID, st.ContactID, domain.PlanOutbound{RandomID: 77, Text: "One more thing", By: domain.ActorAI, Contact: c}); err != nil {
		t.Fatal(err)
	}
	if w.store.Head() <= snap.Position {
		t.Fatal("nothing after the snapshot")
	}

	fold := func(snaps *eventstore.Snapshots) []byte {
		svc, err := accounts.New(accounts.Config{Store: w.store, Runner: w.dialer, Snapshots: snaps})
		if err != nil {
			t.Fatal(err)
		}
		b, err := accounts.Fold(ctx, svc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	full, resumed := fold(nil), fold(snaps)
	if !bytes.Equal(full, resumed) {
		t.Fatalf("a service from the snapshot at %d of %d knows other things than one that read the whole log", snap.Position, w.store.Head())
	}
}
