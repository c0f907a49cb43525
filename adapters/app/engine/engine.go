// Package engine is the dialog engine: for each dialog it decides what the
// assistant says next through a domain.Model (an LLM or the offline
// scenario engine), applies the guards (domain.TakeTurn), and records the
// turn, its qualification, stage, planned messages, handoff or opt-out as
// one atomic append to the dialog's stream. The accounts' outbox sends what
// a turn planned, within the account's pacing.
//
// Core takes one turn; Engine (Run) follows the log and takes turns when
// they are due: openings of dialogs salesbot started, replies once a burst
// of the lead's messages has settled (debounce), follow-ups after silence,
// and turns that waited for an unreachable model. Conversation drives a
// dialog directly, for `salesbot chat` and the golden transcripts.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

// Core takes turns.
type Core struct {
	H        domain.Handlers
	Model    domain.Model
	Scenario *scenario.Scenario
	Log      *slog.Logger
	// TurnTimeout bounds one model call with its retries (default 3 min).
	TurnTimeout time.Duration
	// RandomID returns Telegram random_ids (default crypto/rand).
	RandomID func() int64
	// Meetings, if set, proposes and books meetings (meeting.go).
	Meetings *Meetings
}

// Outcome is what one turn did.
type Outcome struct {
	Dialog  domain.Dialog  // the dialog after the turn
	Events  []domain.Event // what the turn recorded (none: nothing to do)
	Failure error          // the model could not be reached: the dialog waits
}

// errStale: the lead wrote again while the model was thinking.
var errStale = errors.New("engine: new messages arrived during the turn")

// Turn takes one turn of kind in a dialog. A reply turn answers every
// message of the lead not answered yet. A turn that finds nothing to do
// (answered already, the AI is silent, the dialog closed) records nothing.
// When the model is unreachable the failure is recorded (TurnFailed)
// and returned in Outcome.Failure, with retryAt as when it is tried again;
// err is for failures of the log.
func (c *Core) Turn(ctx context.Context, dialogID uuid.UUID, kind domain.TurnKind, retryAt time.Time) (Outcome, error) {
	for attempt := 0; ; attempt++ {
		out, err := c.turn(ctx, dialogID, kind, retryAt)
		if errors.Is(err, errStale) && attempt < 3 {
			continue // answer them all in one turn
		}
		return out, err
	}
}

func (c *Core) turn(ctx context.Context, dialogID uuid.UUID, kind domain.TurnKind, retryAt time.Time) (Outcome, error) {
	d, err := c.H.LoadDialog(ctx, dialogID)
	if err != nil {
		return Outcome{}, err
	}
	if !d.Exists || d.Stage == domain.StageClosed || d.AISilent() {
		return Outcome{Dialog: d}, nil
	}
	if kind == domain.TurnReply && d.Inbound <= d.Answered {
		return Outcome{Dialog: d}, nil
	}
	contact, err := c.H.LoadContact(ctx, d.ContactID)
	if err != nil {
		return Outcome{Dialog: d}, err
	}
	if contact.Contactable() != nil {
		return c.endForContact(ctx, d, contact)
	}
	history, fresh, err := c.history(ctx, d)
	if err != nil {
		return Outcome{Dialog: d}, err
	}
	for _, m := range fresh {
		if said := m.Said(); domain.IsOptOut(said) { // no model is asked: the rule is the code's (transcripts too)
			return c.OptOut(ctx, d.ID, said)
		}
	}
	handoff := c.mediaHandoff(fresh)
	newText := modelTexts(fresh)
	sc := c.Scenario
	variant := c.variant(d)
	lang := c.language(d, history, saidTexts(fresh))
	if kind == domain.TurnReply && handoff == "" {
		if out, done, err := c.meetingAnswer(ctx, d, contact, saidTexts(fresh), lang); done || err != nil {
			return out, err
		}
	}
	cmd := domain.TakeTurn{
		Kind: kind, Answered: d.Inbound, New: newText, Rules: c.rules(lang),
		Meta:      domain.TurnMeta{Scenario: sc.Name, ScenarioVersion: sc.Version, Variant: variant.Name, VariantVersion: variant.Version, Language: lang},
		RandomIDs: []int64{c.randomID(), c.randomID()},
	}
	switch kind {
	case domain.TurnOpening:
		if err := c.writeOpening(ctx, &cmd, d, contact, variant, lang); err != nil {
			return Outcome{Dialog: d}, err
		}
	case domain.TurnFollowUp:
		if st, ok := nurturing(sc, d); ok {
			// A nurture stage follows up once, with its own text.
			cmd.Rules.MaxFollowUps = 1
			cmd.Output.Reply = sc.T(st.FollowUp, lang)
			cmd.Usage = domain.Usage{Engine: "scenario"}
			break
		}
		texts := sc.List(sc.FollowUps.Texts, lang)
		if d.FollowUps >= len(texts) {
			return Outcome{Dialog: d}, nil
		}
		cmd.Output.Reply = texts[d.FollowUps]
		cmd.Usage = domain.Usage{Engine: "scenario"}
	case domain.TurnReply:
		if handoff != "" { // the scenario hands these media to a person: no model is asked
			cmd.Handoff = handoff
			cmd.Usage = domain.Usage{Engine: "scenario"}
			break
		}
		in := domain.TurnInput{Kind: kind, Scenario: sc, Variant: variant, Language: lang, Stage: d.Stage, Qual: d.Qual, History: history, New: newText}
		tctx, cancel := context.WithTimeout(ctx, c.turnTimeout())
		out, usage, err := c.Model.Turn(tctx, in)
		cancel()
		cmd.Usage = usage
		switch {
		case err == nil:
			cmd.Output = out
		case errors.Is(err, domain.ErrModelOutputInvalid):
			cmd.Invalid = err.Error()
			var invalid *domain.InvalidOutputError
			if errors.As(err, &invalid) {
				cmd.Invalid = invalid.Reason
			}
		case errors.Is(err, domain.ErrModelRefused):
			cmd.Invalid, cmd.Refused = err.Error(), true
		case ctx.Err() != nil:
			return Outcome{Dialog: d}, ctx.Err()
		default:
			return c.fail(ctx, d, usage, err, retryAt)
		}
	default:
		return Outcome{Dialog: d}, fmt.Errorf("engine: unknown turn kind %q", kind)
	}
	evs, err := c.H.Dialog(ctx, d.ID, d.ContactID, cmd)
	if err != nil {
		if domain.ErrorCode(err) == domain.ESTATE {
			if now, lerr := c.H.LoadDialog(ctx, d.ID); lerr == nil && now.Inbound > cmd.Answered && now.Stage != domain.StageClosed && !now.AISilent() {
				return Outcome{Dialog: now}, errStale
			}
		}
		if code := domain.ErrorCode(err); code == domain.ESTATE || code == domain.EFORBIDDEN {
			// The dialog closed or went to a person meanwhile: nothing to say.
			now, _ := c.H.LoadDialog(ctx, d.ID)
			return Outcome{Dialog: now}, nil
		}
		return Outcome{Dialog: d}, fmt.Errorf("engine: record the %s turn of dialog %d: %w", kind, d.N, err)
	}
	for _, e := range evs {
		if o, ok := e.(domain.DialogOptedOut); ok {
			// The do-not-contact list is global: no account writes to the
			// person again. (The engine repairs this on start too.)
			if err := c.optOutContact(ctx, d, o.Reason); err != nil {
				return Outcome{Dialog: d, Events: evs}, err
			}
		}
	}
	after, err := c.H.LoadDialog(ctx, d.ID)
	if err != nil {
		return Outcome{Dialog: after, Events: evs}, err
	}
	if more := c.proposeAtOffer(ctx, d, after, contact, lang); len(more) > 0 {
		evs = append(evs, more...)
		after, err = c.H.LoadDialog(ctx, d.ID)
	}
	return Outcome{Dialog: after, Events: evs}, err
}

// OptOut ends a dialog because the lead asked not to be written to, in
// any state (domain.LeadOptOut: the one confirmation if the dialog was
// open, closed as opted out) and puts the contact on the do-not-contact
// list.
func (c *Core) OptOut(ctx context.Context, dialogID uuid.UUID, reason string) (Outcome, error) {
	d, err := c.H.LoadDialog(ctx, dialogID)
	if err != nil || !d.Exists {
		return Outcome{Dialog: d}, err
	}
	sc := c.Scenario
	lang := domain.DetectLanguage(sc.Language, reason)
	evs, err := c.H.Dialog(ctx, d.ID, d.ContactID, domain.LeadOptOut{Reason: reason, Confirmation: sc.T(sc.Replies.OptOut, lang), RandomID: c.randomID()})
	if err != nil {
		return Outcome{Dialog: d}, fmt.Errorf("engine: record the opt-out in dialog %d: %w", d.N, err)
	}
	if err := c.optOutContact(ctx, d, reason); err != nil {
		return Outcome{Dialog: d, Events: evs}, err
	}
	after, err := c.H.LoadDialog(ctx, d.ID)
	return Outcome{Dialog: after, Events: evs}, err
}

// optOutContact puts the lead of a dialog on the do-not-contact list
// (contacts.OptOut: every contact of the person). The live engine ends
// their other open dialogs when it sees their ContactOptedOut.
func (c *Core) optOutContact(ctx context.Context, d domain.Dialog, reason string) error {
	_, _, err := contacts.OptOut(ctx, c.H, contacts.OptOutRequest{Contact: d.ContactID, By: domain.OptOutByLead, Reason: reason})
	if err != nil {
		return fmt.Errorf("engine: put the lead of dialog %d on the do-not-contact list: %w", d.N, err)
	}
	return nil
}

// endForContact ends an open dialog whose contact may no longer be
// written to (opted out elsewhere, erased, unreachable).
func (c *Core) endForContact(ctx context.Context, d domain.Dialog, contact domain.Contact) (Outcome, error) {
	var cmd domain.DialogCommand
	switch {
	case contact.OptedOut:
		cmd = domain.OptOutDialog{Reason: "the contact is on the do-not-contact list", By: "do-not-contact"}
	case contact.Unreachable != "":
		cmd = domain.MarkUnreachable{Reason: contact.Unreachable}
	default:
		cmd = domain.StopDialog{By: "engine: the contact was erased"}
	}
	evs, err := c.H.Dialog(ctx, d.ID, d.ContactID, cmd)
	if err != nil {
		return Outcome{Dialog: d}, fmt.Errorf("engine: end dialog %d of a contact that may not be written to: %w", d.N, err)
	}
	after, err := c.H.LoadDialog(ctx, d.ID)
	return Outcome{Dialog: after, Events: evs}, err
}

// fail records that the model could not be reached (once while the
// dialog waits) and says so.
func (c *Core) fail(ctx context.Context, d domain.Dialog, usage domain.Usage, cause error, retryAt time.Time) (Outcome, error) {
	f := domain.TurnFailed{Engine: usage.Engine, Model: usage.Model, Reason: cause.Error(), Attempts: usage.Attempts,
		PromptTokens: usage.PromptTokens, CompletionTokens: usage.CompletionTokens, CachedPromptTokens: usage.CachedPromptTokens, LatencyMs: usage.Latency.Milliseconds(), RetryAt: retryAt}
	if f.Engine == "" {
		f.Engine = "model"
	}
	if _, err := c.H.Dialog(context.WithoutCancel(ctx), d.ID, d.ContactID, domain.RecordTurnFailure{Failed: f}); err != nil {
		return Outcome{Dialog: d}, fmt.Errorf("engine: record the failed turn of dialog %d: %w", d.N, err)
	}
	after, _ := c.H.LoadDialog(ctx, d.ID)
	return Outcome{Dialog: after, Failure: cause}, nil
}

// history is the dialog's messages in order, and the lead's messages not
// answered yet (the last d.Inbound-d.Answered of them).
// A message with media is the model's text of it (InboundReceived.ModelText:
// "[photo]", a voice note's transcript marked as one).
func (c *Core) history(ctx context.Context, d domain.Dialog) ([]domain.Line, []domain.InboundReceived, error) {
	evs, _, err := c.H.Log.Load(ctx, domain.DialogStream(d.ID))
	if err != nil {
		return nil, nil, fmt.Errorf("engine: load dialog %d: %w", d.N, err)
	}
	var lines []domain.Line
	var fresh []domain.InboundReceived
	inbound := 0
	for _, e := range evs {
		switch e := e.(type) {
		case domain.InboundReceived:
			inbound++
			if inbound > d.Answered {
				fresh = append(fresh, e)
			} else {
				lines = append(lines, domain.Line{Role: domain.RoleLead, Text: e.ModelText()})
			}
		case domain.OutboundPlanned:
			role := domain.RoleAssistant
			if e.By == domain.ActorManager {
				role = domain.RoleManager
			}
			lines = append(lines, domain.Line{Role: role, Text: e.Text})
		case domain.OutboundObserved:
			lines = append(lines, domain.Line{Role: domain.RoleManager, Text: e.Text})
		}
	}
	return lines, fresh, nil
}

// variant is the dialog's prompt variant: the one it was started with, or
// one picked by weight from the dialog's id (so it is the same at every
// turn).
func (c *Core) variant(d domain.Dialog) scenario.Variant {
	if v, ok := c.Scenario.Variant(d.Variant); ok {
		return v
	}
	h := fnv.New64a()
	h.Write(d.ID[:])
	return c.Scenario.PickVariant(h.Sum64())
}

// language follows the lead: their newest messages, else anything they
// wrote, else the scenario's default.
func (c *Core) language(d domain.Dialog, history []domain.Line, fresh []string) string {
	def := c.Scenario.Language
	if len(fresh) > 0 {
		return domain.DetectLanguage(def, fresh...)
	}
	var said []string
	for _, l := range history {
		if l.Role == domain.RoleLead {
			said = append(said, l.Text)
		}
	}
	return domain.DetectLanguage(def, said...)
}

// rules are the scenario's rules for a turn in lang.
func (c *Core) rules(lang string) domain.TurnRules {
	sc := c.Scenario
	r := domain.TurnRules{
		Knowledge: sc.KnowledgeText(), Stated: sc.StatedText(), Threshold: sc.Handoff.ScoreThreshold,
		Topics: sc.Handoff.AlwaysHuman, HumanPhrases: sc.Handoff.HumanPhrases, MaxFollowUps: sc.FollowUps.Max,
		OptOutReply: sc.T(sc.Replies.OptOut, lang), BotAnswer: sc.T(sc.Replies.BotAnswer, lang),
		HandoffReply: sc.T(sc.Replies.Handoff, lang), LostReply: sc.T(sc.Replies.Lost, lang),
	}
	if sc.DisclosureFirst() {
		r.Disclosure = sc.T(sc.Disclosure.Text, lang)
	}
	r.Graph = domain.GraphOf(sc)
	r.Files = sendable(sc, lang)
	for _, f := range sc.Qualification.Fields {
		r.Fields = append(r.Fields, f.Name)
	}
	return r
}

func (c *Core) turnTimeout() time.Duration {
	if c.TurnTimeout > 0 {
		return c.TurnTimeout
	}
	return 3 * time.Minute
}

func (c *Core) randomID() int64 {
	if c.RandomID != nil {
		return c.RandomID()
	}
	for {
		var b [8]byte
		_, _ = rand.Read(b[:])
		if n := int64(binary.BigEndian.Uint64(b[:]) >> 1); n != 0 {
			return n
		}
	}
}

// nurturing returns the nurture stage d waits in, if it does.
func nurturing(sc *scenario.Scenario, d domain.Dialog) (scenario.Stage, bool) {
	st, ok := domain.GraphOf(sc).Spec(d.Stage)
	return st, ok && st.Exit == scenario.ExitNurture
}
