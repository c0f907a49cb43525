package projections

import (
	"slices"
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
		// Set only if not set yet (zero: unchanged).
		FirstOutboundAt time.Time
		FirstInboundAt  time.Time
		HandoffAt       time.Time
		HandoffReason   string
		QualifiedAt     time.Time
		OptedOutBy      *string // who opted the lead out (DialogOptedOut.By)
		// Deal sets the recorded outcome; from then on Outcome (how the
		// dialog closed) no longer changes the row's outcome.
		Deal *Deal
		// The LLM's tokens of a turn, added to the dialog's.
		AddPromptTokens       int64
		AddCompletionTokens   int64
		AddCachedPromptTokens int64
	}
	// Deal is a recorded outcome (domain.OutcomeRecorded) on a dialogs row.
	Deal struct {
		Outcome string
		Value   domain.Money
		Reason  string
		At      time.Time
	}
	PutQualification struct{ Q Qualification }
	PutTurn          struct{ Turn Turn }
	PutAccount       struct{ Account Account }
	// UpdateAccount changes the fields that are set.
	UpdateAccount struct {
		ID         uuid.UUID
		Status     *string
		Paused     *bool
		Reason     *string
		FloodUntil time.Time
		DialogDay  string // a new dialog on this local day
		AddMessage int
		At         time.Time
		Limits     *domain.Limits
	}
	PutCampaign struct{ Campaign Campaign }
	// UpdateCampaign changes the fields that are set.
	UpdateCampaign struct {
		ID          uuid.UUID
		Status      *string
		EndReason   *string
		AddTargeted int
		Bandit      *Bandit   // nil: unchanged
		At          time.Time // zero: updated_at unchanged
	}
)

func (PutContact) change()       {}
func (OptOutContact) change()    {}
func (ForgetContact) change()    {}
func (PutDialog) change()        {}
func (PutMessage) change()       {}
func (SetMessageSent) change()   {}
func (UpdateDialog) change()     {}
func (PutQualification) change() {}
func (PutTurn) change()          {}
func (PutAccount) change()       {}
func (UpdateAccount) change()    {}
func (PutCampaign) change()      {}
func (UpdateCampaign) change()   {}

// Placed is where an event is in the log.
type Placed struct {
	Stream   string
	Position uint64
	At       time.Time
}

// Project is the projector: the row changes one event makes. It reads
// nothing, so projecting the same log always gives the same rows.
func Project(p Placed, e domain.Event) []Change {
	_, id, _ := domain.ParseStream(p.Stream)
	p.At = rowTime(p.At)
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
			Variant: e.Variant, Stage: string(domain.StageOpening), Status: StatusActive, CreatedAt: p.At, UpdatedAt: p.At, Campaign: e.Campaign}}}
	case domain.InboundReceived:
		return []Change{
			PutMessage{inboundMessage(id, p.Position, e)},
			UpdateDialog{ID: id, AddInbound: 1, LastMessageAt: rowTime(e.At), FirstInboundAt: rowTime(e.At), At: p.At},
		}
	case domain.OutboundPlanned:
		msg := Message{DialogID: id, Position: p.Position, Direction: "out", Author: string(e.By), Text: e.Text, At: p.At, RandomID: e.RandomID, Status: "planned"}
		if e.File != nil {
			msg.File = e.File.Name
		}
		return []Change{PutMessage{msg}}
	case domain.MeetingProposed, domain.MeetingBooked:
		c, _ := meetingChange(id, p.At, e)
		return []Change{c}
	case domain.InsightsRecorded:
		return []Change{PutInsight{DialogID: id, At: p.At, Insight: e}}
	case domain.OutboundSent:
		return []Change{
			SetMessageSent{DialogID: id, RandomID: e.RandomID, Status: "sent", TelegramID: e.TelegramMessageID},
			UpdateDialog{ID: id, AddOutbound: 1, LastMessageAt: p.At, FirstOutboundAt: p.At, At: p.At},
		}
	case domain.OutboundObserved: // typed in a Telegram app by a person
		return []Change{
			PutMessage{Message{DialogID: id, Position: p.Position, Direction: "out", Author: string(domain.ActorManager), Text: e.Text, At: rowTime(e.At), TelegramID: e.TelegramMessageID, Status: "sent"}},
			UpdateDialog{ID: id, AddOutbound: 1, LastMessageAt: rowTime(e.At), FirstOutboundAt: rowTime(e.At), At: p.At},
		}
	case domain.OutboundFailed:
		return []Change{SetMessageSent{DialogID: id, RandomID: e.RandomID, Status: "failed"}}
	case domain.QualificationUpdated:
		u := UpdateDialog{ID: id, At: p.At}
		if e.Qual.Score != nil {
			s := *e.Qual.Score
			u.Score = &s
			if s >= QualifiedScore {
				u.QualifiedAt = p.At
			}
		}
		out := []Change{u}
		// Custom fields are rows like the standard ones, by name. A name
		// given twice in one update keeps its first value, as
		// domain.Qualification.Get reads it.
		seen := map[string]bool{}
		put := func(name string, f domain.Field) {
			if !seen[name] {
				seen[name] = true
				q := Qualification{DialogID: id, Field: name, Value: f.Value, Quote: f.Quote, Confidence: f.Confidence, UpdatedAt: p.At}
				if name == "budget" {
					q.Money, _ = f.Money()
				}
				out = append(out, PutQualification{q})
			}
		}
		for _, f := range []struct {
			name string
			f    *domain.Field
		}{{"need", e.Qual.Need}, {"budget", e.Qual.Budget}, {"timeline", e.Qual.Timeline}, {"authority", e.Qual.Authority}} {
			if f.f != nil {
				put(f.name, *f.f)
			}
		}
		for _, c := range e.Qual.Custom {
			put(c.Name, domain.Field{Value: c.Value, Quote: c.Quote, Confidence: c.Confidence})
		}
		return out
	case domain.TurnTaken:
		t := Turn{DialogID: id, Position: p.Position, At: p.At, Status: TurnOK, Kind: string(e.Kind), Engine: e.Engine, Model: e.Model,
			Scenario: e.Scenario, ScenarioVersion: e.ScenarioVersion, Variant: e.Variant, VariantVersion: e.VariantVersion, Language: e.Language,
			PromptTokens: e.PromptTokens, CompletionTokens: e.CompletionTokens, CachedPromptTokens: e.CachedPromptTokens, LatencyMs: e.LatencyMs, Attempts: e.Attempts,
			Flags: texts(e.Flags), Guards: texts(e.Guards)}
		if e.Score != nil {
			s := *e.Score
			t.Score = &s
		}
		return withTokens([]Change{PutTurn{t}}, id, e.PromptTokens, e.CompletionTokens, e.CachedPromptTokens)
	case domain.TurnFailed:
		return withTokens([]Change{PutTurn{Turn{DialogID: id, Position: p.Position, At: p.At, Status: TurnFailed, Engine: e.Engine, Model: e.Model,
			PromptTokens: e.PromptTokens, CompletionTokens: e.CompletionTokens, CachedPromptTokens: e.CachedPromptTokens, LatencyMs: e.LatencyMs,
			Attempts: e.Attempts, Reason: e.Reason, RetryAt: rowTime(e.RetryAt)}}}, id, e.PromptTokens, e.CompletionTokens, e.CachedPromptTokens)
	case domain.HandoffRequested:
		return []Change{UpdateDialog{ID: id, HandoffAt: p.At, HandoffReason: e.Reason, At: p.At}}
	case domain.AccountRegistered:
		return []Change{PutAccount{Account{ID: e.AccountID, Label: e.Label, Status: string(domain.StatusRegistered), UpdatedAt: p.At,
			DailyCap: e.Limits.DailyNewDialogs, MessagesPerMinute: e.Limits.MessagesPerMinute}}}
	case domain.AccountLimitsChanged:
		l := e.Limits
		return []Change{UpdateAccount{ID: id, Limits: &l, At: p.At}}
	case domain.AccountConnecting:
		return []Change{UpdateAccount{ID: id, Status: str(string(domain.StatusConnecting)), At: p.At}}
	case domain.AccountConnected:
		return []Change{UpdateAccount{ID: id, Status: str(string(domain.StatusActive)), At: p.At}}
	case domain.AccountDisconnected:
		return []Change{UpdateAccount{ID: id, Status: str(string(domain.StatusOffline)), At: p.At}}
	case domain.AccountFloodWaited:
		return []Change{UpdateAccount{ID: id, Status: str(string(domain.StatusFloodWait)), FloodUntil: rowTime(e.Until), At: p.At}}
	case domain.AccountRestricted:
		return []Change{UpdateAccount{ID: id, Status: str(string(domain.StatusRestricted)), Reason: str(e.Reason), At: p.At}}
	case domain.AccountLost:
		return []Change{UpdateAccount{ID: id, Status: str(string(domain.StatusLost)), Reason: str(e.Reason), At: p.At}}
	case domain.AccountPaused:
		t := true
		return []Change{UpdateAccount{ID: id, Paused: &t, At: p.At}}
	case domain.AccountResumed:
		// Mirrors domain.EvolveAccount: resuming lifts a restriction.
		f := false
		return []Change{UpdateAccount{ID: id, Paused: &f, At: p.At}, liftRestriction{ID: id, At: p.At}}
	case domain.AccountRemoved:
		return []Change{UpdateAccount{ID: id, Status: str(string(domain.StatusRemoved)), At: p.At}}
	case domain.NewDialogReserved: // on a usage stream: the account is in the event
		return []Change{UpdateAccount{ID: e.AccountID, DialogDay: e.Day, At: p.At}}
	case domain.MessageReserved:
		return []Change{UpdateAccount{ID: e.AccountID, AddMessage: 1, At: p.At}}
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
		return []Change{UpdateDialog{ID: id, Stage: str(string(domain.StageClosed)), Status: str(StatusClosed), Outcome: str(string(domain.OutcomeOptedOut)),
			OptedOutBy: str(e.By), At: p.At}}
	case domain.OutcomeRecorded:
		deal := &Deal{Outcome: string(e.Outcome), Reason: e.Reason, At: p.At}
		if e.Amount != "" {
			deal.Value, _ = domain.ParseMoney(e.Amount, e.Currency) // the domain wrote it so
		}
		return []Change{UpdateDialog{ID: id, Deal: deal, At: p.At}}
	case domain.CampaignCreated:
		return []Change{PutCampaign{campaignRow(e, p.At)}}
	case domain.CampaignPaused:
		return []Change{UpdateCampaign{ID: id, Status: str(CampaignPaused), At: p.At}}
	case domain.CampaignResumed:
		return []Change{UpdateCampaign{ID: id, Status: str(CampaignActive), At: p.At}}
	case domain.CampaignEnded:
		return []Change{UpdateCampaign{ID: id, Status: str(CampaignEnded), EndReason: str(e.Reason), At: p.At}}
	case domain.CampaignWeightsChanged:
		return []Change{UpdateCampaign{ID: id, Bandit: &Bandit{Weights: nilIfEmpty(e.Weights), Posteriors: nilIfEmpty(e.Posteriors),
			Paused: nilIfEmpty(e.Paused), Reason: e.Reason, At: rowTime(e.At)}, At: p.At}}
	case domain.CampaignTargeted: // on the campaign's target stream of the contact
		return []Change{UpdateCampaign{ID: e.CampaignID, AddTargeted: 1}}
	}
	return nil // events without a row in these read models
}

// withTokens adds a turn's tokens to its dialog's row, if it spent any
// (the offline engine does not): the row's updated_at stays, a turn is
// not a change of the dialog.
func withTokens(changes []Change, dialog uuid.UUID, prompt, completion, cached int) []Change {
	if prompt == 0 && completion == 0 && cached == 0 {
		return changes
	}
	return append(changes, UpdateDialog{ID: dialog, AddPromptTokens: int64(prompt), AddCompletionTokens: int64(completion), AddCachedPromptTokens: int64(cached)})
}

// campaignRow is the row of a new campaign. Empty lists are nil and times
// UTC to the microsecond, as every sink returns them; nothing is shared
// with the event.
func campaignRow(e domain.CampaignCreated, at time.Time) Campaign {
	sched := e.Schedule
	sched.Start, sched.End = rowTime(sched.Start), rowTime(sched.End)
	sched.Days = nilIfEmpty(sched.Days)
	return Campaign{ID: e.CampaignID, Name: e.Name, Status: CampaignActive, Scenario: e.Scenario, Version: e.Version,
		Variants: nilIfEmpty(e.Variants), Segment: copySegment(e.Segment), Accounts: nilIfEmpty(e.Accounts),
		Schedule: sched, Caps: e.Caps, CreatedBy: e.By, CreatedAt: at, UpdatedAt: at, Optimize: string(e.Optimize)}
}

func nilIfEmpty[T any](l []T) []T {
	if len(l) == 0 {
		return nil
	}
	return slices.Clone(l)
}

func copySegment(s domain.Segment) domain.Segment {
	return domain.Segment{Tags: nilIfEmpty(s.Tags), Fields: nilIfEmpty(s.Fields), Import: s.Import}
}

// copyCampaign shares no slice with c.
func copyCampaign(c Campaign) Campaign {
	c.Variants, c.Segment, c.Accounts = nilIfEmpty(c.Variants), copySegment(c.Segment), nilIfEmpty(c.Accounts)
	c.Schedule.Days = nilIfEmpty(c.Schedule.Days)
	if c.Bandit != nil {
		b := *c.Bandit
		b.Weights, b.Posteriors, b.Paused = slices.Clone(b.Weights), slices.Clone(b.Posteriors), slices.Clone(b.Paused)
		c.Bandit = &b
	}
	return c
}

// liftRestriction sets a restricted account back to offline.
type liftRestriction struct {
	ID uuid.UUID
	At time.Time
}

func (liftRestriction) change() {}

// rowTime is how every sink stores a time: UTC, to the microsecond (what
// PostgreSQL keeps), so that the sinks return the same rows.
func rowTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// texts copies a list for a row; empty is nil in every sink.
func texts(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return slices.Clone(l)
}

// Coalesce merges the UpdateDialog changes of each dialog in a batch into
// one, at the place of the first (nothing else in a batch touches the
// columns they set), so a sink runs one UPDATE per dialog per batch.
func Coalesce(changes []Change) []Change {
	first := map[uuid.UUID]int{}
	out := make([]Change, 0, len(changes))
	for _, c := range changes {
		u, ok := c.(UpdateDialog)
		if !ok {
			out = append(out, c)
			continue
		}
		i, seen := first[u.ID]
		if !seen {
			first[u.ID] = len(out)
			out = append(out, u)
			continue
		}
		out[i] = mergeUpdate(out[i].(UpdateDialog), u)
	}
	return out
}

// mergeUpdate is a followed by b.
func mergeUpdate(a, b UpdateDialog) UpdateDialog {
	if b.Stage != nil {
		a.Stage = b.Stage
	}
	if b.Status != nil {
		a.Status = b.Status
	}
	if b.Outcome != nil && a.Deal == nil {
		a.Outcome = b.Outcome
	}
	if b.Deal != nil {
		a.Deal, a.Outcome = b.Deal, nil // the deal's outcome is the row's
	}
	if b.Score != nil {
		a.Score = b.Score
	}
	if b.TakenOver != nil {
		a.TakenOver = b.TakenOver
	}
	if b.OptedOutBy != nil {
		a.OptedOutBy = b.OptedOutBy
	}
	a.AddInbound += b.AddInbound
	a.AddOutbound += b.AddOutbound
	a.AddPromptTokens += b.AddPromptTokens
	a.AddCompletionTokens += b.AddCompletionTokens
	a.AddCachedPromptTokens += b.AddCachedPromptTokens
	if !b.LastMessageAt.IsZero() {
		a.LastMessageAt = b.LastMessageAt
	}
	if !b.At.IsZero() {
		a.At = b.At
	}
	if a.FirstOutboundAt.IsZero() {
		a.FirstOutboundAt = b.FirstOutboundAt
	}
	if a.FirstInboundAt.IsZero() {
		a.FirstInboundAt = b.FirstInboundAt
	}
	if a.HandoffAt.IsZero() {
		a.HandoffAt, a.HandoffReason = b.HandoffAt, b.HandoffReason
	}
	if a.QualifiedAt.IsZero() {
		a.QualifiedAt = b.QualifiedAt
	}
	return a
}

// inboundMessage is a lead's message as a row: for media, the kind, and
// the lead's words (a caption, a voice note's transcript) as its text.
func inboundMessage(dialog uuid.UUID, pos uint64, e domain.InboundReceived) Message {
	m := Message{DialogID: dialog, Position: pos, Direction: "in", Author: "lead", Text: e.Text, At: rowTime(e.At), TelegramID: e.TelegramMessageID, Status: "received"}
	if e.Media != nil {
		m.Media = string(e.Media.Kind)
		m.Text = e.Said()
		m.Transcribed = e.Transcript != ""
	}
	return m
}
