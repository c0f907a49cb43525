package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Stage is where a lead is in qualification.
type Stage string

const (
	StageOpening       Stage = "opening"
	StageDiscovery     Stage = "discovery"
	StageQualification Stage = "qualification"
	StageOffer         Stage = "offer"
	StageObjections    Stage = "objections"
	StageHandoff       Stage = "handoff"
	StageClosed        Stage = "closed"
)

// stageMoves lists the stage changes a ChangeStage command may make; a lead
// may skip ahead but never go back, except that answering objections
// returns to the offer. Handoff and closing have commands of their own.
var stageMoves = map[Stage][]Stage{
	StageOpening:       {StageDiscovery, StageQualification, StageOffer},
	StageDiscovery:     {StageQualification, StageOffer},
	StageQualification: {StageOffer},
	StageOffer:         {StageObjections},
	StageObjections:    {StageOffer},
}

func canMove(from, to Stage) bool {
	for _, s := range stageMoves[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Outcome is how a closed dialog ended.
type Outcome string

const (
	OutcomeWon      Outcome = "won"
	OutcomeLost     Outcome = "lost"
	OutcomeOptedOut Outcome = "opted-out"
	OutcomeStopped  Outcome = "stopped"
	// OutcomeUnreachable: Telegram refused delivery (privacy settings,
	// blocked, no such user).
	OutcomeUnreachable Outcome = "unreachable"
)

// Actor says who acts: the AI assistant or a person.
type Actor string

const (
	ActorAI      Actor = "ai"
	ActorManager Actor = "manager"
)

// Field is one qualification field as the lead stated it.
type Field struct {
	Value      string  `json:"value" personal:"value"`
	Quote      string  `json:"quote,omitempty" personal:"quote"` // the lead's own words
	Confidence float64 `json:"confidence"`                       // 0..1
	// Amount and Currency: the budget as a number (Money.Decimal) and an
	// ISO 4217 code, when its Value reads as one (ParseBudget); empty
	// otherwise, and in events recorded before budgets were typed (the
	// read models parse their Value). The amount is what the lead said,
	// so it is personal data; only the budget has them.
	Amount   string `json:"amount,omitempty" personal:"amount"`
	Currency string `json:"currency,omitempty"`
}

// Money is the field's amount and currency (ok false when it has none
// that reads; see Field.Amount). A field recorded before budgets were
// typed, without an amount, is parsed from its Value.
func (f Field) Money() (Money, bool) {
	if f.Amount == "" && f.Currency == "" {
		return ParseBudget(f.Value)
	}
	m, err := ParseMoney(f.Amount, f.Currency)
	return m, err == nil
}

// typed is q with the budget's amount and currency filled in from its
// text when it reads as money (ParseBudget), unless they are given.
func (q Qualification) typed() Qualification {
	if q.Budget == nil || q.Budget.Amount != "" || q.Budget.Currency != "" {
		return q
	}
	if m, ok := ParseBudget(q.Budget.Value); ok {
		b := *q.Budget
		b.Amount, b.Currency = m.Decimal(), m.Currency
		q.Budget = &b
	}
	return q
}

// Qualification is what is known about the lead.
type Qualification struct {
	Need      *Field `json:"need,omitempty"`
	Budget    *Field `json:"budget,omitempty"`
	Timeline  *Field `json:"timeline,omitempty"`
	Authority *Field `json:"authority,omitempty"`
	Score     *int   `json:"score,omitempty"` // interest 0..100
	// Custom are the scenario's own fields (team size, current tool, ...),
	// by name; an update replaces a custom field of the same name.
	Custom []CustomField `json:"custom,omitempty"`
}

// CustomField is a qualification field the scenario defines.
type CustomField struct {
	Name       string  `json:"name"`
	Value      string  `json:"value" personal:"value"`
	Quote      string  `json:"quote,omitempty" personal:"quote"`
	Confidence float64 `json:"confidence"`
}

// Get returns a field by name (standard or custom), nil if unknown.
func (q Qualification) Get(name string) *Field {
	switch name {
	case "need":
		return q.Need
	case "budget":
		return q.Budget
	case "timeline":
		return q.Timeline
	case "authority":
		return q.Authority
	}
	for _, c := range q.Custom {
		if c.Name == name {
			return &Field{Value: c.Value, Quote: c.Quote, Confidence: c.Confidence}
		}
	}
	return nil
}

// Dialog is one conversation with a lead from one of our accounts.
type Dialog struct {
	ID        uuid.UUID
	Exists    bool
	N         int64 // the short number managers use: /view N
	ContactID uuid.UUID
	AccountID uuid.UUID
	Variant   string
	Campaign  uuid.UUID
	StartedBy string // "inbound" when the lead wrote first
	Stage     Stage
	Outcome   Outcome // set when Stage is StageClosed: how it closed
	// Deal is the outcome recorded for the deal (RecordOutcome), apart
	// from how the dialog closed: a stopped dialog may be won later.
	Deal      Deal
	TakenOver bool // a manager writes; the AI is silent
	Qual      Qualification
	// Pending are outbound messages planned but not yet sent or failed, by
	// Telegram random_id, with their texts.
	Pending  map[int64]string
	Sent     map[int64]bool // Telegram ids of the messages salesbot sent
	Inbound  int            // messages received
	Outbound int            // messages sent
	// LastObserved is the highest Telegram id of a message typed in an app
	// (OutboundObserved), for the same reason.
	LastObserved int64
	// LastInbound is the highest Telegram message id received: Telegram
	// numbers an account's messages in order, so a message delivered again
	// (after a reconnect) is recognised and recorded once.
	LastInbound int64
	// Turns counts the assistant's turns; Answered is how many of the
	// lead's messages they answered; FollowUps counts follow-ups since the
	// lead last wrote.
	Turns, Answered, FollowUps int
	// Confirmed: the opt-out confirmation was planned (it is sent once).
	Confirmed bool
	// LastWords are the messages that go out even though their turn
	// closed the dialog or handed it off, by random_id, with their kind.
	LastWords map[int64]OutboundKind
	// Openings counts opening turns (an opening that failed is written
	// again once).
	Openings int
	// ManagerSaw is how many of the lead's messages there were when a
	// person last wrote in the dialog: a release leaves those answered.
	ManagerSaw int
	// Waiting: the model could not be reached for the last turn.
	Waiting bool
	// Files are the files of Pending messages that carry one, by
	// random_id.
	Files map[int64]Attachment
	// Meeting is the meeting proposed or booked in the dialog.
	Meeting DialogMeeting
	// Insights counts its closes and handoffs and keeps its latest
	// insight (insight.go).
	Insights DialogInsights
}

// AISilent says whether the AI may not write: after a handoff or a
// takeover, until a manager releases the dialog.
func (d Dialog) AISilent() bool { return d.Stage == StageHandoff || d.TakenOver }

// Dialog commands.
type (
	// StartDialog opens a dialog. Contact is the contact as its stream
	// stands (the handler loads it); a contact that may not be written to
	// cannot get a dialog.
	StartDialog struct {
		DialogID  uuid.UUID
		N         int64
		Contact   Contact
		AccountID uuid.UUID
		Variant   string
		By        string    // "ai", "inbound", "admin:<id>", "campaign:<id>"
		Campaign  uuid.UUID // the campaign opening it, if any
	}
	// RecordInbound records a message from the lead. It is a fact, so it is
	// recorded in any state.
	RecordInbound struct {
		TelegramMessageID int64
		Text              string
		At                time.Time // when Telegram says it was sent
		// Media is what the message carried besides text (nil: text only);
		// for a voice note or audio, Transcript is its words, or
		// TranscriptError why there are none (media.go).
		Media           *Media
		Transcript      string
		TranscriptError string
	}
	// PlanOutbound plans a message with the Telegram random_id chosen before
	// sending, so a resend after a crash cannot duplicate it.
	PlanOutbound struct {
		RandomID int64
		Text     string
		By       Actor
		Person   string  // which manager ("admin:<id>"), for an audit; empty for the AI
		Contact  Contact // as its stream stands: opt-outs win over everything
	}
	MarkSent struct {
		RandomID          int64
		TelegramMessageID int64
	}
	MarkFailed struct {
		RandomID int64
		Reason   string
	}
	// RecordOutgoing records an outgoing message seen on the account. If
	// salesbot did not send it (a manager typed it in a Telegram app), the
	// dialog is taken over and the AI goes silent until it is released.
	RecordOutgoing struct {
		TelegramMessageID int64
		Text              string
		At                time.Time
	}
	// MarkUnreachable closes the dialog because Telegram refused delivery.
	MarkUnreachable     struct{ Reason string }
	UpdateQualification struct{ Qual Qualification }
	// ChangeStage moves the dialog to another stage: one of the fixed
	// moves, or with Graph (a branching scenario's) one of its
	// transitions whose condition holds.
	ChangeStage struct {
		To    Stage
		Graph StageGraph
	}
	RequestHandoff struct{ Reason string }
	TakeOver       struct{ By string }
	Release        struct{ By string }
	StopDialog     struct{ By string }
	// OptOutDialog ends the dialog because the contact is on the
	// do-not-contact list. By is who put it there: "lead" (the default),
	// "admin:<id>", "cli", "erasure", "do-not-contact" (the contact was
	// on the list already); only the lead's own count as the lead's
	// opt-outs in the funnel.
	OptOutDialog struct {
		Reason string
		By     string
	}
	CloseDialog struct {
		Outcome Outcome
		By      string
	}
)

// DialogCommand is a command on a dialog.
type DialogCommand interface{ dialogCommand() }

func (StartDialog) dialogCommand()         {}
func (RecordInbound) dialogCommand()       {}
func (PlanOutbound) dialogCommand()        {}
func (MarkSent) dialogCommand()            {}
func (MarkFailed) dialogCommand()          {}
func (RecordOutgoing) dialogCommand()      {}
func (MarkUnreachable) dialogCommand()     {}
func (UpdateQualification) dialogCommand() {}
func (ChangeStage) dialogCommand()         {}
func (RequestHandoff) dialogCommand()      {}
func (TakeOver) dialogCommand()            {}
func (Release) dialogCommand()             {}
func (StopDialog) dialogCommand()          {}
func (OptOutDialog) dialogCommand()        {}
func (CloseDialog) dialogCommand()         {}
func (TakeTurn) dialogCommand()            {}
func (RecordTurnFailure) dialogCommand()   {}

// Dialog events.
type (
	DialogStarted struct {
		DialogID  uuid.UUID `json:"dialog_id"`
		N         int64     `json:"n"`
		ContactID uuid.UUID `json:"contact_id"`
		AccountID uuid.UUID `json:"account_id"`
		Variant   string    `json:"variant,omitempty"`
		By        string    `json:"by"`
		// Campaign is the campaign that opened the dialog, if one did.
		Campaign uuid.UUID `json:"campaign,omitzero"`
	}
	InboundReceived struct {
		TelegramMessageID int64     `json:"tg_message_id"`
		Text              string    `json:"text" personal:"text"` // a caption, with media
		At                time.Time `json:"at"`
		// Media is what the message carried besides text; nil for text
		// (and in events recorded before media were).
		Media *Media `json:"media,omitempty"`
		// Transcript is a voice note's or audio's words, as a Transcriber
		// heard them (not the lead's typing: models see it marked so);
		// TranscriptError says why a voice note has none.
		Transcript      string `json:"transcript,omitempty" personal:"transcript"`
		TranscriptError string `json:"transcript_error,omitempty"`
	}
	OutboundPlanned struct {
		RandomID int64  `json:"random_id"`
		Text     string `json:"text" personal:"text"`
		By       Actor  `json:"by"`
		Person   string `json:"person,omitempty"` // the manager, when By is manager
		// Kind is what an AI message is for (empty for older events and
		// for managers' messages).
		Kind OutboundKind `json:"kind,omitempty"`
		// File is sent with the message (Text its caption), e.g. a
		// meeting's .ics.
		File *Attachment `json:"file,omitempty"`
	}
	OutboundSent struct {
		RandomID          int64 `json:"random_id"`
		TelegramMessageID int64 `json:"tg_message_id"`
	}
	OutboundFailed struct {
		RandomID int64  `json:"random_id"`
		Reason   string `json:"reason"`
	}
	// OutboundObserved is a message from our account that salesbot did not
	// send: a person wrote it in a Telegram app.
	OutboundObserved struct {
		TelegramMessageID int64     `json:"tg_message_id"`
		Text              string    `json:"text" personal:"text"`
		At                time.Time `json:"at"`
	}
	QualificationUpdated struct {
		Qual Qualification `json:"qualification"`
	}
	StageChanged struct {
		From Stage `json:"from"`
		To   Stage `json:"to"`
	}
	// HandoffRequested: Reason may quote the model's own words, so it is
	// personal data.
	HandoffRequested struct {
		Reason string `json:"reason" personal:"reason"`
	}
	DialogTakenOver struct {
		By string `json:"by"`
	}
	DialogReleased struct {
		By string `json:"by"`
		To Stage  `json:"to"` // the stage the AI resumes at
	}
	DialogStopped struct {
		By string `json:"by"`
	}
	DialogOptedOut struct {
		Reason string `json:"reason,omitempty" personal:"reason"`
		// By is who opted the lead out (OptOutDialog.By); empty is the
		// lead (every event before the field, LeadOptOut, TakeTurn).
		By string `json:"by,omitempty"`
	}
	DialogClosed struct {
		Outcome Outcome `json:"outcome"`
		By      string  `json:"by"`
		Reason  string  `json:"reason,omitempty"`
	}
)

func (DialogStarted) EventType() string        { return "DialogStarted" }
func (InboundReceived) EventType() string      { return "InboundReceived" }
func (OutboundPlanned) EventType() string      { return "OutboundPlanned" }
func (OutboundSent) EventType() string         { return "OutboundSent" }
func (OutboundFailed) EventType() string       { return "OutboundFailed" }
func (OutboundObserved) EventType() string     { return "OutboundObserved" }
func (QualificationUpdated) EventType() string { return "QualificationUpdated" }
func (StageChanged) EventType() string         { return "StageChanged" }
func (HandoffRequested) EventType() string     { return "HandoffRequested" }
func (DialogTakenOver) EventType() string      { return "DialogTakenOver" }
func (DialogReleased) EventType() string       { return "DialogReleased" }
func (DialogStopped) EventType() string        { return "DialogStopped" }
func (DialogOptedOut) EventType() string       { return "DialogOptedOut" }

// OptOutByLead is the By of an opt-out the lead asked for.
const OptOutByLead = "lead"

// ByLead says whether the lead asked for the opt-out themself (not a
// manager, an erasure or the do-not-contact list).
func (e DialogOptedOut) ByLead() bool  { return e.By == "" || e.By == OptOutByLead }
func (DialogClosed) EventType() string { return "DialogClosed" }

// DecideDialog decides what a command does to a dialog.
func DecideDialog(d Dialog, cmd DialogCommand, now time.Time) ([]Event, error) {
	if _, start := cmd.(StartDialog); !start && !d.Exists {
		return nil, errorf(EINVALID, "unknown dialog")
	}
	switch cmd := cmd.(type) {
	case StartDialog:
		if d.Exists {
			return nil, errorf(ESTATE, "dialog %d already exists", d.N)
		}
		if cmd.DialogID == uuid.Nil || cmd.AccountID == uuid.Nil || cmd.N <= 0 {
			return nil, errorf(EINVALID, "a dialog needs an id, a number and an account")
		}
		if err := cmd.Contact.Contactable(); err != nil {
			return nil, err
		}
		return []Event{DialogStarted{
			DialogID: cmd.DialogID, N: cmd.N, ContactID: cmd.Contact.ID, AccountID: cmd.AccountID,
			Variant: cmd.Variant, By: cmd.By, Campaign: cmd.Campaign,
		}}, nil

	case RecordInbound:
		if cmd.TelegramMessageID != 0 && cmd.TelegramMessageID <= d.LastInbound {
			return nil, nil // delivered again after a reconnect: recorded already
		}
		if cmd.Media != nil && !cmd.Media.Kind.Valid() {
			return nil, errorf(EINVALID, "unknown media kind %q", cmd.Media.Kind)
		}
		if cmd.Media == nil && (cmd.Transcript != "" || cmd.TranscriptError != "") {
			return nil, errorf(EINVALID, "a transcript needs a voice note or audio")
		}
		return []Event{InboundReceived{TelegramMessageID: cmd.TelegramMessageID, Text: cmd.Text, At: cmd.At,
			Media: cmd.Media, Transcript: cmd.Transcript, TranscriptError: cmd.TranscriptError}}, nil

	case RecordOutgoing:
		if d.Sent[cmd.TelegramMessageID] || cmd.TelegramMessageID <= d.LastObserved {
			return nil, nil // ours, recorded as sent; or recorded already
		}
		for _, text := range d.Pending {
			if text == cmd.Text {
				return nil, nil // ours, in flight: the outbox records it as sent
			}
		}
		evs := []Event{OutboundObserved{TelegramMessageID: cmd.TelegramMessageID, Text: cmd.Text, At: cmd.At}}
		if !d.TakenOver && d.Stage != StageClosed {
			evs = append(evs, DialogTakenOver{By: "telegram-app"})
		}
		return evs, nil

	case MarkUnreachable:
		if d.Stage == StageClosed {
			return nil, nil
		}
		return []Event{DialogClosed{Outcome: OutcomeUnreachable, By: "telegram", Reason: cmd.Reason}}, nil

	case PlanOutbound:
		switch {
		case cmd.RandomID == 0:
			return nil, errorf(EINVALID, "an outbound message needs a random_id")
		case strings.TrimSpace(cmd.Text) == "":
			return nil, errorf(EINVALID, "an outbound message needs text")
		}
		// The rules first, also for a retry: a message planned before an
		// opt-out or a handoff must not be sent after it.
		if err := cmd.Contact.Contactable(); err != nil {
			return nil, err
		}
		switch {
		case d.Stage == StageClosed:
			return nil, errorf(ESTATE, "dialog %d is closed (%s)", d.N, d.Outcome)
		case cmd.By == ActorAI && d.AISilent():
			return nil, errorf(EFORBIDDEN, "dialog %d is with a manager; the AI stays silent until it is released", d.N)
		case cmd.By != ActorAI && cmd.By != ActorManager:
			return nil, errorf(EINVALID, "outbound author %q is neither ai nor manager", cmd.By)
		case d.Pending[cmd.RandomID] != "":
			return nil, nil // planned already: the retry reuses it
		}
		return []Event{OutboundPlanned{RandomID: cmd.RandomID, Text: cmd.Text, By: cmd.By, Person: cmd.Person}}, nil

	case MarkSent:
		if _, ok := d.Pending[cmd.RandomID]; !ok {
			return nil, nil // already settled, or never planned: nothing to record
		}
		return []Event{OutboundSent{RandomID: cmd.RandomID, TelegramMessageID: cmd.TelegramMessageID}}, nil

	case MarkFailed:
		if _, ok := d.Pending[cmd.RandomID]; !ok {
			return nil, nil
		}
		return []Event{OutboundFailed{RandomID: cmd.RandomID, Reason: cmd.Reason}}, nil

	case UpdateQualification:
		if err := validQualification(cmd.Qual); err != nil {
			return nil, err
		}
		if d.Stage == StageClosed {
			return nil, errorf(ESTATE, "dialog %d is closed", d.N)
		}
		return []Event{QualificationUpdated{Qual: cmd.Qual.typed()}}, nil

	case ChangeStage:
		if cmd.To == d.Stage {
			return nil, nil
		}
		if len(cmd.Graph) > 0 {
			return changeInGraph(d, cmd)
		}
		if !canMove(d.Stage, cmd.To) {
			return nil, errorf(ESTATE, "dialog %d cannot move from %s to %s", d.N, d.Stage, cmd.To)
		}
		return []Event{StageChanged{From: d.Stage, To: cmd.To}}, nil

	case RequestHandoff:
		switch d.Stage {
		case StageHandoff:
			return nil, nil
		case StageClosed:
			return nil, errorf(ESTATE, "dialog %d is closed", d.N)
		}
		return []Event{HandoffRequested{Reason: cmd.Reason}, StageChanged{From: d.Stage, To: StageHandoff}}, nil

	case TakeOver:
		if d.Stage == StageClosed {
			return nil, errorf(ESTATE, "dialog %d is closed", d.N)
		}
		if d.TakenOver {
			return nil, nil
		}
		return []Event{DialogTakenOver{By: cmd.By}}, nil

	case Release:
		if d.Stage == StageClosed {
			return nil, errorf(ESTATE, "dialog %d is closed", d.N)
		}
		if !d.AISilent() {
			return nil, errorf(ESTATE, "dialog %d is not with a manager", d.N)
		}
		return []Event{DialogReleased{By: cmd.By, To: d.resumeStage()}}, nil

	case StopDialog:
		if d.Stage == StageClosed {
			return nil, nil
		}
		return []Event{DialogStopped{By: cmd.By}, DialogClosed{Outcome: OutcomeStopped, By: cmd.By}}, nil

	case OptOutDialog:
		if d.Outcome == OutcomeOptedOut {
			return nil, nil
		}
		// An opt-out ends the dialog at once, whatever its state; the
		// handler also puts the contact on the do-not-contact list.
		by := cmd.By
		if by == "" {
			by = OptOutByLead
		}
		evs := []Event{DialogOptedOut{Reason: cmd.Reason, By: by}}
		if d.Stage != StageClosed {
			evs = append(evs, DialogClosed{Outcome: OutcomeOptedOut, By: by})
		}
		return evs, nil

	case TakeTurn:
		return decideTurn(d, cmd)

	case LeadOptOut:
		return decideLeadOptOut(d, cmd)

	case RecordTurnFailure:
		if d.Stage == StageClosed || d.AISilent() {
			return nil, nil // nothing waits for the model
		}
		return []Event{cmd.Failed}, nil

	case RecordOutcome:
		return decideOutcome(d, cmd)

	case ProposeMeeting:
		return decideProposeMeeting(d, cmd)

	case BookMeeting:
		return decideBookMeeting(d, cmd)

	case RecordInsights:
		return decideInsights(d, cmd)

	case CloseDialog:
		if cmd.Outcome != OutcomeWon && cmd.Outcome != OutcomeLost {
			return nil, errorf(EINVALID, "close a dialog as won or lost, not %q (stop and opt-out have commands of their own)", cmd.Outcome)
		}
		if d.Stage == StageClosed {
			return nil, errorf(ESTATE, "dialog %d is already closed (%s)", d.N, d.Outcome)
		}
		return []Event{DialogClosed{Outcome: cmd.Outcome, By: cmd.By}}, nil
	}
	return nil, errorf(EINVALID, "unknown dialog command %T", cmd)
}

// resumeStage is where the AI picks up after a release: the offer if the
// lead got that far, else qualification.
func (d Dialog) resumeStage() Stage {
	if d.Qual.Score != nil && *d.Qual.Score > 0 {
		return StageOffer
	}
	return StageQualification
}

func validQualification(q Qualification) error {
	fields := []struct {
		name string
		f    *Field
	}{{"need", q.Need}, {"budget", q.Budget}, {"timeline", q.Timeline}, {"authority", q.Authority}}
	for _, nf := range fields {
		if nf.f == nil {
			continue
		}
		if strings.TrimSpace(nf.f.Value) == "" {
			return errorf(EINVALID, "qualification field %s has no value", nf.name)
		}
		if nf.f.Confidence < 0 || nf.f.Confidence > 1 {
			return errorf(EINVALID, "qualification field %s has confidence %v outside 0..1", nf.name, nf.f.Confidence)
		}
		if nf.f.Amount != "" || nf.f.Currency != "" {
			if _, err := ParseMoney(nf.f.Amount, nf.f.Currency); err != nil {
				return fmt.Errorf("qualification field %s: %w", nf.name, err)
			}
		}
	}
	for _, c := range q.Custom {
		switch {
		case strings.TrimSpace(c.Name) == "":
			return errorf(EINVALID, "a custom qualification field has no name")
		case strings.TrimSpace(c.Value) == "":
			return errorf(EINVALID, "qualification field %s has no value", c.Name)
		case c.Confidence < 0 || c.Confidence > 1:
			return errorf(EINVALID, "qualification field %s has confidence %v outside 0..1", c.Name, c.Confidence)
		}
	}
	if q.Score != nil && (*q.Score < 0 || *q.Score > 100) {
		return errorf(EINVALID, "interest score %d outside 0..100", *q.Score)
	}
	if q.Need == nil && q.Budget == nil && q.Timeline == nil && q.Authority == nil && q.Score == nil && len(q.Custom) == 0 {
		return errorf(EINVALID, "the qualification update is empty")
	}
	return nil
}

// EvolveDialog applies one event.
func EvolveDialog(d Dialog, e Event) Dialog {
	switch e := e.(type) {
	case DialogStarted:
		d = Dialog{
			ID: e.DialogID, Exists: true, N: e.N, ContactID: e.ContactID, AccountID: e.AccountID,
			Variant: e.Variant, Campaign: e.Campaign, StartedBy: e.By, Stage: StageOpening,
		}
	case InboundReceived:
		d.Inbound++
		d.LastInbound = max(d.LastInbound, e.TelegramMessageID)
		d.FollowUps = 0
	case OutboundPlanned:
		d.Pending = cloneMap(d.Pending)
		d.Pending[e.RandomID] = e.Text
		if e.File != nil {
			d.Files = cloneMap(d.Files)
			d.Files[e.RandomID] = *e.File
		}
		if e.Kind.lastWords() {
			d.LastWords = cloneMap(d.LastWords)
			d.LastWords[e.RandomID] = e.Kind
		}
		if e.By == ActorManager {
			d.ManagerSaw = d.Inbound
		}
		if e.Kind == KindConfirmation {
			d.Confirmed = true
		}
	case TurnTaken:
		d.Turns++
		d.Answered = max(d.Answered, e.Answered)
		d.Waiting = false
		switch e.Kind {
		case TurnFollowUp:
			d.FollowUps++
		case TurnOpening:
			d.Openings++
		}
		if d.Variant == "" {
			d.Variant = e.Variant // the variant the first turn picked stays
		}
	case TurnFailed:
		d.Waiting = true
	case OutboundSent:
		d.Pending = cloneMap(d.Pending)
		delete(d.Pending, e.RandomID)
		d.Files = dropFile(d.Files, e.RandomID)
		d.Sent = cloneMap(d.Sent)
		d.Sent[e.TelegramMessageID] = true
		d.Outbound++
	case OutboundObserved:
		d.LastObserved = max(d.LastObserved, e.TelegramMessageID)
		d.ManagerSaw = d.Inbound
	case OutboundFailed:
		d.Pending = cloneMap(d.Pending)
		delete(d.Pending, e.RandomID)
		d.Files = dropFile(d.Files, e.RandomID)
	case QualificationUpdated:
		d.Qual = mergeQualification(d.Qual, e.Qual)
	case StageChanged:
		d.Stage = e.To
	case DialogTakenOver:
		d.TakenOver = true
	case DialogReleased:
		d.TakenOver = false
		d.Stage = e.To
		d.Answered = max(d.Answered, d.ManagerSaw) // what the manager answered, the AI does not answer again
	case DialogClosed:
		d.Stage, d.Outcome = StageClosed, e.Outcome
	case DialogOptedOut:
		d.Stage, d.Outcome = StageClosed, OutcomeOptedOut
	case OutcomeRecorded:
		d.Deal = dealOf(e)
	case MeetingProposed, MeetingBooked:
		d = evolveMeeting(d, e)
	}
	return evolveInsights(d, e)
}

// dropFile is files without the one of randomID (files itself when it
// has none: most messages carry no file).
func dropFile(files map[int64]Attachment, randomID int64) map[int64]Attachment {
	if _, ok := files[randomID]; !ok {
		return files
	}
	files = cloneMap(files)
	delete(files, randomID)
	return files
}

// mergeQualification keeps old fields the update does not mention.
func mergeQualification(old, upd Qualification) Qualification {
	if upd.Need != nil {
		old.Need = upd.Need
	}
	if upd.Budget != nil {
		old.Budget = upd.Budget
	}
	if upd.Timeline != nil {
		old.Timeline = upd.Timeline
	}
	if upd.Authority != nil {
		old.Authority = upd.Authority
	}
	if upd.Score != nil {
		old.Score = upd.Score
	}
	if len(upd.Custom) > 0 {
		merged := make([]CustomField, 0, len(old.Custom)+len(upd.Custom))
		for _, c := range old.Custom {
			if !slices.ContainsFunc(upd.Custom, func(u CustomField) bool { return u.Name == c.Name }) {
				merged = append(merged, c)
			}
		}
		old.Custom = append(merged, upd.Custom...)
	}
	return old
}

// cloneMap copies before a change, so a Dialog value never shares a map
// with an earlier one (deciders and tests keep old states).
func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// SendRefusal says why a pending message may not go out now, or "" if it
// may: the contact was erased, opted out or is unreachable; the dialog is
// closed; an AI message in a dialog that is with a person. The last words
// of a turn that closed or handed off the dialog (a handoff note, a
// goodbye) still go while the contact may be written to and no manager
// stopped the dialog; the one confirmation of this dialog's own opt-out
// goes although the contact is now on the do-not-contact list.
func (d Dialog) SendRefusal(randomID int64, by Actor, c Contact) string {
	kind := d.LastWords[randomID]
	switch {
	case !c.Exists || c.Forgotten || c.Unreachable != "":
		return c.Contactable().Error()
	case kind == KindConfirmation && d.Outcome == OutcomeOptedOut:
		return "" // this dialog's own opt-out: its one confirmation goes
	case c.Contactable() != nil:
		return c.Contactable().Error()
	case kind != "" && d.Outcome != OutcomeStopped:
		return "" // the handoff note or the goodbye of the turn that ended it
	case d.Stage == StageClosed:
		return fmt.Sprintf("dialog %d is closed (%s)", d.N, d.Outcome)
	case d.AISilent() && by == ActorAI:
		return fmt.Sprintf("dialog %d is with a manager", d.N)
	}
	return ""
}
