package offline

import (
	"context"
	"fmt"
	"strings"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/domain/words"
)

var _ domain.Analyst = (*Engine)(nil)

// Insight writes a dialog's insight by rules: the objections whose phrases
// one of the lead's messages has (in the scenario's order), a summary
// that is a digest (the stage reached, the qualification fields known,
// the lead's last message shortened) and, for a dialog that closed without
// a win, a loss reason from how it closed and the first objection. It is
// deterministic; its only error is ctx's.
func (e *Engine) Insight(ctx context.Context, in domain.InsightInput) (domain.InsightOutput, domain.Usage, error) {
	usage := domain.Usage{Engine: "offline"}
	if err := ctx.Err(); err != nil {
		return domain.InsightOutput{}, usage, fmt.Errorf("offline: %w", err)
	}
	var lead []string
	for _, l := range in.Transcript {
		if l.Role == domain.RoleLead && strings.TrimSpace(l.Text) != "" {
			lead = append(lead, l.Text)
		}
	}
	out := domain.InsightOutput{Objections: Objections(in.Scenario, lead)}
	out.Summary = digest(in, lead)
	if !in.Handoff && !in.Nurture && in.Outcome != domain.OutcomeWon {
		out.LossReason = lossReason(in, out.Objections)
	}
	return out, usage, nil
}

// Objections are the ids of the scenario's objections that one of texts
// raises (has one of its phrases as whole words, ignoring case and
// punctuation), in the scenario's order.
func Objections(sc *scenario.Scenario, texts []string) []string {
	if sc == nil {
		return nil
	}
	padded := make([]string, len(texts))
	for i, t := range texts {
		padded[i] = " " + words.Normalize(t) + " "
	}
	var ids []string
	for _, o := range sc.Objections {
	phrases:
		for _, ph := range o.AllPhrases() {
			p := " " + words.Normalize(ph) + " "
			if strings.TrimSpace(p) == "" {
				continue
			}
			for _, t := range padded {
				if strings.Contains(t, p) {
					ids = append(ids, o.ID)
					break phrases
				}
			}
		}
	}
	return ids
}

// digestWords are the digest's words in each language.
var digestWords = map[string][4]string{
	"en": {"Reached %s", "known: %s", "nothing qualified", "last message: “%s”"},
	"ru": {"Дошёл до этапа %s", "известно: %s", "квалификация не начата", "последнее сообщение: «%s»"},
}

// digest is the rules' summary: the stage reached, the fields known and
// the lead's last message, shortened.
func digest(in domain.InsightInput, lead []string) string {
	w, ok := digestWords[in.Language]
	if !ok {
		w = digestWords["en"]
	}
	reached := string(in.Reached)
	if reached == "" {
		reached = string(domain.StageOpening)
	}
	parts := []string{fmt.Sprintf(w[0], reached)}
	var known []string
	for _, f := range []struct {
		name string
		f    *domain.Field
	}{{"need", in.Qual.Need}, {"budget", in.Qual.Budget}, {"timeline", in.Qual.Timeline}, {"authority", in.Qual.Authority}} {
		if f.f != nil {
			known = append(known, f.name+" "+shorten(f.f.Value, 40))
		}
	}
	for _, c := range in.Qual.Custom {
		known = append(known, c.Name+" "+shorten(c.Value, 40))
	}
	if len(known) > 0 {
		parts = append(parts, fmt.Sprintf(w[1], strings.Join(known, ", ")))
	} else {
		parts = append(parts, w[2])
	}
	if len(lead) > 0 {
		parts = append(parts, fmt.Sprintf(w[3], shorten(lead[len(lead)-1], 120)))
	}
	return strings.Join(parts, "; ") + "."
}

// lossReason is why a dialog that closed without a win was lost, by
// rules: how it closed, and the first objection's label.
func lossReason(in domain.InsightInput, objections []string) string {
	var why string
	switch in.Outcome {
	case domain.OutcomeOptedOut:
		why = "opted out"
	case domain.OutcomeStopped:
		why = "stopped by a manager"
	case domain.OutcomeUnreachable:
		why = "unreachable on Telegram"
	default:
		why = strings.TrimSpace(in.Reason)
		if why == "" {
			why = "not interested"
		}
	}
	if len(objections) > 0 && in.Scenario != nil {
		if o, ok := in.Scenario.Objection(objections[0]); ok {
			return in.Scenario.T(o.Label, in.Language) + " (" + why + ")"
		}
	}
	return why
}

// shorten is s on one line, cut to at most n characters at a word.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut) + "…"
}
