package domain

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The dialog indexes as a table: given streams, when dialogs start (or
// are indexed), then what a lookup by number and by contact finds.
func TestDialogIndexes(t *testing.T) {
	d1, d2, d3 := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000d1"), uuid.MustParse("0193a0c0-0000-7000-8000-0000000000d2"),
		uuid.MustParse("0193a0c0-0000-7000-8000-0000000000d3")
	other := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000c9")
	acc := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000a1")
	start := func(d uuid.UUID, n int64, c Contact) func(context.Context, Handlers) error {
		return func(ctx context.Context, h Handlers) error {
			_, err := h.Dialog(ctx, d, c.ID, StartDialog{DialogID: d, N: n, Contact: c, AccountID: acc, By: "ai"})
			return err
		}
	}
	index := func(d uuid.UUID, n int64, c uuid.UUID) func(context.Context, Handlers) error {
		return func(ctx context.Context, h Handlers) error {
			return h.IndexDialog(ctx, DialogIndexed{DialogID: d, ContactID: c, N: n})
		}
	}
	otherContact := contact(false, false)
	otherContact.ID = other
	for _, c := range []struct {
		name      string
		given     map[string][]Event // streams as an older log left them
		when      []func(context.Context, Handlers) error
		byNumber  map[int64]uuid.UUID // uuid.Nil: not found
		byContact map[uuid.UUID][]uuid.UUID
	}{
		{name: "a started dialog is found by number and contact",
			when:      []func(context.Context, Handlers) error{start(d1, 1, contact(false, false)), start(d2, 2, otherContact), start(d3, 3, contact(false, false))},
			byNumber:  map[int64]uuid.UUID{1: d1, 2: d2, 3: d3, 4: uuid.Nil},
			byContact: map[uuid.UUID][]uuid.UUID{contactID: {d1, d3}, other: {d2}, acc: nil}},
		{name: "a start the decider refuses is indexed too; readers load the dialog",
			when:      []func(context.Context, Handlers) error{start(d1, 1, contact(false, false)), start(d1, 1, contact(false, false))},
			byNumber:  map[int64]uuid.UUID{1: d1},
			byContact: map[uuid.UUID][]uuid.UUID{contactID: {d1}}},
		{name: "an opted-out contact's start is refused before the index",
			when:      []func(context.Context, Handlers) error{start(d1, 1, contact(true, false))},
			byNumber:  map[int64]uuid.UUID{1: uuid.Nil},
			byContact: map[uuid.UUID][]uuid.UUID{contactID: nil}},
		{name: "a number's first dialog wins",
			when:      []func(context.Context, Handlers) error{index(d1, 1, contactID), index(d2, 1, other), index(d1, 1, contactID)},
			byNumber:  map[int64]uuid.UUID{1: d1},
			byContact: map[uuid.UUID][]uuid.UUID{contactID: {d1}, other: {d2}}},
		{name: "an older log: numbers from the numbering stream",
			given:     map[string][]Event{DialogNumberStream: {DialogNumbered{DialogID: d1, N: 1}, DialogNumbered{DialogID: d2, N: 2}}},
			when:      []func(context.Context, Handlers) error{index(d3, 3, contactID)},
			byNumber:  map[int64]uuid.UUID{1: d1, 2: d2, 3: d3, 0: uuid.Nil, -1: uuid.Nil},
			byContact: map[uuid.UUID][]uuid.UUID{contactID: {d3}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			log := &memLog{streams: map[string][]Event{}}
			for s, evs := range c.given {
				log.streams[s] = evs
			}
			h := Handlers{Log: log, Now: func() time.Time { return now }}
			for i, f := range c.when {
				var de *Error
				if err := f(ctx, h); err != nil && !errors.As(err, &de) {
					t.Fatalf("step %d: %v", i+1, err)
				}
			}
			for n, want := range c.byNumber {
				got, found, err := h.DialogOfNumber(ctx, n)
				if err != nil || found != (want != uuid.Nil) || got != want {
					t.Errorf("dialog %d: %v, %v, %v; want %v", n, got, found, err, want)
				}
			}
			for contact, want := range c.byContact {
				got, err := h.DialogsOfContact(ctx, contact)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("dialogs of %v: %v, %v; want %v", contact, got, err, want)
				}
			}
		})
	}
	if err := (Handlers{Log: &memLog{}}).IndexDialog(context.Background(), DialogIndexed{DialogID: d1, N: 1}); ErrorCode(err) != EINVALID {
		t.Fatalf("an index without a contact: %v", err)
	}
}
