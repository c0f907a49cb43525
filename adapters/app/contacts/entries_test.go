package contacts_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/domain"
)

// Entries are checked as a file's rows are, numbered from 1, and Apply
// records them as it records a file; Rejections are the rows rejected
// as read, with the field at fault.
func TestFromEntries(t *testing.T) {
	w := newWorld(t)
	unread := &domain.Error{Code: domain.EINVALID, Field: "user_id", Message: "user_id must be a number"}
	f, err := contacts.FromEntries([]contacts.Entry{
		{Row: domain.ImportRow{Username: "@anna_k", Tags: "vip"}},
		{Row: domain.ImportRow{Phone: "123"}},
		{Err: unread},
		{Row: domain.ImportRow{Username: "ANNA_K", Tags: "b2b"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []contacts.Rejection{{Line: 2, Field: "phone", Reason: `phone "123" is not + and 7 to 15 digits (with the country code)`},
		{Line: 3, Field: "user_id", Reason: "user_id must be a number"}}
	if len(f.Rows) != 4 || f.Valid() != 2 || !slices.Equal(f.Rejections(), want) {
		t.Fatalf("rows %d, valid %d, rejections %+v", len(f.Rows), f.Valid(), f.Rejections())
	}
	rep, err := contacts.Apply(context.Background(), w.h, f, contacts.Options{Basis: domain.BasisConsent, Partial: true})
	if err != nil || countsOf(rep) != (counts{accepted: 1, merged: 1, inFile: 1, rejected: 2}) || !slices.Equal(rep.Rejected, want) {
		t.Fatalf("Apply = %+v, %v", rep, err)
	}
	if c := w.contact("anna_k"); !slices.Equal(c.Tags, []string{"b2b", "vip"}) {
		t.Fatalf("anna: %+v", c)
	}
	for _, none := range [][]contacts.Entry{nil, {}} {
		var fe *domain.FileError
		if _, err := contacts.FromEntries(none); !errors.As(err, &fe) || !errors.Is(err, contacts.ErrEmpty) {
			t.Fatalf("no entries: %v", err)
		}
	}
}

// Upsert records a person once: new, then merged into; it refuses a
// bad row (naming the field) and a person on the do-not-contact list,
// recording nothing.
func TestUpsert(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	opts := contacts.Options{Source: domain.SourceAPI, Basis: domain.BasisContract, Note: "CRM"}
	u, err := contacts.Upsert(ctx, w.h, domain.ImportRow{Username: "anna_k", Phone: "+49 151 1234 5678", Tags: "vip"}, opts)
	if err != nil || !u.Created || u.Contact.Source != domain.SourceAPI || u.Contact.Basis != domain.BasisContract || u.Contact.Phone != "+4915112345678" {
		t.Fatalf("new: %+v, %v", u, err)
	}
	again, err := contacts.Upsert(ctx, w.h, domain.ImportRow{Phone: "+4915112345678", UserID: "501", Tags: "b2b"}, contacts.Options{Basis: domain.BasisConsent})
	if err != nil || again.Created || again.Contact.ID != u.Contact.ID || !slices.Equal(again.Contact.Tags, []string{"b2b", "vip"}) || again.Contact.Basis != domain.BasisContract {
		t.Fatalf("again: %+v, %v", again, err)
	}
	if _, err := contacts.Upsert(ctx, w.h, domain.ImportRow{Username: "ab"}, opts); domain.ErrorCode(err) != domain.EINVALID || domain.ErrorField(err) != "username" {
		t.Fatalf("a bad username: %v", err)
	}
	if _, err := contacts.Upsert(ctx, w.h, domain.ImportRow{Username: "boris_b"}, contacts.Options{}); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("no basis: %v", err)
	}
	if _, _, err := contacts.OptOut(ctx, w.h, contacts.OptOutRequest{Contact: u.Contact.ID, By: "cli"}); err != nil {
		t.Fatal(err)
	}
	if _, err := contacts.Upsert(ctx, w.h, domain.ImportRow{Username: "anna_k", Tags: "again"}, opts); domain.ErrorCode(err) != domain.EFORBIDDEN {
		t.Fatalf("opted out: %v", err)
	}
	if c := w.contact("anna_k"); slices.Contains(c.Tags, "again") {
		t.Fatalf("an opted-out contact was merged into: %+v", c)
	}
}
