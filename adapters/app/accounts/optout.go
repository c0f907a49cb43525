package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/clock"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/domain"
)

// ErrNoConnection: no account is connected to look a username up with
// (domain.ErrNoConnection, which the admin bot matches).
var ErrNoConnection = domain.ErrNoConnection

// OptOut puts the person with a username on the do-not-contact list (a
// manager's /optout): it finds the Telegram user through a connected
// account, then contacts.OptOut records a contact if there is none yet,
// opts out every contact of the person and ends their open dialogs at
// once. It returns the contact.
func (s *Service) OptOut(ctx context.Context, username, by, reason string) (uuid.UUID, error) {
	var conn telegram.Conn
	s.mu.Lock()
	for _, a := range s.accounts {
		if a.conn != nil && !a.lost && !a.removed {
			conn = a.conn
			break
		}
	}
	s.mu.Unlock()
	if conn == nil {
		return uuid.Nil, ErrNoConnection
	}
	p, err := conn.Resolve(ctx, username)
	if err != nil {
		return uuid.Nil, s.resolveError(username, err)
	}
	open := func(_ context.Context, contact uuid.UUID) ([]uuid.UUID, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		var ids []uuid.UUID
		for id, d := range s.dialogs {
			if d.contact == contact && d.open {
				ids = append(ids, id)
			}
		}
		return ids, nil
	}
	id, _, err := contacts.OptOut(ctx, s.h, contacts.OptOutRequest{Person: contacts.Person{UserID: p.UserID, Username: p.Username, Name: p.Name},
		By: by, Reason: reason, Open: open})
	return id, err
}

// Remove logs an account out (through Config.LogOut, if set), deletes its
// session and records the removal; its dialogs and history stay. The
// account's client is stopped first, since a session runs in one client
// at a time.
func (s *Service) Remove(ctx context.Context, id uuid.UUID, by string) error {
	s.mu.Lock()
	a := s.accounts[id]
	if a == nil || a.removed {
		s.mu.Unlock()
		return fmt.Errorf("account %s: %w", id, ErrNoAccount)
	}
	if a.stop != nil {
		a.stop()
	}
	s.mu.Unlock()
	for i := 0; ; i++ { // the client lets its session go within moments
		s.mu.Lock()
		running := a.running
		s.mu.Unlock()
		if !running {
			break
		}
		if i == 1000 {
			return fmt.Errorf("account %s: its client did not stop within 10 s; try again", id)
		}
		if clock.Sleep(ctx, 10*time.Millisecond) != nil {
			return ctx.Err()
		}
	}
	logOutErr, err := Remove(ctx, s.cfg.Store, s.h, id, by, s.cfg.LogOut)
	if logOutErr != nil {
		s.log.Warn("accounts: could not log out at Telegram; deleting the session anyway", "account", id, "err", logOutErr)
	}
	return err
}

// ErrNoAccount: no such account, or it was removed (domain.ErrUnknownAccount,
// which the admin bot matches).
var ErrNoAccount = domain.ErrUnknownAccount

// Add signs an account in by phone (asking code and password through the
// callbacks) with Config.Login and registers it with limits (the package's
// Add); the running service connects it at once.
func (s *Service) Add(ctx context.Context, label string, login telegram.PhoneLogin, limits domain.Limits) (uuid.UUID, telegram.Peer, error) {
	if s.cfg.Login == nil {
		return uuid.Nil, telegram.Peer{}, errors.New("accounts: signing accounts in is not configured")
	}
	a, err := Add(ctx, s.cfg.Store, s.h, AddRequest{Label: label, Phone: login.Phone, Limits: limits,
		SignIn: func(ctx context.Context, id uuid.UUID) (telegram.Peer, error) { return s.cfg.Login(ctx, id, login) }})
	return a.ID, a.Self, err
}
