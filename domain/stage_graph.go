package domain

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/salesbot/salesbot/domain/scenario"
)

// StageGraph is a branching scenario's stages (scenario.Scenario.Branching):
// which stage may follow which, and on what condition. The empty graph is
// the fixed stages with their fixed moves (stageMoves).
//
// The rules of a graph, for ChangeStage and for every turn:
//   - a move follows one of the current stage's transitions; a transition
//     with a condition only while the condition holds;
//   - after a turn's qualification update, a transition of the current
//     stage whose condition holds is taken whatever the model proposed
//     (the first in file order), and again from the stage it leads to
//     (each stage once per turn); only when none holds at the start is the
//     model's proposed stage taken, if a transition allows it;
//   - entering an exit stage ends the AI's part there: handoff (with the
//     stage's reason), closed-lost (the stage's reply or the scenario's
//     goodbye), or nurture (the dialog waits; the engine follows up).
type StageGraph []scenario.Stage

// GraphOf is sc's stage graph; nil when sc does not branch.
func GraphOf(sc *scenario.Scenario) StageGraph {
	if sc == nil || !sc.Branching() {
		return nil
	}
	return StageGraph(sc.Stages)
}

// Spec returns the graph's stage called s.
func (g StageGraph) Spec(s Stage) (scenario.Stage, bool) {
	i := slices.IndexFunc(g, func(st scenario.Stage) bool { return st.Name == string(s) })
	if i < 0 {
		return scenario.Stage{}, false
	}
	return g[i], true
}

// CanMove says whether a dialog at from with qualification q may move to
// to: the fixed moves for the empty graph, else a transition of from to
// to whose condition (if any) holds.
func (g StageGraph) CanMove(from, to Stage, q Qualification) bool {
	if len(g) == 0 {
		return canMove(from, to)
	}
	st, ok := g.Spec(from)
	if !ok {
		return false
	}
	return slices.ContainsFunc(st.Transitions, func(tr scenario.Transition) bool {
		return tr.To == string(to) && (tr.When == nil || Holds(*tr.When, q))
	})
}

// Forced is the first transition of from whose condition holds for q:
// the stage the dialog goes to whatever the model says.
func (g StageGraph) Forced(from Stage, q Qualification) (Stage, bool) {
	st, ok := g.Spec(from)
	if !ok {
		return "", false
	}
	for _, tr := range st.Transitions {
		if tr.When != nil && Holds(*tr.When, q) {
			return Stage(tr.To), true
		}
	}
	return "", false
}

// Holds says whether c holds for q. A comparison with a field that is
// unknown or has no number is false; a budget compares its amount
// (ParseBudget; the currency is not converted), any other field its first
// number ("60 people" is 60).
func Holds(c scenario.Condition, q Qualification) bool {
	f := q.Get(c.Field)
	switch {
	case c.Known:
		return f != nil
	case c.Unknown:
		return f == nil
	case f == nil:
		return false
	case c.Equals != "":
		return normalize(f.Value) == normalize(c.Equals)
	}
	n, ok := fieldNumber(c.Field, f)
	if !ok {
		return false
	}
	if c.Below != "" {
		lim, ok := scenario.Number(c.Below)
		return ok && n < lim
	}
	lim, ok := scenario.Number(c.Above)
	return ok && c.Above != "" && n > lim
}

var firstNumber = regexp.MustCompile(`\d[\d,]*(?:\.\d+)?`)

func fieldNumber(name string, f *Field) (float64, bool) {
	if name == "budget" {
		if m, ok := f.Money(); ok {
			v, err := strconv.ParseFloat(m.Decimal(), 64)
			return v, err == nil
		}
	}
	return scenario.Number(firstNumber.FindString(f.Value))
}

// changeInGraph decides a ChangeStage in a branching scenario.
func changeInGraph(d Dialog, cmd ChangeStage) ([]Event, error) {
	from, ok := cmd.Graph.Spec(d.Stage)
	if !ok {
		return nil, errorf(ESTATE, "dialog %d is at %s, which the scenario does not have", d.N, d.Stage)
	}
	to, ok := cmd.Graph.Spec(cmd.To)
	if !ok {
		return nil, errorf(EINVALID, "the scenario has no stage %q", cmd.To)
	}
	if to.Exit == scenario.ExitHandoff || to.Exit == scenario.ExitLost {
		return nil, errorf(EINVALID, "%s is a %s stage: hand the dialog off or close it instead", to.Name, to.Exit)
	}
	i := slices.IndexFunc(from.Transitions, func(tr scenario.Transition) bool { return tr.To == to.Name })
	if i < 0 {
		var names []string
		for _, tr := range from.Transitions {
			names = append(names, tr.To)
		}
		return nil, errorf(ESTATE, "dialog %d cannot move from %s to %s: the scenario's transitions from %s lead to %s", d.N, d.Stage, cmd.To, d.Stage, fmt.Sprint(names))
	}
	if w := from.Transitions[i].When; w != nil && !Holds(*w, d.Qual) {
		return nil, errorf(ESTATE, "dialog %d cannot move from %s to %s: its condition (%s) does not hold", d.N, d.Stage, cmd.To, w)
	}
	return []Event{StageChanged{From: d.Stage, To: cmd.To}}, nil
}
