// Package openertest is the contract suite of campaigns.Opener. Every
// implementation runs it: the accounts service's CampaignOpener on the
// sandbox Telegram, and each test double the scheduler's tests use, so
// that a double cannot drift from what production does.
//
//	func TestOpenerContract(t *testing.T) { openertest.Run(t, newWorld) }
package openertest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/domain"
)

// World is an Opener with the log it records into and the means to set up
// the accounts and contacts it opens dialogs for.
type World struct {
	Opener campaigns.Opener
	// H runs commands on the Opener's log (pausing an account, opting a
	// contact out); H.Now is the Opener's clock.
	H domain.Handlers
	// AddAccount registers an account with limits and returns once the
	// Opener can open dialogs from it (signed in and connected, for a
	// real one).
	AddAccount func(t *testing.T, label string, l domain.Limits) uuid.UUID
	// AddContact records a contact with a username that a Telegram user
	// has (source and lawful basis set), and returns its id.
	AddContact func(t *testing.T, username string) uuid.UUID
}

// Factory makes a new world; it registers its own clean-up.
type Factory func(t *testing.T) World

// Run runs every contract test, each on a world of its own.
func Run(t *testing.T, newWorld Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, World)
	}{
		{"OpensFromTheAccountAsked", testOpens},
		{"NeedsCampaignContactAndAccount", testNeedsIDs},
		{"ContactThatMayNotBeWrittenTo", testContactRefused},
		{"ContactInADialog", testContactInDialog},
		{"AccountAtItsCap", testCap},
		{"AccountOutsideItsHours", testHours},
		{"AccountThatCannotOpen", testAccountRefused},
		{"TheAccountIsAskedFirst", testAccountFirst},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newWorld(t))
		})
	}
}

// allDay are limits that let an account open dialogs at any time.
var allDay = domain.Limits{DailyNewDialogs: 100, TimeZone: "UTC", StartMinute: 0, EndMinute: 24 * 60}

func open(t *testing.T, w World, r campaigns.OpenRequest) (int64, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	return w.Opener.Open(ctx, r)
}

// opened are the dialogs the log has, by number.
func opened(t *testing.T, w World) map[int64]domain.Dialog {
	t.Helper()
	evs, _, err := w.H.Log.Load(t.Context(), domain.DialogNumberStream)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]domain.Dialog{}
	for _, e := range evs {
		num, ok := e.(domain.DialogNumbered)
		if !ok {
			continue
		}
		d, err := w.H.LoadDialog(t.Context(), num.DialogID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Exists {
			out[num.N] = d
		}
	}
	return out
}

// must fails the test on a command's error: must(t)(w.H.Account(...)).
func must(t *testing.T) func([]domain.Event, error) {
	return func(_ []domain.Event, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// refusedByAccount fails unless err is the account's refusal that is not
// a limit: neither ELIMIT nor ErrContact.
func refusedByAccount(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || errors.Is(err, campaigns.ErrContact) || domain.ErrorCode(err) == domain.ELIMIT {
		t.Fatalf("%s: %v; want the account's error, neither ELIMIT nor ErrContact", what, err)
	}
}

// limited fails unless err is an ELIMIT *domain.Error that says when to try
// again (after now), and not the contact's.
func limited(t *testing.T, what string, err error, now time.Time) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.ELIMIT || !de.RetryAt.After(now) || errors.Is(err, campaigns.ErrContact) {
		t.Fatalf("%s: %v; want ELIMIT with a RetryAt after %v", what, err, now)
	}
}

// The dialog opens from r.Account (not a less busy one) and records the
// campaign, the variant and who started it; each dialog gets its number.
func testOpens(t *testing.T, w World) {
	busy := w.AddAccount(t, "sales-1", allDay)
	asked := w.AddAccount(t, "sales-2", allDay)
	c1, c2 := w.AddContact(t, "lead_opens_1"), w.AddContact(t, "lead_opens_2")
	camp := uuid.New()
	n1, err := open(t, w, campaigns.OpenRequest{Campaign: camp, Contact: c1, Account: asked, Variant: "B"})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	n2, err := open(t, w, campaigns.OpenRequest{Campaign: camp, Contact: c2, Account: asked, Variant: "A"})
	if err != nil {
		t.Fatalf("open a second: %v", err)
	}
	ds := opened(t, w)
	if len(ds) != 2 || n1 == n2 {
		t.Fatalf("dialogs %d and %d; the log has %d", n1, n2, len(ds))
	}
	for _, c := range []struct {
		n       int64
		contact uuid.UUID
		variant string
	}{{n1, c1, "B"}, {n2, c2, "A"}} {
		d, ok := ds[c.n]
		if !ok || d.N != c.n || d.AccountID != asked || d.ContactID != c.contact || d.Campaign != camp || d.Variant != c.variant ||
			d.StartedBy != "campaign:"+camp.String() || d.Stage == domain.StageClosed {
			t.Fatalf("dialog %d: %+v (account %s asked, %s not)", c.n, d, asked, busy)
		}
	}
}

// A request without a campaign, a contact or an account is refused (not
// as the contact's fault), and opens nothing.
func testNeedsIDs(t *testing.T, w World) {
	acc := w.AddAccount(t, "sales-1", allDay)
	c := w.AddContact(t, "lead_ids")
	camp := uuid.New()
	for _, r := range []campaigns.OpenRequest{
		{Contact: c, Account: acc},
		{Campaign: camp, Account: acc},
		{Campaign: camp, Contact: c},
	} {
		if _, err := open(t, w, r); err == nil || errors.Is(err, campaigns.ErrContact) {
			t.Errorf("open %+v: %v; want an error that is not ErrContact", r, err)
		}
	}
	if ds := opened(t, w); len(ds) != 0 {
		t.Fatalf("dialogs opened: %v", ds)
	}
}

// A contact that is opted out, erased, unreachable or unknown is
// ErrContact, and gets no dialog.
func testContactRefused(t *testing.T, w World) {
	ctx := t.Context()
	acc := w.AddAccount(t, "sales-1", allDay)
	optedOut, erased, unreachable := w.AddContact(t, "lead_out"), w.AddContact(t, "lead_erased"), w.AddContact(t, "lead_unreachable")
	must(t)(w.H.Contact(ctx, optedOut, domain.OptOutContact{Reason: "stop", By: "lead"}))
	must(t)(w.H.Contact(ctx, erased, domain.ForgetContact{By: "admin:1"}))
	must(t)(w.H.Contact(ctx, unreachable, domain.MarkContactUnreachable{Reason: "USER_PRIVACY_RESTRICTED"}))
	camp := uuid.New()
	for name, c := range map[string]uuid.UUID{"opted out": optedOut, "erased": erased, "unreachable": unreachable, "unknown": uuid.New()} {
		if _, err := open(t, w, campaigns.OpenRequest{Campaign: camp, Contact: c, Account: acc}); !errors.Is(err, campaigns.ErrContact) {
			t.Errorf("%s contact: %v; want ErrContact", name, err)
		}
	}
	if ds := opened(t, w); len(ds) != 0 {
		t.Fatalf("dialogs opened: %v", ds)
	}
}

// A contact whose dialog is open gets no second one, from any account or
// campaign: ErrContact.
func testContactInDialog(t *testing.T, w World) {
	a1, a2 := w.AddAccount(t, "sales-1", allDay), w.AddAccount(t, "sales-2", allDay)
	c := w.AddContact(t, "lead_twice")
	if _, err := open(t, w, campaigns.OpenRequest{Campaign: uuid.New(), Contact: c, Account: a1}); err != nil {
		t.Fatal(err)
	}
	for _, acc := range []uuid.UUID{a1, a2} {
		if _, err := open(t, w, campaigns.OpenRequest{Campaign: uuid.New(), Contact: c, Account: acc}); !errors.Is(err, campaigns.ErrContact) {
			t.Errorf("a second dialog with the contact: %v; want ErrContact", err)
		}
	}
	if ds := opened(t, w); len(ds) != 1 {
		t.Fatalf("%d dialogs opened, want 1", len(ds))
	}
}

// An account at its daily cap is ELIMIT, with when it may open again.
func testCap(t *testing.T, w World) {
	l := allDay
	l.DailyNewDialogs = 1
	acc := w.AddAccount(t, "sales-1", l)
	c1, c2 := w.AddContact(t, "lead_cap_1"), w.AddContact(t, "lead_cap_2")
	camp := uuid.New()
	if _, err := open(t, w, campaigns.OpenRequest{Campaign: camp, Contact: c1, Account: acc}); err != nil {
		t.Fatal(err)
	}
	_, err := open(t, w, campaigns.OpenRequest{Campaign: camp, Contact: c2, Account: acc})
	limited(t, "past the cap", err, w.H.Now())
	if ds := opened(t, w); len(ds) != 1 {
		t.Fatalf("%d dialogs opened, want 1", len(ds))
	}
}

// Outside its working hours an account is ELIMIT, with when they begin.
func testHours(t *testing.T, w World) {
	now := w.H.Now().UTC()
	start := (now.Hour() + 12) % 24 * 60 // an hour half a day away
	l := allDay
	l.StartMinute, l.EndMinute = start, start+60
	acc := w.AddAccount(t, "sales-1", l)
	c := w.AddContact(t, "lead_hours")
	_, err := open(t, w, campaigns.OpenRequest{Campaign: uuid.New(), Contact: c, Account: acc})
	limited(t, fmt.Sprintf("outside %02d:00–%02d:00 UTC", start/60, start/60+1), err, now)
	if ds := opened(t, w); len(ds) != 0 {
		t.Fatalf("dialogs opened: %v", ds)
	}
}

// A paused, restricted, removed or unknown account cannot open a dialog:
// the account's error (the contact waits), not a limit and not the
// contact's.
func testAccountRefused(t *testing.T, w World) {
	ctx := t.Context()
	paused, restricted, removed := w.AddAccount(t, "sales-1", allDay), w.AddAccount(t, "sales-2", allDay), w.AddAccount(t, "sales-3", allDay)
	must(t)(w.H.Account(ctx, paused, domain.PauseAccount{By: "admin:1"}))
	must(t)(w.H.Account(ctx, restricted, domain.MarkRestricted{Reason: "PEER_FLOOD"}))
	must(t)(w.H.Account(ctx, removed, domain.RemoveAccount{By: "admin:1"}))
	c := w.AddContact(t, "lead_waits")
	camp := uuid.New()
	for name, acc := range map[string]uuid.UUID{"paused": paused, "restricted": restricted, "removed": removed, "unknown": uuid.New()} {
		_, err := open(t, w, campaigns.OpenRequest{Campaign: camp, Contact: c, Account: acc})
		refusedByAccount(t, name+" account", err)
	}
	if ds := opened(t, w); len(ds) != 0 {
		t.Fatalf("dialogs opened: %v", ds)
	}
}

// When neither the account nor the contact can take the dialog, the
// account's refusal is the answer: the contact is not given up on for
// what was the account's state.
func testAccountFirst(t *testing.T, w World) {
	ctx := t.Context()
	paused, full := w.AddAccount(t, "sales-1", allDay), w.AddAccount(t, "sales-2", domain.Limits{DailyNewDialogs: 1, TimeZone: "UTC", EndMinute: 24 * 60})
	must(t)(w.H.Account(ctx, paused, domain.PauseAccount{By: "admin:1"}))
	camp := uuid.New()
	if _, err := open(t, w, campaigns.OpenRequest{Campaign: camp, Contact: w.AddContact(t, "lead_first_1"), Account: full}); err != nil {
		t.Fatal(err)
	}
	out := w.AddContact(t, "lead_first_out")
	must(t)(w.H.Contact(ctx, out, domain.OptOutContact{Reason: "stop", By: "lead"}))
	_, err := open(t, w, campaigns.OpenRequest{Campaign: camp, Contact: out, Account: paused})
	refusedByAccount(t, "a paused account and an opted-out contact", err)
	_, err = open(t, w, campaigns.OpenRequest{Campaign: camp, Contact: out, Account: full})
	limited(t, "an account at its cap and an opted-out contact", err, w.H.Now())
}
