package offline_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/offline"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

func TestInsightRules(t *testing.T) {
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		in         domain.InsightInput
		objections []string
		summary    []string // parts the summary has
		loss       string   // "" = none
	}{
		{
			name: "too expensive, then lost",
			in: domain.InsightInput{Scenario: sc, Language: "en", Reached: domain.StageOffer, Outcome: domain.OutcomeLost, Reason: "the lead is not interested",
				Qual: domain.Qualification{Need: &domain.Field{Value: "weekly forecast"}},
				Transcript: []domain.Line{
					{Role: domain.RoleAssistant, Text: "Team is $99 a month."},
					{Role: domain.RoleLead, Text: "Hmm, that's TOO expensive for us."},
					{Role: domain.RoleAssistant, Text: "I see."},
					{Role: domain.RoleLead, Text: "No thanks."},
				}},
			objections: []string{"price"},
			summary:    []string{"Reached offer", "need weekly forecast", "“No thanks.”"},
			loss:       "Too expensive (the lead is not interested)",
		},
		{
			name: "Russian: a tool already, and the boss decides; handed off",
			in: domain.InsightInput{Scenario: sc, Language: "ru", Reached: domain.StageQualification, Handoff: true,
				Transcript: []domain.Line{{Role: domain.RoleLead, Text: "У нас уже есть CRM, и вообще не я решаю."}}},
			objections: []string{"has_a_tool", "no_authority"},
			summary:    []string{"Дошёл до этапа qualification", "квалификация не начата"},
		},
		{
			name: "the assistant's words are not the lead's objections",
			in: domain.InsightInput{Scenario: sc, Language: "en", Outcome: domain.OutcomeOptedOut,
				Transcript: []domain.Line{{Role: domain.RoleAssistant, Text: "Is it too expensive? Not now?"}, {Role: domain.RoleLead, Text: "stop"}}},
			summary: []string{"Reached opening"},
			loss:    "opted out",
		},
		{
			name: "a phrase is matched as whole words",
			in: domain.InsightInput{Scenario: sc, Language: "en", Outcome: domain.OutcomeWon,
				Transcript: []domain.Line{{Role: domain.RoleLead, Text: "Inexpensive enough, let's go"}}},
			summary: []string{"“Inexpensive enough, let's go”"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, usage, err := offline.New().Insight(context.Background(), c.in)
			if err != nil {
				t.Fatal(err)
			}
			if usage.Engine != "offline" || usage.PromptTokens != 0 {
				t.Errorf("usage = %+v", usage)
			}
			if !slices.Equal(out.Objections, c.objections) {
				t.Errorf("objections = %v, want %v", out.Objections, c.objections)
			}
			for _, part := range c.summary {
				if !strings.Contains(out.Summary, part) {
					t.Errorf("summary %q lacks %q", out.Summary, part)
				}
			}
			if out.LossReason != c.loss {
				t.Errorf("loss reason = %q, want %q", out.LossReason, c.loss)
			}
		})
	}
}

func TestInsightSummaryIsShort(t *testing.T) {
	long := strings.Repeat("word ", 200)
	out, _, _ := offline.New().Insight(context.Background(), domain.InsightInput{Language: "en", Outcome: domain.OutcomeLost,
		Transcript: []domain.Line{{Role: domain.RoleLead, Text: long}}})
	if n := len([]rune(out.Summary)); n > 200 {
		t.Errorf("the summary has %d characters: %q", n, out.Summary)
	}
}
