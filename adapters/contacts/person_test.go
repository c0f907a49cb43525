package contacts_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/contacts"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

var inbound = domain.AddContact{Source: domain.SourceInbound, Basis: domain.BasisLegitimateInterest, Note: "wrote in"}

func TestRecord(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// Imported by username; later the person writes in with their user id.
	if _, err := w.apply("username,name\nanna_k,Anna\n", contacts.Options{}); err != nil {
		t.Fatal(err)
	}
	imported := w.contact("anna_k")
	c, err := contacts.Record(ctx, w.h, contacts.Person{UserID: 501, Username: "Anna_K", Name: "Anna K."}, inbound)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != imported.ID || c.UserID != 501 || c.Source != domain.SourceImport {
		t.Fatalf("the person who wrote in is not the imported contact: %+v", c)
	}
	if id, found, _ := w.h.ContactOfUser(ctx, 501); !found || id != c.ID {
		t.Fatal("the user id was not linked")
	}
	// The username passes to another Telegram user: someone else.
	other, err := contacts.Record(ctx, w.h, contacts.Person{UserID: 502, Username: "anna_k", Name: "New Anna"}, inbound)
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == c.ID || other.Source != domain.SourceInbound || other.Name != "New Anna" {
		t.Fatalf("another user took over the contact: %+v", other)
	}
	// Recording the same person again finds them.
	again, err := contacts.Record(ctx, w.h, contacts.Person{UserID: 502}, inbound)
	if err != nil || again.ID != other.ID {
		t.Fatalf("again: %+v %v", again, err)
	}
	if _, err := contacts.Record(ctx, w.h, contacts.Person{Name: "nobody"}, inbound); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("a person without identity: %v", err)
	}
}

// dialog starts dialog n for a contact.
func (w *world) dialog(c domain.Contact, n int64) uuid.UUID {
	w.t.Helper()
	id := uuid.New()
	if _, err := w.h.Dialog(context.Background(), id, c.ID, domain.StartDialog{DialogID: id, N: n, Contact: c, AccountID: uuid.New(), By: "ai"}); err != nil {
		w.t.Fatal(err)
	}
	return id
}

func TestOptOut(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.apply("username,user_id\nanna_k,\n", contacts.Options{}); err != nil {
		t.Fatal(err)
	}
	anna := w.contact("anna_k")
	open, closed := w.dialog(anna, 1), w.dialog(anna, 2)
	if _, err := w.h.Dialog(ctx, closed, anna.ID, domain.CloseDialog{Outcome: domain.OutcomeWon, By: "admin:1"}); err != nil {
		t.Fatal(err)
	}
	dialogs := func(_ context.Context, contact uuid.UUID) ([]uuid.UUID, error) {
		if contact != anna.ID {
			return nil, nil
		}
		return []uuid.UUID{open, closed}, nil
	}
	id, ended, err := contacts.OptOut(ctx, w.h, contacts.Person{Username: "ANNA_K"}, "cli", "asked by phone", dialogs)
	if err != nil || id != anna.ID || len(ended) != 1 || ended[0] != 1 {
		t.Fatalf("opt out: %s %v %v", id, ended, err)
	}
	if c, _ := w.h.LoadContact(ctx, anna.ID); !c.OptedOut {
		t.Fatal("not opted out")
	}
	if d, _ := w.h.LoadDialog(ctx, open); d.Stage != domain.StageClosed || d.Outcome != domain.OutcomeOptedOut {
		t.Fatalf("the open dialog goes on: %+v", d)
	}
	if d, _ := w.h.LoadDialog(ctx, closed); d.Outcome != domain.OutcomeWon {
		t.Fatalf("a closed dialog was changed: %+v", d)
	}
	// Someone never seen: a contact with just the username, opted out.
	id, _, err = contacts.OptOut(ctx, w.h, contacts.Person{Username: "never_met"}, "cli", "", dialogs)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := w.h.LoadContact(ctx, id)
	if !c.OptedOut || c.Source != domain.SourceManual || c.Username != "never_met" {
		t.Fatalf("new opted-out contact %+v", c)
	}
	// Twice is fine.
	if again, _, err := contacts.OptOut(ctx, w.h, contacts.Person{Username: "never_met"}, "cli", "", dialogs); err != nil || again != id {
		t.Fatalf("again: %s %v", again, err)
	}
}

func TestForget(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.apply("username,phone,name,company\nanna_k,+4915112345678,Anna,Acme\n", contacts.Options{}); err != nil {
		t.Fatal(err)
	}
	anna := w.contact("anna_k")
	open := w.dialog(anna, 1)
	list := func(context.Context, uuid.UUID) ([]uuid.UUID, error) { return []uuid.UUID{open}, nil }
	if err := contacts.Forget(ctx, w.h, w.store, anna.ID, "cli", list); err != nil {
		t.Fatal(err)
	}
	if d, _ := w.h.LoadDialog(ctx, open); d.Stage != domain.StageClosed {
		t.Fatal("the dialog of an erased contact goes on")
	}
	// Read back from the log (no cache): personal data is gone.
	recs, err := w.store.ReadStream(ctx, domain.ContactStream(anna.ID), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !recs[0].Forgotten || recs[0].Personal["username"] != eventstore.ForgottenMarker || recs[0].Personal["fields.0.value"] != eventstore.ForgottenMarker {
		t.Fatalf("the contact's key is not gone: %+v", recs[0].Personal)
	}
	c, _ := w.h.LoadContact(ctx, anna.ID)
	if !c.Forgotten || !c.OptedOut || c.Fields != nil || c.Name != "" {
		t.Fatalf("forgotten contact %+v", c)
	}
	// The hashes stay: the person is still found, on the list.
	if id, found, _ := w.h.ContactOfPhone(ctx, "+4915112345678"); !found || id != anna.ID {
		t.Fatal("the phone index was erased")
	}
	if err := contacts.Forget(ctx, w.h, w.store, anna.ID, "cli", list); err != nil {
		t.Fatalf("forget twice: %v", err)
	}
	if err := contacts.Forget(ctx, w.h, w.store, uuid.New(), "cli", nil); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("forget nobody: %v", err)
	}
}

// Contacts recorded without the username and phone indexes (before they
// existed) are indexed, so an import does not bring an opted-out one back.
func TestReindex(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	old := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000c1")
	other := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000c2")
	for _, cmd := range []domain.ContactCommand{
		domain.AddContact{ContactID: old, Source: domain.SourceInbound, Basis: domain.BasisLegitimateInterest, Username: "anna_k", Phone: "+4915112345678"},
		domain.OptOutContact{Reason: "stop", By: "lead"},
		domain.SetTelegramUser{UserID: 501},
	} {
		if _, err := w.h.Contact(ctx, old, cmd); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.h.Contact(ctx, other, domain.AddContact{ContactID: other, Source: domain.SourceInbound, Basis: domain.BasisConsent, Username: "boris_b"}); err != nil {
		t.Fatal(err)
	}
	store := w.store.(*eventstore.MemoryStore)
	if n, err := contacts.Reindex(ctx, store, w.h); err != nil || n != 4 {
		t.Fatalf("reindex: %d links, %v; want 4", n, err)
	}
	if n, err := contacts.Reindex(ctx, store, w.h); err != nil || n != 0 {
		t.Fatalf("reindex again: %d links, %v; want 0", n, err)
	}
	if id, found, _ := w.h.ContactOfUser(ctx, 501); !found || id != old {
		t.Fatal("the user id was not indexed")
	}
	rep, err := w.apply("username,phone\nanna_k,\n,+4915112345678\nboris_b,\n", contacts.Options{})
	if err != nil || rep.OptedOut != 2 || rep.Merged != 1 || rep.Accepted != 0 {
		t.Fatalf("import after reindex: %+v %v", rep, err)
	}
}
