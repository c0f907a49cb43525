package domain

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies a domain error; adapters map codes to replies (the admin
// bot) or statuses (an API) in one place.
type Code string

const (
	// EINVALID: the command is malformed (missing or bad field).
	EINVALID Code = "invalid"
	// ESTATE: the command is not allowed in the aggregate's current state
	// (an illegal stage transition, a stopped dialog, a removed account).
	ESTATE Code = "state"
	// EFORBIDDEN: a product rule forbids it (do-not-contact, AI silent after
	// a handoff).
	EFORBIDDEN Code = "forbidden"
	// ELIMIT: a limit forbids it now; Error.RetryAt says when it is allowed.
	ELIMIT Code = "limit"
)

// Error is the one error type of the domain.
type Error struct {
	Code    Code
	Message string
	// Field names the command's field at fault when one is (a path of
	// its JSON names: "name", "schedule.hours", "segment.import"), so an
	// adapter can point at its own input for it (a flag, a form field);
	// "" when the error is about no one field.
	Field string
	// RetryAt is when a command rejected with ELIMIT is allowed again (zero
	// when unknown, e.g. a restricted account).
	RetryAt time.Time
	// Err, if set, is a sentinel of the domain that the error also
	// matches with errors.Is (ErrNoAccount); it adds nothing to the text.
	Err error
}

// ErrNoAccount: PickAccount found accounts, but none can open a dialog
// now (caps, hours, pauses, restrictions, flood waits, connections). The
// *Error it comes with says why for each and, with ELIMIT, when the
// earliest opens again.
var ErrNoAccount = errors.New("domain: no account can open a dialog now")

func (e *Error) Error() string {
	if !e.RetryAt.IsZero() {
		return fmt.Sprintf("%s (allowed again at %s)", e.Message, e.RetryAt.UTC().Format(time.RFC3339))
	}
	return e.Message
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// fieldErrorf is errorf for a command's field.
func fieldErrorf(code Code, field, format string, args ...any) *Error {
	e := errorf(code, format, args...)
	e.Field = field
	return e
}

// ErrorField is the Field of err if it is (or wraps) a *Error, else "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// messageOf is the Message of a *Error, else the error's text.
func messageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// ErrorCode is the code of err if it is (or wraps) a *Error, else "".
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
