package domain

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// StaleError is ErrConflict for a command that expected its stream at a
// version the stream has moved past (Handlers.DialogAt): what the caller
// decided on is no longer what the aggregate is.
type StaleError struct {
	Stream   string
	Expected uint64 // the version the command was decided on
	Version  uint64 // the stream's version now
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("%v: %s is at version %d, not %d", ErrConflict, e.Stream, e.Version, e.Expected)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *StaleError) Is(target error) bool { return target == ErrConflict }

// DialogVersion is dialog id's version: how many events its stream holds
// (0: none, no such dialog).
func (h Handlers) DialogVersion(ctx context.Context, id uuid.UUID) (uint64, error) {
	v, err := h.Log.Version(ctx, DialogStream(id))
	if err != nil {
		return 0, fmt.Errorf("version of %s: %w", DialogStream(id), err)
	}
	return v, nil
}

// DialogAt runs a command on dialog id as Dialog does, but only on the
// dialog at version expected (the version a person saw, e.g. an HTTP
// If-Match): a dialog at another version is a *StaleError, and the
// append expects that very version, so a writer getting there first is
// ErrConflict too; nothing is retried. It takes no StartDialog (Dialog
// does).
func (h Handlers) DialogAt(ctx context.Context, id, contact uuid.UUID, expected uint64, cmd DialogCommand) ([]Event, error) {
	if _, ok := cmd.(StartDialog); ok {
		return nil, errorf(EINVALID, "a dialog is started with Dialog, not DialogAt")
	}
	stream, subject := DialogStream(id), contact.String()
	d, version, err := loadCached(ctx, h.Log, h.Cache, stream, func(Dialog) string { return subject }, EvolveDialog)
	if err != nil {
		return nil, err
	}
	if version != expected {
		return nil, &StaleError{Stream: stream, Expected: expected, Version: version}
	}
	evs, err := DecideDialog(d, cmd, h.Now())
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	if err := h.Log.Append(ctx, stream, version, subject, evs); err != nil {
		h.Cache.drop(stream)
		return nil, fmt.Errorf("append to %s: %w", stream, err)
	}
	for _, e := range evs {
		d = EvolveDialog(d, e)
	}
	h.Cache.put(stream, subject, d, version+uint64(len(evs)))
	return evs, nil
}
