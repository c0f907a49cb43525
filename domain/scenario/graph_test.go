package scenario_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/domain/scenario"
)

const fixedStages = `stages:
  - name: opening
    goal: get a reply
  - name: discovery
    goal: learn the need
`

// graphStages replaces minimal's stages (lines 13-17) with a branching
// graph (lines 13-30); the cases' line numbers count in the result.
const graphStages = `stages:
  - name: opening
    goal: get a reply
    transitions:
      - to: nurture
        when: {field: budget, below: 100}
      - to: discovery
  - name: discovery
    goal: learn the need
    transitions:
      - to: won
  - name: won
    exit: handoff
    handoff: {reason: "hot lead"}
  - name: nurture
    exit: nurture
    after: 720h
    follow_up: Any news on the budget?
`

func branching(t testing.TB) string {
	t.Helper()
	return edit(t, fixedStages, graphStages)
}

func TestParseBranching(t *testing.T) {
	s, err := scenario.Parse([]byte(branching(t)))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Branching() || len(s.Stages) != 4 {
		t.Fatalf("branching %v, %d stages", s.Branching(), len(s.Stages))
	}
	w := s.Stages[0].Transitions[0].When
	if w == nil || w.Field != "budget" || w.Below != "100" || s.Stages[3].After.Hours() != 720 || s.Stages[2].Handoff.Reason != "hot lead" {
		t.Errorf("parsed %+v, after %v, reason %q", w, s.Stages[3].After, s.Stages[2].Handoff.Reason)
	}
	if m, err := scenario.Parse([]byte(minimal)); err != nil || m.Branching() {
		t.Errorf("minimal branches: %v %v", m, err)
	}
}

func TestParseBrokenGraph(t *testing.T) {
	for _, c := range []struct {
		name     string
		old, new string
		line     int
		field    string
		reason   string
	}{
		{"unreachable stage", "    follow_up: Any news on the budget?\n", "    follow_up: Any news on the budget?\n  - name: upsell\n    transitions:\n      - to: won\n", 31, "stages[4].name", `stage "upsell" is unreachable`},
		{"dead end", "    transitions:\n      - to: won\n", "", 20, "stages[1].name", `stage "discovery" is a dead end`},
		{"condition on an unknown field", "field: budget", "field: salary", 18, "stages[0].transitions[0].when.field", `"salary" is not a qualification field`},
		{"condition limit not a number", "below: 100", "below: lots", 18, "stages[0].transitions[0].when.below", `"lots" is not a number`},
		{"condition with two tests", "below: 100", "below: 100, known: true", 18, "stages[0].transitions[0].when", "needs exactly one of below, above, equals, known, unknown (it has 2)"},
		{"condition with no test", "{field: budget, below: 100}", "{field: budget}", 18, "stages[0].transitions[0].when", "(it has 0)"},
		{"unknown condition key", "below: 100", "betwen: 100", 18, "stages[0].transitions[0].when.betwen", `unknown key "betwen"`},
		{"transition to an unknown stage", "      - to: discovery\n", "      - to: discover\n", 19, "stages[0].transitions[1].to", `"discover" is not a stage`},
		{"transition to itself", "      - to: won\n", "      - to: discovery\n", 23, "stages[1].transitions[0].to", "cannot move to itself"},
		{"unknown exit", "exit: handoff", "exit: transfer", 25, "stages[2].exit", `unknown exit "transfer"`},
		{"nurture without a wait", "    after: 720h\n", "", 27, "stages[3].after", "a nurture stage needs after"},
		{"nurture without a follow-up", "    follow_up: Any news on the budget?\n", "", 27, "stages[3].follow_up", "needs a follow_up in en"},
		{"a handoff exit with transitions", "    handoff: {reason: \"hot lead\"}\n", "    handoff: {reason: \"hot lead\"}\n    transitions:\n      - to: discovery\n", 27, "stages[2].transitions", "has no transitions"},
		{"first stage not the opening", "  - name: opening\n", "  - name: start\n", 14, "stages[0].name", `must be "opening"`},
		{"the engine's own stage name", "      - to: won\n  - name: won\n", "      - to: closed\n  - name: closed\n", 24, "stages[2].name", "the engine's own stage"},
		{"a follow-up with an invented price", "follow_up: Any news on the budget?", "follow_up: Any news? 50% off now.", 30, "stages[3].follow_up", "states 50%"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := branching(t)
			if n := strings.Count(src, c.old); n != 1 {
				t.Fatalf("%q occurs %d times", c.old, n)
			}
			_, err := scenario.Parse([]byte(strings.Replace(src, c.old, c.new, 1)))
			var e *scenario.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want a *scenario.Error", err, err)
			}
			if e.Line != c.line || e.Field != c.field || !strings.Contains(e.Reason, c.reason) {
				t.Errorf("got line %d, field %q, reason %q\nwant line %d, field %q, reason containing %q", e.Line, e.Field, e.Reason, c.line, c.field, c.reason)
			}
		})
	}
}

func TestMermaidOfTheExample(t *testing.T) {
	const want = `flowchart TD
    opening["opening"]
    discovery["discovery"]
    qualification["qualification"]
    offer["offer"]
    objections["objections"]
    enterprise(["enterprise: handoff (enterprise lead: senior manager)"])
    nurture(["nurture: nurture, follow up after 30 days"])
    opening -->|"team_size > 50"| enterprise
    opening -->|"budget < 49"| nurture
    opening --> discovery
    opening --> qualification
    opening --> offer
    discovery -->|"team_size > 50"| enterprise
    discovery -->|"budget < 49"| nurture
    discovery --> qualification
    discovery --> offer
    qualification -->|"team_size > 50"| enterprise
    qualification -->|"budget < 49"| nurture
    qualification --> offer
    offer --> objections
    objections --> offer
    nurture --> qualification
    nurture --> offer
`
	if got := example(t).Mermaid(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// A scenario that does not branch is drawn with the fixed moves between
// the stages it lists.
func TestMermaidOfFixedStages(t *testing.T) {
	s, err := scenario.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	want := "flowchart TD\n    opening[\"opening\"]\n    discovery[\"discovery\"]\n    opening --> discovery\n"
	if got := s.Mermaid(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
