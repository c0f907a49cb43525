package domain

import (
	"fmt"
	"strings"

	"github.com/salesbot/salesbot/domain/scenario"
)

// OutboundKind says what an outbound message is for. The last words of a
// turn that closes a dialog or hands it to a person (the opt-out
// confirmation, the handoff note, a goodbye) are still sent after the
// dialog closed or went silent; nothing else is.
type OutboundKind string

const (
	KindOpening      OutboundKind = "opening"
	KindReply        OutboundKind = "reply"
	KindFollowUp     OutboundKind = "follow-up"
	KindConfirmation OutboundKind = "opt-out-confirmation"
	KindHandoff      OutboundKind = "handoff"
	KindClosing      OutboundKind = "closing"
)

// lastWords are the kinds sent even though the turn that planned them
// closed the dialog or handed it off.
func (k OutboundKind) lastWords() bool {
	return k == KindConfirmation || k == KindHandoff || k == KindClosing
}

// TurnRules are the scenario's rules for one turn, in the turn's
// language: what the guards enforce whatever the model says.
type TurnRules struct {
	Knowledge    string   // the whole knowledge base: every figure in a reply must appear in it
	Stated       string   // what else the scenario states (its website, fixed texts): a contact point in a reply must appear here or in Knowledge
	Threshold    int      // interest score at or above which the lead goes to a person (1..100)
	Topics       []string // topics that always go to a person
	HumanPhrases []string // how leads ask for a person
	Fields       []string // the scenario's qualification fields (standard and custom)
	MaxFollowUps int
	OptOutReply  string // the one confirmation of an opt-out
	BotAnswer    string // "I am the AI assistant of ..."
	HandoffReply string // "a colleague will write to you"
	LostReply    string // goodbye to a lead who is not interested
	Disclosure   string // first line of an opening; "" = none
	// Graph is the scenario's stage graph when it branches (GraphOf);
	// empty = the fixed stages and moves.
	Graph StageGraph
	// Files are the knowledge base's files a reply may send (media.go).
	Files []SendableFile
}

// TurnMeta says which scenario and variant a turn ran.
type TurnMeta struct {
	Scenario, ScenarioVersion string
	Variant, VariantVersion   string
	Language                  string
}

// TakeTurn records one turn of the assistant: the model's output (or why
// there is none) with the guards applied. For a reply turn Answered is
// the number of the lead's messages the input covered (Dialog.Inbound when
// it was built); if more arrived meanwhile the turn is refused with
// ESTATE, and the engine takes it again with all of them. RandomIDs are the
// Telegram random_ids for the messages the turn may plan (at most two).
type TakeTurn struct {
	Kind      TurnKind
	Answered  int
	New       []string // the lead's new messages, for the guards
	Output    TurnOutput
	Invalid   string // non-empty: the model's output stayed invalid (or, with Refused, the provider refused the request); why
	Refused   bool
	Usage     Usage
	Rules     TurnRules
	Meta      TurnMeta
	RandomIDs []int64
	// Fallback, for an opening the model wrote (Output.Reply), is the
	// scenario's own opening with the lead's merge fields filled in: sent
	// instead when the guards withhold the model's or it has none
	// (modelOpening). Empty: Output.Reply is the scenario's text itself.
	Fallback string
	// Handoff, for a reply, hands the lead to a person for this reason
	// with no model's answer (the scenario's media rule: media.go).
	Handoff string
}

// RecordTurnFailure records that the model could not be reached; the
// dialog waits and the turn is tried again later.
type RecordTurnFailure struct{ Failed TurnFailed }

// LeadOptOut records that the lead asked not to be written to, in
// whatever state the dialog is (the AI silent, the model down, a manager
// in it): the one confirmation (if the dialog was open and none was
// planned), the opt-out and the close. No model is asked. The handler
// also puts the contact on the do-not-contact list.
type LeadOptOut struct {
	Reason       string // the lead's words
	Confirmation string // the scenario's confirmation in the lead's language
	RandomID     int64
}

func (LeadOptOut) dialogCommand() {}

func decideLeadOptOut(d Dialog, cmd LeadOptOut) ([]Event, error) {
	if d.Outcome == OutcomeOptedOut {
		return nil, nil
	}
	if d.Stage == StageClosed {
		return []Event{DialogOptedOut{Reason: cmd.Reason}}, nil // closed already: nothing more is sent
	}
	var evs []Event
	if !d.Confirmed && strings.TrimSpace(cmd.Confirmation) != "" {
		if cmd.RandomID == 0 {
			return nil, errorf(EINVALID, "the opt-out confirmation needs a random_id")
		}
		evs = append(evs, OutboundPlanned{RandomID: cmd.RandomID, Text: strings.TrimSpace(cmd.Confirmation), By: ActorAI, Kind: KindConfirmation})
	}
	return append(evs, DialogOptedOut{Reason: cmd.Reason}, DialogClosed{Outcome: OutcomeOptedOut, By: "lead"}), nil
}

// Handoff reasons the guards give.
const (
	ReasonInvalidOutput = "model output invalid"
	ReasonUngrounded    = "asked about price not in knowledge base"
	ReasonWantsHuman    = "lead asked for a human"
	ReasonClaimedHuman  = "model claimed to be human (off-policy)"
	ReasonNeedsInfo     = "needs information not in the knowledge base"
	ReasonModelRefused  = "the model refused the request"
	ReasonContactPoint  = "reply named a contact point the scenario does not state"
	ReasonAskedSecret   = "model asked the lead for a card, code, password or passport (off-policy)"
)

// decideTurn applies the guards to a turn and returns its events.
func decideTurn(d Dialog, cmd TakeTurn) ([]Event, error) {
	switch {
	case d.Stage == StageClosed:
		return nil, errorf(ESTATE, "dialog %d is closed (%s)", d.N, d.Outcome)
	case d.AISilent():
		return nil, errorf(EFORBIDDEN, "dialog %d is with a manager; the AI stays silent until it is released", d.N)
	}
	switch cmd.Kind {
	case TurnReply:
		if cmd.Answered <= d.Answered {
			return nil, nil // answered already (a retry after a crash)
		}
		if cmd.Answered != d.Inbound {
			return nil, errorf(ESTATE, "dialog %d has %d messages from the lead, the turn answered %d: take it again", d.N, d.Inbound, cmd.Answered)
		}
	case TurnOpening:
		if !d.NeedsOpening() {
			return nil, nil // opened already, or the lead wrote first
		}
	case TurnFollowUp:
		if d.Inbound != d.Answered || d.FollowUps >= cmd.Rules.MaxFollowUps || d.Outbound == 0 || len(d.Pending) > 0 {
			return nil, nil // the lead wrote, enough follow-ups, or nothing of ours reached them yet
		}
	default:
		return nil, errorf(EINVALID, "unknown turn kind %q", cmd.Kind)
	}
	t := &turnBuilder{d: d, cmd: cmd, ids: cmd.RandomIDs, qual: d.Qual}
	t.taken = TurnTaken{
		Kind: cmd.Kind, Engine: cmd.Usage.Engine, Model: cmd.Usage.Model,
		Scenario: cmd.Meta.Scenario, ScenarioVersion: cmd.Meta.ScenarioVersion,
		Variant: cmd.Meta.Variant, VariantVersion: cmd.Meta.VariantVersion, Language: cmd.Meta.Language,
		Answered: max(cmd.Answered, d.Answered), PromptTokens: cmd.Usage.PromptTokens, CompletionTokens: cmd.Usage.CompletionTokens, CachedPromptTokens: cmd.Usage.CachedPromptTokens,
		LatencyMs: cmd.Usage.Latency.Milliseconds(), Attempts: cmd.Usage.Attempts,
	}
	if cmd.Kind == TurnReply {
		return t.reply()
	}
	return t.scripted()
}

type turnBuilder struct {
	d       Dialog
	cmd     TakeTurn
	ids     []int64
	taken   TurnTaken
	after   []Event       // the events after TurnTaken
	asksBot bool          // the lead asked whether this is a bot: every answer discloses
	qual    Qualification // the lead's qualification after this turn's update
	moved   bool          // the stage was decided (a graph's moves are made once)
}

func (t *turnBuilder) guard(format string, args ...any) {
	t.taken.Guards = append(t.taken.Guards, fmt.Sprintf(format, args...))
}

func (t *turnBuilder) flag(name string) {
	for _, f := range t.taken.Flags {
		if f == name {
			return
		}
	}
	t.taken.Flags = append(t.taken.Flags, name)
}

// plan adds an outbound message with the next random_id.
func (t *turnBuilder) plan(text string, kind OutboundKind) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	if len(t.ids) == 0 || t.ids[0] == 0 {
		return errorf(EINVALID, "the turn needs a random_id for each message it plans")
	}
	t.after = append(t.after, OutboundPlanned{RandomID: t.ids[0], Text: text, By: ActorAI, Kind: kind})
	t.ids = t.ids[1:]
	return nil
}

func (t *turnBuilder) events() []Event {
	return append([]Event{t.taken}, t.after...)
}

// scripted is an opening or a follow-up: a scenario text, still checked
// for figures the knowledge base does not state.
func (t *turnBuilder) scripted() ([]Event, error) {
	text := strings.TrimSpace(t.cmd.Output.Reply)
	kind := KindFollowUp
	if t.cmd.Kind == TurnOpening {
		kind = KindOpening
		if strings.TrimSpace(t.cmd.Fallback) != "" {
			text = t.modelOpening()
		}
		if dl := strings.TrimSpace(t.cmd.Rules.Disclosure); dl != "" && !strings.Contains(text, dl) {
			text = dl + " " + text
			t.guard(guardDisclosureAdded)
		}
	}
	if text == "" {
		return nil, errorf(EINVALID, "the %s of dialog %d has no text", t.cmd.Kind, t.d.N)
	}
	if bad := UngroundedFigures(text, t.cmd.Rules.Knowledge); len(bad) > 0 {
		return nil, errorf(EINVALID, "the scenario's %s states %s, which the knowledge base does not", t.cmd.Kind, strings.Join(bad, ", "))
	}
	if err := t.plan(text, kind); err != nil {
		return nil, err
	}
	return t.events(), nil
}

// reply applies the guards to a model's answer to the lead's messages.
func (t *turnBuilder) reply() ([]Event, error) {
	out, rules, msgs := t.cmd.Output, t.cmd.Rules, t.cmd.New
	anyMsg := func(f func(string) bool) bool {
		for _, m := range msgs {
			if f(m) {
				return true
			}
		}
		return false
	}
	// Opt-out first: one confirmation, the dialog ends, nothing else.
	if out.Flags.OptOut || anyMsg(IsOptOut) {
		t.flag("opt-out")
		if !t.d.Confirmed {
			if err := t.plan(rules.OptOutReply, KindConfirmation); err != nil {
				return nil, err
			}
		}
		reason := "the lead opted out"
		for _, m := range msgs {
			if IsOptOut(m) {
				reason = m
			}
		}
		t.after = append(t.after, DialogOptedOut{Reason: reason}, DialogClosed{Outcome: OutcomeOptedOut, By: "lead"})
		return t.events(), nil
	}
	flags := out.Flags
	if t.cmd.Invalid != "" {
		flags = TurnFlags{} // nothing of the model's answer counts
	}
	if flags.AsksIfBot || anyMsg(AsksIfBot) {
		t.flag("asks-if-bot")
		flags.AsksIfBot, t.asksBot = true, true
	}
	if t.cmd.Invalid != "" && t.cmd.Refused {
		t.guard(guardProviderRefused)
		return t.handOff(ReasonModelRefused)
	}
	if t.cmd.Invalid != "" {
		t.guard(guardInvalidOutput)
		return t.handOff(ReasonInvalidOutput)
	}
	if t.cmd.Handoff != "" {
		return t.handOff(t.cmd.Handoff)
	}
	if flags.WantsHuman || anyMsg(func(m string) bool { return ContainsPhrase(m, rules.HumanPhrases) != "" }) {
		t.flag("wants-human")
		flags.WantsHuman = true
	}
	if flags.OffTopic {
		t.flag("off-topic")
	}
	if flags.NeedsInfo {
		t.flag("needs-info")
	}
	topic := ""
	for _, m := range msgs {
		if topic = ContainsPhrase(m, rules.Topics); topic != "" {
			break
		}
	}

	score := min(max(out.Score, 0), 100)
	t.taken.Score = &score
	if q, ok := t.qualification(out.Qualification, score); ok {
		t.after = append(t.after, QualificationUpdated{Qual: q.typed()})
		t.qual = mergeQualification(t.qual, q.typed())
	}

	reply := strings.TrimSpace(out.Reply)
	if ClaimsHuman(reply) {
		t.guard(guardClaimedHuman)
		return t.handOff(ReasonClaimedHuman)
	}
	if secret := AsksForSecret(reply); secret != "" {
		t.guard(guardAskedSecret, secret)
		return t.handOff(ReasonAskedSecret)
	}
	if flags.AsksIfBot && !Discloses(reply) {
		reply = strings.TrimSpace(rules.BotAnswer + " " + reply)
		t.guard(guardBotQuestionReply)
	}
	if bad := UngroundedFigures(reply, rules.Knowledge); len(bad) > 0 {
		t.guard(guardUngroundedFigures, strings.Join(bad, ", "))
		return t.handOff(ReasonUngrounded)
	}
	if bad := UnstatedContacts(reply, rules.Knowledge+"\n"+rules.Stated); len(bad) > 0 {
		t.guard(guardUnstatedContacts, strings.Join(bad, ", "))
		return t.handOff(ReasonContactPoint)
	}
	exit := ""
	if len(rules.Graph) > 0 {
		t.moveTo(out.NextStage)
		st, _ := rules.Graph.Spec(t.d.Stage)
		exit = st.Exit
		switch exit {
		case scenario.ExitHandoff:
			reason := strings.TrimSpace(st.Handoff.Reason)
			if reason == "" {
				reason = "scenario stage " + st.Name
			}
			return t.handOff(reason)
		case scenario.ExitLost:
			return t.closeLost(t.stageReply(st), "scenario stage "+st.Name)
		case scenario.ExitNurture:
			if r := t.stageReply(st); r != "" {
				reply = r
			}
		}
	}
	switch {
	case topic != "":
		return t.handOff("topic that always goes to a person: " + topic)
	case flags.WantsHuman:
		return t.handOff(ReasonWantsHuman)
	case strings.TrimSpace(out.HandoffReason) != "":
		return t.handOff("model: " + strings.TrimSpace(out.HandoffReason))
	case flags.NeedsInfo:
		return t.handOff(ReasonNeedsInfo)
	case rules.Threshold > 0 && score >= rules.Threshold:
		return t.handOff(fmt.Sprintf("interest score %d reached the threshold %d", score, rules.Threshold))
	}
	if out.NextStage == StageClosed && exit == "" {
		return t.closeLost(reply, "the lead is not interested")
	}
	t.moveTo(out.NextStage)
	if reply == "" {
		return nil, errorf(EINVALID, "the model's answer for dialog %d has no reply", t.d.N)
	}
	if err := t.plan(reply, KindReply); err != nil {
		return nil, err
	}
	if err := t.sendFile(out.File); err != nil {
		return nil, err
	}
	return t.events(), nil
}

// closeLost closes the dialog as lost with reply (the scenario's goodbye
// when empty).
func (t *turnBuilder) closeLost(reply, reason string) ([]Event, error) {
	if reply == "" {
		reply = t.cmd.Rules.LostReply
	}
	if err := t.plan(reply, KindClosing); err != nil {
		return nil, err
	}
	t.after = append(t.after, DialogClosed{Outcome: OutcomeLost, By: "ai", Reason: reason})
	return t.events(), nil
}

// moveTo records a stage change the state machine allows; the model may
// not move a lead backwards. With a graph, see StageGraph.
func (t *turnBuilder) moveTo(to Stage) {
	if g := t.cmd.Rules.Graph; len(g) > 0 {
		if !t.moved {
			t.moved = true
			t.moveInGraph(g, to)
		}
		return
	}
	if to == "" || to == t.d.Stage {
		return
	}
	if !canMove(t.d.Stage, to) {
		t.guard(guardStageNotAllowed, t.d.Stage, to, t.d.Stage)
		return
	}
	t.after = append(t.after, StageChanged{From: t.d.Stage, To: to})
	t.d.Stage = to
}

// handOff ends the AI's part: the scenario's handoff note (the model's
// reply is not sent: from here on a person answers), the request and the
// stage change.
func (t *turnBuilder) handOff(reason string) ([]Event, error) {
	t.moveTo(t.cmd.Output.NextStage)
	note := t.cmd.Rules.HandoffReply
	if t.asksBot && !Discloses(note) {
		note = t.cmd.Rules.BotAnswer + " " + note
		t.guard(guardBotQuestionHandoff)
	}
	if err := t.plan(note, KindHandoff); err != nil {
		return nil, err
	}
	t.after = append(t.after, HandoffRequested{Reason: reason}, StageChanged{From: t.d.Stage, To: StageHandoff})
	return t.events(), nil
}

// qualification turns the model's field updates into a qualification
// update: unknown fields are dropped, and a quote that is not the lead's
// own words is dropped with the confidence capped, so the card never shows
// words the lead did not write.
func (t *turnBuilder) qualification(ups []FieldUpdate, score int) (Qualification, bool) {
	q := Qualification{}
	if t.d.Qual.Score == nil || *t.d.Qual.Score != score {
		q.Score = &score
	}
	said := normalize(strings.Join(t.cmd.New, "\n"))
	for _, u := range ups {
		name := strings.TrimSpace(u.Name)
		if !contains(t.cmd.Rules.Fields, name) {
			t.guard(guardUnknownField, name)
			continue
		}
		if strings.TrimSpace(u.Value) == "" {
			continue
		}
		f := Field{Value: strings.TrimSpace(u.Value), Quote: strings.TrimSpace(u.Quote), Confidence: min(max(u.Confidence, 0), 1)}
		if nq := normalize(f.Quote); f.Quote != "" && (nq == "" || !strings.Contains(said, nq)) {
			t.guard(guardQuoteNotLeads, name)
			f.Quote, f.Confidence = "", min(f.Confidence, 0.5)
		}
		switch name {
		case "need":
			q.Need = &f
		case "budget":
			q.Budget = &f
		case "timeline":
			q.Timeline = &f
		case "authority":
			q.Authority = &f
		default:
			q.Custom = append(q.Custom, CustomField{Name: name, Value: f.Value, Quote: f.Quote, Confidence: f.Confidence})
		}
	}
	return q, validQualification(q) == nil
}

// NeedsOpening says whether the dialog, which salesbot started, still
// needs its opening: nothing of ours was sent or is on its way, the lead
// has not written, and an opening that failed is written again only once.
func (d Dialog) NeedsOpening() bool {
	return d.StartedBy != "inbound" && d.Outbound == 0 && len(d.Pending) == 0 && d.Inbound == 0 && d.Openings < 2
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// moveInGraph takes the transitions whose conditions hold, else the
// model's proposed stage when a transition allows it, then again those
// whose conditions hold; each stage is entered once per turn.
func (t *turnBuilder) moveInGraph(g StageGraph, proposed Stage) {
	been := map[Stage]bool{t.d.Stage: true}
	step := func(to Stage) {
		t.after = append(t.after, StageChanged{From: t.d.Stage, To: to})
		t.d.Stage = to
		been[to] = true
	}
	forced := func() bool {
		took := false
		for {
			to, ok := g.Forced(t.d.Stage, t.qual)
			if !ok || been[to] {
				return took
			}
			step(to)
			took = true
		}
	}
	if forced() {
		return
	}
	switch {
	case proposed == "" || proposed == t.d.Stage || proposed == StageClosed:
	case g.CanMove(t.d.Stage, proposed, t.qual):
		step(proposed)
		forced()
	default:
		t.guard(guardStageNotAllowed, t.d.Stage, proposed, t.d.Stage)
	}
}

// stageReply is an exit stage's reply in the turn's language, else in
// the first language it has ("" when it has none).
func (t *turnBuilder) stageReply(st scenario.Stage) string {
	if r := strings.TrimSpace(st.Reply[t.cmd.Meta.Language]); r != "" {
		return r
	}
	for _, l := range scenario.Languages {
		if r := strings.TrimSpace(st.Reply[l]); r != "" {
			return r
		}
	}
	return ""
}
