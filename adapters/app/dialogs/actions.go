package dialogs

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/domain"
)

// AnyVersion: an action on the dialog at whatever version it is at now.
const AnyVersion uint64 = 0

// MaxReply is the longest reply a manager may send, in characters:
// Telegram's limit for one message.
const MaxReply = 4096

// A manager's actions on a dialog: the admin bot's /stop, /takeover,
// /release and /reply, the API's POST /api/v1/dialogs/{n}/stop, ...
// Each takes the version of the dialog the manager decided on (at, an
// HTTP If-Match) or AnyVersion: a dialog that moved on since is refused
// with an error matching domain.ErrConflict (a *domain.StaleError). Each
// returns ErrUnknownDialog for a number no dialog has, and the state
// machine's refusal as a *domain.Error (ESTATE for a closed dialog, ...).

// Version is dialog n's version: the number of events of its stream,
// which every change raises. Errors: ErrUnknownDialog; the log's.
func (s Service) Version(ctx context.Context, n int64) (uint64, error) {
	id, _, err := s.dialog(ctx, n)
	if err != nil {
		return 0, err
	}
	v, err := s.H.DialogVersion(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("dialog %d: %w", n, err)
	}
	return v, nil
}

// Stop ends dialog n: nothing more is sent in it. changed is false when
// it was closed already.
func (s Service) Stop(ctx context.Context, n int64, at uint64, by string) (changed bool, err error) {
	evs, err := s.do(ctx, n, at, domain.StopDialog{By: by})
	return len(evs) > 0, err
}

// TakeOver gives dialog n to a manager: the AI stays silent in it until
// Release. changed is false when a manager had it already; a closed
// dialog is ESTATE.
func (s Service) TakeOver(ctx context.Context, n int64, at uint64, by string) (changed bool, err error) {
	evs, err := s.do(ctx, n, at, domain.TakeOver{By: by})
	return len(evs) > 0, err
}

// Release hands dialog n back to the AI. A dialog that is not with a
// manager (taken over or handed off), or is closed, is ESTATE.
func (s Service) Release(ctx context.Context, n int64, at uint64, by string) error {
	_, err := s.do(ctx, n, at, domain.Release{By: by})
	return err
}

// Reply plans a manager's message in dialog n; the outbox sends it
// through the dialog's account within the account's pacing. A manager
// who writes has the dialog: it is taken over first (tookOver says it
// was not before), so the AI does not answer next to them until
// Release. Errors also: a *domain.Error with EINVALID and Field "text"
// for an empty text or one over MaxReply characters; ESTATE for a closed
// dialog; EFORBIDDEN for a contact who may not be written to.
func (s Service) Reply(ctx context.Context, n int64, at uint64, by, text string) (tookOver bool, err error) {
	switch c := utf8.RuneCountInString(text); {
	case strings.TrimSpace(text) == "":
		return false, &domain.Error{Code: domain.EINVALID, Field: "text", Message: "a reply needs text"}
	case c > MaxReply:
		return false, &domain.Error{Code: domain.EINVALID, Field: "text", Message: fmt.Sprintf("a reply is at most %d characters (Telegram's limit), not %d", MaxReply, c)}
	}
	id, d, err := s.dialog(ctx, n)
	if err != nil {
		return false, err
	}
	took, err := s.run(ctx, n, id, d.ContactID, at, domain.TakeOver{By: by})
	if err != nil {
		return false, err
	}
	contact, err := s.H.LoadContact(ctx, d.ContactID)
	if err != nil {
		return false, fmt.Errorf("dialog %d: %w", n, err)
	}
	plan := domain.PlanOutbound{RandomID: telegram.RandomID(), Text: text, By: domain.ActorManager, Person: by, Contact: contact}
	if _, err := s.H.Dialog(ctx, id, d.ContactID, plan); err != nil {
		return false, fmt.Errorf("dialog %d: %w", n, err)
	}
	return len(took) > 0, nil
}

// RecordOutcomeAt is RecordOutcome on the dialog at version at.
func (s Service) RecordOutcomeAt(ctx context.Context, n int64, at uint64, cmd domain.RecordOutcome) (changed bool, err error) {
	evs, err := s.do(ctx, n, at, cmd)
	return len(evs) > 0, err
}

// dialog finds dialog n in the log.
func (s Service) dialog(ctx context.Context, n int64) (uuid.UUID, domain.Dialog, error) {
	id, found, err := s.H.DialogOfNumber(ctx, n)
	if err != nil {
		return uuid.Nil, domain.Dialog{}, fmt.Errorf("dialog %d: %w", n, err)
	}
	if !found {
		return uuid.Nil, domain.Dialog{}, fmt.Errorf("dialog %d: %w", n, ErrUnknownDialog)
	}
	d, err := s.H.LoadDialog(ctx, id)
	if err != nil {
		return uuid.Nil, d, fmt.Errorf("dialog %d: %w", n, err)
	}
	if !d.Exists { // its number was allocated, its start failed
		return uuid.Nil, d, fmt.Errorf("dialog %d: %w", n, ErrUnknownDialog)
	}
	return id, d, nil
}

// do runs cmd on dialog n at version at.
func (s Service) do(ctx context.Context, n int64, at uint64, cmd domain.DialogCommand) ([]domain.Event, error) {
	id, d, err := s.dialog(ctx, n)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, n, id, d.ContactID, at, cmd)
}

func (s Service) run(ctx context.Context, n int64, id, contact uuid.UUID, at uint64, cmd domain.DialogCommand) ([]domain.Event, error) {
	var evs []domain.Event
	var err error
	if at == AnyVersion {
		evs, err = s.H.Dialog(ctx, id, contact, cmd)
	} else {
		evs, err = s.H.DialogAt(ctx, id, contact, at, cmd)
	}
	if err != nil {
		return nil, fmt.Errorf("dialog %d: %w", n, err)
	}
	return evs, nil
}
