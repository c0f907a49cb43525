package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/google/uuid"
)

// Dialogs are found by number (an auditor's 'replay dialog N') and by
// contact (an opt-out or an erasure ends the contact's open dialogs)
// through plain index streams: a dialog number and a contact id are no
// personal data. Handlers.Dialog writes both before a dialog starts (as
// contact links are written before the contact), so an index may name a
// dialog whose start failed: readers load the dialog and pass over one
// that does not exist. Dialogs started before the indexes existed are
// indexed by the application (contacts.Reindex) with IndexDialog.

// DialogNumberIndexStream is the index stream of dialog number n: its
// first DialogIndexed names the dialog.
func DialogNumberIndexStream(n int64) string { return "dialogno-" + strconv.FormatInt(n, 10) }

// ContactDialogsStream is the index stream of a contact's dialogs: one
// DialogIndexed per dialog started with the contact.
func ContactDialogsStream(contact uuid.UUID) string { return "cdialogs-" + contact.String() }

// DialogIndexed records a dialog in an index stream.
type DialogIndexed struct {
	DialogID  uuid.UUID `json:"dialog_id"`
	ContactID uuid.UUID `json:"contact_id"`
	N         int64     `json:"n"`
}

func (DialogIndexed) EventType() string { return "DialogIndexed" }

// IndexDialog records a dialog in the index streams of its number and of
// its contact where it is not yet. A number indexed for another dialog
// already stays so (the first writer wins; numbers come from
// NextDialogNumber, so that takes a bug or a hand-made log).
func (h Handlers) IndexDialog(ctx context.Context, d DialogIndexed) error {
	if d.DialogID == uuid.Nil || d.ContactID == uuid.Nil || d.N <= 0 {
		return errorf(EINVALID, "a dialog index needs a dialog, its contact and its number")
	}
	if v, err := h.Log.Version(ctx, DialogNumberIndexStream(d.N)); err != nil {
		return fmt.Errorf("index dialog %d: %w", d.N, err)
	} else if v == 0 {
		err := h.Log.Append(ctx, DialogNumberIndexStream(d.N), 0, "", []Event{d})
		if err != nil && !errors.Is(err, ErrConflict) { // a conflict: indexed meanwhile
			return fmt.Errorf("index dialog %d: %w", d.N, err)
		}
	}
	stream := ContactDialogsStream(d.ContactID)
	for attempt := 0; ; attempt++ {
		evs, v, err := h.Log.Load(ctx, stream)
		if err != nil {
			return fmt.Errorf("index dialog %d of contact %s: %w", d.N, d.ContactID, err)
		}
		if slices.ContainsFunc(evs, func(e Event) bool { x, ok := e.(DialogIndexed); return ok && x.DialogID == d.DialogID }) {
			return nil
		}
		err = h.Log.Append(ctx, stream, v, "", []Event{d})
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= h.retries() {
			return fmt.Errorf("index dialog %d of contact %s: %w", d.N, d.ContactID, err)
		}
	}
}

// DialogOfNumber returns the dialog numbered n: the one its index stream
// names, else (a log whose older dialogs are not indexed yet) the one
// the numbering stream allocated n to. The dialog may not exist (its
// start failed after the number was allocated): load it to know.
func (h Handlers) DialogOfNumber(ctx context.Context, n int64) (uuid.UUID, bool, error) {
	if n <= 0 {
		return uuid.Nil, false, nil
	}
	evs, _, err := h.Log.Load(ctx, DialogNumberIndexStream(n))
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("find dialog %d: %w", n, err)
	}
	for _, e := range evs {
		if d, ok := e.(DialogIndexed); ok {
			return d.DialogID, true, nil
		}
	}
	// The numbering stream's version n allocated number n.
	evs, _, err = h.Log.LoadFrom(ctx, DialogNumberStream, uint64(n))
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("find dialog %d: %w", n, err)
	}
	if len(evs) > 0 {
		if d, ok := evs[0].(DialogNumbered); ok && d.N == n {
			return d.DialogID, true, nil
		}
	}
	return uuid.Nil, false, nil
}

// DialogsOfContact returns the dialogs indexed for a contact, in the
// order they were indexed. A dialog whose start failed may be among
// them: load each to know.
func (h Handlers) DialogsOfContact(ctx context.Context, contact uuid.UUID) ([]uuid.UUID, error) {
	evs, _, err := h.Log.Load(ctx, ContactDialogsStream(contact))
	if err != nil {
		return nil, fmt.Errorf("find the dialogs of contact %s: %w", contact, err)
	}
	var out []uuid.UUID
	for _, e := range evs {
		if d, ok := e.(DialogIndexed); ok && !slices.Contains(out, d.DialogID) {
			out = append(out, d.DialogID)
		}
	}
	return out, nil
}
