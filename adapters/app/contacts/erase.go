package contacts

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// ParsePerson reads whom a command is about, as a manager types it: a
// @username (or a t.me link or a bare username), a Telegram user id, or a
// +phone.
func ParsePerson(s string) (Person, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Person{}, fmt.Errorf("say whom: @username, a Telegram user id or a +phone")
	case strings.HasPrefix(s, "+"):
		p, ok := domain.NormalizePhone(s)
		if !ok {
			return Person{}, fmt.Errorf("%q is not a phone (+ and 7 to 15 digits)", s)
		}
		return Person{Phone: p}, nil
	case strings.Trim(s, "0123456789") == "":
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return Person{}, fmt.Errorf("%q is not a Telegram user id", s)
		}
		return Person{UserID: id}, nil
	}
	u, ok := domain.NormalizeUsername(s)
	if !ok {
		return Person{}, fmt.Errorf("%q is not a username (5 to 32 letters, digits or _), a user id or a +phone", s)
	}
	return Person{Username: u}, nil
}

// ForgetPerson erases every existing contact the person's identities are
// linked to (Linked), each with Forget, and returns those it erased (also
// when it fails part way). A person who is no contact is an error
// matching ErrNotFound.
func ForgetPerson(ctx context.Context, h domain.Handlers, store Shredder, p Person, by string, open func(context.Context, uuid.UUID) ([]uuid.UUID, error)) ([]uuid.UUID, error) {
	ids, err := Linked(ctx, h, p)
	if err != nil {
		return nil, err
	}
	var erased []uuid.UUID
	for _, id := range ids {
		c, err := h.LoadContact(ctx, id)
		if err != nil {
			return erased, err
		}
		if !c.Exists {
			continue
		}
		if err := Forget(ctx, h, store, id, by, open); err != nil {
			return erased, err
		}
		erased = append(erased, id)
	}
	if len(erased) == 0 {
		return nil, fmt.Errorf("%s is not a contact: %w", p, ErrNotFound)
	}
	return erased, nil
}

// EraseRequest is whom Erase erases, by whom, and the read models it
// brings up to date.
type EraseRequest struct {
	Person Person
	By     string // "cli", "admin:<id>"
	// ReadModels, if set, opens the read models that outlive a restart
	// (PostgreSQL): Erase brings them up to the log's head after the
	// erasure, so the person's rows are blanked at once, then closes
	// them. nil: none (in-memory read models are rebuilt from the log).
	ReadModels func(ctx context.Context) (sink projections.Sink, done func(), err error)
	// Log hears what Refresh did (nil: no one).
	Log *slog.Logger
}

// Erased is what Erase did: the contacts it erased, and whether it
// brought read models up to date.
type Erased struct {
	Contacts   []uuid.UUID
	ReadModels bool
}

// ReadModelsError is Erase's error when the erasure is recorded but the
// read models could not be brought up to date: they hold the person's
// rows until they next catch up with the log.
type ReadModelsError struct{ Err error }

func (e *ReadModelsError) Error() string {
	return "contacts: the erasure is recorded, but the read models still hold the person's rows: " + e.Err.Error()
}

// Unwrap returns Err.
func (e *ReadModelsError) Unwrap() error { return e.Err }

// Erase erases a person on a log no running service keeps (the CLI's):
// it brings the index up to date (Refresh), erases every contact of the
// person (ForgetPerson, their open dialogs ended), then brings
// req.ReadModels up to date (failing with a *ReadModelsError). Erased
// lists the contacts it erased also when it fails part way. A person who
// is no contact is an error matching ErrNotFound.
func Erase(ctx context.Context, store IndexStore, h domain.Handlers, req EraseRequest) (Erased, error) {
	if err := Refresh(ctx, store, h, req.Log); err != nil {
		return Erased{}, err
	}
	var out Erased
	var err error
	if out.Contacts, err = ForgetPerson(ctx, h, store, req.Person, req.By, DialogsOf(h)); err != nil || req.ReadModels == nil {
		return out, err
	}
	sink, done, err := req.ReadModels(ctx)
	if err == nil {
		defer done()
		_, err = projections.Runner{Store: store, Decode: eventlog.New(store).Decode, Sink: sink}.CatchUp(ctx)
	}
	if err != nil {
		return out, &ReadModelsError{Err: err}
	}
	out.ReadModels = true
	return out, nil
}
