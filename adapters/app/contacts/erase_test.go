package contacts_test

import (
	"context"
	"errors"
	"testing"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/eventstore"
)

func TestParsePerson(t *testing.T) {
	for _, c := range []struct {
		in   string
		want contacts.Person
		bad  bool
	}{
		{"@Anna_K", contacts.Person{Username: "Anna_K"}, false},
		{"https://t.me/anna_k", contacts.Person{Username: "anna_k"}, false},
		{"501", contacts.Person{UserID: 501}, false},
		{"+49 151 1234567", contacts.Person{Phone: "+491511234567"}, false},
		{"", contacts.Person{}, true},
		{"0", contacts.Person{}, true},
		{"+12", contacts.Person{}, true},
		{"@ab", contacts.Person{}, true},
	} {
		got, err := contacts.ParsePerson(c.in)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("ParsePerson(%q) = %+v, %v; want %+v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
}

// ForgetPerson erases each contact the person is (twins included) and
// ends their dialogs; someone who is no contact is ErrNotFound.
func TestForgetPerson(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	byID, byName := w.twins()
	open := w.dialog(byName, 1)
	store := w.store.(*eventstore.MemoryStore)
	erased, err := contacts.ForgetPerson(ctx, w.h, store, contacts.Person{Username: "anna_k"}, "cli", contacts.DialogsOf(w.h))
	if err != nil || len(erased) != 1 || erased[0] != byName.ID {
		t.Fatalf("forget @anna_k: %v %v; want contact %s", erased, err, byName.ID)
	}
	if c, _ := w.h.LoadContact(ctx, byID.ID); !c.Forgotten {
		t.Fatal("the twin by user id is not erased")
	}
	if d, _ := w.h.LoadDialog(ctx, open); d.Outcome == "" {
		t.Fatalf("the erased person's dialog goes on: %+v", d)
	}
	if _, err := contacts.ForgetPerson(ctx, w.h, store, contacts.Person{Username: "nobody_here"}, "cli", nil); !errors.Is(err, contacts.ErrNotFound) {
		t.Fatalf("forget someone unknown: %v", err)
	}
}
