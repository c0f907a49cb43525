package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// MaxImportBody bounds the body of POST /api/v1/contacts/import, a
// contacts file (CSV) or its JSON: lists of a few hundred thousand
// contacts fit; a larger list is sent in parts.
const MaxImportBody = 32 << 20

// importPattern is the import's route, the one whose body may be larger
// than MaxBody.
const importPattern = "POST /api/v1/contacts/import"

// MaxOptOutReason bounds an opt-out's reason, in characters.
const MaxOptOutReason = 500

// bodyLimit is the most a request's body may hold: MaxImportBody for an
// import, MaxBody for every other request.
func bodyLimit(r *http.Request) int64 {
	if r.Pattern == importPattern {
		return MaxImportBody
	}
	return MaxBody
}

// Contacts is the contacts' use cases (adapters/app/contacts: Upsert,
// Parse or FromEntries and Apply, OptOut, Forget), on the log.
type Contacts interface {
	// Upsert records a person, as a one-row import does: a new contact
	// (source api, with the basis and the source's text as its note), or
	// the person's contact found by user id, username or phone with the
	// new tags and fields merged in. created says which. Errors: a
	// *domain.Error: EINVALID with its Field ("username", "user_id",
	// "phone", "name", "tags", "fields"; none for a person without any
	// of the first three), EFORBIDDEN for a person on the do-not-contact
	// list or erased (nothing is recorded).
	Upsert(ctx context.Context, req ContactUpsert) (c domain.Contact, created bool, err error)
	// Import checks the contacts of a file (CSV) or of entries and,
	// unless req.DryRun, records the valid ones, as salesbot contacts
	// import --partial does (new contacts with source import, the basis
	// and the source's text as their note); the report lists the rows
	// rejected. Errors:
	// a *domain.FileError for a body that is no usable file (not UTF-8,
	// broken CSV, no usable header, no rows, too many); a store's error
	// (the rows recorded stay; importing again completes the rest).
	Import(ctx context.Context, req ImportRequest) (ImportReport, error)
	// Contact returns a contact by its id; none is an error matching
	// projections.ErrNotFound.
	Contact(ctx context.Context, id uuid.UUID) (domain.Contact, error)
	// ContactOfUsername returns the contact a username (without @) is
	// linked to; none is an error matching projections.ErrNotFound.
	ContactOfUsername(ctx context.Context, username string) (domain.Contact, error)
	// OptOut puts the person of an existing contact on the
	// do-not-contact list (every contact of theirs) and ends their open
	// dialogs at once, as salesbot contacts optout does; it returns the
	// numbers of the dialogs it ended (none when they were on the list
	// already).
	OptOut(ctx context.Context, id uuid.UUID, by, reason string) (ended []int64, err error)
	// Forget erases an existing contact and its twins (the same person),
	// as salesbot contacts forget does: their open dialogs end and their
	// personal data becomes unreadable; it returns the contacts erased.
	// Forgetting again repeats only the key deletion.
	Forget(ctx context.Context, id uuid.UUID, by string) (erased []uuid.UUID, err error)
}

// ContactUpsert is a person to record (Contacts.Upsert).
type ContactUpsert struct {
	Row    domain.ImportRow // the person, as an import's row: checked by domain.ValidateImportRow
	Basis  domain.Basis
	Source string // where the person came from, in words (the contact's note)
	By     string // the token: "token:sb_..."
}

// ImportRequest is a list of contacts to import (Contacts.Import): a
// file, or entries.
type ImportRequest struct {
	CSV     io.Reader     // a contacts file, as salesbot contacts import reads it; nil: Entries
	Entries []ImportEntry // the JSON's contacts, in order
	Basis   domain.Basis
	Source  string // where the list came from, in words (each new contact's note)
	By      string
	DryRun  bool // check only: nothing is recorded
}

// ImportEntry is one contact of a JSON import: its cells, or why they
// could not be read.
type ImportEntry struct {
	Row domain.ImportRow
	Err error // a *domain.Error naming the field; nil: Row is checked
}

// ImportReport is what an import did (or, for a dry run, would do).
type ImportReport struct {
	Import   *string     `json:"import"` // the import's id (imp-...): a campaign's segment may name it; null for a dry run
	DryRun   bool        `json:"dry_run"`
	Applied  bool        `json:"applied"` // the valid rows were recorded
	Rows     int         `json:"rows"`
	Valid    int         `json:"valid"` // rows that passed the checks
	Accepted int         `json:"accepted"`
	Merged   int         `json:"merged"`
	InFile   int         `json:"merged_in_file"`
	Changed  int         `json:"merged_changed"`
	OptedOut int         `json:"skipped_do_not_contact"`
	Erased   int         `json:"skipped_erased"`
	Rejected []Rejection `json:"rejected"` // in row order; [] when none
	Seconds  float64     `json:"seconds"`
}

// Rejection is a row an import did not record, and why.
type Rejection struct {
	Row    int     `json:"row"`   // the row's number among the data rows (1-based): a JSON contact's position
	Line   *int    `json:"line"`  // where the row starts in a CSV file; null for JSON
	Field  *string `json:"field"` // the field at fault, when one is
	Reason string  `json:"reason"`
}

// Contact is a contact as the API shows it. Personal fields (user_id,
// username, phone, name, the fields' values) are null once the contact
// is erased.
type Contact struct {
	ID          uuid.UUID         `json:"id"`
	Source      string            `json:"source"`
	Basis       string            `json:"basis"`
	UserID      *int64            `json:"user_id"`
	Username    *string           `json:"username"`
	Phone       *string           `json:"phone"`
	Name        *string           `json:"name"`
	Tags        []string          `json:"tags"`
	Fields      map[string]string `json:"fields"`
	Import      *string           `json:"import"`
	OptedOut    bool              `json:"opted_out"`
	OptedOutAt  *time.Time        `json:"opted_out_at"`
	Forgotten   bool              `json:"forgotten"`
	Unreachable *string           `json:"unreachable"`
}

func contactOf(c domain.Contact) Contact {
	out := Contact{ID: c.ID, Source: string(c.Source), Basis: string(c.Basis), Tags: append([]string{}, c.Tags...), Fields: map[string]string{},
		Import: stringOrNil(c.Import), OptedOut: c.OptedOut, OptedOutAt: TimeOrNil(c.OptedOutAt), Forgotten: c.Forgotten, Unreachable: stringOrNil(c.Unreachable)}
	if c.Forgotten {
		return out // what the log still holds of the person reads as forgotten
	}
	if c.UserID != 0 {
		out.UserID = &c.UserID
	}
	out.Username, out.Phone, out.Name = stringOrNil(c.Username), stringOrNil(c.Phone), stringOrNil(c.Name)
	for _, f := range c.Fields {
		out.Fields[f.Name] = f.Value
	}
	return out
}

// ContactRequest is one contact of POST /api/v1/contacts (with Source
// and Basis) and of an import's JSON (without).
type ContactRequest struct {
	Username string            `json:"username"`
	UserID   int64             `json:"user_id"`
	Phone    string            `json:"phone"`
	Name     string            `json:"name"`
	Tags     []string          `json:"tags"`
	Fields   map[string]string `json:"fields"`
	Source   string            `json:"source"`
	Basis    string            `json:"basis"`
}

// personFields are the fields of a ContactRequest that an import's
// contact has.
var personFields = []string{"username", "user_id", "phone", "name", "tags", "fields"}

// row is the request's person as an import's row.
func (c ContactRequest) row() domain.ImportRow {
	row := domain.ImportRow{Username: c.Username, Phone: c.Phone, Name: c.Name, Tags: strings.Join(c.Tags, ",")}
	if c.UserID != 0 {
		row.UserID = strconv.FormatInt(c.UserID, 10)
	}
	for _, name := range sortedKeys(c.Fields) {
		row.Fields = append(row.Fields, domain.ContactField{Name: name, Value: c.Fields[name]})
	}
	return row
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// routeContacts serves the contacts' endpoints, if the API has
// Config.Contacts.
func (a *API) routeContacts() {
	if a.cfg.Contacts == nil {
		return
	}
	a.route("POST /api/v1/contacts", domain.ScopeManage, a.upsertContact)
	a.route(importPattern, domain.ScopeManage, a.importContacts)
	a.route("GET /api/v1/contacts/{id}", domain.ScopeRead, a.getContact)
	a.route("POST /api/v1/contacts/{id}/opt-out", domain.ScopeManage, a.optOutContact)
	a.route("POST /api/v1/contacts/{id}/forget", domain.ScopeAdmin, a.forgetContact)
}

// origin reads where contacts came from and their lawful basis, both
// required: a contact enters only with a recorded source and basis.
func origin(source, basis string) (string, domain.Basis, []FieldError) {
	var bad []FieldError
	source = strings.TrimSpace(source)
	if source == "" {
		bad = append(bad, FieldError{"source", "required: where the contact came from, e.g. \"CRM export, Berlin fair 2026\""})
	}
	b, err := domain.ParseBasis(basis)
	if err != nil {
		bad = append(bad, FieldError{"basis", err.Error()})
	}
	return source, b, bad
}

// upsertContact: POST /api/v1/contacts.
func (a *API) upsertContact(r *http.Request, p domain.Principal) (any, error) {
	var req ContactRequest
	if err := decode(r, &req, append(personFields, "source", "basis")...); err != nil {
		return nil, err
	}
	source, basis, bad := origin(req.Source, req.Basis)
	if len(bad) > 0 {
		return nil, problemError{invalid("a contact needs its source and lawful basis", bad...)}
	}
	c, _, err := a.cfg.Contacts.Upsert(r.Context(), ContactUpsert{Row: req.row(), Basis: basis, Source: source, By: p.Actor()})
	if err != nil {
		return nil, err
	}
	return contactOf(c), nil
}

// importContacts: POST /api/v1/contacts/import.
func (a *API) importContacts(r *http.Request, p domain.Principal) (any, error) {
	q := r.URL.Query()
	source, basis, bad := origin(q.Get("source"), q.Get("basis"))
	req := ImportRequest{Basis: basis, Source: source, By: p.Actor()}
	switch v := q.Get("dry_run"); v {
	case "", "false":
	case "true":
		req.DryRun = true
	default:
		bad = append(bad, FieldError{"dry_run", "true or false"})
	}
	if len(bad) > 0 {
		return nil, problemError{invalid("bad query parameters", bad...)}
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err == nil && mt == "text/csv":
		req.CSV = r.Body
	case err == nil && mt == "application/json":
		body, err := io.ReadAll(r.Body) // bounded by MaxImportBody (idempotent)
		if err != nil {
			return nil, problemError{invalid("the body could not be read")}
		}
		if req.Entries, err = entries(body); err != nil {
			return nil, err
		}
	default:
		return nil, problemError{Problem{Type: TypeMediaType, Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType,
			Detail: "the body must be text/csv (a contacts file) or application/json (its contacts)"}}
	}
	rep, err := a.cfg.Contacts.Import(r.Context(), req)
	var fe *domain.FileError
	if errors.As(err, &fe) {
		return nil, problemError{badField("body", "%s; nothing was imported", fe.Reason())}
	}
	if err != nil {
		return nil, err
	}
	if rep.Rejected == nil {
		rep.Rejected = []Rejection{}
	}
	return rep, nil
}

// entries reads an import's JSON: an array of contacts, or an object
// {"contacts": [...]}. A contact that cannot be read (not an object, an
// unknown field, a field of the wrong type) is kept with why, so that
// the report names it and the rest are imported.
func entries(body []byte) ([]ImportEntry, error) {
	var items []json.RawMessage
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		var obj map[string]json.RawMessage
		if err := strictJSON(body, &obj); err != nil {
			return nil, problemError{invalid("the body is not JSON: send an array of contacts or {\"contacts\": [...]}")}
		}
		for k := range obj {
			if k != "contacts" {
				return nil, problemError{badField(k, "unknown field; this takes contacts")}
			}
		}
		body = obj["contacts"]
		if body == nil {
			return nil, problemError{badField("contacts", "required: an array of contacts")}
		}
	}
	if err := strictJSON(body, &items); err != nil || items == nil {
		return nil, problemError{badField("contacts", "must be an array of contacts")}
	}
	out := make([]ImportEntry, len(items))
	for i, raw := range items {
		var c ContactRequest
		if err := decodeEntry(raw, &c); err != nil {
			out[i].Err = err
			continue
		}
		out[i].Row = c.row()
	}
	return out, nil
}

// strictJSON decodes one JSON value and nothing after it.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more after the value")
	}
	return nil
}

// decodeEntry reads one contact of an import's JSON strictly; its error
// is an EINVALID *domain.Error naming the field at fault.
func decodeEntry(raw json.RawMessage, c *ContactRequest) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return &domain.Error{Code: domain.EINVALID, Message: "not a JSON object"}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(personFields, k) {
			return &domain.Error{Code: domain.EINVALID, Field: k, Message: fmt.Sprintf("unknown field %q; a contact takes %s", clipField(k), strings.Join(personFields, ", "))}
		}
	}
	var te *json.UnmarshalTypeError
	if err := json.Unmarshal(raw, c); errors.As(err, &te) {
		return &domain.Error{Code: domain.EINVALID, Field: te.Field, Message: fmt.Sprintf("%s must be a %s", te.Field, jsonKind(te.Type.Kind().String()))}
	} else if err != nil {
		return &domain.Error{Code: domain.EINVALID, Message: "not a JSON object"}
	}
	return nil
}

// clipField shortens a field name quoted back, so that a huge one stays
// readable.
func clipField(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}

// contactRef finds the contact the path's id names: its id (a UUID) or
// @username.
func (a *API) contactRef(r *http.Request) (domain.Contact, error) {
	ref := r.PathValue("id")
	var c domain.Contact
	var err error
	if u, ok := strings.CutPrefix(ref, "@"); ok {
		name, valid := domain.NormalizeUsername(u)
		if !valid {
			return c, problemError{badField("id", "a contact's id (a UUID) or @username (5 to 32 letters, digits or _)")}
		}
		c, err = a.cfg.Contacts.ContactOfUsername(r.Context(), name)
	} else {
		id, perr := uuid.Parse(ref)
		if perr != nil {
			return c, problemError{badField("id", "a contact's id (a UUID) or @username")}
		}
		c, err = a.cfg.Contacts.Contact(r.Context(), id)
	}
	if errors.Is(err, projections.ErrNotFound) {
		return c, problemError{Problem{Type: TypeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: "no contact has that id or username"}}
	}
	return c, err
}

// getContact: GET /api/v1/contacts/{id}.
func (a *API) getContact(r *http.Request, _ domain.Principal) (any, error) {
	c, err := a.contactRef(r)
	if err != nil {
		return nil, err
	}
	return contactOf(c), nil
}

// OptOutRequest is the body of POST /api/v1/contacts/{id}/opt-out (it
// may be left out).
type OptOutRequest struct {
	Reason string `json:"reason"`
}

// OptedOut is the answer of an opt-out: the contact, and the dialogs it
// ended.
type OptedOut struct {
	Contact Contact `json:"contact"`
	Ended   []int64 `json:"ended_dialogs"`
}

// optOutContact: POST /api/v1/contacts/{id}/opt-out.
func (a *API) optOutContact(r *http.Request, p domain.Principal) (any, error) {
	var req OptOutRequest
	body, err := io.ReadAll(r.Body) // bounded by MaxBody (idempotent)
	if err != nil {
		return nil, problemError{invalid("the body could not be read")}
	}
	if len(bytes.TrimSpace(body)) > 0 { // a body is optional
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := decode(r, &req, "reason"); err != nil {
			return nil, err
		}
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if n := utf8.RuneCountInString(req.Reason); n > MaxOptOutReason {
		return nil, problemError{badField("reason", "at most %d characters, got %d", MaxOptOutReason, n)}
	}
	c, err := a.contactRef(r)
	if err != nil {
		return nil, err
	}
	ended, err := a.cfg.Contacts.OptOut(r.Context(), c.ID, p.Actor(), req.Reason)
	if err != nil {
		return nil, err
	}
	if err := a.fresh(r.Context()); err != nil {
		return nil, err
	}
	if c, err = a.cfg.Contacts.Contact(r.Context(), c.ID); err != nil {
		return nil, err
	}
	return OptedOut{Contact: contactOf(c), Ended: append([]int64{}, ended...)}, nil
}

// Forgotten is the answer of an erasure: the contacts erased.
type Forgotten struct {
	Erased []uuid.UUID `json:"erased"`
}

// forgetContact: POST /api/v1/contacts/{id}/forget.
func (a *API) forgetContact(r *http.Request, p domain.Principal) (any, error) {
	c, err := a.contactRef(r)
	if err != nil {
		return nil, err
	}
	erased, err := a.cfg.Contacts.Forget(r.Context(), c.ID, p.Actor())
	if err != nil {
		return nil, err
	}
	if err := a.fresh(r.Context()); err != nil { // the read models blank the person's rows
		return nil, err
	}
	return Forgotten{Erased: append([]uuid.UUID{}, erased...)}, nil
}
