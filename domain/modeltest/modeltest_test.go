package modeltest

import (
	"strings"
	"testing"

	"github.com/salesbot/salesbot/domain"
)

func TestValidate(t *testing.T) {
	in := Inputs(Scenario())[0].In
	good := domain.TurnOutput{
		Reply:         "What budget do you have in mind?",
		NextStage:     domain.StageDiscovery,
		Qualification: []domain.FieldUpdate{{Name: "need", Value: "crm", Quote: "a CRM", Confidence: 0.9}, {Name: "team_size", Value: "12", Confidence: 1}},
		Score:         40,
	}
	if err := Validate(in, good); err != nil {
		t.Fatalf("a valid output: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(*domain.TurnOutput)
		want string // in the error
	}{
		{"unknown stage", func(o *domain.TurnOutput) { o.NextStage = "negotiation" }, "next stage"},
		{"empty stage", func(o *domain.TurnOutput) { o.NextStage = "" }, "next stage"},
		{"unknown field", func(o *domain.TurnOutput) { o.Qualification[0].Name = "mood" }, `field "mood" is not in the scenario`},
		{"empty value", func(o *domain.TurnOutput) { o.Qualification[0].Value = "" }, "has no value"},
		{"confidence above 1", func(o *domain.TurnOutput) { o.Qualification[1].Confidence = 1.5 }, "confidence"},
		{"negative confidence", func(o *domain.TurnOutput) { o.Qualification[1].Confidence = -0.1 }, "confidence"},
		{"score above 100", func(o *domain.TurnOutput) { o.Score = 101 }, "score"},
		{"negative score", func(o *domain.TurnOutput) { o.Score = -1 }, "score"},
		{"empty reply", func(o *domain.TurnOutput) { o.Reply = "" }, "empty reply"},
	} {
		out := good
		out.Qualification = append([]domain.FieldUpdate(nil), good.Qualification...)
		c.edit(&out)
		if err := Validate(in, out); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one with %q", c.name, err, c.want)
		}
	}
	// Closed, the current stage and an empty reply with an opt-out are
	// valid.
	for _, out := range []domain.TurnOutput{
		{Reply: "Bye.", NextStage: domain.StageClosed},
		{Reply: "Hello.", NextStage: in.Stage},
		{NextStage: in.Stage, Flags: domain.TurnFlags{OptOut: true}},
	} {
		if err := Validate(in, out); err != nil {
			t.Errorf("%+v: %v", out, err)
		}
	}
}

func TestInputs(t *testing.T) {
	sc := Scenario()
	if len(sc.Variants) != 2 || len(sc.Qualification.Fields) != 5 {
		t.Errorf("%d variants, %d fields", len(sc.Variants), len(sc.Qualification.Fields))
	}
	langs := map[string]int{}
	for _, c := range Inputs(sc) {
		in := c.In
		if in.Kind != domain.TurnReply || in.Scenario != sc || len(in.New) == 0 || in.Stage == "" {
			t.Errorf("%s: %+v", c.Name, in)
		}
		langs[in.Language]++
		for _, l := range in.History {
			if l.Text == "" {
				t.Errorf("%s: an empty history line", c.Name)
			}
		}
	}
	if langs["en"] == 0 || langs["ru"] == 0 || len(langs) != 2 {
		t.Errorf("languages %v", langs)
	}
}
