package webhooks

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// The public event types and the log events each stands for. One log
// event is at most one public event; the log's own names stay internal
// (the API's event feed shows them, for auditors), the public names are
// the contract with receivers.
var logTypes = map[string]domain.WebhookEvent{
	"DialogStarted":        domain.WebhookDialogStarted,
	"InboundReceived":      domain.WebhookMessageReceived,
	"OutboundSent":         domain.WebhookMessageSent,
	"OutboundObserved":     domain.WebhookMessageSent, // a person wrote from the account in a Telegram app
	"QualificationUpdated": domain.WebhookLeadQualified,
	"HandoffRequested":     domain.WebhookDialogHandoff,
	"DialogTakenOver":      domain.WebhookDialogTakenOver,
	"DialogClosed":         domain.WebhookDialogClosed,
	"OutcomeRecorded":      domain.WebhookDialogOutcome,
	"MeetingBooked":        domain.WebhookMeetingBooked,
	"ContactOptedOut":      domain.WebhookContactOptedOut,
	"ContactForgotten":     domain.WebhookContactForgotten,
	"AccountConnected":     domain.WebhookAccountStatus,
	"AccountDisconnected":  domain.WebhookAccountStatus,
	"AccountFloodWaited":   domain.WebhookAccountStatus,
	"AccountRestricted":    domain.WebhookAccountStatus,
	"AccountLost":          domain.WebhookAccountStatus,
	"AccountPaused":        domain.WebhookAccountStatus,
	"AccountResumed":       domain.WebhookAccountStatus,
	"AccountRemoved":       domain.WebhookAccountStatus,
}

// EventFor is the public event type a log event of type logType is
// delivered as; ok is false for log events no webhook carries.
func EventFor(logType string) (e domain.WebhookEvent, ok bool) {
	e, ok = logTypes[logType]
	return e, ok
}

// MessageID is the webhook-id of the event at log position pos for
// subscription sub: the same for every attempt and every replay, so a
// receiver drops what it has seen (the spec's idempotency key).
func MessageID(sub uuid.UUID, pos uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], pos)
	id := uuid.NewSHA1(sub, b[:])
	return "msg_" + hex.EncodeToString(id[:])
}

// Payload is a delivery's body: {"type", "timestamp", "data"}, as the
// spec recommends. Timestamp is when the event was recorded, so every
// attempt of one event sends the same body.
type Payload struct {
	Type      domain.WebhookEvent `json:"type"`
	Timestamp string              `json:"timestamp"`
	Data      map[string]any      `json:"data"`
}

// Payloads builds deliveries from log events. Dialog events carry the
// dialog's number, contact and account, read from the dialog's first
// event (kept in a bounded cache); with personal, they carry the
// contact's username and name and the message texts, decoded through
// the event log (an erased contact's read "[forgotten]"). Without it,
// only ids, numbers, statuses and times. It is safe for concurrent use.
type Payloads struct {
	store eventstore.Store
	log   *eventlog.Log

	mu      sync.Mutex
	dialogs map[uuid.UUID]domain.DialogStarted
}

// NewPayloads returns Payloads reading store.
func NewPayloads(store eventstore.Store) *Payloads {
	return &Payloads{store: store, log: eventlog.New(store), dialogs: map[uuid.UUID]domain.DialogStarted{}}
}

// maxDialogCache bounds the cached dialogs (ids and numbers only).
const maxDialogCache = 4096

// Build is the body of r for a subscription that wants the public
// types wants says yes to; ok is false when r is none of them.
func (p *Payloads) Build(ctx context.Context, r *eventstore.RecordedEvent, wants func(domain.WebhookEvent) bool, personal bool) (body []byte, typ domain.WebhookEvent, ok bool, err error) {
	typ, ok = EventFor(r.Type)
	if !ok || !wants(typ) {
		return nil, "", false, nil
	}
	e, err := p.log.Decode(r)
	if err != nil {
		return nil, "", false, fmt.Errorf("webhooks: %w", err)
	}
	data, err := p.data(ctx, r, e, personal)
	if err != nil {
		return nil, "", false, fmt.Errorf("webhooks: %s at position %d: %w", r.Type, r.Position, err)
	}
	body, err = json.Marshal(Payload{Type: typ, Timestamp: r.RecordedAt.UTC().Format(time.RFC3339Nano), Data: data})
	if err != nil {
		return nil, "", false, fmt.Errorf("webhooks: %s at position %d: %w", r.Type, r.Position, err)
	}
	return body, typ, true, nil
}

func (p *Payloads) data(ctx context.Context, r *eventstore.RecordedEvent, e domain.Event, personal bool) (map[string]any, error) {
	d := map[string]any{}
	switch e := e.(type) {
	case domain.DialogStarted:
		p.remember(e)
		d["dialog_id"], d["dialog_n"], d["contact_id"], d["account_id"], d["by"] = e.DialogID, e.N, e.ContactID, e.AccountID, e.By
		if e.Variant != "" {
			d["variant"] = e.Variant
		}
		if e.Campaign != uuid.Nil {
			d["campaign_id"] = e.Campaign
		}
		return d, p.contact(ctx, d, e.ContactID, personal)
	case domain.ContactOptedOut, domain.ContactForgotten:
		id, ok := domain.AggregateContact.ID(r.Stream)
		if !ok {
			return nil, fmt.Errorf("not in a contact's stream")
		}
		d["contact_id"] = id
		switch e := e.(type) {
		case domain.ContactOptedOut:
			d["by"], d["at"] = e.By, e.At.UTC()
			if personal && e.Reason != "" {
				d["reason"] = e.Reason
			}
			return d, p.contact(ctx, d, id, personal)
		case domain.ContactForgotten:
			d["by"], d["at"] = e.By, e.At.UTC()
		}
		return d, nil
	}
	if id, ok := domain.AggregateAccount.ID(r.Stream); ok {
		d["account_id"] = id
		switch e := e.(type) {
		case domain.AccountConnected:
			d["status"] = "connected"
		case domain.AccountDisconnected:
			d["status"], d["reason"] = "disconnected", e.Reason
		case domain.AccountFloodWaited:
			d["status"], d["until"] = "flood_wait", e.Until.UTC()
		case domain.AccountRestricted:
			d["status"], d["reason"] = "restricted", e.Reason
		case domain.AccountLost:
			d["status"], d["reason"] = "lost", e.Reason
		case domain.AccountPaused:
			d["status"], d["by"] = "paused", e.By
		case domain.AccountResumed:
			d["status"], d["by"] = "resumed", e.By
		case domain.AccountRemoved:
			d["status"], d["by"] = "removed", e.By
		}
		if s, _ := d["reason"].(string); s == "" {
			delete(d, "reason")
		}
		return d, nil
	}
	dialog, ok := domain.AggregateDialog.ID(r.Stream)
	if !ok {
		return nil, fmt.Errorf("not in a dialog's, a contact's or an account's stream")
	}
	started, err := p.dialog(ctx, dialog)
	if err != nil {
		return nil, err
	}
	d["dialog_id"], d["dialog_n"], d["contact_id"], d["account_id"] = dialog, started.N, started.ContactID, started.AccountID
	switch e := e.(type) {
	case domain.InboundReceived:
		d["tg_message_id"], d["at"] = e.TelegramMessageID, e.At.UTC()
		if e.Media != nil {
			d["media"] = string(e.Media.Kind)
		}
		if personal {
			d["text"] = e.Text
			if e.Transcript != "" {
				d["transcript"] = e.Transcript
			}
		}
	case domain.OutboundObserved:
		d["tg_message_id"], d["at"], d["by"] = e.TelegramMessageID, e.At.UTC(), "person"
		if personal {
			d["text"] = e.Text
		}
	case domain.OutboundSent:
		d["tg_message_id"], d["random_id"] = e.TelegramMessageID, e.RandomID
		planned, found, err := p.planned(ctx, r.Stream, r.Version, e.RandomID)
		if err != nil {
			return nil, err
		}
		if found {
			d["by"] = string(planned.By)
			if personal {
				d["text"] = planned.Text
			}
		}
	case domain.QualificationUpdated:
		q := e.Qual
		if q.Score != nil {
			d["score"] = *q.Score
		}
		fields := []string{}
		for name, f := range map[string]*domain.Field{"need": q.Need, "budget": q.Budget, "timeline": q.Timeline, "authority": q.Authority} {
			if f != nil {
				fields = append(fields, name)
			}
		}
		for _, c := range q.Custom {
			fields = append(fields, c.Name)
		}
		slices.Sort(fields)
		d["fields"] = fields
		if personal {
			d["qualification"] = q
		}
	case domain.HandoffRequested:
		if personal {
			d["reason"] = e.Reason
		}
	case domain.DialogTakenOver:
		d["by"] = e.By
	case domain.DialogClosed:
		d["outcome"], d["by"] = string(e.Outcome), e.By
		if e.Reason != "" {
			d["reason"] = e.Reason
		}
	case domain.OutcomeRecorded:
		d["outcome"], d["by"] = string(e.Outcome), e.By
		if e.Amount != "" {
			d["amount"], d["currency"] = e.Amount, e.Currency
		}
		if personal && e.Reason != "" {
			d["reason"] = e.Reason
		}
	case domain.MeetingBooked:
		d["start"], d["end"], d["calendar_uid"] = e.Start.UTC(), e.End.UTC(), e.UID
		if e.Manager != "" {
			d["manager"] = e.Manager
		}
		if personal && e.Zone != "" {
			d["zone"] = e.Zone // where the lead is: personal
		}
	}
	return d, p.contact(ctx, d, started.ContactID, personal)
}

// contact adds the contact's username and name to d when personal.
func (p *Payloads) contact(ctx context.Context, d map[string]any, id uuid.UUID, personal bool) error {
	if !personal || id == uuid.Nil {
		return nil
	}
	recs, err := p.store.ReadStream(ctx, domain.ContactStream(id), 1)
	if err != nil {
		return fmt.Errorf("contact %s: %w", id, err)
	}
	for i := range recs {
		if recs[i].Type != "ContactAdded" {
			continue
		}
		e, err := p.log.Decode(&recs[i])
		if err != nil {
			return err
		}
		added := e.(domain.ContactAdded)
		c := map[string]any{}
		if added.Username != "" {
			c["username"] = added.Username
		}
		if added.Name != "" {
			c["name"] = added.Name
		}
		d["contact"] = c
		return nil
	}
	return nil
}

// dialog is the first event of a dialog's stream.
func (p *Payloads) dialog(ctx context.Context, id uuid.UUID) (domain.DialogStarted, error) {
	p.mu.Lock()
	s, ok := p.dialogs[id]
	p.mu.Unlock()
	if ok {
		return s, nil
	}
	recs, err := p.store.ReadStream(ctx, domain.DialogStream(id), 1)
	if err != nil {
		return s, fmt.Errorf("dialog %s: %w", id, err)
	}
	for i := range recs {
		if recs[i].Type == "DialogStarted" {
			e, err := p.log.Decode(&recs[i])
			if err != nil {
				return s, err
			}
			s = e.(domain.DialogStarted)
			p.remember(s)
			return s, nil
		}
	}
	return domain.DialogStarted{DialogID: id}, nil // a dialog whose start is not in the log: ids only
}

func (p *Payloads) remember(s domain.DialogStarted) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.dialogs) >= maxDialogCache {
		clear(p.dialogs)
	}
	p.dialogs[s.DialogID] = s
}

// planned is the OutboundPlanned of randomID before version in stream.
func (p *Payloads) planned(ctx context.Context, stream string, version uint64, randomID int64) (domain.OutboundPlanned, bool, error) {
	recs, err := p.store.ReadStream(ctx, stream, 1)
	if err != nil {
		return domain.OutboundPlanned{}, false, fmt.Errorf("%s: %w", stream, err)
	}
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Version >= version || recs[i].Type != "OutboundPlanned" {
			continue
		}
		e, err := p.log.Decode(&recs[i])
		if err != nil {
			return domain.OutboundPlanned{}, false, err
		}
		if o := e.(domain.OutboundPlanned); o.RandomID == randomID {
			return o, true, nil
		}
	}
	return domain.OutboundPlanned{}, false, nil
}
