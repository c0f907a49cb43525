package domain

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
)

var (
	now       = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	dialogID  = uuid.MustParse("0193a0c0-0000-7000-8000-000000000001")
	contactID = uuid.MustParse("0193a0c0-0000-7000-8000-000000000002")
	accountID = uuid.MustParse("0193a0c0-0000-7000-8000-000000000003")
)

func contact(optedOut, forgotten bool) Contact {
	return Contact{ID: contactID, Exists: true, Source: SourceImport, Basis: BasisConsent, Username: "lead", OptedOut: optedOut, Forgotten: forgotten}
}

var (
	okContact = contact(false, false)
	started   = DialogStarted{DialogID: dialogID, N: 7, ContactID: contactID, AccountID: accountID, Variant: "A", By: "ai"}
)

func score(n int) *int { return &n }

// dialogCase: given these events, when this command, then these events or
// an error with this code.
type dialogCase struct {
	name  string
	given []Event
	when  DialogCommand
	then  []Event
	err   Code
}

func runDialogCases(t *testing.T, cases []dialogCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d Dialog
			for _, e := range c.given {
				d = EvolveDialog(d, e)
			}
			got, err := DecideDialog(d, c.when, now)
			if c.err != "" {
				if code := ErrorCode(err); code != c.err {
					t.Fatalf("error %v (code %q), want code %q", err, code, c.err)
				}
				if got != nil {
					t.Fatalf("events %v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, c.then) {
				t.Fatalf("events\n got %#v\nwant %#v", got, c.then)
			}
		})
	}
}

// at builds the events of a dialog that reached stage s by legal moves.
func at(s Stage) []Event {
	evs := []Event{started}
	switch s {
	case StageOpening:
	case StageObjections:
		evs = append(evs, StageChanged{From: StageOpening, To: StageOffer}, StageChanged{From: StageOffer, To: StageObjections})
	case StageHandoff:
		evs = append(evs, HandoffRequested{Reason: "score"}, StageChanged{From: StageOpening, To: StageHandoff})
	case StageClosed:
		evs = append(evs, DialogClosed{Outcome: OutcomeLost, By: "admin:1"})
	default:
		evs = append(evs, StageChanged{From: StageOpening, To: s})
	}
	return evs
}

func TestStartDialog(t *testing.T) {
	start := func(c Contact) StartDialog {
		return StartDialog{DialogID: dialogID, N: 7, Contact: c, AccountID: accountID, Variant: "A", By: "ai"}
	}
	runDialogCases(t, []dialogCase{
		{"starts at opening", nil, start(okContact), []Event{started}, ""},
		{"opted-out contact", nil, start(contact(true, false)), nil, EFORBIDDEN},
		{"forgotten contact", nil, start(contact(true, true)), nil, EFORBIDDEN},
		{"unknown contact", nil, start(Contact{}), nil, EINVALID},
		{"no account", nil, StartDialog{DialogID: dialogID, N: 7, Contact: okContact}, nil, EINVALID},
		{"no number", nil, StartDialog{DialogID: dialogID, Contact: okContact, AccountID: accountID}, nil, EINVALID},
		{"twice", []Event{started}, start(okContact), nil, ESTATE},
		{"command before start", nil, ChangeStage{To: StageDiscovery}, nil, EINVALID},
	})
}

// Every pair of stages: a ChangeStage is legal exactly when stageMoves
// lists it; moving to the current stage records nothing.
func TestEveryStageTransition(t *testing.T) {
	all := []Stage{StageOpening, StageDiscovery, StageQualification, StageOffer, StageObjections, StageHandoff, StageClosed}
	allowed := map[[2]Stage]bool{
		{StageOpening, StageDiscovery}: true, {StageOpening, StageQualification}: true, {StageOpening, StageOffer}: true,
		{StageDiscovery, StageQualification}: true, {StageDiscovery, StageOffer}: true,
		{StageQualification, StageOffer}: true,
		{StageOffer, StageObjections}:    true,
		{StageObjections, StageOffer}:    true,
	}
	var cases []dialogCase
	for _, from := range all {
		for _, to := range all {
			c := dialogCase{name: fmt.Sprintf("%s to %s", from, to), given: at(from), when: ChangeStage{To: to}}
			switch {
			case from == to:
				c.then = nil
			case allowed[[2]Stage{from, to}]:
				c.then = []Event{StageChanged{From: from, To: to}}
			default:
				c.err = ESTATE
			}
			cases = append(cases, c)
		}
	}
	runDialogCases(t, cases)
}

func TestHandoffTakeoverRelease(t *testing.T) {
	takenOver := append(at(StageOffer), DialogTakenOver{By: "admin:1"})
	scored := append(at(StageQualification), QualificationUpdated{Qual: Qualification{Score: score(80)}}, HandoffRequested{Reason: "score"}, StageChanged{From: StageQualification, To: StageHandoff})
	runDialogCases(t, []dialogCase{
		{"handoff from discovery", at(StageDiscovery), RequestHandoff{Reason: "asks for a human"},
			[]Event{HandoffRequested{Reason: "asks for a human"}, StageChanged{From: StageDiscovery, To: StageHandoff}}, ""},
		{"handoff twice records nothing", at(StageHandoff), RequestHandoff{Reason: "again"}, nil, ""},
		{"handoff of a closed dialog", at(StageClosed), RequestHandoff{Reason: "x"}, nil, ESTATE},
		{"no stage change during handoff", at(StageHandoff), ChangeStage{To: StageOffer}, nil, ESTATE},
		{"takeover", at(StageOffer), TakeOver{By: "admin:1"}, []Event{DialogTakenOver{By: "admin:1"}}, ""},
		{"takeover twice", takenOver, TakeOver{By: "admin:2"}, nil, ""},
		{"takeover of a closed dialog", at(StageClosed), TakeOver{By: "admin:1"}, nil, ESTATE},
		{"release a takeover", takenOver, Release{By: "admin:1"}, []Event{DialogReleased{By: "admin:1", To: StageQualification}}, ""},
		{"release a scored handoff resumes at the offer", scored, Release{By: "admin:1"}, []Event{DialogReleased{By: "admin:1", To: StageOffer}}, ""},
		{"release a dialog the AI has", at(StageOffer), Release{By: "admin:1"}, nil, ESTATE},
	})
}

func TestOutbound(t *testing.T) {
	plan := func(by Actor, c Contact) PlanOutbound {
		return PlanOutbound{RandomID: 42, Text: "Hello! I am the AI assistant of Acme.", By: by, Contact: c}
	}
	planned := OutboundPlanned{RandomID: 42, Text: "Hello! I am the AI assistant of Acme.", By: ActorAI}
	withPending := append(at(StageOpening), planned)
	takenOver := append(at(StageOffer), DialogTakenOver{By: "admin:1"})
	runDialogCases(t, []dialogCase{
		{"AI plans", at(StageOpening), plan(ActorAI, okContact), []Event{planned}, ""},
		{"retry with the same random_id records nothing", withPending, plan(ActorAI, okContact), nil, ""},
		{"retry after an opt-out is refused", withPending, plan(ActorAI, contact(true, false)), nil, EFORBIDDEN},
		{"retry after a handoff is refused", append(withPending, HandoffRequested{Reason: "x"}, StageChanged{From: StageOpening, To: StageHandoff}), plan(ActorAI, okContact), nil, EFORBIDDEN},
		{"no random_id", at(StageOpening), PlanOutbound{Text: "x", By: ActorAI, Contact: okContact}, nil, EINVALID},
		{"no text", at(StageOpening), PlanOutbound{RandomID: 1, Text: "  ", By: ActorAI, Contact: okContact}, nil, EINVALID},
		{"unknown author", at(StageOpening), plan("bot", okContact), nil, EINVALID},
		{"opted-out contact", at(StageOffer), plan(ActorManager, contact(true, false)), nil, EFORBIDDEN},
		{"AI silent during handoff", at(StageHandoff), plan(ActorAI, okContact), nil, EFORBIDDEN},
		{"AI silent after takeover", takenOver, plan(ActorAI, okContact), nil, EFORBIDDEN},
		{"manager writes after takeover", takenOver, plan(ActorManager, okContact),
			[]Event{OutboundPlanned{RandomID: 42, Text: "Hello! I am the AI assistant of Acme.", By: ActorManager}}, ""},
		{"closed dialog", at(StageClosed), plan(ActorManager, okContact), nil, ESTATE},
		{"sent", withPending, MarkSent{RandomID: 42, TelegramMessageID: 900}, []Event{OutboundSent{RandomID: 42, TelegramMessageID: 900}}, ""},
		{"sent twice records nothing", append(withPending, OutboundSent{RandomID: 42, TelegramMessageID: 900}), MarkSent{RandomID: 42, TelegramMessageID: 900}, nil, ""},
		{"failed", withPending, MarkFailed{RandomID: 42, Reason: "USER_PRIVACY_RESTRICTED"}, []Event{OutboundFailed{RandomID: 42, Reason: "USER_PRIVACY_RESTRICTED"}}, ""},
		{"failed but never planned", at(StageOpening), MarkFailed{RandomID: 7, Reason: "x"}, nil, ""},
		{"inbound is recorded even when closed", at(StageClosed), RecordInbound{TelegramMessageID: 5, Text: "hi", At: now},
			[]Event{InboundReceived{TelegramMessageID: 5, Text: "hi", At: now}}, ""},
	})
}

func TestEndingADialog(t *testing.T) {
	optedOut := append(at(StageOffer), DialogOptedOut{Reason: "stop"}, DialogClosed{Outcome: OutcomeOptedOut, By: "lead"})
	runDialogCases(t, []dialogCase{
		{"stop", at(StageOffer), StopDialog{By: "admin:1"}, []Event{DialogStopped{By: "admin:1"}, DialogClosed{Outcome: OutcomeStopped, By: "admin:1"}}, ""},
		{"stop a closed dialog records nothing", at(StageClosed), StopDialog{By: "admin:1"}, nil, ""},
		{"opt-out ends at once", at(StageHandoff), OptOutDialog{Reason: "не пишите"},
			[]Event{DialogOptedOut{Reason: "не пишите", By: "lead"}, DialogClosed{Outcome: OutcomeOptedOut, By: "lead"}}, ""},
		{"a manager's opt-out is recorded as theirs", at(StageOffer), OptOutDialog{Reason: "asked by phone", By: "admin:7"},
			[]Event{DialogOptedOut{Reason: "asked by phone", By: "admin:7"}, DialogClosed{Outcome: OutcomeOptedOut, By: "admin:7"}}, ""},
		{"an erasure's opt-out is recorded as the erasure's", at(StageOffer), OptOutDialog{Reason: "erased", By: "erasure"},
			[]Event{DialogOptedOut{Reason: "erased", By: "erasure"}, DialogClosed{Outcome: OutcomeOptedOut, By: "erasure"}}, ""},
		{"opt-out of a closed dialog is still recorded", at(StageClosed), OptOutDialog{Reason: "stop"}, []Event{DialogOptedOut{Reason: "stop", By: "lead"}}, ""},
		{"opt-out twice records nothing", optedOut, OptOutDialog{Reason: "stop"}, nil, ""},
		{"won", at(StageOffer), CloseDialog{Outcome: OutcomeWon, By: "admin:1"}, []Event{DialogClosed{Outcome: OutcomeWon, By: "admin:1"}}, ""},
		{"close as opted-out is not a close", at(StageOffer), CloseDialog{Outcome: OutcomeOptedOut}, nil, EINVALID},
		{"close twice", at(StageClosed), CloseDialog{Outcome: OutcomeWon}, nil, ESTATE},
		{"no qualification after close", at(StageClosed), UpdateQualification{Qual: Qualification{Score: score(10)}}, nil, ESTATE},
	})
}

func TestQualification(t *testing.T) {
	need := &Field{Value: "CRM for 20 people", Quote: "we need a CRM for our 20 sales reps", Confidence: 0.9}
	runDialogCases(t, []dialogCase{
		{"update", at(StageDiscovery), UpdateQualification{Qual: Qualification{Need: need, Score: score(55)}},
			[]Event{QualificationUpdated{Qual: Qualification{Need: need, Score: score(55)}}}, ""},
		{"empty update", at(StageDiscovery), UpdateQualification{}, nil, EINVALID},
		{"score over 100", at(StageDiscovery), UpdateQualification{Qual: Qualification{Score: score(101)}}, nil, EINVALID},
		{"negative score", at(StageDiscovery), UpdateQualification{Qual: Qualification{Score: score(-1)}}, nil, EINVALID},
		{"confidence over 1", at(StageDiscovery), UpdateQualification{Qual: Qualification{Budget: &Field{Value: "10k", Confidence: 1.5}}}, nil, EINVALID},
		{"field without value", at(StageDiscovery), UpdateQualification{Qual: Qualification{Timeline: &Field{Quote: "soon"}}}, nil, EINVALID},
	})
}

// Updates merge: a later update keeps the fields it does not mention.
func TestQualificationMerges(t *testing.T) {
	need := &Field{Value: "CRM", Confidence: 0.8}
	budget := &Field{Value: "10k", Confidence: 0.6}
	d := Dialog{}
	for _, e := range []Event{started, QualificationUpdated{Qual: Qualification{Need: need, Score: score(40)}}, QualificationUpdated{Qual: Qualification{Budget: budget, Score: score(70)}}} {
		d = EvolveDialog(d, e)
	}
	if d.Qual.Need != need || d.Qual.Budget != budget || *d.Qual.Score != 70 {
		t.Fatalf("qualification after two updates: %+v", d.Qual)
	}
}

// Evolve never shares the pending set with an earlier state.
func TestEvolveDoesNotAlias(t *testing.T) {
	before := EvolveDialog(EvolveDialog(Dialog{}, started), OutboundPlanned{RandomID: 1, Text: "x", By: ActorAI})
	after := EvolveDialog(before, OutboundSent{RandomID: 1, TelegramMessageID: 2})
	if before.Pending[1] != "x" || after.Pending[1] != "" || after.Outbound != 1 || !after.Sent[2] || before.Sent[2] {
		t.Fatalf("before %v after %v", before.Pending, after.Pending)
	}
}
