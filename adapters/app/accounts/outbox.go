package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/clock"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/domain"
)

// send delivers account a's planned messages in plan order, one at a time,
// until ctx ends.
func (s *Service) send(ctx context.Context, a *account) {
	retry := s.cfg.MinBackoff
	for {
		s.mu.Lock()
		conn := a.conn
		var it outItem
		has := len(a.queue) > 0
		if has {
			it = a.queue[0]
		}
		wake := s.wake
		s.mu.Unlock()
		if !has || conn == nil {
			select {
			case <-ctx.Done():
				return
			case <-a.kick:
			case <-wake:
			}
			continue
		}
		wait, err := s.deliver(ctx, a, conn, it)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Warn("accounts: outbound message not sent yet; will retry", "account", a.id, "dialog", it.dialog, "random_id", it.randomID, "in", retry, "err", err)
			wait = jitter(retry)
			retry = min(retry*2, s.cfg.MaxBackoff)
		default:
			retry = s.cfg.MinBackoff
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			case <-a.kick: // the queue or the account changed: look again
				t.Stop()
			}
		}
	}
}

// settle removes an item the sender finished with.
func (s *Service) settle(a *account, it outItem) {
	s.mu.Lock()
	a.remove(it)
	s.mu.Unlock()
}

// deliver tries to send one planned message. It returns how long to wait
// before the next attempt when the account may not send yet (pacing,
// working hours, flood wait, pause), or an error worth a retry with
// backoff. Every outcome Telegram gives becomes an event.
func (s *Service) deliver(ctx context.Context, a *account, conn telegram.Conn, it outItem) (time.Duration, error) {
	d, contact, msg, refuse, err := s.check(ctx, it)
	switch {
	case err != nil:
		return 0, err
	case d.ID == uuid.Nil: // settled meanwhile
		s.settle(a, it)
		return 0, nil
	case refuse != "":
		return 0, s.fail(ctx, a, d, it, refuse)
	}
	s.mu.Lock()
	loc := a.loc
	s.mu.Unlock()
	// Pacing: a message slot on the account (per-minute cap, minimum delay,
	// working hours, pause, flood wait). The opening of a dialog we started
	// is new outreach, which a restricted account may not send: it waits.
	opening := d.Outbound == 0 && d.Inbound == 0
	if _, err := s.handlersOf(a).Account(ctx, a.id, domain.ReserveMessage{DialogID: d.ID, RandomID: it.randomID, Loc: loc, Opening: opening}); err != nil {
		var de *domain.Error
		if errors.As(err, &de) {
			if !de.RetryAt.IsZero() {
				return max(de.RetryAt.Sub(s.cfg.Now()), time.Millisecond), nil
			}
			if de.Code == domain.ESTATE { // paused, restricted or lost: wait for a change
				return time.Minute, nil
			}
		}
		return 0, err
	}
	peer, err := s.peerOf(ctx, conn, contact)
	if err != nil {
		return s.telegramError(ctx, a, d, it, err)
	}
	if contact.UserID == 0 {
		// Found by username: from now on the contact is this user, even
		// if the username passes to someone else.
		if _, err := s.h.Contact(ctx, contact.ID, domain.SetTelegramUser{UserID: peer.UserID}); err != nil {
			return 0, fmt.Errorf("record the Telegram user of contact %s: %w", contact.ID, err)
		}
	}
	if err := conn.Typing(ctx, peer); err != nil {
		s.log.Debug("accounts: typing", "account", a.id, "err", err)
	}
	if clock.Sleep(ctx, s.cfg.TypingDelay(msg.text)) != nil {
		return 0, ctx.Err()
	}
	// The rules once more: an opt-out, a stop or a takeover may have come
	// in while "typing…" showed.
	if d2, _, _, refuse, err := s.check(ctx, it); err != nil || d2.ID == uuid.Nil || refuse != "" {
		if err != nil || d2.ID == uuid.Nil {
			return 0, err
		}
		return 0, s.fail(ctx, a, d2, it, refuse)
	}
	var msgID int
	if f := msg.file; f != nil {
		data := []byte(f.Data)
		if f.Knowledge { // the knowledge base's file: its bytes are not in the log
			var ok bool
			if s.cfg.KnowledgeFile != nil {
				data, ok = s.cfg.KnowledgeFile(f.Name)
			}
			if !ok {
				return 0, s.fail(ctx, a, d, it, "file not in the knowledge base now: "+f.Name)
			}
		}
		msgID, err = conn.SendFile(ctx, peer, it.randomID, msg.text, telegram.File{Name: f.Name, MIME: f.MIME, Data: data})
	} else {
		msgID, err = conn.Send(ctx, peer, it.randomID, msg.text)
	}
	if err != nil {
		return s.telegramError(ctx, a, d, it, err)
	}
	// Telegram has the message: record it even if we are shutting down.
	if _, err := s.handlersOf(a).Dialog(context.WithoutCancel(ctx), d.ID, d.ContactID, domain.MarkSent{RandomID: it.randomID, TelegramMessageID: int64(msgID)}); err != nil {
		return 0, fmt.Errorf("record sent message %d of dialog %d: %w", msgID, d.N, err)
	}
	s.settle(a, it)
	return 0, nil
}

// planned is what a planned message sends: its text (the caption of a
// file) and the file, if it has one.
type planned struct {
	text string
	file *domain.Attachment
}

// check loads a planned message's dialog, contact and content (its text
// and file) and says why it may not be sent now, if it may not: the
// contact opted out, was erased or is unreachable; the dialog is closed; an AI message in a dialog that is
// with a manager (domain.Dialog.SendRefusal: the last words of a turn that
// ended the dialog still go). A zero dialog means the message is settled
// already.
func (s *Service) check(ctx context.Context, it outItem) (d domain.Dialog, c domain.Contact, msg planned, refuse string, err error) {
	if d, err = s.h.LoadDialog(ctx, it.dialog); err != nil {
		return d, c, msg, "", err
	}
	text, pending := d.Pending[it.randomID]
	if !pending {
		return domain.Dialog{}, c, msg, "", nil
	}
	msg.text = text
	if f, ok := d.Files[it.randomID]; ok {
		msg.file = &f
	}
	if c, err = s.h.LoadContact(ctx, d.ContactID); err != nil {
		return d, c, msg, "", err
	}
	by := domain.ActorAI
	if d.AISilent() {
		by = s.authorOf(ctx, it) // only then does the author matter
	}
	return d, c, msg, d.SendRefusal(it.randomID, by, c), nil
}

// authorOf finds who planned a message (the AI or a manager).
func (s *Service) authorOf(ctx context.Context, it outItem) domain.Actor {
	evs, _, err := s.ev.Load(ctx, domain.DialogStream(it.dialog))
	if err != nil {
		return domain.ActorAI // the stricter rule
	}
	for _, e := range evs {
		if p, ok := e.(domain.OutboundPlanned); ok && p.RandomID == it.randomID {
			return p.By
		}
	}
	return domain.ActorAI
}

// peerOf finds the contact's Telegram user as the account sees it.
func (s *Service) peerOf(ctx context.Context, conn telegram.Conn, c domain.Contact) (telegram.Peer, error) {
	if c.UserID != 0 {
		p, found, err := conn.Peer(ctx, c.UserID)
		if err != nil || found {
			return p, err
		}
	}
	if c.Username != "" {
		p, err := conn.Resolve(ctx, c.Username)
		if err != nil {
			return telegram.Peer{}, err
		}
		if c.UserID != 0 && p.UserID != c.UserID {
			// Not naming the username: the text becomes the failed
			// message's reason in the log, in clear.
			return telegram.Peer{}, fmt.Errorf("the contact's username now belongs to another Telegram user: %w", errUsernameMoved)
		}
		return p, nil
	}
	return telegram.Peer{}, errNoPeer
}

var (
	errNoPeer        = errors.New("the account has never seen this contact and has no username to find it by")
	errUsernameMoved = errors.New("username moved")
)

func (s *Service) fail(ctx context.Context, a *account, d domain.Dialog, it outItem, reason string) error {
	if _, err := s.handlersOf(a).Dialog(context.WithoutCancel(ctx), d.ID, d.ContactID, domain.MarkFailed{RandomID: it.randomID, Reason: reason}); err != nil {
		return fmt.Errorf("record failed message of dialog %d: %w", d.N, err)
	}
	s.settle(a, it)
	return nil
}

// telegramError turns a Telegram error on a send into facts and says when
// to try again.
func (s *Service) telegramError(ctx context.Context, a *account, d domain.Dialog, it outItem, err error) (time.Duration, error) {
	if errors.Is(err, errNoPeer) || errors.Is(err, errUsernameMoved) {
		return 0, s.fail(ctx, a, d, it, err.Error())
	}
	f := telegram.Classify(err)
	switch f.Kind {
	case telegram.KindFloodWait:
		until := s.cfg.Now().Add(f.Wait)
		s.record(ctx, a, domain.MarkFloodWait{Until: until})
		if f.Wait >= time.Minute {
			s.notify(Notice{Kind: "account-flood-wait", Account: a.id, Label: a.label, Text: fmt.Sprintf("Telegram asked to wait %s before sending", f.Wait)})
		}
		return f.Wait, nil
	case telegram.KindPeerFlood:
		// The account may not start conversations for now: restrict it (no
		// new dialogs on it until a manager resumes it) and fail this
		// message. Its share is not moved to other accounts.
		s.record(ctx, a, domain.MarkRestricted{Reason: f.Reason})
		s.notify(Notice{Kind: "account-restricted", Account: a.id, Label: a.label, Dialog: d.N,
			Text: "Telegram restricted the account (PEER_FLOOD): new outreach on it is paused until /resume"})
		return 0, s.fail(ctx, a, d, it, f.Reason)
	case telegram.KindUnreachable:
		if err := s.fail(ctx, a, d, it, f.Reason); err != nil {
			return 0, err
		}
		bg := context.WithoutCancel(ctx)
		if _, err := s.h.Contact(bg, d.ContactID, domain.MarkContactUnreachable{Reason: f.Reason}); err != nil {
			return 0, fmt.Errorf("record contact of dialog %d unreachable: %w", d.N, err)
		}
		if _, err := s.h.Dialog(bg, d.ID, d.ContactID, domain.MarkUnreachable{Reason: f.Reason}); err != nil {
			return 0, fmt.Errorf("close dialog %d as unreachable: %w", d.N, err)
		}
		s.notify(Notice{Kind: "unreachable", Account: a.id, Label: a.label, Dialog: d.N, Text: fmt.Sprintf("dialog %d closed: Telegram refused delivery (%s)", d.N, f.Reason)})
		return 0, nil
	case telegram.KindAccountLost:
		// The supervisor sees the same error on the connection and records
		// the loss; the message stays planned for a new session.
		s.record(ctx, a, domain.MarkLost{Reason: f.Reason})
		s.notify(Notice{Kind: "account-lost", Account: a.id, Label: a.label, Text: "Telegram ended the session (" + f.Reason + "); add the account again"})
		s.mu.Lock()
		if a.stop != nil {
			a.stop()
		}
		s.mu.Unlock()
		return 0, nil
	case telegram.KindInvalid:
		return 0, s.fail(ctx, a, d, it, f.Reason)
	}
	return 0, err // transient: retry with backoff
}
