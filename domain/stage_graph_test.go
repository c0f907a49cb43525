package domain

import (
	"testing"

	"github.com/salesbot/salesbot/domain/scenario"
)

// exampleGraph is the shipped example's graph: opening → discovery →
// qualification → offer ⇄ objections; team_size > 50 → enterprise
// (handoff), budget < 49 → nurture.
func exampleGraph(t *testing.T) StageGraph {
	t.Helper()
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	g := GraphOf(sc)
	if len(g) == 0 {
		t.Fatal("the example does not branch")
	}
	return g
}

func TestStageMovesWithAGraph(t *testing.T) {
	g := exampleGraph(t)
	graphRules := rules
	graphRules.Graph = g
	turn := func(msgs []string, out TurnOutput) TakeTurn {
		c := replyTurn(1, msgs, out)
		c.Rules = graphRules
		return c
	}
	atQualification := append(opened("We need reports"), StageChanged{From: StageOpening, To: StageQualification})
	lowBudget := append(append([]Event{}, atQualification...), QualificationUpdated{Qual: Qualification{Budget: &Field{Value: "$30", Amount: "30.00", Currency: "USD"}}})
	budget := func(v, quote string) FieldUpdate {
		return FieldUpdate{Name: "budget", Value: v, Quote: quote, Confidence: 0.9}
	}
	nurtureReply := "Thanks, that helps. It may be early for a paid tool; I'll check in with you in a few weeks, and meanwhile the free trial is always open."
	runDialogCases(t, []dialogCase{
		{
			name:  "a budget below 49 takes the dialog to nurture whatever the model proposed; the nurture stage's reply is sent",
			given: opened("We have about $30 a month"),
			when: turn([]string{"We have about $30 a month"}, TurnOutput{Reply: "Thanks! Which CRM do you use?", NextStage: StageDiscovery, Score: 20,
				Qualification: []FieldUpdate{budget("$30 a month", "$30 a month")}}),
			then: []Event{
				taken(TurnReply, 1, score(20)),
				QualificationUpdated{Qual: Qualification{Score: score(20), Budget: &Field{Value: "$30 a month", Quote: "$30 a month", Confidence: 0.9, Amount: "30.00", Currency: "USD"}}},
				StageChanged{From: StageOpening, To: "nurture"},
				planned(101, nurtureReply, KindReply),
			},
		},
		{
			name:  "a team above 50 goes to the enterprise stage and is handed off with its reason, before the score threshold",
			given: atQualification,
			when: turn([]string{"We are 60 reps"}, TurnOutput{Reply: "Great, the Team plan fits.", NextStage: StageOffer, Score: 90,
				Qualification: []FieldUpdate{{Name: "team_size", Value: "60", Quote: "60 reps", Confidence: 0.9}}}),
			then: []Event{
				taken(TurnReply, 1, score(90)),
				QualificationUpdated{Qual: Qualification{Score: score(90), Custom: []CustomField{{Name: "team_size", Value: "60", Quote: "60 reps", Confidence: 0.9}}}},
				StageChanged{From: StageQualification, To: "enterprise"},
				planned(101, "A colleague will write to you shortly.", KindHandoff),
				HandoffRequested{Reason: "enterprise lead: senior manager"},
				StageChanged{From: "enterprise", To: StageHandoff},
			},
		},
		{
			name:  "a budget that fits: the model's move along a transition is taken",
			given: atQualification,
			when: turn([]string{"Budget is $2,000 a month"}, TurnOutput{Reply: "The Team plan fits.", NextStage: StageOffer, Score: 40,
				Qualification: []FieldUpdate{budget("$2,000 a month", "$2,000 a month")}}),
			then: []Event{
				taken(TurnReply, 1, score(40)),
				QualificationUpdated{Qual: Qualification{Score: score(40), Budget: &Field{Value: "$2,000 a month", Quote: "$2,000 a month", Confidence: 0.9, Amount: "2000.00", Currency: "USD"}}},
				StageChanged{From: StageQualification, To: StageOffer},
				planned(101, "The Team plan fits.", KindReply),
			},
		},
		{
			name:  "a move the graph has no transition for is refused and recorded as a guard",
			given: atQualification,
			when:  turn([]string{"hm"}, TurnOutput{Reply: "Any doubts?", NextStage: StageObjections, Score: 10}),
			then: []Event{
				taken(TurnReply, 1, score(10), guards("stage qualification → objections is not allowed: stays at qualification")),
				QualificationUpdated{Qual: Qualification{Score: score(10)}},
				planned(101, "Any doubts?", KindReply),
			},
		},
		{
			name:  "the model may not take a conditional transition whose condition does not hold",
			given: atQualification,
			when:  turn([]string{"hm"}, TurnOutput{Reply: "Let's talk later.", NextStage: "nurture", Score: 10}),
			then: []Event{
				taken(TurnReply, 1, score(10), guards("stage qualification → nurture is not allowed: stays at qualification")),
				QualificationUpdated{Qual: Qualification{Score: score(10)}},
				planned(101, "Let's talk later.", KindReply),
			},
		},
		{name: "ChangeStage along a transition", given: atQualification, when: ChangeStage{To: StageOffer, Graph: g},
			then: []Event{StageChanged{From: StageQualification, To: StageOffer}}},
		{name: "ChangeStage without a transition is refused", given: atQualification, when: ChangeStage{To: StageObjections, Graph: g}, err: ESTATE},
		{name: "ChangeStage to nurture while the budget fits is refused", given: atQualification, when: ChangeStage{To: "nurture", Graph: g}, err: ESTATE},
		{name: "ChangeStage to nurture with a budget below 49", given: lowBudget, when: ChangeStage{To: "nurture", Graph: g},
			then: []Event{StageChanged{From: StageQualification, To: "nurture"}}},
		{name: "ChangeStage into a handoff exit is refused: hand off instead", given: atQualification, when: ChangeStage{To: "enterprise", Graph: g}, err: EINVALID},
		{name: "ChangeStage to a stage the scenario lacks", given: atQualification, when: ChangeStage{To: "upsell", Graph: g}, err: EINVALID},
		{name: "without a graph the fixed moves still apply", given: atQualification, when: ChangeStage{To: "nurture"}, err: ESTATE},
	})
}

func TestClosedLostExit(t *testing.T) {
	g := StageGraph{
		{Name: "opening", Transitions: []scenario.Transition{{To: "lost", When: &scenario.Condition{Field: "authority", Equals: "no"}}, {To: "offer"}}},
		{Name: "offer", Transitions: []scenario.Transition{{To: "lost"}}},
		{Name: "lost", Exit: scenario.ExitLost},
	}
	r := rules
	r.Graph = g
	c := replyTurn(1, []string{"No"}, TurnOutput{Reply: "Who decides?", NextStage: "offer", Score: 5,
		Qualification: []FieldUpdate{{Name: "authority", Value: "No", Quote: "No", Confidence: 1}}})
	c.Rules = r
	runDialogCases(t, []dialogCase{{
		name: "a closed-lost exit closes the dialog with the goodbye", given: opened("No"), when: c,
		then: []Event{
			taken(TurnReply, 1, score(5)),
			QualificationUpdated{Qual: Qualification{Score: score(5), Authority: &Field{Value: "No", Quote: "No", Confidence: 1}}},
			StageChanged{From: StageOpening, To: "lost"},
			planned(101, "Thanks, all the best!", KindClosing),
			DialogClosed{Outcome: OutcomeLost, By: "ai", Reason: "scenario stage lost"},
		},
	}})
}

func TestHolds(t *testing.T) {
	q := Qualification{
		Budget:    &Field{Value: "about 1 000 € a month"},
		Authority: &Field{Value: "Yes"},
		Custom:    []CustomField{{Name: "team_size", Value: "60 people"}, {Name: "tool", Value: "spreadsheets"}},
	}
	for _, c := range []struct {
		c    scenario.Condition
		want bool
	}{
		{scenario.Condition{Field: "budget", Below: "1001"}, true},
		{scenario.Condition{Field: "budget", Below: "1000"}, false},
		{scenario.Condition{Field: "budget", Above: "999"}, true},
		{scenario.Condition{Field: "team_size", Above: "50"}, true},
		{scenario.Condition{Field: "team_size", Below: "50"}, false},
		{scenario.Condition{Field: "tool", Above: "1"}, false}, // no number
		{scenario.Condition{Field: "authority", Equals: "yes"}, true},
		{scenario.Condition{Field: "authority", Equals: "no"}, false},
		{scenario.Condition{Field: "need", Known: true}, false},
		{scenario.Condition{Field: "need", Unknown: true}, true},
		{scenario.Condition{Field: "need", Below: "5"}, false},
		{scenario.Condition{Field: "tool", Known: true}, true},
	} {
		if got := Holds(c.c, q); got != c.want {
			t.Errorf("%s: %v, want %v", c.c, got, c.want)
		}
	}
}
