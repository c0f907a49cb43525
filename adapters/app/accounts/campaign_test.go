package accounts_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
)

// A start pinned to an account never goes to another one: on a restricted
// account Start waits and the campaign opener returns the account's error
// at once; on a healthy account the dialog records its campaign and
// variant; a contact that may not be written to, or is in a dialog
// already, is the contact's error.
func TestPinnedStartAndCampaignOpener(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	restricted, rUser := w.addAccount("sales-1")
	healthy, hUser := w.addAccount("sales-2")
	silent := telegramtest.Persona{Reply: func(telegramtest.Incoming) []string { return nil }}
	lead := w.persona("lead_pin", silent)
	w.persona("lead_pin2", silent)
	w.persona("lead_gone", silent)
	w.start()
	w.eventually("the accounts are connected", func() bool { return w.connected(restricted) && w.connected(healthy) })
	ctx := context.Background()
	contact := func(username string) uuid.UUID {
		id := uuid.New()
		if _, err := w.h.Contact(ctx, id, domain.AddContact{ContactID: id, Source: domain.SourceImport, Basis: domain.BasisLegitimateInterest, Username: username}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	c1, c2, gone := contact("lead_pin"), contact("lead_pin2"), contact("lead_gone")
	if _, err := w.h.Account(ctx, restricted, domain.MarkRestricted{Reason: "PEER_FLOOD"}); err != nil {
		t.Fatal(err)
	}
	camp := uuid.New()

	// Start pinned to the restricted account waits for it, saying why.
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	var why string
	_, err := w.svc.Start(wctx, accountsStart(c1, restricted, camp), func(reason string, _ time.Time) { why = reason })
	if !errors.Is(err, context.DeadlineExceeded) || why == "" {
		t.Fatalf("pinned start on a restricted account: %v (%q)", err, why)
	}
	// The opener returns the account's error at once.
	op := w.svc.CampaignOpener()
	began := time.Now()
	_, err = op.Open(ctx, campaigns.OpenRequest{Campaign: camp, Contact: c1, Account: restricted, Variant: "B"})
	if err == nil || errors.Is(err, campaigns.ErrContact) || domain.ErrorCode(err) != domain.ESTATE || time.Since(began) > 5*time.Second {
		t.Fatalf("open on a restricted account: %v", err)
	}
	if evs := w.events(domain.DialogNumberStream); len(evs) != 0 {
		t.Fatalf("a dialog was opened elsewhere: %v", evs)
	}
	if msgs := w.sb.Messages(lead.ID, hUser.ID); len(msgs) != 0 {
		t.Fatalf("the other account wrote to the lead: %+v", msgs)
	}
	if msgs := w.sb.Messages(lead.ID, rUser.ID); len(msgs) != 0 {
		t.Fatalf("the restricted account wrote to the lead: %+v", msgs)
	}

	// On the healthy account: the dialog has the campaign and the variant.
	n, err := op.Open(ctx, campaigns.OpenRequest{Campaign: camp, Contact: c2, Account: healthy, Variant: "B"})
	if err != nil || n != 1 {
		t.Fatalf("open: %d %v", n, err)
	}
	nums := w.events(domain.DialogNumberStream)
	if len(nums) != 1 {
		t.Fatalf("numbers %v", nums)
	}
	d, err := w.h.LoadDialog(ctx, nums[0].(domain.DialogNumbered).DialogID)
	if err != nil || d.AccountID != healthy || d.Campaign != camp || d.Variant != "B" || d.ContactID != c2 || d.StartedBy != "campaign:"+camp.String() {
		t.Fatalf("dialog %+v %v", d, err)
	}
	// The same contact again: in a dialog already, which the error names.
	var inDialog *accounts.InDialogError
	if _, err := op.Open(ctx, campaigns.OpenRequest{Campaign: camp, Contact: c2, Account: healthy}); !errors.Is(err, campaigns.ErrContact) || !errors.Is(err, accounts.ErrInDialog) ||
		!errors.As(err, &inDialog) || inDialog.Dialog != n {
		t.Fatalf("second open: %v", err)
	}
	// An opted-out contact, an unknown one.
	if _, err := w.h.Contact(ctx, gone, domain.OptOutContact{Reason: "stop", By: "lead"}); err != nil {
		t.Fatal(err)
	}
	if _, err := op.Open(ctx, campaigns.OpenRequest{Campaign: camp, Contact: gone, Account: healthy}); !errors.Is(err, campaigns.ErrContact) {
		t.Fatalf("opted-out contact: %v", err)
	}
	if _, err := op.Open(ctx, campaigns.OpenRequest{Campaign: camp, Contact: uuid.New(), Account: healthy}); !errors.Is(err, campaigns.ErrContact) {
		t.Fatalf("unknown contact: %v", err)
	}
	// An unknown or removed account: ESTATE at once, also for Start.
	if _, err := w.svc.Start(ctx, accountsStart(c1, uuid.New(), camp), nil); domain.ErrorCode(err) != domain.ESTATE {
		t.Fatalf("unknown account: %v", err)
	}
	if err := w.svc.Remove(ctx, restricted, "admin:1"); err != nil {
		t.Fatal(err)
	}
	w.eventually("the account is removed", func() bool { return len(w.svc.Accounts()) == 1 })
	if _, err := w.svc.Start(ctx, accountsStart(c1, restricted, camp), nil); domain.ErrorCode(err) != domain.ESTATE {
		t.Fatalf("removed account: %v", err)
	}
	if evs := w.events(domain.DialogNumberStream); len(evs) != 1 {
		t.Fatalf("dialogs opened: %v", evs)
	}
}

func accountsStart(contact, account, campaign uuid.UUID) accounts.StartRequest {
	return accounts.StartRequest{ContactID: contact, Account: account, Campaign: campaign, By: "campaign:" + campaign.String(), Text: "Hello"}
}

// One person can be two contacts (an import lists them once by user id and
// once by username): a start with the username's contact finds the user
// id linked to the other and refuses to open a second dialog with the
// person, as a contact error; so does a user id linked to a contact that
// was never recorded (a crash between an import's link and its contact),
// rather than blocking the campaign's lane.
func TestStartRefusesAPersonWhoIsAnotherContact(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	acc, _ := w.addAccount("sales-1")
	silent := telegramtest.Persona{Reply: func(telegramtest.Incoming) []string { return nil }}
	twin := w.persona("lead_twin", silent)
	dangling := w.persona("lead_dangling", silent)
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })
	ctx := context.Background()
	add := func(cmd domain.AddContact) uuid.UUID {
		cmd.ContactID, cmd.Source, cmd.Basis = uuid.New(), domain.SourceImport, domain.BasisLegitimateInterest
		if _, err := w.h.Contact(ctx, cmd.ContactID, cmd); err != nil {
			t.Fatal(err)
		}
		return cmd.ContactID
	}
	byID := add(domain.AddContact{UserID: twin.ID})
	if _, err := w.h.LinkUser(ctx, twin.ID, byID); err != nil {
		t.Fatal(err)
	}
	byName := add(domain.AddContact{Username: "lead_twin"})
	camp := uuid.New()
	op := w.svc.CampaignOpener()
	_, err := op.Open(ctx, campaigns.OpenRequest{Campaign: camp, Contact: byName, Account: acc})
	if !errors.Is(err, campaigns.ErrContact) || !errors.Is(err, accounts.ErrOtherContact) || !strings.Contains(err.Error(), byID.String()) {
		t.Fatalf("start with the second contact of a person: %v", err)
	}
	if c, _ := w.h.LoadContact(ctx, byName); c.UserID != twin.ID {
		t.Fatalf("the contact's Telegram user was not recorded: %+v", c)
	}
	if _, err := w.h.LinkUser(ctx, dangling.ID, uuid.New()); err != nil {
		t.Fatal(err)
	}
	lost := add(domain.AddContact{Username: "lead_dangling"})
	if _, err := op.Open(ctx, campaigns.OpenRequest{Campaign: camp, Contact: lost, Account: acc}); !errors.Is(err, campaigns.ErrContact) {
		t.Fatalf("start with a user linked to a contact never recorded: %v", err)
	}
	if evs := w.events(domain.DialogNumberStream); len(evs) != 0 {
		t.Fatalf("dialogs opened: %v", evs)
	}
	// The person's first contact is written to as usual.
	if n, err := op.Open(ctx, campaigns.OpenRequest{Campaign: camp, Contact: byID, Account: acc}); err != nil || n != 1 {
		t.Fatalf("start with the first contact: %d %v", n, err)
	}
}
