package domain

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Source says where a contact came from; a contact enters only with one.
type Source string

const (
	SourceImport  Source = "import"  // a contacts file
	SourceAPI     Source = "api"     // an API call
	SourceInbound Source = "inbound" // the person wrote to one of our accounts
	SourceManual  Source = "manual"  // a manager's /start
)

func (s Source) valid() bool {
	switch s {
	case SourceImport, SourceAPI, SourceInbound, SourceManual:
		return true
	}
	return false
}

// Basis is the lawful basis for processing the contact's data.
type Basis string

const (
	BasisConsent            Basis = "consent"
	BasisContract           Basis = "contract"
	BasisLegitimateInterest Basis = "legitimate-interest"
)

func (b Basis) valid() bool {
	switch b {
	case BasisConsent, BasisContract, BasisLegitimateInterest:
		return true
	}
	return false
}

// ParseBasis reads a lawful basis as a person types it: consent,
// contract or legitimate-interest, in any case, spaces around ignored.
// Anything else (none included) is a *Error with code EINVALID and Field
// "basis".
func ParseBasis(s string) (Basis, error) {
	switch b := Basis(strings.ToLower(strings.TrimSpace(s))); {
	case b.valid():
		return b, nil
	case b == "":
		return "", fieldErrorf(EINVALID, "basis", "a lawful basis is required: consent, contract or legitimate-interest")
	}
	return "", fieldErrorf(EINVALID, "basis", "%q is not consent, contract or legitimate-interest", s)
}

// Contact is a person we may talk to, as its events leave it.
type Contact struct {
	ID       uuid.UUID
	Exists   bool
	Source   Source
	Basis    Basis
	UserID   int64  // Telegram user id, 0 if not known yet
	Username string // without @
	Phone    string
	Name     string
	// Note is ContactAdded's note (where the contact came from, a
	// manager's words about the person): personal data, gone on erasure.
	Note string
	// Tags are normalised labels (lower-case, trimmed, unique, sorted) for
	// segments; not personal data: they stay readable after erasure.
	Tags []string
	// Fields are custom fields by name (the columns of an import), in the
	// order they were first recorded; their values are personal data.
	Fields []ContactField
	// Import is the import the contact came from ("imp-<uuid>"), if any.
	Import    string
	OptedOut  bool // on the global do-not-contact list
	Forgotten bool // erased: personal data is gone
	// Unreachable is why Telegram refused delivery (USER_IS_BLOCKED,
	// USER_PRIVACY_RESTRICTED, ...); no account writes to the contact then.
	Unreachable string
	OptedOutAt  time.Time
}

// ContactField is a custom field of a contact: a name from an import's
// header ([a-z][a-z0-9_]*) and the person's value.
type ContactField struct {
	Name  string `json:"name"`
	Value string `json:"value" personal:"value"`
}

// Field returns the value of the custom field name, if the contact has it.
func (c Contact) Field(name string) (string, bool) {
	for _, f := range c.Fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// HasTag says whether the contact has tag (compared normalised).
func (c Contact) HasTag(tag string) bool {
	_, found := slices.BinarySearch(c.Tags, normalizeTag(tag))
	return found
}

// Contactable says whether an account may write to the contact.
func (c Contact) Contactable() error {
	switch {
	case !c.Exists:
		return errorf(EINVALID, "unknown contact")
	case c.Forgotten:
		return errorf(EFORBIDDEN, "the contact was erased")
	case c.OptedOut:
		return errorf(EFORBIDDEN, "the contact is on the do-not-contact list")
	case c.Unreachable != "":
		return errorf(EFORBIDDEN, "Telegram refused delivery to the contact (%s)", c.Unreachable)
	}
	return nil
}

// Contact commands.
type (
	// AddContact records a new contact with its source and lawful basis.
	AddContact struct {
		ContactID uuid.UUID
		Source    Source
		Basis     Basis
		Note      string // where exactly: file name, API client, admin id
		UserID    int64
		Username  string
		Phone     string
		Name      string
		Tags      []string       // normalised on the way in (NormalizeTags)
		Fields    []ContactField // custom fields; a name given twice is invalid
		Import    string         // the import's id, for imports
	}
	// MergeContact adds what an import knows about a contact it found
	// already (a duplicate): new tags, and custom fields (a field of the
	// same name is replaced). Never on an opted-out or erased contact.
	// Nothing new records nothing.
	MergeContact struct {
		Tags   []string
		Fields []ContactField
		Import string
	}
	// OptOutContact puts the contact on the do-not-contact list.
	OptOutContact struct {
		Reason string // the lead's words or the manager's note
		By     string // "lead", "ai", "admin:<id>"
	}
	// ForgetContact erases the contact (crypto-shredding happens in the
	// store); the contact stays on the do-not-contact list.
	ForgetContact struct{ By string }
	// SetTelegramUser records the Telegram user a contact turned out to be
	// (found by username); from then on messages go to that user even if
	// the username passes to someone else.
	SetTelegramUser struct{ UserID int64 }
	// MarkContactUnreachable records that Telegram refused delivery; no
	// account writes to the contact again (moving to another account
	// would dodge the person's own choice).
	MarkContactUnreachable struct{ Reason string }
)

// Contact events.
type (
	// ContactAdded: Note is free text (a manager's /start note, an
	// import's source) that may name or describe the person, so it is
	// personal data. Events recorded before it was hold it in the
	// payload, in clear, and still read so.
	ContactAdded struct {
		ContactID uuid.UUID      `json:"contact_id"`
		Source    Source         `json:"source"`
		Basis     Basis          `json:"basis"`
		Note      string         `json:"note,omitempty" personal:"note"`
		UserID    int64          `json:"user_id,omitempty" personal:"user_id"`
		Username  string         `json:"username,omitempty" personal:"username"`
		Phone     string         `json:"phone,omitempty" personal:"phone"`
		Name      string         `json:"name,omitempty" personal:"name"`
		Tags      []string       `json:"tags,omitempty"`
		Fields    []ContactField `json:"fields,omitempty"`
		Import    string         `json:"import,omitempty"`
	}
	// ContactMerged: an import found the contact again and added tags
	// and fields (the new and changed ones only).
	ContactMerged struct {
		Tags   []string       `json:"tags,omitempty"`
		Fields []ContactField `json:"fields,omitempty"`
		Import string         `json:"import,omitempty"`
	}
	ContactOptedOut struct {
		Reason string    `json:"reason,omitempty" personal:"reason"`
		By     string    `json:"by"`
		At     time.Time `json:"at"`
	}
	ContactForgotten struct {
		By string    `json:"by"`
		At time.Time `json:"at"`
	}
	ContactUnreachable struct {
		Reason string    `json:"reason"`
		At     time.Time `json:"at"`
	}
	ContactTelegramUserSet struct {
		UserID int64 `json:"user_id,omitempty" personal:"user_id"`
	}
)

func (ContactAdded) EventType() string           { return "ContactAdded" }
func (ContactMerged) EventType() string          { return "ContactMerged" }
func (ContactOptedOut) EventType() string        { return "ContactOptedOut" }
func (ContactForgotten) EventType() string       { return "ContactForgotten" }
func (ContactUnreachable) EventType() string     { return "ContactUnreachable" }
func (ContactTelegramUserSet) EventType() string { return "ContactTelegramUserSet" }

// ContactCommand is a command on a contact.
type ContactCommand interface{ contactCommand() }

func (AddContact) contactCommand()             {}
func (MergeContact) contactCommand()           {}
func (OptOutContact) contactCommand()          {}
func (ForgetContact) contactCommand()          {}
func (MarkContactUnreachable) contactCommand() {}
func (SetTelegramUser) contactCommand()        {}

// DecideContact decides what a command does to a contact.
func DecideContact(c Contact, cmd ContactCommand, now time.Time) ([]Event, error) {
	switch cmd := cmd.(type) {
	case AddContact:
		if c.Exists {
			return nil, errorf(ESTATE, "contact %s already exists", c.ID)
		}
		if cmd.ContactID == uuid.Nil {
			return nil, errorf(EINVALID, "contact id is missing")
		}
		if !cmd.Source.valid() {
			return nil, errorf(EINVALID, "source %q is not one of import, api, inbound, manual", cmd.Source)
		}
		if !cmd.Basis.valid() {
			return nil, errorf(EINVALID, "lawful basis %q is not one of consent, contract, legitimate-interest", cmd.Basis)
		}
		username := strings.TrimPrefix(strings.TrimSpace(cmd.Username), "@")
		if cmd.UserID == 0 && username == "" && strings.TrimSpace(cmd.Phone) == "" {
			return nil, errorf(EINVALID, "a contact needs a Telegram user id, a username or a phone")
		}
		tags, err := checkTags(cmd.Tags)
		if err != nil {
			return nil, err
		}
		fields, err := checkFields(cmd.Fields)
		if err != nil {
			return nil, err
		}
		if err := checkImportID(cmd.Import); err != nil {
			return nil, err
		}
		return []Event{ContactAdded{
			ContactID: cmd.ContactID, Source: cmd.Source, Basis: cmd.Basis, Note: cmd.Note,
			UserID: cmd.UserID, Username: username, Phone: strings.TrimSpace(cmd.Phone), Name: strings.TrimSpace(cmd.Name),
			Tags: tags, Fields: fields, Import: cmd.Import,
		}}, nil
	case MergeContact:
		switch {
		case !c.Exists:
			return nil, errorf(EINVALID, "unknown contact")
		case c.Forgotten:
			return nil, errorf(EFORBIDDEN, "the contact was erased")
		case c.OptedOut:
			return nil, errorf(EFORBIDDEN, "the contact is on the do-not-contact list")
		}
		tags, err := checkTags(cmd.Tags)
		if err != nil {
			return nil, err
		}
		fields, err := checkFields(cmd.Fields)
		if err != nil {
			return nil, err
		}
		if err := checkImportID(cmd.Import); err != nil {
			return nil, err
		}
		var e ContactMerged
		for _, t := range tags {
			if !c.HasTag(t) {
				e.Tags = append(e.Tags, t)
			}
		}
		for _, f := range fields {
			if v, ok := c.Field(f.Name); !ok || v != f.Value {
				e.Fields = append(e.Fields, f)
			}
		}
		if len(e.Tags) == 0 && len(e.Fields) == 0 {
			return nil, nil // a re-import: nothing new
		}
		e.Import = cmd.Import
		if len(c.Tags)+len(e.Tags) > MaxTags {
			return nil, errorf(EINVALID, "a contact has at most %d tags", MaxTags)
		}
		if n := len(c.Fields) + countNew(c, e.Fields); n > MaxFields {
			return nil, errorf(EINVALID, "a contact has at most %d custom fields", MaxFields)
		}
		return []Event{e}, nil
	case OptOutContact:
		if !c.Exists {
			return nil, errorf(EINVALID, "unknown contact")
		}
		if c.OptedOut {
			return nil, nil // already on the list: nothing to record
		}
		return []Event{ContactOptedOut{Reason: cmd.Reason, By: cmd.By, At: now}}, nil
	case ForgetContact:
		if !c.Exists {
			return nil, errorf(EINVALID, "unknown contact")
		}
		if c.Forgotten {
			return nil, nil
		}
		evs := []Event{}
		if !c.OptedOut { // an erased contact is never written to again
			evs = append(evs, ContactOptedOut{Reason: "erased", By: cmd.By, At: now})
		}
		return append(evs, ContactForgotten{By: cmd.By, At: now}), nil
	case SetTelegramUser:
		switch {
		case !c.Exists:
			return nil, errorf(EINVALID, "unknown contact")
		case c.Forgotten:
			return nil, nil // nothing personal is recorded for an erased contact
		case cmd.UserID <= 0:
			return nil, errorf(EINVALID, "a Telegram user id is positive")
		case c.UserID == cmd.UserID:
			return nil, nil
		case c.UserID != 0:
			return nil, errorf(ESTATE, "the contact is Telegram user %d already", c.UserID)
		}
		return []Event{ContactTelegramUserSet{UserID: cmd.UserID}}, nil
	case MarkContactUnreachable:
		if !c.Exists {
			return nil, errorf(EINVALID, "unknown contact")
		}
		if c.Unreachable != "" {
			return nil, nil
		}
		if strings.TrimSpace(cmd.Reason) == "" {
			return nil, errorf(EINVALID, "say why the contact is unreachable")
		}
		return []Event{ContactUnreachable{Reason: cmd.Reason, At: now}}, nil
	}
	return nil, errorf(EINVALID, "unknown contact command %T", cmd)
}

// EvolveContact applies one event.
func EvolveContact(c Contact, e Event) Contact {
	switch e := e.(type) {
	case ContactAdded:
		c = Contact{
			ID: e.ContactID, Exists: true, Source: e.Source, Basis: e.Basis,
			UserID: e.UserID, Username: e.Username, Phone: e.Phone, Name: e.Name, Note: e.Note,
			Tags: e.Tags, Fields: e.Fields, Import: e.Import,
		}
	case ContactMerged:
		// Copies: states are shared through the cache, never changed.
		if len(e.Tags) > 0 {
			tags := append(slices.Clone(c.Tags), e.Tags...)
			slices.Sort(tags)
			c.Tags = slices.Compact(tags)
		}
		if len(e.Fields) > 0 {
			fields := slices.Clone(c.Fields)
			for _, f := range e.Fields {
				if i := slices.IndexFunc(fields, func(g ContactField) bool { return g.Name == f.Name }); i >= 0 {
					fields[i] = f
				} else {
					fields = append(fields, f)
				}
			}
			c.Fields = fields
		}
	case ContactOptedOut:
		c.OptedOut, c.OptedOutAt = true, e.At
	case ContactUnreachable:
		c.Unreachable = e.Reason
	case ContactTelegramUserSet:
		c.UserID = e.UserID
	case ContactForgotten:
		c.Forgotten = true
		c.Username, c.Phone, c.Name, c.Note = "", "", "", ""
		c.Fields = nil // the values are personal; tags are not
	}
	return c
}
