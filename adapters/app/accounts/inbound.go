package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// inbound records one private message on account a. It is idempotent: the
// same message delivered twice is recorded once (by Telegram message id),
// and every step can be repeated after a crash half-way.
//
// Only failures that may pass (the store) are returned, so the message is
// fetched again; a message that can never be recorded (its contact was
// erased, the rules refuse it) is logged and skipped, or it would hold up
// every later message of the account.
func (s *Service) inbound(ctx context.Context, a *account, m telegram.Message) error {
	err := s.route(ctx, a, m)
	if err != nil && permanent(err) {
		s.log.Warn("accounts: message not recorded", "account", a.id, "message", m.ID, "err", err)
		return nil
	}
	return err
}

// permanent says whether an error would repeat on every retry.
func permanent(err error) bool {
	return errors.Is(err, eventstore.ErrForgotten) || errors.Is(err, eventstore.ErrInvalidEvent) || domain.ErrorCode(err) != ""
}

func (s *Service) route(ctx context.Context, a *account, m telegram.Message) error {
	link, found, err := s.dialogOfPeer(ctx, a.id, m.Peer.UserID)
	if err != nil {
		return err
	}
	if m.Out {
		if !found {
			s.log.Info("accounts: a message from the account to someone without a dialog; not recorded", "account", a.id, "message", m.ID)
			return nil
		}
		return s.outgoing(ctx, a, link, m)
	}
	var cmd *domain.RecordInbound
	record := func() ([]domain.Event, error) {
		if cmd == nil { // once: a voice note is transcribed once per delivery
			c := s.inboundOf(ctx, link, found, m)
			cmd = &c
		}
		return s.handlersOf(a).Dialog(ctx, link.DialogID, link.ContactID, *cmd)
	}
	var evs []domain.Event
	if found {
		evs, err = record()
	}
	if !found || domain.ErrorCode(err) == domain.EINVALID { // no dialog yet (or a crash left only the link)
		var ok bool
		if link, ok, err = s.openInbound(ctx, a, m, found, link); err != nil || !ok {
			return err
		}
		evs, err = record()
	}
	if err != nil {
		return fmt.Errorf("record message %d in dialog %s: %w", m.ID, link.DialogID, err)
	}
	if len(evs) == 0 {
		return nil // a second delivery
	}
	if s.cfg.OnInbound != nil {
		s.cfg.OnInbound(link.DialogID, m)
	}
	if err := s.markRead(ctx, a, m); err != nil {
		s.log.Warn("accounts: mark read", "account", a.id, "message", m.ID, "err", err)
	}
	return nil
}

func (s *Service) markRead(ctx context.Context, a *account, m telegram.Message) error {
	s.mu.Lock()
	c := a.conn
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.MarkRead(ctx, m.Peer, m.ID)
}

// openInbound opens a dialog for a person who wrote first: their contact
// (found by Telegram user, or created with source "inbound"), a dialog
// number, the link from account and user to the dialog, and the dialog.
// ok is false when the person may not get a dialog (opted out, erased).
func (s *Service) openInbound(ctx context.Context, a *account, m telegram.Message, linked bool, link domain.PeerLinked) (domain.PeerLinked, bool, error) {
	contact, err := s.contactFor(ctx, m.Peer, domain.SourceInbound, s.cfg.InboundBasis, "wrote to account "+a.label)
	if err != nil {
		return link, false, err
	}
	if err := contact.Contactable(); err != nil {
		s.notify(Notice{Kind: "opted-out-wrote", Account: a.id, Label: a.label,
			Text: "a person on the do-not-contact list wrote to this account; salesbot does not answer (" + err.Error() + ")"})
		return link, false, nil
	}
	if !linked {
		version, err := s.h.PeerVersion(ctx, a.id, m.Peer.UserID)
		if err != nil {
			return link, false, err
		}
		link = domain.PeerLinked{AccountID: a.id, DialogID: newID(), ContactID: contact.ID}
		if err := s.linkPeer(ctx, m.Peer.UserID, version, link); err != nil {
			if errors.Is(err, domain.ErrConflict) {
				return link, false, fmt.Errorf("another dialog was linked to user %d meanwhile; retry: %w", m.Peer.UserID, err)
			}
			return link, false, err
		}
	}
	n, err := s.nextNumber(ctx, link.DialogID)
	if err != nil {
		return link, false, err
	}
	_, err = s.h.Dialog(ctx, link.DialogID, contact.ID, domain.StartDialog{
		DialogID: link.DialogID, N: n, Contact: contact, AccountID: a.id, By: "inbound",
	})
	if err != nil && domain.ErrorCode(err) != domain.ESTATE { // ESTATE: started by a first attempt
		return link, false, fmt.Errorf("open inbound dialog %s: %w", link.DialogID, err)
	}
	s.log.Info("accounts: inbound dialog opened", "account", a.id, "dialog", link.DialogID, "n", n)
	return link, true, nil
}

// contactFor finds the contact of a Telegram user (by user id, or by the
// username or phone an import recorded) or adds one with the given source
// and basis (contacts.Record: links first, so two messages at once agree
// on one contact and a crash between the steps is repaired by the next
// attempt).
func (s *Service) contactFor(ctx context.Context, p telegram.Peer, source domain.Source, basis domain.Basis, note string) (domain.Contact, error) {
	c, err := contacts.Record(ctx, s.h, contacts.Person{UserID: p.UserID, Username: p.Username, Name: p.Name},
		domain.AddContact{Source: source, Basis: basis, Note: note})
	if err != nil {
		return domain.Contact{}, fmt.Errorf("contact of user %d: %w", p.UserID, err)
	}
	return c, nil
}

// outgoing records a message from our account that arrived as an update:
// ours (already recorded) or typed by a person in a Telegram app.
func (s *Service) outgoing(ctx context.Context, a *account, link domain.PeerLinked, m telegram.Message) error {
	evs, err := s.handlersOf(a).Dialog(ctx, link.DialogID, link.ContactID, domain.RecordOutgoing{TelegramMessageID: int64(m.ID), Text: m.Text, At: m.Date})
	if err != nil {
		if domain.ErrorCode(err) == domain.EINVALID { // no such dialog: nothing to take over
			return nil
		}
		return fmt.Errorf("record outgoing message %d in dialog %s: %w", m.ID, link.DialogID, err)
	}
	for _, e := range evs {
		if _, ok := e.(domain.DialogTakenOver); ok {
			d, _ := s.h.LoadDialog(ctx, link.DialogID)
			s.notify(Notice{Kind: "takeover", Account: a.id, Label: a.label, Dialog: d.N,
				Text: fmt.Sprintf("dialog %d: a person wrote from the account in a Telegram app; the AI is silent until /release %d", d.N, d.N)})
		}
	}
	return nil
}

func newID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.New()
	}
	return id
}
