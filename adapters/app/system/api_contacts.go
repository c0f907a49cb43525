package system

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// ContactsAPI is the contacts' use cases (adapters/app/contacts) as
// httpapi.Contacts, on a log a running system keeps indexed.
type ContactsAPI struct {
	H     domain.Handlers
	Store eventstore.Store // an erasure deletes the contact's key in it
}

var _ httpapi.Contacts = ContactsAPI{}

// note is a new contact's note: where it came from, in the client's
// words, and which token recorded it.
func note(source, by string) string { return source + " (API, " + by + ")" }

// Upsert is contacts.Upsert with source api.
func (c ContactsAPI) Upsert(ctx context.Context, req httpapi.ContactUpsert) (domain.Contact, bool, error) {
	u, err := contacts.Upsert(ctx, c.H, req.Row, contacts.Options{Source: domain.SourceAPI, Basis: req.Basis, Note: note(req.Source, req.By)})
	return u.Contact, u.Created, err
}

// Import is contacts.Parse (CSV) or contacts.FromEntries (JSON), then
// contacts.Apply with every valid row recorded (--partial) with source
// import, unless it is a dry run.
func (c ContactsAPI) Import(ctx context.Context, req httpapi.ImportRequest) (httpapi.ImportReport, error) {
	var f *contacts.File
	var err error
	if req.CSV != nil {
		f, err = contacts.Parse(req.CSV)
	} else {
		es := make([]contacts.Entry, len(req.Entries))
		for i, e := range req.Entries {
			es[i] = contacts.Entry{Row: e.Row, Err: e.Err}
		}
		f, err = contacts.FromEntries(es)
	}
	if err != nil {
		return httpapi.ImportReport{}, err
	}
	out := httpapi.ImportReport{DryRun: req.DryRun, Rows: len(f.Rows), Valid: f.Valid()}
	rejected := f.Rejections()
	if !req.DryRun {
		rep, err := contacts.Apply(ctx, c.H, f, contacts.Options{Source: domain.SourceImport, Basis: req.Basis, Note: note(req.Source, req.By), Partial: true})
		if err != nil {
			return out, err
		}
		out.Import, out.Applied, out.Accepted, out.Merged, out.InFile, out.Changed = &rep.Import, rep.Applied, rep.Accepted, rep.Merged, rep.InFile, rep.Changed
		out.OptedOut, out.Erased, out.Seconds, rejected = rep.OptedOut, rep.Erased, rep.Elapsed.Seconds(), rep.Rejected
	}
	row := make(map[int]int, len(f.Rows)) // by line
	for i, r := range f.Rows {
		row[r.Line] = i + 1
	}
	out.Rejected = make([]httpapi.Rejection, 0, len(rejected))
	for _, r := range rejected {
		rj := httpapi.Rejection{Row: row[r.Line], Reason: r.Reason}
		if r.Field != "" {
			rj.Field = &r.Field
		}
		if req.CSV != nil {
			rj.Line = &r.Line
		}
		out.Rejected = append(out.Rejected, rj)
	}
	return out, nil
}

// Contact loads a contact from the log.
func (c ContactsAPI) Contact(ctx context.Context, id uuid.UUID) (domain.Contact, error) {
	st, err := c.H.LoadContact(ctx, id)
	if err != nil {
		return domain.Contact{}, err
	}
	if !st.Exists {
		return domain.Contact{}, fmt.Errorf("contact %s: %w", id, projections.ErrNotFound)
	}
	return st, nil
}

// ContactOfUsername finds the contact a username is linked to in the
// index streams.
func (c ContactsAPI) ContactOfUsername(ctx context.Context, username string) (domain.Contact, error) {
	id, found, err := c.H.ContactOfUsername(ctx, username)
	if err != nil {
		return domain.Contact{}, err
	}
	if !found {
		return domain.Contact{}, fmt.Errorf("no contact has the username: %w", projections.ErrNotFound) // the username is personal: not in the text
	}
	return c.Contact(ctx, id)
}

// OptOut is contacts.OptOut of the contact, its open dialogs found in
// the index streams (contacts.DialogsOf).
func (c ContactsAPI) OptOut(ctx context.Context, id uuid.UUID, by, reason string) ([]int64, error) {
	_, ended, err := contacts.OptOut(ctx, c.H, contacts.OptOutRequest{Contact: id, By: by, Reason: reason, Open: contacts.DialogsOf(c.H)})
	return ended, err
}

// Forget is contacts.Forget of the contact and its twins. A running
// system keeps the index up to date and its read models follow the log,
// so the steps contacts.Erase adds for the CLI (Refresh, the read
// models' catch-up) are not needed here.
func (c ContactsAPI) Forget(ctx context.Context, id uuid.UUID, by string) ([]uuid.UUID, error) {
	twins, err := contacts.Twins(ctx, c.H, id) // before: an erased twin's identities are gone
	if err != nil {
		return nil, fmt.Errorf("forget contact %s: %w", id, err)
	}
	if err := contacts.Forget(ctx, c.H, c.Store, id, by, contacts.DialogsOf(c.H)); err != nil {
		return nil, err
	}
	return twins, nil
}
