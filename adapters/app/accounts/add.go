package accounts

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
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

// Login is how a new account signs in, for AddRequest.SignIn: by phone
// and login code (Phone, Code), by QR code (QR shows the tg://login
// link to scan), or else with a Telethon StringSession (Session reads
// it). Password answers the 2FA password a phone or QR sign-in may ask.
type Login struct {
	Phone    string
	Code     func(ctx context.Context) (string, error)
	QR       func(ctx context.Context, url string) error
	Session  func() (string, error)
	Password func(ctx context.Context) (string, error)
}

// Dialer signs accounts in and stores their sessions (telegram.Dialer).
type Dialer interface {
	LoginPhone(ctx context.Context, account uuid.UUID, l telegram.PhoneLogin) (telegram.Peer, error)
	LoginQR(ctx context.Context, account uuid.UUID, show func(ctx context.Context, url string) error, password func(ctx context.Context) (string, error)) (telegram.Peer, error)
	ImportSession(ctx context.Context, account uuid.UUID, telethon string) (telegram.Peer, error)
}

var _ Dialer = (*telegram.Dialer)(nil)

// SignIn signs an account in through d the way l says: by Phone if it
// is set, else by QR if that is set, else with Session. An error of
// Session is returned as is.
func (l Login) SignIn(d Dialer) func(ctx context.Context, id uuid.UUID) (telegram.Peer, error) {
	return func(ctx context.Context, id uuid.UUID) (telegram.Peer, error) {
		switch {
		case l.Phone != "":
			return d.LoginPhone(ctx, id, telegram.PhoneLogin{Phone: l.Phone, Code: l.Code, Password: l.Password})
		case l.QR != nil:
			return d.LoginQR(ctx, id, l.QR, l.Password)
		}
		s, err := l.Session()
		if err != nil {
			return telegram.Peer{}, err
		}
		return d.ImportSession(ctx, id, s)
	}
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

// WriteList writes the accounts as the table 'salesbot accounts list'
// prints: id, label, status, whether a session is stored, and a note
// (paused, and why the account is restricted or lost).
func WriteList(w io.Writer, items []Listed) error {
	if _, err := fmt.Fprintf(w, "%-36s  %-16s  %-10s  %-7s  %s\n", "ID", "LABEL", "STATUS", "SESSION", "NOTE"); err != nil {
		return err
	}
	for _, it := range items {
		note := it.Reason
		if it.Paused {
			note = strings.TrimSpace("paused " + note)
		}
		sess := "no"
		if it.Session {
			sess = "yes"
		}
		if _, err := fmt.Fprintf(w, "%-36s  %-16s  %-10s  %-7s  %s\n", it.ID, it.Label, it.Status, sess, note); err != nil {
			return err
		}
	}
	return nil
}
