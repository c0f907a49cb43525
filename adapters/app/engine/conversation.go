package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// ChatAccount is the account id Conversations record (no Telegram account
// sends their messages).
var ChatAccount = uuid.MustParse("00000000-0000-7000-8000-00000000c4a7")

// Conversation is one dialog driven directly: the lead's messages go in,
// the assistant's come out, through the same turns, guards and events as
// a live dialog, with "sending" recorded at once. It serves `salesbot
// chat` and the golden transcripts. It is not safe for concurrent use.
type Conversation struct {
	core    *Core
	ID      uuid.UUID
	Contact uuid.UUID
	N       int64
	nextMsg int64
}

// ConversationOptions start a Conversation.
type ConversationOptions struct {
	Variant  string // a scenario variant; empty = picked by weight
	Opening  bool   // the assistant writes first (an outbound dialog)
	Username string // the lead's, recorded on the contact (default "chat")
}

// Turn is what one exchange did.
type Turn struct {
	Sent     []domain.OutboundPlanned // what the assistant sent, in order
	Refused  []string                 // planned messages the rules stopped, with why
	Taken    *domain.TurnTaken        // nil when no turn was taken
	Events   []domain.Event
	Dialog   domain.Dialog
	Handoff  string // the handoff reason, if the turn handed off
	OptedOut bool   // the lead opted out: the dialog is closed, the contact on the do-not-contact list
	Failure  error  // the model could not be reached
}

// StartConversation records a contact (source manual, "salesbot chat")
// and a dialog, and with Opening takes the opening turn.
func StartConversation(ctx context.Context, core *Core, opts ConversationOptions) (*Conversation, Turn, error) {
	h := core.H
	c := &Conversation{core: core, ID: newID(), Contact: newID()}
	if opts.Username == "" {
		opts.Username = "chat"
	}
	if _, err := h.Contact(ctx, c.Contact, domain.AddContact{ContactID: c.Contact, Source: domain.SourceManual,
		Basis: domain.BasisLegitimateInterest, Note: "salesbot chat", Username: opts.Username}); err != nil {
		return nil, Turn{}, fmt.Errorf("engine: record the chat contact: %w", err)
	}
	contact, err := h.LoadContact(ctx, c.Contact)
	if err != nil {
		return nil, Turn{}, err
	}
	if c.N, err = h.NextDialogNumber(ctx, c.ID); err != nil {
		return nil, Turn{}, err
	}
	by := "inbound"
	if opts.Opening {
		by = "chat"
	}
	if _, err := h.Dialog(ctx, c.ID, c.Contact, domain.StartDialog{DialogID: c.ID, N: c.N, Contact: contact, AccountID: ChatAccount, Variant: opts.Variant, By: by}); err != nil {
		return nil, Turn{}, fmt.Errorf("engine: start the chat dialog: %w", err)
	}
	if !opts.Opening {
		d, err := h.LoadDialog(ctx, c.ID)
		return c, Turn{Dialog: d}, err
	}
	t, err := c.take(ctx, domain.TurnOpening)
	return c, t, err
}

// Say records the lead's messages (a burst: several at once get one
// answer) and takes the reply turn.
func (c *Conversation) Say(ctx context.Context, msgs ...string) (Turn, error) {
	h := c.core.H
	for _, m := range msgs {
		c.nextMsg++
		if _, err := h.Dialog(ctx, c.ID, c.Contact, domain.RecordInbound{TelegramMessageID: c.nextMsg, Text: m, At: h.Now()}); err != nil {
			return Turn{}, fmt.Errorf("engine: record the lead's message: %w", err)
		}
	}
	return c.take(ctx, domain.TurnReply)
}

// FollowUp takes a follow-up turn, as the engine does after silence.
func (c *Conversation) FollowUp(ctx context.Context) (Turn, error) {
	return c.take(ctx, domain.TurnFollowUp)
}

func (c *Conversation) take(ctx context.Context, kind domain.TurnKind) (Turn, error) {
	out, err := c.core.Turn(ctx, c.ID, kind, c.core.H.Now())
	if err != nil {
		return Turn{}, err
	}
	t := Turn{Events: out.Events, Dialog: out.Dialog, Failure: out.Failure}
	for _, e := range out.Events {
		switch e := e.(type) {
		case domain.TurnTaken:
			t.Taken = &e
		case domain.HandoffRequested:
			t.Handoff = e.Reason
		case domain.DialogOptedOut:
			t.OptedOut = true
		}
	}
	if err := c.deliver(ctx, &t); err != nil {
		return t, err
	}
	t.Dialog, err = c.core.H.LoadDialog(ctx, c.ID)
	return t, err
}

// deliver "sends" what the turn planned, with the outbox's rules.
func (c *Conversation) deliver(ctx context.Context, t *Turn) error {
	h := c.core.H
	for _, e := range t.Events {
		p, ok := e.(domain.OutboundPlanned)
		if !ok {
			continue
		}
		d, err := h.LoadDialog(ctx, c.ID)
		if err != nil {
			return err
		}
		contact, err := h.LoadContact(ctx, c.Contact)
		if err != nil {
			return err
		}
		if why := d.SendRefusal(p.RandomID, p.By, contact); why != "" {
			t.Refused = append(t.Refused, why)
			if _, err := h.Dialog(ctx, c.ID, c.Contact, domain.MarkFailed{RandomID: p.RandomID, Reason: why}); err != nil {
				return err
			}
			continue
		}
		c.nextMsg++
		if _, err := h.Dialog(ctx, c.ID, c.Contact, domain.MarkSent{RandomID: p.RandomID, TelegramMessageID: c.nextMsg}); err != nil {
			return err
		}
		t.Sent = append(t.Sent, p)
	}
	return nil
}

// Acted says whether the exchange did anything (took a turn, sent,
// recorded an opt-out, met a failing model).
func (t Turn) Acted() bool { return t.Taken != nil || len(t.Events) > 0 || t.Failure != nil }

// Describe is the dialog's state in a few lines: the stage, the
// qualification with the lead's quotes, the score, and what the turn
// flagged, what the guards did and any handoff.
func Describe(t Turn) string {
	var b strings.Builder
	d := t.Dialog
	fmt.Fprintf(&b, "stage: %s", d.Stage)
	if d.Stage == domain.StageClosed {
		fmt.Fprintf(&b, " (%s)", d.Outcome)
	}
	if d.Qual.Score != nil {
		fmt.Fprintf(&b, " · score: %d", *d.Qual.Score)
	}
	b.WriteString("\n")
	for _, f := range []string{"need", "budget", "timeline", "authority"} {
		if v := d.Qual.Get(f); v != nil {
			writeField(&b, f, v)
		}
	}
	for _, cf := range d.Qual.Custom {
		writeField(&b, cf.Name, &domain.Field{Value: cf.Value, Quote: cf.Quote, Confidence: cf.Confidence})
	}
	if t.Taken != nil {
		if len(t.Taken.Flags) > 0 {
			fmt.Fprintf(&b, "flags: %s\n", strings.Join(t.Taken.Flags, ", "))
		}
		for _, g := range t.Taken.Guards {
			fmt.Fprintf(&b, "guard: %s\n", g)
		}
	}
	for _, r := range t.Refused {
		fmt.Fprintf(&b, "not sent: %s\n", r)
	}
	if t.Handoff != "" {
		fmt.Fprintf(&b, "handoff: %s\n", t.Handoff)
	}
	for _, e := range t.Events {
		switch e := e.(type) {
		case domain.MeetingProposed:
			fmt.Fprintf(&b, "meeting: proposed %d slot(s)%s\n", len(e.Slots), map[bool]string{true: ", link " + e.Link}[e.Link != ""])
		case domain.MeetingBooked:
			fmt.Fprintf(&b, "meeting: booked %s–%s UTC with %s\n", e.Start.UTC().Format("Mon 2 Jan 15:04"), e.End.UTC().Format("15:04"), e.Manager)
		}
	}
	if t.OptedOut {
		b.WriteString("opt-out: the dialog is closed and the contact is on the do-not-contact list\n")
	}
	if t.Failure != nil {
		fmt.Fprintf(&b, "model unavailable: %v (the dialog waits)\n", t.Failure)
	}
	return b.String()
}

func writeField(b *strings.Builder, name string, f *domain.Field) {
	fmt.Fprintf(b, "  %s: %s", name, f.Value)
	if f.Quote != "" {
		fmt.Fprintf(b, " — %q", f.Quote)
	}
	fmt.Fprintf(b, " (%.1f)\n", f.Confidence)
}

func newID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.New()
	}
	return id
}
