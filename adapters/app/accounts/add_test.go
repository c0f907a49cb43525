package accounts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
)

// Add checks the registration before anyone signs in, keeps no session of
// a failed one, and registers the account; List shows it; Remove ends it.
func TestAddListRemove(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	phone := "+15550009999"
	if _, err := w.sb.AddUser(telegramtest.UserSpec{Phone: phone, FirstName: "Acme", Username: "acme_sales"}); err != nil {
		t.Fatal(err)
	}
	signedIn := 0
	signIn := func(ctx context.Context, id uuid.UUID) (telegram.Peer, error) {
		signedIn++
		return w.signIn(phone)(ctx, id)
	}
	for _, bad := range []accounts.AddRequest{
		{Label: " ", Limits: openLimits},
		{Label: "sales-1", Limits: domain.Limits{TimeZone: "UTC", StartMinute: 600, EndMinute: 500}},
	} {
		bad.SignIn = signIn
		if _, err := accounts.Add(ctx, w.store, w.h, bad); domain.ErrorCode(err) != domain.EINVALID || signedIn != 0 {
			t.Fatalf("%+v: %v after %d sign-ins; want EINVALID before any", bad, err, signedIn)
		}
	}
	// A sign-in that fails after the session was stored (a wrong 2FA
	// password, say) leaves no session behind.
	var failed uuid.UUID
	_, err := accounts.Add(ctx, w.store, w.h, accounts.AddRequest{Label: "sales-1", Limits: openLimits,
		SignIn: func(ctx context.Context, id uuid.UUID) (telegram.Peer, error) {
			failed = id
			if _, err := signIn(ctx, id); err != nil {
				return telegram.Peer{}, err
			}
			return telegram.Peer{}, errors.New("wrong password")
		}})
	if err == nil || failed == uuid.Nil {
		t.Fatalf("a failed sign-in: %v", err)
	}
	if has, err := telegram.HasSession(ctx, w.store, failed); err != nil || has {
		t.Fatalf("the failed sign-in's session is kept: %v %v", has, err)
	}
	a, err := accounts.Add(ctx, w.store, w.h, accounts.AddRequest{Label: "sales-1", Phone: phone, Limits: openLimits, SignIn: signIn})
	if err != nil || a.Self.Username != "acme_sales" {
		t.Fatalf("add: %+v %v", a, err)
	}
	list, err := accounts.List(ctx, w.store, time.Now())
	if err != nil || len(list) != 1 || list[0].ID != a.ID || list[0].Label != "sales-1" || !list[0].Session {
		t.Fatalf("list: %+v %v", list, err)
	}
	logOut, err := accounts.Remove(ctx, w.store, w.h, a.ID, "cli", w.dialer.LogOut)
	if err != nil || logOut != nil {
		t.Fatalf("remove: %v (log out: %v)", err, logOut)
	}
	list, err = accounts.List(ctx, w.store, time.Now())
	if err != nil || len(list) != 1 || list[0].Status != string(domain.StatusRemoved) || list[0].Session {
		t.Fatalf("list after remove: %+v %v", list, err)
	}
	if _, err := accounts.Remove(ctx, w.store, w.h, uuid.New(), "cli", nil); !errors.Is(err, accounts.ErrNoAccount) {
		t.Fatalf("remove an unknown account: %v", err)
	}
}
