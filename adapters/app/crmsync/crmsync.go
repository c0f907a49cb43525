// Package crmsync pushes a qualified or handed-off dialog to a CRM once:
// its contact and lead, then its transcript as a note. The CRM's ids are
// kept in the log (domain.CRMLeadLinked), so a dialog is never pushed
// twice, and the CRM's webhooks find the dialog back through them.
//
// Exactly once, as far as the CRM lets us: Sync looks for a link in the
// log first; without one it asks the CRM for a lead carrying the
// dialog's marker ("salesbot dialog N", domain.CRMMarker: in the lead's
// name, and in a custom field where one is configured) before it creates
// one, and links whichever it has. So a crash (or a lost answer) between
// the CRM creating the lead and the link being appended is mended by the
// next Sync, which finds the lead instead of creating a second. What is
// left: the CRM's search may lag a new lead by seconds (a retry within
// them could create a second lead), and a manager who renames the lead
// in that window without a marker field removes the marker. The
// transcript note is recorded (domain.CRMNoteAdded) after the CRM
// accepted it: a crash between the two adds it again on the next Sync
// (at least once).
package crmsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/amocrm"
	"github.com/salesbot/salesbot/adapters/hubspot"
	"github.com/salesbot/salesbot/domain"
)

// CRM is a CRM connector (amocrm.Client, hubspot.Client; later Bitrix24).
type CRM interface {
	// Name names the CRM in the log's links: lower-case letters and
	// digits ("amocrm").
	Name() string
	// FindLead finds the lead that carries marker exactly; found is
	// false when none does.
	FindLead(ctx context.Context, marker string) (ids domain.CRMIDs, found bool, err error)
	// CreateLead creates the contact and the lead of a dialog.
	CreateLead(ctx context.Context, lead domain.CRMLead) (domain.CRMIDs, error)
	// AddNote adds text to a lead as notes (parts: how many).
	AddNote(ctx context.Context, leadID, text string) (parts int, err error)
}

var (
	_ CRM = (*amocrm.Client)(nil)
	_ CRM = (*hubspot.Client)(nil)
)

// Errors.
var (
	// ErrNotReady: the dialog is neither qualified (no qualification
	// field known) nor handed off: nothing to push yet.
	ErrNotReady = errors.New("crmsync: the dialog is neither qualified nor handed off")
	// ErrForgotten: the dialog's contact was erased; nothing of it goes
	// to a CRM.
	ErrForgotten = errors.New("crmsync: the contact was erased")
	// ErrUnknownDialog: no dialog has the number.
	ErrUnknownDialog = domain.ErrUnknownDialog
)

// Service syncs dialogs through the command handlers.
type Service struct {
	H   domain.Handlers
	Log *slog.Logger // nil: discard
}

// Result is what Sync did.
type Result struct {
	Link    domain.CRMLeadLinked // the dialog's link to the CRM
	Created bool                 // this Sync created the lead
	Found   bool                 // this Sync found the lead by its marker (an earlier attempt created it)
	Noted   bool                 // this Sync added the transcript
}

// Sync pushes dialog n to crm unless it is there already (see the
// package doc): the contact and the lead, the link in the log, the
// transcript. Errors: ErrUnknownDialog, ErrNotReady, ErrForgotten; the
// CRM's (amocrm.ErrUnauthorized, ...); the log's. A failed Sync may be
// run again: it goes on where the last one stopped.
func (s Service) Sync(ctx context.Context, crm CRM, n int64) (Result, error) {
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	name := crm.Name()
	id, found, err := s.H.DialogOfNumber(ctx, n)
	if err != nil {
		return Result{}, err
	}
	if !found {
		return Result{}, fmt.Errorf("dialog %d: %w", n, ErrUnknownDialog)
	}
	d, err := s.H.LoadDialog(ctx, id)
	if err != nil {
		return Result{}, fmt.Errorf("dialog %d: %w", n, err)
	}
	if !d.Exists {
		return Result{}, fmt.Errorf("dialog %d: %w", n, ErrUnknownDialog)
	}
	evs, _, err := s.H.Log.Load(ctx, domain.DialogStream(id))
	if err != nil {
		return Result{}, fmt.Errorf("dialog %d: %w", n, err)
	}
	state, err := s.H.CRMLinkOf(ctx, id, name)
	if err != nil {
		return Result{}, fmt.Errorf("dialog %d: %w", n, err)
	}
	var res Result
	if state.Linked {
		res.Link = state.Link
		if state.Noted {
			return res, nil
		}
	} else {
		if !Ready(d, evs) {
			return Result{}, fmt.Errorf("dialog %d: %w", n, ErrNotReady)
		}
		c, err := s.H.LoadContact(ctx, d.ContactID)
		if err != nil {
			return Result{}, fmt.Errorf("dialog %d: %w", n, err)
		}
		if c.Forgotten {
			return Result{}, fmt.Errorf("dialog %d: %w", n, ErrForgotten)
		}
		lead := LeadOf(d, c)
		if lead.CRMContactID, _, err = s.H.CRMContactOf(ctx, name, d.ContactID); err != nil {
			return Result{}, fmt.Errorf("dialog %d: %w", n, err)
		}
		ids, found, err := crm.FindLead(ctx, lead.Marker)
		if err != nil {
			return Result{}, fmt.Errorf("dialog %d: %s: %w", n, name, err)
		}
		if found {
			log.Info("crm sync: lead found by its marker", "crm", name, "dialog", n, "lead", ids.LeadID)
		} else {
			if ids, err = crm.CreateLead(ctx, lead); err != nil {
				return Result{}, fmt.Errorf("dialog %d: %s: %w", n, name, err)
			}
			res.Created = true
		}
		res.Found = found
		if ids.ContactID == "" {
			ids.ContactID = lead.CRMContactID
		}
		link, linked, err := s.H.LinkCRMLead(ctx, domain.CRMLeadLinked{DialogID: id, N: n, ContactID: d.ContactID, CRM: name,
			CRMContactID: ids.ContactID, CRMLeadID: ids.LeadID, Found: found})
		if err != nil {
			return res, fmt.Errorf("dialog %d: %w", n, err)
		}
		if !linked && link.CRMLeadID != ids.LeadID {
			// Another Sync linked the dialog meanwhile: ours is a duplicate.
			log.Warn("crm sync: a concurrent sync linked another lead", "crm", name, "dialog", n, "lead", link.CRMLeadID, "duplicate", ids.LeadID)
		}
		res.Link = link
	}
	c, err := s.H.LoadContact(ctx, d.ContactID)
	if err != nil {
		return res, fmt.Errorf("dialog %d: %w", n, err)
	}
	if c.Forgotten {
		return res, fmt.Errorf("dialog %d: %w", n, ErrForgotten)
	}
	parts, err := crm.AddNote(ctx, res.Link.CRMLeadID, Transcript(d, c, evs))
	if err != nil {
		return res, fmt.Errorf("dialog %d: %s: transcript: %w", n, name, err)
	}
	if _, err := s.H.NoteCRMLead(ctx, id, name, parts); err != nil {
		return res, fmt.Errorf("dialog %d: %w", n, err)
	}
	res.Noted = true
	log.Info("crm sync: dialog pushed", "crm", name, "dialog", n, "lead", res.Link.CRMLeadID, "created", res.Created, "found", res.Found)
	return res, nil
}

// Ready says whether a dialog is worth a CRM's lead: it was handed off
// (now or before), or a qualification field is known.
func Ready(d domain.Dialog, evs []domain.Event) bool {
	if d.Stage == domain.StageHandoff || slices.ContainsFunc(evs, func(e domain.Event) bool { _, ok := e.(domain.HandoffRequested); return ok }) {
		return true
	}
	q := d.Qual
	return q.Need != nil || q.Budget != nil || q.Timeline != nil || q.Authority != nil || q.Score != nil || len(q.Custom) > 0
}

// Triggers says whether a dialog's event may make it Ready: a follower
// of the log (the wiring's) runs Sync for the dialog after one, and
// again later for any that failed; Sync is idempotent.
func Triggers(e domain.Event) bool {
	switch e.(type) {
	case domain.HandoffRequested, domain.QualificationUpdated:
		return true
	}
	return false
}

// LeadOf is what a CRM is told of dialog d with contact c.
func LeadOf(d domain.Dialog, c domain.Contact) domain.CRMLead {
	l := domain.CRMLead{DialogN: d.N, Marker: domain.CRMMarker(d.N), Name: c.Name, Username: c.Username, Phone: c.Phone, Fields: QualFields(d.Qual)}
	if d.Qual.Budget != nil {
		l.Budget, l.HasPrice = d.Qual.Budget.Money()
	}
	return l
}

// QualFields are the qualification's fields by name, as their values
// read: need, budget, timeline, authority, score and the custom ones.
func QualFields(q domain.Qualification) map[string]string {
	out := map[string]string{}
	for _, name := range []string{"need", "budget", "timeline", "authority"} {
		if f := q.Get(name); f != nil && strings.TrimSpace(f.Value) != "" {
			out[name] = f.Value
		}
	}
	if q.Score != nil {
		out["score"] = strconv.Itoa(*q.Score)
	}
	for _, c := range q.Custom {
		if strings.TrimSpace(c.Value) != "" {
			out[c.Name] = c.Value
		}
	}
	return out
}

// Transcript is the dialog's text for the CRM: a header (the marker, the
// contact's Telegram username, the qualification), then every message
// received or sent, in order, each headed by who wrote it. Messages that
// were planned but never sent are left out.
func Transcript(d domain.Dialog, c domain.Contact, evs []domain.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: transcript\n", domain.CRMMarker(d.N))
	if c.Username != "" {
		fmt.Fprintf(&b, "Telegram: @%s\n", c.Username)
	}
	fields := QualFields(d.Qual)
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		fmt.Fprintf(&b, "%s: %s\n", k, fields[k])
	}
	sent := map[int64]bool{}
	for _, e := range evs {
		if s, ok := e.(domain.OutboundSent); ok {
			sent[s.RandomID] = true
		}
	}
	b.WriteString("\n")
	for _, e := range evs {
		switch e := e.(type) {
		case domain.InboundReceived:
			fmt.Fprintf(&b, "Lead: %s\n", e.ModelText())
		case domain.OutboundPlanned:
			if !sent[e.RandomID] {
				continue
			}
			who := "Assistant (AI)"
			if e.By == domain.ActorManager {
				who = "Manager"
			}
			fmt.Fprintf(&b, "%s: %s\n", who, e.Text)
		case domain.OutboundObserved:
			fmt.Fprintf(&b, "Manager: %s\n", e.Text)
		}
	}
	return strings.TrimSpace(b.String())
}

// Linked is the dialog's link to crm, if it has one (for a read of the
// state, e.g. the web console).
func (s Service) Linked(ctx context.Context, dialog uuid.UUID, crm string) (domain.CRMLeadLinked, bool, error) {
	st, err := s.H.CRMLinkOf(ctx, dialog, crm)
	return st.Link, st.Linked, err
}
