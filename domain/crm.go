package domain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// CRM links (issue 18): a qualified or handed-off dialog is pushed to a
// CRM (amoCRM, later Bitrix24 and HubSpot) as a contact and a lead. The
// ids the CRM gave them are facts kept in the log, so a dialog is never
// pushed twice and the CRM's webhooks find their way back to the dialog:
//
//   - CRMLinksStream(dialog) ("crm-<dialog>") holds the dialog's links:
//     one CRMLeadLinked per CRM (the first wins), then CRMNoteAdded when
//     its transcript was added to the lead. It is a stream of its own, not
//     the dialog's, so a link moves no manager's If-Match on the dialog.
//   - CRMLeadStream(crm, lead) ("crmlead-<crm>-<lead>") is the index from
//     a CRM's lead back to the dialog: its first CRMLeadLinked names it.
//   - CRMContactStream(crm, contact) ("crmcontact-<crm>-<contact>") is the
//     index from our contact to the CRM's: its first CRMLeadLinked with a
//     CRM contact names it, so the contact's next dialog becomes a lead of
//     the same CRM contact rather than a second contact.
//
// CRM ids are no personal data (like dialog numbers); the contact's name
// and the transcript go to the CRM, never into these events.

// CRMLead is what a connector needs to create a dialog's contact and lead
// in a CRM. Its texts are personal data: a connector sends them to the
// CRM and never logs them.
type CRMLead struct {
	DialogN int64
	// Marker names the dialog in the CRM's lead ("salesbot dialog 12",
	// CRMMarker) so that a retry can find a lead created by an attempt
	// whose answer was lost (CRM.FindLead).
	Marker string
	// CRMContactID is the CRM's contact of an earlier dialog with the
	// same contact: the lead is attached to it, no contact is created.
	CRMContactID string
	Name         string // the contact's name, or "" when unknown
	Username     string // the contact's Telegram username, without @
	Phone        string
	// Budget is the stated budget when it reads as money (the lead's
	// price); HasPrice is false when unknown.
	Budget   Money
	HasPrice bool
	// Fields are the qualification fields by name (need, budget,
	// timeline, authority, score, and the scenario's own: team_size, ...),
	// as their values read.
	Fields map[string]string
}

// CRMIDs are the ids a CRM gave a dialog's contact and lead, as text
// (amoCRM's are numbers, HubSpot's numeric strings).
type CRMIDs struct {
	ContactID string
	LeadID    string
}

// CRMMarker is the text that names dialog n in a CRM's lead.
func CRMMarker(n int64) string { return fmt.Sprintf("salesbot dialog %d", n) }

// CRMLinksStream is the stream of a dialog's CRM links.
func CRMLinksStream(dialog uuid.UUID) string { return "crm-" + dialog.String() }

// CRMLeadStream is the index stream of a CRM's lead.
func CRMLeadStream(crm, lead string) string { return "crmlead-" + crm + "-" + lead }

// CRMContactStream is the index stream of our contact in a CRM.
func CRMContactStream(crm string, contact uuid.UUID) string {
	return "crmcontact-" + crm + "-" + contact.String()
}

// ErrCRMLink: a link is malformed: a CRM's name is lower-case letters and
// digits, a lead id letters, digits, '_' and '.' (at most 64), and a link
// names its dialog, its number and its contact.
var ErrCRMLink = errors.New("domain: invalid CRM link")

// CRMLeadLinked records that a dialog's contact and lead exist in a CRM.
// Found says the lead was found by its marker (an earlier attempt created
// it and its answer was lost) rather than created by this attempt.
type CRMLeadLinked struct {
	DialogID     uuid.UUID `json:"dialog_id"`
	N            int64     `json:"n"`
	ContactID    uuid.UUID `json:"contact_id"`
	CRM          string    `json:"crm"`
	CRMContactID string    `json:"crm_contact_id,omitempty"`
	CRMLeadID    string    `json:"crm_lead_id"`
	Found        bool      `json:"found,omitempty"`
	At           time.Time `json:"at"`
}

// CRMNoteAdded records that the dialog's transcript was added to its CRM
// lead, in Parts notes.
type CRMNoteAdded struct {
	DialogID  uuid.UUID `json:"dialog_id"`
	CRM       string    `json:"crm"`
	CRMLeadID string    `json:"crm_lead_id"`
	Parts     int       `json:"parts"`
	At        time.Time `json:"at"`
}

func (CRMLeadLinked) EventType() string { return "CRMLeadLinked" }
func (CRMNoteAdded) EventType() string  { return "CRMNoteAdded" }

// CRMState is a dialog's links to one CRM as its links stream leaves them.
type CRMState struct {
	Link   CRMLeadLinked // zero when not linked
	Linked bool
	Noted  bool // the transcript was added
}

// EvolveCRM folds one event of a dialog's links stream into the state of
// the links to crm.
func EvolveCRM(crm string) func(CRMState, Event) CRMState {
	return func(s CRMState, e Event) CRMState {
		switch e := e.(type) {
		case CRMLeadLinked:
			if e.CRM == crm && !s.Linked {
				s.Link, s.Linked = e, true
			}
		case CRMNoteAdded:
			if e.CRM == crm && s.Linked && e.CRMLeadID == s.Link.CRMLeadID {
				s.Noted = true
			}
		}
		return s
	}
}

// ValidCRMName says whether name may name a CRM: 1 to 32 lower-case
// ASCII letters and digits ("amocrm", "bitrix24").
func ValidCRMName(name string) bool {
	if name == "" || len(name) > 32 {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func validCRMID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' && r != '.' {
			return false
		}
	}
	return true
}

func checkCRMLink(l CRMLeadLinked) error {
	switch {
	case !ValidCRMName(l.CRM):
		return &Error{Code: EINVALID, Field: "crm", Err: ErrCRMLink, Message: "a CRM's name is 1 to 32 lower-case letters and digits"}
	case !validCRMID(l.CRMLeadID):
		return &Error{Code: EINVALID, Field: "crm_lead_id", Err: ErrCRMLink, Message: "a CRM lead id is 1 to 64 letters, digits, '_' or '.'"}
	case l.CRMContactID != "" && !validCRMID(l.CRMContactID):
		return &Error{Code: EINVALID, Field: "crm_contact_id", Err: ErrCRMLink, Message: "a CRM contact id is 1 to 64 letters, digits, '_' or '.'"}
	case l.DialogID == uuid.Nil || l.ContactID == uuid.Nil || l.N <= 0:
		return &Error{Code: EINVALID, Field: "dialog", Err: ErrCRMLink, Message: "a CRM link names its dialog, the dialog's number and its contact"}
	}
	return nil
}

// CRMLinkOf is the state of dialog's links to crm.
func (h Handlers) CRMLinkOf(ctx context.Context, dialog uuid.UUID, crm string) (CRMState, error) {
	s, _, err := load(ctx, h.Log, CRMLinksStream(dialog), EvolveCRM(crm))
	return s, err
}

// LinkCRMLead records link (its At is the handlers' clock) on the dialog's
// links stream, unless the dialog is linked to that CRM already: then the
// link recorded first is returned and linked is false. The lead's index
// stream, and the contact's when the link names a CRM contact, are
// written after, where they are empty (a crash between is mended by the
// next call, which finds the link and writes the indexes).
// Errors: a *Error matching ErrCRMLink for a malformed link; the log's.
func (h Handlers) LinkCRMLead(ctx context.Context, link CRMLeadLinked) (CRMLeadLinked, bool, error) {
	if err := checkCRMLink(link); err != nil {
		return CRMLeadLinked{}, false, err
	}
	link.At = h.Now()
	stream := CRMLinksStream(link.DialogID)
	linked := false
	for attempt := 0; ; attempt++ {
		s, v, err := load(ctx, h.Log, stream, EvolveCRM(link.CRM))
		if err != nil {
			return CRMLeadLinked{}, false, err
		}
		if s.Linked {
			link = s.Link
			break
		}
		err = h.Log.Append(ctx, stream, v, "", []Event{link})
		if err == nil {
			linked = true
			break
		}
		if !errors.Is(err, ErrConflict) || attempt >= h.retries() {
			return CRMLeadLinked{}, false, fmt.Errorf("link dialog %d to %s lead %s: %w", link.N, link.CRM, link.CRMLeadID, err)
		}
	}
	indexes := []string{CRMLeadStream(link.CRM, link.CRMLeadID)}
	if link.CRMContactID != "" {
		indexes = append(indexes, CRMContactStream(link.CRM, link.ContactID))
	}
	for _, index := range indexes {
		if v, err := h.Log.Version(ctx, index); err != nil {
			return CRMLeadLinked{}, false, fmt.Errorf("index %s lead %s: %w", link.CRM, link.CRMLeadID, err)
		} else if v == 0 {
			if err := h.Log.Append(ctx, index, 0, "", []Event{link}); err != nil && !errors.Is(err, ErrConflict) {
				return CRMLeadLinked{}, false, fmt.Errorf("index %s lead %s: %w", link.CRM, link.CRMLeadID, err)
			}
		}
	}
	return link, linked, nil
}

// NoteCRMLead records that the transcript of a linked dialog was added to
// its CRM lead in parts notes. added is false when it was recorded
// already. A dialog not linked to the CRM is ESTATE.
func (h Handlers) NoteCRMLead(ctx context.Context, dialog uuid.UUID, crm string, parts int) (added bool, err error) {
	stream := CRMLinksStream(dialog)
	for attempt := 0; ; attempt++ {
		s, v, err := load(ctx, h.Log, stream, EvolveCRM(crm))
		if err != nil {
			return false, err
		}
		switch {
		case !s.Linked:
			return false, errorf(ESTATE, "dialog %s is not linked to %s", dialog, crm)
		case s.Noted:
			return false, nil
		}
		err = h.Log.Append(ctx, stream, v, "", []Event{CRMNoteAdded{DialogID: dialog, CRM: crm, CRMLeadID: s.Link.CRMLeadID, Parts: parts, At: h.Now()}})
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= h.retries() {
			return false, fmt.Errorf("note %s lead %s: %w", crm, s.Link.CRMLeadID, err)
		}
	}
}

// DialogOfCRMLead is the link that names the dialog of a CRM's lead;
// found is false for a lead no dialog is linked to (and for a malformed
// id, which no link can have).
func (h Handlers) DialogOfCRMLead(ctx context.Context, crm, lead string) (CRMLeadLinked, bool, error) {
	if !ValidCRMName(crm) || !validCRMID(lead) {
		return CRMLeadLinked{}, false, nil
	}
	evs, _, err := h.Log.Load(ctx, CRMLeadStream(crm, lead))
	if err != nil {
		return CRMLeadLinked{}, false, fmt.Errorf("find the dialog of %s lead %s: %w", crm, lead, err)
	}
	for _, e := range evs {
		if l, ok := e.(CRMLeadLinked); ok && l.CRM == crm && l.CRMLeadID == lead {
			return l, true, nil
		}
	}
	return CRMLeadLinked{}, false, nil
}

// CRMContactOf is the CRM's id of our contact, from the first link of
// one of its dialogs that named one; found is false when none did.
func (h Handlers) CRMContactOf(ctx context.Context, crm string, contact uuid.UUID) (string, bool, error) {
	if !ValidCRMName(crm) || contact == uuid.Nil {
		return "", false, nil
	}
	evs, _, err := h.Log.Load(ctx, CRMContactStream(crm, contact))
	if err != nil {
		return "", false, fmt.Errorf("find the %s contact of %s: %w", crm, contact, err)
	}
	for _, e := range evs {
		if l, ok := e.(CRMLeadLinked); ok && l.CRM == crm && l.CRMContactID != "" {
			return l.CRMContactID, true, nil
		}
	}
	return "", false, nil
}
