package contacts

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
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
