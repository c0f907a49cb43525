package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Branching says whether the scenario defines its own stage graph: a stage
// with transitions or an exit. Without one the fixed Stages and their
// fixed moves apply.
func (s *Scenario) Branching() bool {
	return slices.ContainsFunc(s.Stages, func(st Stage) bool { return len(st.Transitions) > 0 || st.Exit != "" })
}

// Number reads a plain number as conditions write it: "1000", "1,000",
// "1 000", "49.5", with an optional leading "$", "€", "£" or "₽".
func Number(v string) (float64, bool) {
	v = strings.TrimSpace(v)
	for _, sym := range []string{"$", "€", "£", "₽"} {
		v = strings.TrimPrefix(v, sym)
	}
	v = strings.NewReplacer(",", "", " ", "", "_", "", "\u00a0", "").Replace(v)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || v == "" || strings.ContainsAny(v, "eEnNiI") {
		return 0, false
	}
	return f, true
}

// String is the condition as the graph labels it: "budget < 1000",
// "team_size > 50", "authority = yes", "need known".
func (c Condition) String() string {
	switch {
	case c.Below != "":
		return c.Field + " < " + c.Below
	case c.Above != "":
		return c.Field + " > " + c.Above
	case c.Equals != "":
		return c.Field + " = " + c.Equals
	case c.Known:
		return c.Field + " known"
	case c.Unknown:
		return c.Field + " unknown"
	}
	return c.Field
}

// reservedStages are the engine's own stage names.
var reservedStages = []string{"handoff", "closed"}

// validateGraph checks a branching scenario's stages: names, transitions,
// conditions and exits, then that every stage is reachable from the first
// and that no stage other than an exit is a dead end.
func validateGraph(s *Scenario, c *checker) *Error {
	if s.Stages[0].Name != Stages[0] {
		return c.errf("stages[0].name", "the first stage of a branching scenario must be %q (every dialog starts there), not %q", Stages[0], s.Stages[0].Name)
	}
	has := func(name string) bool {
		return slices.ContainsFunc(s.Stages, func(st Stage) bool { return st.Name == name })
	}
	for i, st := range s.Stages {
		p := index("stages", i)
		switch {
		case !identifier.MatchString(strings.ReplaceAll(st.Name, "-", "_")):
			return c.errf(join(p, "name"), "%q must be lowercase letters, digits, _ and - starting with a letter", st.Name)
		case slices.Contains(reservedStages, st.Name):
			return c.errf(join(p, "name"), "%q is the engine's own stage; use an exit stage (exit: %s) instead", st.Name, strings.Join(Exits, ", "))
		case slices.ContainsFunc(s.Stages[:i], func(o Stage) bool { return o.Name == st.Name }):
			return c.errf(join(p, "name"), "stage %q is listed twice", st.Name)
		case st.Exit != "" && !slices.Contains(Exits, st.Exit):
			return c.errf(join(p, "exit"), "unknown exit %q (want one of %s)", st.Exit, strings.Join(Exits, ", "))
		case i == 0 && st.Exit != "":
			return c.errf(join(p, "exit"), "the first stage cannot be an exit")
		case st.Exit != ExitNurture && st.After != 0:
			return c.errf(join(p, "after"), "only a nurture stage (exit: nurture) waits")
		case st.Exit != ExitNurture && len(st.FollowUp) > 0:
			return c.errf(join(p, "follow_up"), "only a nurture stage (exit: nurture) follows up")
		case st.Exit != ExitHandoff && st.Handoff.Reason != "":
			return c.errf(join(p, "handoff"), "only a handoff stage (exit: handoff) has a handoff")
		case st.Exit == "" && len(st.Reply) > 0:
			return c.errf(join(p, "reply"), "only a nurture or closed-lost stage has a reply")
		case (st.Exit == ExitHandoff || st.Exit == ExitLost) && len(st.Transitions) > 0:
			return c.errf(join(p, "transitions"), "a %s stage ends the AI's part: it has no transitions", st.Exit)
		case st.Exit == ExitNurture && st.After < MinNurture:
			return c.errf(join(p, "after"), "a nurture stage needs after: how long to wait before the follow-up, at least %s (720h = 30 days)", MinNurture)
		case st.Exit == ExitNurture && strings.TrimSpace(st.FollowUp[s.Language]) == "":
			return c.errf(join(p, "follow_up"), "a nurture stage needs a follow_up in %s, the default language", s.Language)
		case st.Exit == "" && len(st.Transitions) == 0:
			return c.errf(join(p, "name"), "stage %q is a dead end: it has no transitions and is not an exit (exit: %s)", st.Name, strings.Join(Exits, ", "))
		}
		for j, tr := range st.Transitions {
			tp := index(join(p, "transitions"), j)
			switch {
			case tr.To == "":
				return c.errf(join(tp, "to"), "is required (a stage of this scenario)")
			case !has(tr.To):
				return c.errf(join(tp, "to"), "%q is not a stage of this scenario", tr.To)
			case tr.To == st.Name:
				return c.errf(join(tp, "to"), "a stage cannot move to itself")
			}
			if tr.When != nil {
				if err := validateCondition(s, *tr.When, join(tp, "when"), c); err != nil {
					return err
				}
			}
		}
	}
	seen := map[string]bool{s.Stages[0].Name: true}
	queue := []string{s.Stages[0].Name}
	for len(queue) > 0 {
		st, _ := s.StageSpec(queue[0])
		queue = queue[1:]
		for _, tr := range st.Transitions {
			if !seen[tr.To] {
				seen[tr.To] = true
				queue = append(queue, tr.To)
			}
		}
	}
	for i, st := range s.Stages {
		if !seen[st.Name] {
			return c.errf(join(index("stages", i), "name"), "stage %q is unreachable: no transition from %q leads to it", st.Name, s.Stages[0].Name)
		}
	}
	return nil
}

// MinNurture is the shortest wait of a nurture stage.
const MinNurture = time.Hour

func validateCondition(s *Scenario, w Condition, p string, c *checker) *Error {
	n := 0
	for _, set := range []bool{w.Below != "", w.Above != "", w.Equals != "", w.Known, w.Unknown} {
		if set {
			n++
		}
	}
	switch {
	case w.Field == "":
		return c.errf(join(p, "field"), "is required (a qualification field)")
	case !slices.ContainsFunc(s.Qualification.Fields, func(f FieldSpec) bool { return f.Name == w.Field }):
		return c.errf(join(p, "field"), "%q is not a qualification field of this scenario", w.Field)
	case n != 1:
		return c.errf(p, "needs exactly one of below, above, equals, known, unknown (it has %d)", n)
	}
	for _, k := range []struct{ key, v string }{{"below", w.Below}, {"above", w.Above}} {
		if _, ok := Number(k.v); k.v != "" && !ok {
			return c.errf(join(p, k.key), "%q is not a number (write it like 1000)", k.v)
		}
	}
	return nil
}

// Mermaid draws the scenario's stages as a Mermaid flowchart: one node per
// stage (exits as rounded nodes labelled with what they do), one edge per
// transition, labelled with its condition. A scenario that does not
// branch is drawn with the fixed moves between the stages it lists.
func (s *Scenario) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	id := func(name string) string { return strings.ReplaceAll(name, "-", "_") }
	quote := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, "#quot;") + `"` }
	for _, st := range s.Stages {
		switch st.Exit {
		case "":
			fmt.Fprintf(&b, "    %s[%s]\n", id(st.Name), quote(st.Name))
		case ExitNurture:
			fmt.Fprintf(&b, "    %s([%s])\n", id(st.Name), quote(st.Name+": nurture, follow up after "+days(st.After)))
		case ExitHandoff:
			label := st.Name + ": handoff"
			if st.Handoff.Reason != "" {
				label += " (" + st.Handoff.Reason + ")"
			}
			fmt.Fprintf(&b, "    %s([%s])\n", id(st.Name), quote(label))
		default:
			fmt.Fprintf(&b, "    %s([%s])\n", id(st.Name), quote(st.Name+": "+st.Exit))
		}
	}
	for _, st := range s.Stages {
		for _, tr := range s.transitions(st) {
			if tr.When != nil {
				fmt.Fprintf(&b, "    %s -->|%s| %s\n", id(st.Name), quote(tr.When.String()), id(tr.To))
			} else {
				fmt.Fprintf(&b, "    %s --> %s\n", id(st.Name), id(tr.To))
			}
		}
	}
	return b.String()
}

// FixedMoves are the stage moves of a scenario that does not branch: a
// lead may skip ahead but never go back, except that answering objections
// returns to the offer.
var FixedMoves = map[string][]string{
	"opening":       {"discovery", "qualification", "offer"},
	"discovery":     {"qualification", "offer"},
	"qualification": {"offer"},
	"offer":         {"objections"},
	"objections":    {"offer"},
}

// transitions are st's ways out: its own in a branching scenario, else
// the fixed moves to the stages the scenario lists.
func (s *Scenario) transitions(st Stage) []Transition {
	if s.Branching() {
		return st.Transitions
	}
	var out []Transition
	for _, to := range FixedMoves[st.Name] {
		if _, ok := s.StageSpec(to); ok {
			out = append(out, Transition{To: to})
		}
	}
	return out
}

// days writes a wait in days when it is whole days ("30 days"), else as
// a duration ("36h0m0s").
func days(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d > 0 && d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}
