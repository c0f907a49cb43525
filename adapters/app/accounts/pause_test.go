package accounts_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// SetPaused finds an account by id or label, pauses and resumes it once,
// refuses a lost account's resumption and knows no removed account.
func TestSetPaused(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h := domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: time.Now}
	sink := projections.NewMemory()
	runner := projections.Runner{Store: store, Decode: eventlog.New(store).Decode, Sink: sink}
	do := func(cmd func() error) {
		t.Helper()
		if err := cmd(); err != nil {
			t.Fatal(err)
		}
		if _, err := runner.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ids := map[string]uuid.UUID{}
	for _, label := range []string{"sales-1", "sales-2", "twin", "Twin", "gone"} {
		id := uuid.New()
		ids[label] = id
		do(func() error {
			_, err := h.Account(ctx, id, domain.RegisterAccount{AccountID: id, Label: label, Limits: domain.DefaultLimits()})
			return err
		})
	}
	do(func() error {
		_, err := h.Account(ctx, ids["sales-2"], domain.MarkLost{Reason: "SESSION_REVOKED"})
		return err
	})
	do(func() error { _, err := h.Account(ctx, ids["gone"], domain.RemoveAccount{By: "cli"}); return err })

	for _, c := range []struct {
		ref     string
		pause   bool
		changed bool
	}{{"SALES-1", true, true}, {ids["sales-1"].String(), true, false}, {"sales-1", false, true}, {"sales-1", false, false}, {"sales-2", true, true}} {
		var a projections.Account
		var changed bool
		do(func() (err error) {
			a, changed, err = accounts.SetPaused(ctx, h, sink, c.ref, c.pause, "token:sb_x")
			return err
		})
		got, err := projections.FindAccount(ctx, sink, c.ref)
		if err != nil || a.ID != got.ID || changed != c.changed || got.Paused != c.pause {
			t.Fatalf("%s pause=%v: changed %v, now %+v (%v)", c.ref, c.pause, changed, got, err)
		}
	}
	var de *domain.Error
	if _, _, err := accounts.SetPaused(ctx, h, sink, "sales-2", false, "token:sb_x"); !errors.As(err, &de) || de.Code != domain.ESTATE {
		t.Fatalf("resume a lost account: %v", err)
	}
	for _, ref := range []string{"gone", ids["gone"].String(), "nobody", uuid.NewString()} {
		if _, _, err := accounts.SetPaused(ctx, h, sink, ref, true, "token:sb_x"); !errors.Is(err, projections.ErrNotFound) {
			t.Fatalf("%s: %v", ref, err)
		}
	}
	if _, err := projections.FindAccount(ctx, sink, "TWIN"); !errors.As(err, &de) || de.Code != domain.EINVALID || de.Field != "account" {
		t.Fatalf("a label of two: %v", err)
	}
}
