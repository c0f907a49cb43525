package contacts

import (
	"context"
	"errors"

	"github.com/salesbot/salesbot/domain"
)

// Entry is one contact as a caller other than a file gives it (the
// API's JSON): its cells, or why they could not be read.
type Entry struct {
	Row domain.ImportRow
	// Err says why the entry could not be read (a field of the wrong
	// type); nil: Row is checked.
	Err error
}

// FromEntries checks entries as Parse checks a file's rows (each with
// domain.ValidateImportRow; a bad one is kept with its reason in
// Row.Err), numbering them from 1 as their Line, so that Apply records
// them as it records a file. No entries is a *FileError with ErrEmpty;
// more than MaxRows, one with ErrTooLarge.
func FromEntries(entries []Entry) (*File, error) {
	switch {
	case len(entries) == 0:
		return nil, refuse(ErrEmpty, "no contacts")
	case len(entries) > MaxRows:
		return nil, refuse(ErrTooLarge, "more than %d contacts (split them)", MaxRows)
	}
	f := &File{Rows: make([]Row, len(entries))}
	for i, e := range entries {
		f.Rows[i] = Row{Line: i + 1, Err: e.Err}
		if e.Err == nil {
			f.Rows[i].Contact, f.Rows[i].Err = domain.ValidateImportRow(e.Row)
		}
	}
	return f, nil
}

// Rejections are the rows of f rejected as read, in line order: what an
// import of f reports rejected before it records anything (a dry run
// reports them alone).
func (f *File) Rejections() []Rejection {
	var out []Rejection
	for _, r := range f.Rows {
		if r.Err != nil {
			out = append(out, rejection(r.Line, r.Err))
		}
	}
	return out
}

// Upserted is what Upsert did.
type Upserted struct {
	Contact domain.Contact // as recorded now
	Created bool           // a new contact; false: merged into the person's
}

// Upsert records one person as a one-row import does (Apply): the row
// checked by domain.ValidateImportRow, a new contact with opts' source,
// basis and note, or the person's contact found by user id, username or
// phone with the row's new tags and fields merged in. It returns the
// contact. Errors: the row's *domain.Error (EINVALID, with the Field at
// fault when one is); an EFORBIDDEN *domain.Error when the person is on
// the do-not-contact list or erased (nothing is recorded: a person who
// opted out never enters again); Apply's.
func Upsert(ctx context.Context, h domain.Handlers, row domain.ImportRow, opts Options) (Upserted, error) {
	c, err := domain.ValidateImportRow(row)
	if err != nil {
		return Upserted{}, err
	}
	opts.Partial, opts.Concurrency, opts.Progress = true, 1, nil
	rep, err := Apply(ctx, h, &File{Rows: []Row{{Line: 1, Contact: c}}}, opts)
	switch {
	case err != nil:
		return Upserted{}, err
	case len(rep.Rejected) > 0:
		r := rep.Rejected[0]
		return Upserted{}, &domain.Error{Code: domain.EINVALID, Field: r.Field, Message: r.Reason}
	case rep.Erased > 0:
		return Upserted{}, &domain.Error{Code: domain.EFORBIDDEN, Message: "the person was erased: they are on the do-not-contact list for good"}
	case rep.OptedOut > 0:
		return Upserted{}, &domain.Error{Code: domain.EFORBIDDEN, Message: "the person is on the do-not-contact list"}
	}
	p := Person{UserID: c.UserID, Username: c.Username, Phone: c.Phone}
	ids, err := Linked(ctx, h, p)
	if err != nil {
		return Upserted{}, err
	}
	for _, id := range ids { // Apply recorded into the first that exists
		st, err := h.LoadContact(ctx, id)
		if err != nil {
			return Upserted{}, err
		}
		if st.Exists {
			return Upserted{Contact: st, Created: rep.Accepted > 0}, nil
		}
	}
	return Upserted{}, errors.New("contacts: the person was recorded, yet no contact is linked to them") // the person is personal data: not in the text
}
