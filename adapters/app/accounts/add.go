package accounts

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// AddRequest is a company account to sign in and register.
type AddRequest struct {
	Label  string
	Phone  string // recorded with the account (sealed under its key); "" if it signs in otherwise
	Limits domain.Limits
	// SignIn signs the new account in and stores its session under id
	// (telegram.Dialer's LoginPhone, LoginQR or ImportSession).
	SignIn func(ctx context.Context, id uuid.UUID) (telegram.Peer, error)
}

// Added is the account Add registered and whom it signed in as.
type Added struct {
	ID   uuid.UUID
	Self telegram.Peer
}

// Add adds a company account: the one way to, for the CLI, the admin bot
// (Service.Add), the sandbox, the demo and the benchmarks. It checks the
// registration against the domain's rules first (a label, valid limits),
// so a bad one costs no sign-in; then it signs the account in and
// registers it (domain.RegisterAccount). The session of a sign-in or a
// registration that fails is deleted. A running Service connects the new
// account at once.
func Add(ctx context.Context, secrets eventstore.Secrets, h domain.Handlers, req AddRequest) (Added, error) {
	id := newID()
	reg := domain.RegisterAccount{AccountID: id, Label: req.Label, Phone: req.Phone, Limits: req.Limits}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	if _, err := domain.DecideAccount(domain.Account{}, reg, now()); err != nil {
		return Added{}, err
	}
	self, err := req.SignIn(ctx, id)
	if err == nil {
		_, err = h.Account(ctx, id, reg)
		if err != nil {
			err = fmt.Errorf("register account: %w", err)
		}
	}
	if err != nil {
		_ = telegram.DeleteSession(context.WithoutCancel(ctx), secrets, id)
		return Added{Self: self}, err
	}
	return Added{ID: id, Self: self}, nil
}

// Remove removes an account while no Service runs it (Service.Remove
// stops its client first): it ends the session at Telegram with logOut
// (nil: none), deletes the stored session whatever Telegram said, and
// records the removal; the account's dialogs and history stay. An
// unknown account is ErrNoAccount. logOutErr is why Telegram could not
// be told (the session may live on there), for the caller to pass on.
func Remove(ctx context.Context, secrets eventstore.Secrets, h domain.Handlers, id uuid.UUID, by string,
	logOut func(context.Context, uuid.UUID) error) (logOutErr error, err error) {
	if v, err := h.Log.Version(ctx, domain.AccountStream(id)); err != nil {
		return nil, err
	} else if v == 0 {
		return nil, fmt.Errorf("account %s: %w", id, ErrNoAccount)
	}
	if logOut != nil {
		logOutErr = logOut(ctx, id)
	}
	if err := telegram.DeleteSession(ctx, secrets, id); err != nil {
		return logOutErr, err
	}
	if _, err := h.Account(ctx, id, domain.RemoveAccount{By: by}); err != nil {
		return logOutErr, fmt.Errorf("record removal of account %s: %w", id, err)
	}
	return logOutErr, nil
}

// Listed is an account as 'salesbot accounts list' shows it.
type Listed struct {
	ID           uuid.UUID  `json:"id"`
	Label        string     `json:"label"`
	Status       string     `json:"status"`
	Paused       bool       `json:"paused"`
	Reason       string     `json:"reason,omitempty"`
	FloodUntil   *time.Time `json:"flood_until,omitempty"` // while a flood wait lasts
	DialogsToday int        `json:"dialogs_today"`
	DailyCap     int        `json:"daily_cap"`
	Session      bool       `json:"session"` // a session is stored
}

// List reads the accounts from the log (through an in-memory read
// model), ordered by label, with whether a session is stored for each.
func List(ctx context.Context, store Store, now time.Time) ([]Listed, error) {
	sink := projections.NewMemory()
	r := projections.Runner{Store: store, Decode: eventlog.New(store).Decode, Sink: sink, Batch: 5000}
	if _, err := r.CatchUp(ctx); err != nil {
		return nil, err
	}
	rows, err := sink.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Label < rows[j].Label })
	out := make([]Listed, 0, len(rows))
	for _, r := range rows {
		has, err := telegram.HasSession(ctx, store, r.ID)
		if err != nil {
			return nil, err
		}
		l := Listed{ID: r.ID, Label: r.Label, Status: r.Status, Paused: r.Paused, Reason: r.Reason,
			DialogsToday: r.DialogsToday, DailyCap: r.DailyCap, Session: has}
		if r.FloodUntil.After(now) {
			f := r.FloodUntil
			l.FloodUntil = &f
		}
		out = append(out, l)
	}
	return out, nil
}

// WaitConnected waits until n of the accounts are connected; false if ctx
// ended first.
func (s *Service) WaitConnected(ctx context.Context, n int) bool {
	for ctx.Err() == nil {
		c := 0
		for _, st := range s.Accounts() {
			if st.Connected {
				c++
			}
		}
		if c >= n {
			return true
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	return false
}
