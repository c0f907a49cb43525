package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/domain"
)

// StartRequest opens a dialog with a person.
type StartRequest struct {
	// Who: a @username, or an existing contact.
	Username  string
	ContactID uuid.UUID
	// For a new contact: where it came from and the lawful basis.
	Source domain.Source
	Basis  domain.Basis
	Note   string
	By     string // who starts it: "admin:<id>", "campaign:<id>"
	// Text is the opening message; empty = the dialog engine writes it
	// from the scenario. Variant is the prompt variant, if any.
	Text    string
	Variant string
	// Account pins the dialog to one account (a campaign's sticky
	// account): no other is ever picked. Zero = rotation.
	Account uuid.UUID
	// Campaign is the campaign opening the dialog, recorded in its
	// DialogStarted; zero = none.
	Campaign uuid.UUID
}

// Started is the dialog a StartRequest opened.
type Started struct {
	DialogID  uuid.UUID
	N         int64
	AccountID uuid.UUID
	ContactID uuid.UUID
	Label     string // the account's label
}

// Errors of Start.
var (
	ErrUnknownUsername = domain.ErrUnknownUsername // the admin bot matches it in domain
	ErrInDialog        = domain.ErrInDialog
	ErrNoContact       = errors.New("accounts: no such contact")
	// ErrOtherContact: the contact's Telegram user is another contact
	// already (one person imported twice: by user id and by username);
	// the error names that contact.
	ErrOtherContact = errors.New("accounts: the person is already contact")
)

// InDialogError is ErrInDialog with the dialog the contact is in
// (domain.InDialogError, which the admin bot reads).
type InDialogError = domain.InDialogError

// Start opens a dialog: it picks the least-loaded healthy account inside its
// caps and working hours, finds the person through it, records the
// contact (source and lawful basis required), reserves one of the
// account's new-dialog slots, and plans the opening message, which the
// outbox sends. With no account available it waits, calling wait with the
// reason and the earliest time an account opens (zero if unknown), until
// one is or ctx ends. A restricted account is never replaced by another
// beyond the others' own caps.
//
// With req.Account set only that account is tried: while it cannot open a
// dialog (outside its hours, at its cap, in a flood wait, restricted,
// paused, not connected) Start waits for it as above, and never picks
// another; an account that is lost, removed or unknown is an ESTATE error
// at once.
func (s *Service) Start(ctx context.Context, req StartRequest, wait func(reason string, until time.Time)) (Started, error) {
	if req.Username == "" && req.ContactID == uuid.Nil {
		return Started{}, errors.New("accounts: say whom to write to: a @username or a contact")
	}
	for {
		st, retry, err := s.tryStart(ctx, req)
		if err == nil {
			return st, nil
		}
		var de *domain.Error
		if !errors.As(err, &de) || (de.Code != domain.ELIMIT && !errors.Is(err, domain.ErrNoAccount)) {
			return Started{}, err
		}
		if wait != nil {
			wait(de.Message, retry)
		}
		s.mu.Lock()
		changed := s.wake
		s.mu.Unlock()
		d := time.Minute
		if !retry.IsZero() {
			d = max(retry.Sub(s.cfg.Now()), time.Millisecond)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return Started{}, fmt.Errorf("accounts: waited for an account: %w (%s)", ctx.Err(), de.Message)
		case <-t.C:
		case <-changed:
			t.Stop()
		}
	}
}

func (s *Service) candidates(ctx context.Context) ([]domain.Candidate, map[uuid.UUID]telegram.Conn, error) {
	s.mu.Lock()
	type acc struct {
		id   uuid.UUID
		loc  *time.Location
		open int
		conn telegram.Conn
	}
	var list []acc
	for _, a := range s.accounts {
		if a.removed || a.lost {
			continue
		}
		list = append(list, acc{a.id, a.loc, a.open, a.conn})
	}
	s.mu.Unlock()
	var cands []domain.Candidate
	conns := map[uuid.UUID]telegram.Conn{}
	for _, a := range list {
		st, err := s.h.AccountNow(ctx, a.id, a.loc)
		if err != nil {
			return nil, nil, err
		}
		// Whether it is connected is what the client says now (the log
		// lags, and a flood wait is not a disconnection); caps, pauses,
		// restrictions and flood waits are the account's state.
		if a.conn != nil {
			st.Status = domain.StatusActive
		} else if st.Status == domain.StatusActive || st.Status == domain.StatusFloodWait {
			st.Status = domain.StatusConnecting
		}
		cands = append(cands, domain.Candidate{Account: st, Loc: a.loc, Open: a.open})
		conns[a.id] = a.conn
	}
	return cands, conns, nil
}

func (s *Service) tryStart(ctx context.Context, req StartRequest) (Started, time.Time, error) {
	cands, conns, err := s.candidates(ctx)
	if err != nil {
		return Started{}, time.Time{}, err
	}
	if req.Account != uuid.Nil {
		if cands, err = s.pinned(cands, req.Account); err != nil {
			return Started{}, time.Time{}, err
		}
	}
	id, err := domain.PickAccount(cands, s.cfg.Now())
	if err != nil {
		return Started{}, retryAt(err), err
	}
	conn := conns[id]
	var loc *time.Location
	var label string
	for _, c := range cands {
		if c.Account.ID == id {
			loc, label = c.Loc, c.Account.Label
		}
	}

	contact, peer, err := s.whom(ctx, conn, req)
	if err != nil {
		return Started{}, time.Time{}, err
	}
	if err := contact.Contactable(); err != nil {
		return Started{}, time.Time{}, err
	}
	// One dialog per person at a time, also when two starts race.
	release, open, ok := s.claim(contact.ID)
	if !ok {
		if open == 0 {
			return Started{}, time.Time{}, &InDialogError{}
		}
		return Started{}, time.Time{}, &InDialogError{Dialog: open}
	}
	defer release()
	dialogID := newID()
	if _, err := s.h.Account(ctx, id, domain.ReserveNewDialog{DialogID: dialogID, Loc: loc}); err != nil {
		return Started{}, retryAt(err), err
	}
	version, err := s.h.PeerVersion(ctx, id, peer.UserID)
	if err != nil {
		return Started{}, time.Time{}, err
	}
	if err := s.linkPeer(ctx, peer.UserID, version, domain.PeerLinked{AccountID: id, DialogID: dialogID, ContactID: contact.ID}); err != nil {
		return Started{}, time.Time{}, err
	}
	n, err := s.nextNumber(ctx, dialogID)
	if err != nil {
		return Started{}, time.Time{}, err
	}
	if _, err := s.h.Dialog(ctx, dialogID, contact.ID, domain.StartDialog{DialogID: dialogID, N: n, Contact: contact, AccountID: id, Variant: req.Variant, By: req.By, Campaign: req.Campaign}); err != nil {
		return Started{}, time.Time{}, fmt.Errorf("start dialog %d: %w", n, err)
	}
	s.mu.Lock()
	s.openBy[contact.ID] = n // before the log is followed this far
	s.mu.Unlock()
	if strings.TrimSpace(req.Text) != "" {
		if _, err := s.h.Dialog(ctx, dialogID, contact.ID, domain.PlanOutbound{RandomID: RandomID(), Text: req.Text, By: domain.ActorAI, Contact: contact}); err != nil {
			return Started{}, time.Time{}, fmt.Errorf("plan the opening message of dialog %d: %w", n, err)
		}
	}
	return Started{DialogID: dialogID, N: n, AccountID: id, ContactID: contact.ID, Label: label}, time.Time{}, nil
}

// retryAt is when a rule error (*domain.Error, also wrapped) says to try
// again; zero for any other error.
func retryAt(err error) time.Time {
	var de *domain.Error
	if errors.As(err, &de) {
		return de.RetryAt
	}
	return time.Time{}
}

// pinned keeps only the candidate of account id; a lost, removed or
// unknown account is an ESTATE error (it will not come back by waiting).
func (s *Service) pinned(cands []domain.Candidate, id uuid.UUID) ([]domain.Candidate, error) {
	for _, c := range cands {
		if c.Account.ID == id {
			return []domain.Candidate{c}, nil
		}
	}
	s.mu.Lock()
	a := s.accounts[id]
	s.mu.Unlock()
	switch {
	case a == nil:
		return nil, &domain.Error{Code: domain.ESTATE, Message: fmt.Sprintf("account %s is not registered", id)}
	case a.removed:
		return nil, &domain.Error{Code: domain.ESTATE, Message: fmt.Sprintf("account %s was removed", a.label)}
	default:
		return nil, &domain.Error{Code: domain.ESTATE, Message: fmt.Sprintf("account %s is lost: add it again with a new session", a.label)}
	}
}

// whom finds the person of a request through the account's connection.
func (s *Service) whom(ctx context.Context, conn telegram.Conn, req StartRequest) (domain.Contact, telegram.Peer, error) {
	if req.ContactID != uuid.Nil {
		c, err := s.h.LoadContact(ctx, req.ContactID)
		if err != nil {
			return c, telegram.Peer{}, err
		}
		if !c.Exists {
			return c, telegram.Peer{}, fmt.Errorf("%w: %s", ErrNoContact, req.ContactID)
		}
		p, err := s.peerOf(ctx, conn, c)
		if err != nil {
			return c, p, s.resolveError(c.Username, err)
		}
		linked, err := s.h.LinkUser(ctx, p.UserID, c.ID)
		if err != nil {
			return c, p, err
		}
		if c.UserID == 0 {
			// Recorded also when the person is another contact: an
			// opt-out of either then finds the other (contacts.Twins).
			if _, err := s.h.Contact(ctx, c.ID, domain.SetTelegramUser{UserID: p.UserID}); err != nil {
				return c, p, err
			}
			c.UserID = p.UserID
		}
		if linked != c.ID {
			// The person is another contact already (imported twice, or
			// wrote in first): one dialog per person, and that contact's
			// opt-out counts.
			other, err := s.h.LoadContact(ctx, linked)
			if err != nil {
				return c, p, err
			}
			switch err := other.Contactable(); {
			case !other.Exists:
				// A dangling link: a crash came between an import's link
				// and its contact.
				return c, p, fmt.Errorf("%w %s, which was never recorded (%w)", ErrOtherContact, linked, err)
			case err != nil:
				return c, p, fmt.Errorf("the person is also contact %s: %w", linked, err)
			}
			return c, p, fmt.Errorf("%w %s", ErrOtherContact, linked)
		}
		return c, p, nil
	}
	p, err := conn.Resolve(ctx, req.Username)
	if err != nil {
		return domain.Contact{}, p, s.resolveError(req.Username, err)
	}
	c, err := s.contactFor(ctx, p, req.Source, req.Basis, req.Note)
	return c, p, err
}

func (s *Service) resolveError(username string, err error) error {
	if f := telegram.Classify(err); f.Kind == telegram.KindUnreachable {
		// The username stays out of the error: errors are logged, and the
		// caller knows whom it asked for.
		return fmt.Errorf("%w (%s)", ErrUnknownUsername, f.Reason)
	}
	return err
}

// claim reserves a contact for a start unless it has an open dialog or
// another start is under way; release ends the claim.
func (s *Service) claim(contact uuid.UUID) (release func(), open int64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, busy := s.openBy[contact]; busy {
		return nil, n, false
	}
	if s.starting[contact] {
		return nil, 0, false
	}
	s.starting[contact] = true
	return func() {
		s.mu.Lock()
		delete(s.starting, contact)
		s.mu.Unlock()
	}, 0, true
}
