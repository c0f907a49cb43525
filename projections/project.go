package projections

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// Change is one row change. Sinks apply each kind.
type Change interface{ change() }

type (
	PutContact     struct{ Contact Contact }
	OptOutContact  struct{ ID uuid.UUID }
	ForgetContact  struct{ ID uuid.UUID } // blanks the contact and its messages
	PutDialog      struct{ Dialog Dialog }
	PutMessage     struct{ Message Message }
	SetMessageSent struct {
		DialogID   uuid.UUID
		RandomID   int64
		Status     string // sent, failed
		TelegramID int64
	}
	// UpdateDialog changes the fields that are set.
	UpdateDialog struct {
		ID            uuid.UUID
		Stage         *string
		Status        *string
		Outcome       *string
		Score         *int
		TakenOver     *bool
		AddInbound    int
		AddOutbound   int
		LastMessageAt time.Time // zero: unchanged
		At            time.Time
	}
)

func (PutContact) change()     {}
func (OptOutContact) change()  {}
func (ForgetContact) change()  {}
func (PutDialog) change()      {}
func (PutMessage) change()     {}
func (SetMessageSent) change() {}
func (UpdateDialog) change()   {}

// Placed is where an event is in the log.
type Placed struct {
	Stream   string
	Position uint64
	At       time.Time
}

// Project is the projector: the row changes one event makes. It reads
// nothing, so projecting the same log always gives the same rows.
func Project(p Placed, e domain.Event) []Change {
	id := streamID(p.Stream)
	str := func(s string) *string { return &s }
	switch e := e.(type) {
	case domain.ContactAdded:
		return []Change{PutContact{Contact{ID: e.ContactID, Source: string(e.Source), Basis: string(e.Basis),
			Username: e.Username, Name: e.Name, Phone: e.Phone, CreatedAt: p.At}}}
	case domain.ContactOptedOut:
		return []Change{OptOutContact{ID: id}}
	case domain.ContactForgotten:
		return []Change{ForgetContact{ID: id}}
	case domain.DialogStarted:
		return []Change{PutDialog{Dialog{ID: e.DialogID, N: e.N, ContactID: e.ContactID, AccountID: e.AccountID,
			Variant: e.Variant, Stage: string(domain.StageOpening), Status: StatusActive, CreatedAt: p.At, UpdatedAt: p.At}}}
	case domain.InboundReceived:
		return []Change{
			PutMessage{Message{DialogID: id, Position: p.Position, Direction: "in", Author: "lead", Text: e.Text, At: e.At, TelegramID: e.TelegramMessageID, Status: "received"}},
			UpdateDialog{ID: id, AddInbound: 1, LastMessageAt: e.At, At: p.At},
		}
	case domain.OutboundPlanned:
		return []Change{PutMessage{Message{DialogID: id, Position: p.Position, Direction: "out", Author: string(e.By), Text: e.Text, At: p.At, RandomID: e.RandomID, Status: "planned"}}}
	case domain.OutboundSent:
		return []Change{
			SetMessageSent{DialogID: id, RandomID: e.RandomID, Status: "sent", TelegramID: e.TelegramMessageID},
			UpdateDialog{ID: id, AddOutbound: 1, LastMessageAt: p.At, At: p.At},
		}
	case domain.OutboundFailed:
		return []Change{SetMessageSent{DialogID: id, RandomID: e.RandomID, Status: "failed"}}
	case domain.QualificationUpdated:
		if e.Qual.Score == nil {
			return []Change{UpdateDialog{ID: id, At: p.At}}
		}
		s := *e.Qual.Score
		return []Change{UpdateDialog{ID: id, Score: &s, At: p.At}}
	case domain.StageChanged:
		u := UpdateDialog{ID: id, Stage: str(string(e.To)), At: p.At}
		if e.To == domain.StageHandoff {
			u.Status = str(StatusHandoff)
		}
		return []Change{u}
	case domain.DialogTakenOver:
		t := true
		return []Change{UpdateDialog{ID: id, TakenOver: &t, Status: str(StatusHandoff), At: p.At}}
	case domain.DialogReleased:
		f := false
		return []Change{UpdateDialog{ID: id, TakenOver: &f, Stage: str(string(e.To)), Status: str(StatusActive), At: p.At}}
	case domain.DialogClosed:
		return []Change{UpdateDialog{ID: id, Stage: str(string(domain.StageClosed)), Status: str(StatusClosed), Outcome: str(string(e.Outcome)), At: p.At}}
	case domain.DialogOptedOut:
		return []Change{UpdateDialog{ID: id, Stage: str(string(domain.StageClosed)), Status: str(StatusClosed), Outcome: str(string(domain.OutcomeOptedOut)), At: p.At}}
	}
	return nil // events without a row in these read models
}

// streamID is the aggregate id in a stream name such as dialog-<uuid>.
func streamID(stream string) uuid.UUID {
	i := strings.IndexByte(stream, '-')
	if i < 0 {
		return uuid.Nil
	}
	id, err := uuid.Parse(stream[i+1:])
	if err != nil {
		return uuid.Nil
	}
	return id
}
