package domain

import (
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

// Contact is a person we may talk to, as its events leave it.
type Contact struct {
	ID        uuid.UUID
	Exists    bool
	Source    Source
	Basis     Basis
	UserID    int64  // Telegram user id, 0 if not known yet
	Username  string // without @
	Phone     string
	Name      string
	OptedOut  bool // on the global do-not-contact list
	Forgotten bool // erased: personal data is gone
	// Unreachable is why Telegram refused delivery (USER_IS_BLOCKED,
	// USER_PRIVACY_RESTRICTED, ...); no account writes to the contact then.
	Unreachable string
	OptedOutAt  time.Time
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
	ContactAdded struct {
		ContactID uuid.UUID `json:"contact_id"`
		Source    Source    `json:"source"`
		Basis     Basis     `json:"basis"`
		Note      string    `json:"note,omitempty"`
		UserID    int64     `json:"user_id,omitempty" personal:"user_id"`
		Username  string    `json:"username,omitempty" personal:"username"`
		Phone     string    `json:"phone,omitempty" personal:"phone"`
		Name      string    `json:"name,omitempty" personal:"name"`
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
func (ContactOptedOut) EventType() string        { return "ContactOptedOut" }
func (ContactForgotten) EventType() string       { return "ContactForgotten" }
func (ContactUnreachable) EventType() string     { return "ContactUnreachable" }
func (ContactTelegramUserSet) EventType() string { return "ContactTelegramUserSet" }

// ContactCommand is a command on a contact.
type ContactCommand interface{ contactCommand() }

func (AddContact) contactCommand()             {}
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
		return []Event{ContactAdded{
			ContactID: cmd.ContactID, Source: cmd.Source, Basis: cmd.Basis, Note: cmd.Note,
			UserID: cmd.UserID, Username: username, Phone: strings.TrimSpace(cmd.Phone), Name: strings.TrimSpace(cmd.Name),
		}}, nil
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
			UserID: e.UserID, Username: e.Username, Phone: e.Phone, Name: e.Name,
		}
	case ContactOptedOut:
		c.OptedOut, c.OptedOutAt = true, e.At
	case ContactUnreachable:
		c.Unreachable = e.Reason
	case ContactTelegramUserSet:
		c.UserID = e.UserID
	case ContactForgotten:
		c.Forgotten = true
		c.Username, c.Phone, c.Name = "", "", ""
	}
	return c
}
