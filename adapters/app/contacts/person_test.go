package contacts_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/contacts"
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
	id, ended, err := contacts.OptOut(ctx, w.h, contacts.OptOutRequest{Person: contacts.Person{Username: "ANNA_K"}, By: "cli", Reason: "asked by phone", Open: dialogs})
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
	id, _, err = contacts.OptOut(ctx, w.h, contacts.OptOutRequest{Person: contacts.Person{Username: "never_met"}, By: "cli", Open: dialogs})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := w.h.LoadContact(ctx, id)
	if !c.OptedOut || c.Source != domain.SourceManual || c.Username != "never_met" {
		t.Fatalf("new opted-out contact %+v", c)
	}
	// Twice is fine.
	if again, _, err := contacts.OptOut(ctx, w.h, contacts.OptOutRequest{Person: contacts.Person{Username: "never_met"}, By: "cli", Open: dialogs}); err != nil || again != id {
		t.Fatalf("again: %s %v", again, err)
	}
}

func TestForget(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.apply("username,phone,name,company\nanna_k,+4915112345678,Anna,Acme\n", contacts.Options{Note: "Anna's referrals"}); err != nil {
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
	if by := w.closedBy(open); by != "erasure" {
		t.Fatalf("the dialog of an erased contact was closed by %q; want erasure", by)
	}
	// Read back from the log (no cache): personal data is gone.
	recs, err := w.store.ReadStream(ctx, domain.ContactStream(anna.ID), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !recs[0].Forgotten || recs[0].Personal["username"] != eventstore.ForgottenMarker || recs[0].Personal["fields.0.value"] != eventstore.ForgottenMarker {
		t.Fatalf("the contact's key is not gone: %+v", recs[0].Personal)
	}
	// The note (free text that may name the person) went with the key.
	if strings.Contains(string(recs[0].Payload), "Anna") || recs[0].Personal["note"] != eventstore.ForgottenMarker {
		t.Fatalf("the note outlives the erasure: payload %s, personal %+v", recs[0].Payload, recs[0].Personal)
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

// A contact recorded before ContactAdded.Note was personal data has the
// note in its payload: it still reads back.
func TestNoteOfAnOldContactStillReads(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := uuid.New()
	payload := `{"contact_id":"` + id.String() + `","source":"manual","basis":"legitimate-interest","note":"started by admin:1: met at the fair"}`
	if _, err := w.store.Append(ctx, domain.ContactStream(id), eventstore.NoStream, eventstore.Event{Type: "ContactAdded", Payload: []byte(payload),
		Subject: id.String(), Personal: map[string]string{"username": "anna_k"}}); err != nil {
		t.Fatal(err)
	}
	evs, _, err := w.h.Log.Load(ctx, domain.ContactStream(id))
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := evs[0].(domain.ContactAdded); !ok || a.Note != "started by admin:1: met at the fair" || a.Username != "anna_k" {
		t.Fatalf("the old event reads %+v", evs[0])
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

// twins records one Telegram user as two contacts, as an import that
// lists them once by user id and once by username does: byID is linked
// from user 501, byName from @anna_k, and byName turned out to be user 501
// when a dialog was started with it.
func (w *world) twins() (byID, byName domain.Contact) {
	w.t.Helper()
	ctx := context.Background()
	if _, err := w.apply("user_id,username\n501,\n,anna_k\n", contacts.Options{}); err != nil {
		w.t.Fatal(err)
	}
	id, found, err := w.h.ContactOfUser(ctx, 501)
	if err != nil || !found {
		w.t.Fatalf("no contact of user 501: %v", err)
	}
	byName = w.contact("anna_k")
	if id == byName.ID {
		w.t.Fatal("the import merged the two rows")
	}
	if _, err := w.h.Contact(ctx, byName.ID, domain.SetTelegramUser{UserID: 501}); err != nil {
		w.t.Fatal(err)
	}
	byID, _ = w.h.LoadContact(ctx, id)
	byName, _ = w.h.LoadContact(ctx, byName.ID)
	return byID, byName
}

func TestTwins(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	byID, byName := w.twins()
	ids, err := contacts.Twins(ctx, w.h, byName.ID)
	if err != nil || len(ids) != 2 || ids[0] != byName.ID || ids[1] != byID.ID {
		t.Fatalf("twins of the username's contact: %v %v; want [%s %s]", ids, err, byName.ID, byID.ID)
	}
	// The username passed to another Telegram user: not a twin.
	other, err := contacts.Record(ctx, w.h, contacts.Person{UserID: 502, Phone: "+4915112345678"}, inbound)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.h.LinkUsername(ctx, "boris_b", other.ID); err != nil {
		t.Fatal(err)
	}
	if ids, err := contacts.Twins(ctx, w.h, other.ID); err != nil || len(ids) != 1 {
		t.Fatalf("twins of a contact alone: %v %v", ids, err)
	}
	if ids, err := contacts.Twins(ctx, w.h, uuid.Nil); err != nil || len(ids) != 1 {
		t.Fatalf("twins of nobody: %v %v", ids, err)
	}
}

func TestOptOutCoversTheTwins(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	byID, byName := w.twins()
	d := w.dialog(byID, 1)
	open := func(_ context.Context, contact uuid.UUID) ([]uuid.UUID, error) {
		if contact == byID.ID {
			return []uuid.UUID{d}, nil
		}
		return nil, nil
	}
	// A manager knows only the username.
	id, ended, err := contacts.OptOut(ctx, w.h, contacts.OptOutRequest{Person: contacts.Person{Username: "anna_k"}, By: "cli", Reason: "asked by phone", Open: open})
	if err != nil || id != byName.ID || len(ended) != 1 || ended[0] != 1 {
		t.Fatalf("opt out: %s %v %v", id, ended, err)
	}
	for _, c := range []domain.Contact{byID, byName} {
		if c, _ := w.h.LoadContact(ctx, c.ID); !c.OptedOut {
			t.Fatalf("contact %s of the same person is not opted out", c.ID)
		}
	}
	if st, _ := w.h.LoadDialog(ctx, d); st.Outcome != domain.OutcomeOptedOut {
		t.Fatalf("the twin's dialog goes on: %+v", st)
	}
	if by := w.closedBy(d); by != "cli" {
		t.Fatalf("the dialog was closed by %q; want cli (not the lead's own opt-out)", by)
	}
}

// closedBy is the By of a dialog's DialogClosed.
func (w *world) closedBy(dialog uuid.UUID) string {
	w.t.Helper()
	evs, _, err := w.h.Log.Load(context.Background(), domain.DialogStream(dialog))
	if err != nil {
		w.t.Fatal(err)
	}
	for _, e := range evs {
		if c, ok := e.(domain.DialogClosed); ok {
			return c.By
		}
	}
	return ""
}

func TestForgetCoversTheTwins(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	byID, byName := w.twins()
	if err := contacts.Forget(ctx, w.h, w.store, byName.ID, "cli", nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []domain.Contact{byID, byName} {
		if c, _ := w.h.LoadContact(ctx, c.ID); !c.Forgotten || !c.OptedOut {
			t.Fatalf("contact %s of the same person is not erased: %+v", c.ID, c)
		}
		recs, err := w.store.ReadStream(ctx, domain.ContactStream(c.ID), 1)
		if err != nil || !recs[0].Forgotten {
			t.Fatalf("the key of contact %s is still there: %v", c.ID, err)
		}
	}
}

// Recording an erasure deletes the key in the same write, so no crash
// can come between them. A log written before that may hold an erasure
// whose key a crash left: RepairErasures deletes it, once.
func TestRepairErasures(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.apply("username,name\nanna_k,Anna\nboris_b,Boris\n", contacts.Options{}); err != nil {
		t.Fatal(err)
	}
	anna, boris := w.contact("anna_k"), w.contact("boris_b")
	keyGone := func(id uuid.UUID) bool {
		recs, err := w.store.ReadStream(ctx, domain.ContactStream(id), 1)
		if err != nil {
			t.Fatal(err)
		}
		return recs[0].Forgotten && recs[0].Personal["username"] == eventstore.ForgottenMarker
	}
	if _, err := w.h.Contact(ctx, boris.ID, domain.ForgetContact{By: "cli"}); err != nil {
		t.Fatal(err)
	}
	if !keyGone(boris.ID) {
		t.Fatal("recording the erasure left the key")
	}
	// An old log's crash: the erasure recorded (without the erasure mark
	// of today's events), the key not deleted.
	v, err := w.store.StreamVersion(ctx, domain.ContactStream(anna.ID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.Append(ctx, domain.ContactStream(anna.ID), eventstore.Exact(v),
		eventstore.Event{Type: (domain.ContactForgotten{}).EventType(), Payload: []byte(`{"by":"cli"}`)}); err != nil {
		t.Fatal(err)
	}
	if keyGone(anna.ID) {
		t.Fatal("the key is gone before the repair")
	}
	store := w.store.(*eventstore.MemoryStore)
	if n, err := contacts.RepairErasures(ctx, store); err != nil || n != 1 {
		t.Fatalf("repair: %d keys deleted, %v; want 1", n, err)
	}
	if !keyGone(anna.ID) || !keyGone(boris.ID) {
		t.Fatal("a key of an erased contact is still there")
	}
	if n, err := contacts.RepairErasures(ctx, store); err != nil || n != 0 {
		t.Fatalf("repair again: %d keys deleted, %v; want 0", n, err)
	}
	// Forgetting a subject forgotten already changes nothing.
	if err := store.Forget(ctx, anna.ID.String()); err != nil || !keyGone(anna.ID) {
		t.Fatalf("forget again: %v", err)
	}
}

// A log made before the index was keyed links its people under unkeyed
// names. A person erased then stays on the do-not-contact list: an import
// skips them, a message from them finds their erased contact, and nothing
// new is linked next to the old links.
func TestErasedInAnOldLogStaysOnTheList(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	old := uuid.New()
	if _, err := w.h.Contact(ctx, old, domain.AddContact{ContactID: old, Source: domain.SourceImport, Basis: domain.BasisConsent,
		UserID: 501, Username: "anna_k", Phone: "+4915112345678", Name: "Anna"}); err != nil {
		t.Fatal(err)
	}
	for stream, ev := range map[string]domain.Event{
		domain.LegacyUserStream(501):               domain.UserLinked{ContactID: old},
		domain.LegacyUsernameStream("anna_k"):      domain.UsernameLinked{ContactID: old},
		domain.LegacyPhoneStream("+4915112345678"): domain.PhoneLinked{ContactID: old},
	} {
		if err := w.h.Log.Append(ctx, stream, 0, "", []domain.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	if err := contacts.Forget(ctx, w.h, w.store, old, "cli", nil); err != nil {
		t.Fatal(err)
	}
	rep, err := w.apply("username,phone,user_id\nanna_k,,\n,+49 151 1234 5678,\n,,501\nboris_b,,\n", contacts.Options{})
	if err != nil || rep.Erased != 3 || rep.Accepted != 1 {
		t.Fatalf("import: %+v %v; want the 3 rows of the erased person skipped", rep, err)
	}
	c, err := contacts.Record(ctx, w.h, contacts.Person{UserID: 501, Username: "anna_k"}, inbound)
	if err != nil || c.ID != old || c.Contactable() == nil {
		t.Fatalf("a message from the erased person: %+v %v", c, err)
	}
	if n, err := contacts.Reindex(ctx, w.store.(*eventstore.MemoryStore), w.h); err != nil || n != 0 {
		t.Fatalf("reindex: %d links, %v; want none (boris is linked, anna under the old names)", n, err)
	}
	for _, s := range []string{w.h.Index.UserStream(501), w.h.Index.UsernameStream("anna_k"), w.h.Index.PhoneStream("+4915112345678")} {
		if v, err := w.h.Log.Version(ctx, s); err != nil || v != 0 {
			t.Fatalf("a keyed link %s was written next to the old one: %d %v", s, v, err)
		}
	}
}

// The dialog engine's way in: a lead's "stop" names a contact of the
// person (the dialog's). Every contact of the person goes on the list,
// the lead's own by the lead; with no Open the dialogs are left to the
// dialog engine (it ends them with By "do-not-contact").
func TestOptOutFromAContact(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	byID, byName := w.twins()
	d := w.dialog(byID, 1)
	id, ended, err := contacts.OptOut(ctx, w.h, contacts.OptOutRequest{Contact: byName.ID, By: domain.OptOutByLead, Reason: "stop"})
	if err != nil || id != byName.ID || len(ended) != 0 {
		t.Fatalf("opt out: %s %v %v", id, ended, err)
	}
	for _, c := range []domain.Contact{byID, byName} {
		c, err := w.h.LoadContact(ctx, c.ID)
		if err != nil || !c.OptedOut {
			t.Fatalf("contact %s of the same person: %+v, %v; want on the list", c.ID, c, err)
		}
	}
	if st, err := w.h.LoadDialog(ctx, d); err != nil || st.Stage == domain.StageClosed {
		t.Fatalf("dialog %+v, %v: want it left to the dialog engine", st, err)
	}
	// A contact that does not exist is an error, not a new contact.
	if _, _, err := contacts.OptOut(ctx, w.h, contacts.OptOutRequest{Contact: uuid.New(), By: "lead"}); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("unknown contact: %v; want EINVALID", err)
	}
}

// Once begun, an opt-out finishes: a caller whose context ends (a bot
// shutting down, a CLI interrupted) never leaves the person half on the
// list.
func TestOptOutFinishesWhenTheCallerGoes(t *testing.T) {
	w := newWorld(t)
	byID, byName := w.twins()
	d := w.dialog(byID, 1)
	ctx, cancel := context.WithCancel(context.Background())
	open := func(ctx context.Context, contact uuid.UUID) ([]uuid.UUID, error) {
		cancel() // the caller goes while the list is written
		if contact == byID.ID {
			return []uuid.UUID{d}, nil
		}
		return nil, nil
	}
	if _, _, err := contacts.OptOut(ctx, w.h, contacts.OptOutRequest{Person: contacts.Person{Username: "anna_k"}, By: "cli", Open: open}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []domain.Contact{byID, byName} {
		c, err := w.h.LoadContact(context.Background(), c.ID)
		if err != nil || !c.OptedOut {
			t.Fatalf("contact %s: %+v, %v; want on the list", c.ID, c, err)
		}
	}
	if st, err := w.h.LoadDialog(context.Background(), d); err != nil || st.Outcome != domain.OutcomeOptedOut {
		t.Fatalf("dialog %+v, %v: want ended", st, err)
	}
}

// DialogsOf finds a contact's dialogs through the index streams: those
// started since the index exists at once, those of an older log once
// Reindex has indexed them; OptOut then ends them all.
func TestDialogsOfAnOlderLog(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.apply("username\nanna_k\nboris_b\n", contacts.Options{}); err != nil {
		t.Fatal(err)
	}
	anna, boris := w.contact("anna_k"), w.contact("boris_b")
	indexed := w.dialog(anna, 1)
	// Dialog 2 as a log written before the index: started, never indexed.
	old := uuid.New()
	if err := w.h.Log.Append(ctx, domain.DialogStream(old), 0, anna.ID.String(), []domain.Event{
		domain.DialogStarted{DialogID: old, N: 2, ContactID: anna.ID, AccountID: uuid.New(), By: "ai"}}); err != nil {
		t.Fatal(err)
	}
	w.dialog(boris, 3)
	of := contacts.DialogsOf(w.h)
	if got, err := of(ctx, anna.ID); err != nil || len(got) != 1 || got[0] != indexed {
		t.Fatalf("before reindexing: %v %v; want only the indexed dialog", got, err)
	}
	store := w.store.(*eventstore.MemoryStore)
	if n, err := contacts.Reindex(ctx, store, w.h); err != nil || n != 3 {
		t.Fatalf("reindex: %d, %v; want the 3 dialogs", n, err)
	}
	if got, err := of(ctx, anna.ID); err != nil || len(got) != 2 || got[0] != indexed || got[1] != old {
		t.Fatalf("after reindexing: %v %v; want both of anna's dialogs", got, err)
	}
	if id, found, err := w.h.DialogOfNumber(ctx, 2); err != nil || !found || id != old {
		t.Fatalf("dialog 2 by number: %v %v %v", id, found, err)
	}
	_, ended, err := contacts.OptOut(ctx, w.h, contacts.OptOutRequest{Person: contacts.Person{Username: "anna_k"}, By: "cli", Reason: "stop", Open: of})
	if err != nil || len(ended) != 2 {
		t.Fatalf("opt out: ended %v, %v; want dialogs 1 and 2", ended, err)
	}
	if d, _ := w.h.LoadDialog(ctx, old); d.Outcome != domain.OutcomeOptedOut {
		t.Fatalf("the older log's dialog goes on: %+v", d)
	}
}
