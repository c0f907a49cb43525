package domain

import (
	"testing"

	"github.com/salesbot/salesbot/domain/scenario"
)

var known = []string{"price", "timing", "has_a_tool"}

// nurtureGraph is a branching scenario's stages with a nurture exit.
var nurtureGraph = StageGraph{
	{Name: "opening", Transitions: []scenario.Transition{{To: "nurture"}, {To: "offer"}}},
	{Name: "offer", Transitions: []scenario.Transition{{To: "nurture"}}},
	{Name: "nurture", Exit: scenario.ExitNurture},
}

func TestRecordInsights(t *testing.T) {
	closedLost := DialogClosed{Outcome: OutcomeLost, By: "ai", Reason: "the lead is not interested"}
	handedOff := []Event{HandoffRequested{Reason: "wants a person"}, StageChanged{From: StageOpening, To: StageHandoff}}
	lostInsight := InsightsRecorded{Summary: "Asked the price, found it too dear.", LossReason: "too expensive", Objections: []string{"price"}, By: InsightByRules, Outcome: OutcomeLost}
	runDialogCases(t, []dialogCase{
		{
			name:  "a lost dialog gets its summary, reason and known objections, each once",
			given: []Event{started, closedLost},
			when: RecordInsights{Summary: "  Asked the price, found it too dear. ", LossReason: "too expensive",
				Objections: []string{"price", "made_up", "price"}, Known: known, By: InsightByRules},
			then: []Event{lostInsight},
		},
		{
			name:  "an LLM's insight carries its model and tokens",
			given: []Event{started, closedLost},
			when: RecordInsights{Summary: "Not now.", LossReason: "timing", Objections: []string{"timing"}, Known: known, By: InsightByLLM,
				Usage: Usage{Engine: "llm", Model: "gpt-4o-mini", PromptTokens: 900, CachedPromptTokens: 512, CompletionTokens: 60}},
			then: []Event{InsightsRecorded{Summary: "Not now.", LossReason: "timing", Objections: []string{"timing"}, By: InsightByLLM, Outcome: OutcomeLost,
				Model: "gpt-4o-mini", PromptTokens: 900, CachedPromptTokens: 512, CompletionTokens: 60}},
		},
		{
			name:  "a handoff has no loss reason",
			given: append([]Event{started}, handedOff...),
			when:  RecordInsights{Summary: "Wants a call.", LossReason: "none", Objections: []string{"has_a_tool"}, Known: known, By: InsightByRules},
			then:  []Event{InsightsRecorded{Summary: "Wants a call.", Objections: []string{"has_a_tool"}, By: InsightByRules, Handoff: true}},
		},
		{
			name:  "a won dialog has no loss reason",
			given: []Event{started, DialogClosed{Outcome: OutcomeWon, By: "admin:1"}},
			when:  RecordInsights{Summary: "Bought Team.", LossReason: "n/a", Known: known, By: InsightByRules},
			then:  []Event{InsightsRecorded{Summary: "Bought Team.", By: InsightByRules, Outcome: OutcomeWon}},
		},
		{
			name:  "an opt-out is an end",
			given: []Event{started, DialogOptedOut{Reason: "stop", By: "lead"}, DialogClosed{Outcome: OutcomeOptedOut, By: "lead"}},
			when:  RecordInsights{Summary: "Opted out at once.", LossReason: "opted out", Known: known, By: InsightByRules},
			then:  []Event{InsightsRecorded{Summary: "Opted out at once.", LossReason: "opted out", By: InsightByRules, Outcome: OutcomeOptedOut}},
		},
		{
			name:  "once per close: again records nothing",
			given: []Event{started, closedLost, lostInsight},
			when:  RecordInsights{Summary: "Again.", Known: known, By: InsightByRules},
			then:  nil,
		},
		{
			name:  "a close after a handoff's insight gets one of its own",
			given: append(append([]Event{started}, handedOff...), InsightsRecorded{Summary: "Wants a call.", By: InsightByRules, Handoff: true}, DialogClosed{Outcome: OutcomeStopped, By: "admin:1"}),
			when:  RecordInsights{Summary: "Stopped by a manager.", LossReason: "the manager stopped it", Known: known, By: InsightByRules},
			then:  []Event{InsightsRecorded{Summary: "Stopped by a manager.", LossReason: "the manager stopped it", By: InsightByRules, Outcome: OutcomeStopped}},
		},
		{
			name:  "an open dialog has no insight",
			given: []Event{started, InboundReceived{TelegramMessageID: 1, Text: "hi"}},
			when:  RecordInsights{Summary: "Hi.", Known: known, By: InsightByRules},
			err:   ESTATE,
		},
		{
			name:  "a dialog released after a handoff keeps the handoff's insight due",
			given: append(append([]Event{started}, handedOff...), DialogReleased{By: "admin:1", To: StageQualification}),
			when:  RecordInsights{Summary: "Released.", Known: known, By: InsightByRules},
			then:  []Event{InsightsRecorded{Summary: "Released.", By: InsightByRules, Handoff: true}},
		},
		{
			name:  "entering a nurture exit is due an insight",
			given: []Event{started, StageChanged{From: StageOpening, To: "nurture"}},
			when:  RecordInsights{Summary: "Budget too small for now.", LossReason: "budget", Objections: []string{"price"}, Known: known, By: InsightByRules, Graph: nurtureGraph},
			then:  []Event{InsightsRecorded{Summary: "Budget too small for now.", Objections: []string{"price"}, By: InsightByRules, Nurture: true}},
		},
		{
			name:  "once per nurture exit",
			given: []Event{started, StageChanged{From: StageOpening, To: "nurture"}, InsightsRecorded{Summary: "s", By: InsightByRules, Nurture: true}},
			when:  RecordInsights{Summary: "Again.", Known: known, By: InsightByRules, Graph: nurtureGraph},
			then:  nil,
		},
		{
			name:  "a stage that is no exit has no insight",
			given: []Event{started, StageChanged{From: StageOpening, To: "offer"}},
			when:  RecordInsights{Summary: "s", Known: known, By: InsightByRules, Graph: nurtureGraph},
			err:   ESTATE,
		},
		{
			name:  "without the graph a nurture stage is not known as one",
			given: []Event{started, StageChanged{From: StageOpening, To: "nurture"}},
			when:  RecordInsights{Summary: "s", Known: known, By: InsightByRules},
			err:   ESTATE,
		},
		{
			name:  "a summary is required",
			given: []Event{started, closedLost},
			when:  RecordInsights{Summary: "  ", Known: known, By: InsightByRules},
			err:   EINVALID,
		},
		{
			name:  "by is llm or rules",
			given: []Event{started, closedLost},
			when:  RecordInsights{Summary: "x", Known: known, By: "manager"},
			err:   EINVALID,
		},
		{
			name: "unknown dialog",
			when: RecordInsights{Summary: "x", By: InsightByRules},
			err:  EINVALID,
		},
	})
}

func TestInsightTextsAreCut(t *testing.T) {
	long := make([]rune, MaxInsightSummary+50)
	for i := range long {
		long[i] = 'ж'
	}
	d := EvolveDialog(EvolveDialog(Dialog{}, started), DialogClosed{Outcome: OutcomeLost, By: "ai"})
	evs, err := DecideDialog(d, RecordInsights{Summary: string(long), LossReason: string(long), By: InsightByRules}, now)
	if err != nil {
		t.Fatal(err)
	}
	e := evs[0].(InsightsRecorded)
	if n := len([]rune(e.Summary)); n != MaxInsightSummary {
		t.Errorf("summary has %d characters, want %d", n, MaxInsightSummary)
	}
	if n := len([]rune(e.LossReason)); n != MaxInsightLossReason {
		t.Errorf("loss reason has %d characters, want %d", n, MaxInsightLossReason)
	}
}

func TestDialogNeedsInsight(t *testing.T) {
	d := EvolveDialog(Dialog{}, started)
	if d.NeedsInsight() {
		t.Fatal("an open dialog needs no insight")
	}
	d = EvolveDialog(d, StageChanged{From: StageOpening, To: StageHandoff})
	if !d.NeedsInsight() {
		t.Fatal("a handed-off dialog needs one")
	}
	d = EvolveDialog(d, InsightsRecorded{Summary: "s", By: InsightByRules, Handoff: true})
	if d.NeedsInsight() || d.Insights.Last == nil || d.Insights.Last.Summary != "s" {
		t.Fatalf("after the insight: %+v", d.Insights)
	}
	d = EvolveDialog(d, DialogClosed{Outcome: OutcomeLost, By: "admin:1"})
	if !d.NeedsInsight() {
		t.Fatal("the close after it needs another")
	}
}
