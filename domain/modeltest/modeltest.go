// Package modeltest is the contract suite of domain.Model: the properties
// every implementation (the offline scenario engine, the LLM client) must
// have, run from the implementation's own tests:
//
//	func TestContract(t *testing.T) {
//		modeltest.Run(t, func(t *testing.T) domain.Model { return offline.New() })
//	}
//
// The suite builds its own scenario (Scenario) and asserts only what any
// model must do, never exact texts. It does no I/O.
package modeltest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

// CancelTimeout is how long Turn may take to return once its context is done.
const CancelTimeout = 2 * time.Second

// Run checks the contract of domain.Model on the models newModel returns
// (one per subtest):
//
//   - reply turns in English and Russian (a plain answer, a price question,
//     a burst of three messages, an opt-out) succeed, each output is valid
//     for its input (see Validate), and Usage names the engine and counts
//     at least one attempt;
//   - Turn with a context already cancelled returns an error wrapping
//     context.Canceled within CancelTimeout;
//   - a reply turn without new messages returns an error or a valid
//     output, and never panics.
func Run(t *testing.T, newModel func(t *testing.T) domain.Model) {
	t.Helper()
	sc := Scenario()
	for _, c := range Inputs(sc) {
		t.Run(c.Name, func(t *testing.T) {
			m := newModel(t)
			out, usage, err := turn(context.Background(), m, c.In)
			if err != nil {
				t.Fatalf("Turn: %v", err)
			}
			if err := Validate(c.In, out); err != nil {
				t.Errorf("%v\noutput: %+v", err, out)
			}
			if usage.Engine == "" || usage.Attempts < 1 {
				t.Errorf("usage %+v: want the engine named and at least one attempt", usage)
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		m := newModel(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		done := make(chan error, 1)
		go func() {
			_, _, err := turn(ctx, m, Inputs(sc)[0].In)
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Turn with a cancelled context: err = %v, want one wrapping context.Canceled", err)
			}
		case <-time.After(CancelTimeout):
			t.Errorf("Turn with a cancelled context did not return within %v", CancelTimeout)
		}
	})
	t.Run("no new messages", func(t *testing.T) {
		m := newModel(t)
		in := Inputs(sc)[0].In
		in.New = nil
		out, _, err := turn(context.Background(), m, in)
		if err != nil {
			return
		}
		if err := Validate(in, out); err != nil {
			t.Errorf("%v\noutput: %+v", err, out)
		}
	})
}

// turn calls m.Turn and turns a panic into an error.
func turn(ctx context.Context, m domain.Model, in domain.TurnInput) (out domain.TurnOutput, u domain.Usage, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("modeltest: Turn panicked: %v", r)
		}
	}()
	return m.Turn(ctx, in)
}

// Validate checks one output against its input: NextStage is one of the
// scenario's stages, "closed" or the current stage; every qualification
// update names a scenario field, has a value and a confidence in 0..1;
// Score is in 0..100; Reply is empty only with Flags.OptOut.
func Validate(in domain.TurnInput, out domain.TurnOutput) error {
	var errs []error
	if !validStage(in, out.NextStage) {
		errs = append(errs, fmt.Errorf("next stage %q is not a stage of the scenario, %q or the current stage %q", out.NextStage, domain.StageClosed, in.Stage))
	}
	for _, u := range out.Qualification {
		if !slices.ContainsFunc(in.Scenario.Qualification.Fields, func(f scenario.FieldSpec) bool { return f.Name == u.Name }) {
			errs = append(errs, fmt.Errorf("field %q is not in the scenario", u.Name))
		}
		if u.Value == "" {
			errs = append(errs, fmt.Errorf("field %q has no value", u.Name))
		}
		if u.Confidence < 0 || u.Confidence > 1 {
			errs = append(errs, fmt.Errorf("field %q has confidence %v, want 0..1", u.Name, u.Confidence))
		}
	}
	if out.Score < 0 || out.Score > 100 {
		errs = append(errs, fmt.Errorf("score %d, want 0..100", out.Score))
	}
	if out.Reply == "" && !out.Flags.OptOut {
		errs = append(errs, errors.New("empty reply without an opt-out"))
	}
	return errors.Join(errs...)
}

func validStage(in domain.TurnInput, s domain.Stage) bool {
	if s == in.Stage || s == domain.StageClosed {
		return true
	}
	return slices.ContainsFunc(in.Scenario.Stages, func(st scenario.Stage) bool { return domain.Stage(st.Name) == s })
}

// Case is one input of the suite.
type Case struct {
	Name string
	In   domain.TurnInput
}

// Inputs are the reply turns the suite runs, on sc (normally Scenario()):
// in English and Russian, a plain answer, a price question, a burst of
// three messages and an opt-out, at different stages and with some
// qualification known.
func Inputs(sc *scenario.Scenario) []Case {
	budget := domain.Qualification{
		Need:   &domain.Field{Value: "CRM for the sales team", Quote: "we need a CRM", Confidence: 0.9},
		Budget: &domain.Field{Value: "5000 USD", Quote: "about $5000", Confidence: 0.9},
	}
	mk := func(lang string, stage domain.Stage, q domain.Qualification, history []domain.Line, msgs ...string) domain.TurnInput {
		return domain.TurnInput{
			Kind:     domain.TurnReply,
			Scenario: sc,
			Variant:  sc.Variants[0],
			Language: lang,
			Stage:    stage,
			Qual:     q,
			History:  history,
			New:      msgs,
		}
	}
	histEn := []domain.Line{
		{Role: domain.RoleAssistant, Text: sc.Openings[0]["en"]},
	}
	histRu := []domain.Line{
		{Role: domain.RoleAssistant, Text: sc.Openings[0]["ru"]},
	}
	laterEn := append(slices.Clone(histEn),
		domain.Line{Role: domain.RoleLead, Text: "We need a CRM for our sales team."},
		domain.Line{Role: domain.RoleAssistant, Text: sc.Qualification.Fields[1].Question["en"]},
		domain.Line{Role: domain.RoleLead, Text: "About $5000."},
		domain.Line{Role: domain.RoleAssistant, Text: sc.Qualification.Fields[2].Question["en"]},
	)
	laterRu := append(slices.Clone(histRu),
		domain.Line{Role: domain.RoleLead, Text: "Нам нужна CRM для отдела продаж."},
		domain.Line{Role: domain.RoleAssistant, Text: sc.Qualification.Fields[1].Question["ru"]},
		domain.Line{Role: domain.RoleLead, Text: "Около 300 000 рублей."},
		domain.Line{Role: domain.RoleAssistant, Text: sc.Qualification.Fields[2].Question["ru"]},
	)
	return []Case{
		{"en/answer", mk("en", domain.StageOpening, domain.Qualification{}, histEn, "We need a CRM to keep track of our leads.")},
		{"en/price", mk("en", domain.StageDiscovery, domain.Qualification{}, histEn, "How much does it cost?")},
		{"en/burst", mk("en", domain.StageQualification, budget, laterEn, "We want to start next month.", "I decide on this.", "We are 12 people in sales.")},
		{"en/opt-out", mk("en", domain.StageQualification, budget, laterEn, "Please stop messaging me.")},
		{"ru/answer", mk("ru", domain.StageOpening, domain.Qualification{}, histRu, "Нам нужна CRM, чтобы не терять заявки.")},
		{"ru/price", mk("ru", domain.StageDiscovery, domain.Qualification{}, histRu, "Сколько это стоит?")},
		{"ru/burst", mk("ru", domain.StageQualification, budget, laterRu, "Хотим начать в следующем месяце.", "Решаю я.", "В отделе 12 человек.")},
		{"ru/opt-out", mk("ru", domain.StageQualification, budget, laterRu, "Не пишите мне больше.")},
	}
}

// Scenario is the suite's scenario: English and Russian texts, the four
// standard fields and a custom one (team_size), two variants.
func Scenario() *scenario.Scenario {
	yes := true
	return &scenario.Scenario{
		Name:     "modeltest",
		Version:  "1",
		Language: "en",
		Company: scenario.Company{
			Name:        "Acme",
			Product:     "Acme CRM",
			Description: "A CRM for small sales teams.",
			Website:     "https://acme.example",
		},
		Persona: scenario.Persona{Name: "Ada, Acme's AI assistant", Tone: "friendly, brief"},
		Disclosure: scenario.Disclosure{FirstMessage: &yes, Text: scenario.Text{
			"en": "Hi, I'm Ada, Acme's AI assistant.",
			"ru": "Здравствуйте, я Ада, ИИ-ассистент Acme.",
		}},
		Openings: []scenario.Text{{
			"en": "Hi, I'm Ada, Acme's AI assistant. What would you like to improve in your sales?",
			"ru": "Здравствуйте, я Ада, ИИ-ассистент Acme. Что вы хотите улучшить в продажах?",
		}},
		Stages: []scenario.Stage{
			{Name: "opening", Goal: "introduce the assistant"},
			{Name: "discovery", Goal: "learn the lead's need"},
			{Name: "qualification", Goal: "learn budget, timeline, authority and team size"},
			{Name: "offer", Goal: "offer the plan that fits", Questions: scenario.Texts{
				"en": {"Shall I set up a free trial for your team?"},
				"ru": {"Подключить вашей команде бесплатный пробный период?"},
			}},
			{Name: "objections", Goal: "answer doubts from the knowledge base"},
		},
		Qualification: scenario.Qualification{Fields: []scenario.FieldSpec{
			{Name: "need", Description: "what the lead wants to improve", Extractor: scenario.ExtractKeywords, Points: 30,
				Keywords: []string{"crm", "leads", "sales", "заявки", "продаж"},
				Question: scenario.Text{"en": "What would you like to improve in your sales?", "ru": "Что вы хотите улучшить в продажах?"}},
			{Name: "budget", Description: "the monthly budget", Extractor: scenario.ExtractMoney, Points: 25,
				Question: scenario.Text{"en": "What budget do you have in mind?", "ru": "На какой бюджет вы рассчитываете?"}},
			{Name: "timeline", Description: "when they want to start", Extractor: scenario.ExtractTimeline, Points: 20,
				Question: scenario.Text{"en": "When would you like to start?", "ru": "Когда вы хотели бы начать?"}},
			{Name: "authority", Description: "whether the lead decides", Extractor: scenario.ExtractYesNo, Points: 15,
				Question: scenario.Text{"en": "Are you the one who decides on this?", "ru": "Решение принимаете вы?"}},
			{Name: "team_size", Description: "people in the sales team", Extractor: scenario.ExtractNumber, Points: 10,
				Question: scenario.Text{"en": "How many people are in your sales team?", "ru": "Сколько человек в отделе продаж?"}},
		}},
		Handoff: scenario.Handoff{
			ScoreThreshold: 70,
			AlwaysHuman:    []string{"contract", "договор"},
			HumanPhrases:   []string{"talk to a human", "real person", "менеджер", "живой человек"},
		},
		Knowledge: scenario.Knowledge{
			Products: []scenario.Product{
				{Name: "Start", Price: "$29 per user per month", Description: "Contacts, deals and reminders."},
				{Name: "Pro", Price: "$79 per user per month", Description: "Everything in Start plus automations."},
			},
			Terms: []string{"A 14-day free trial, no card needed."},
			FAQ: []scenario.FAQ{{
				Q: "Do you integrate with Telegram?", A: "Yes, Acme CRM works with Telegram.",
				Keywords: []string{"telegram", "телеграм"},
			}},
		},
		FollowUps: scenario.FollowUps{Max: 2, After: 24 * time.Hour, Texts: scenario.Texts{
			"en": {"Just checking in: is this still relevant?"},
			"ru": {"Напомню о себе: вопрос ещё актуален?"},
		}},
		Replies: scenario.Replies{
			OptOut:    scenario.Text{"en": "Understood, I won't write again.", "ru": "Поняла, больше не напишу."},
			BotAnswer: scenario.Text{"en": "I'm Ada, Acme's AI assistant.", "ru": "Я Ада, ИИ-ассистент Acme."},
			Handoff:   scenario.Text{"en": "A colleague will write to you shortly.", "ru": "Коллега скоро вам напишет."},
			Lost:      scenario.Text{"en": "Thanks for your time, all the best!", "ru": "Спасибо за время, всего доброго!"},
			Fallback:  scenario.Text{"en": "Let me check that with a colleague.", "ru": "Уточню это у коллеги."},
		},
		Variants: []scenario.Variant{
			{Name: "a", Version: "1", Weight: 1, Prompt: "Be brief."},
			{Name: "b", Version: "1", Weight: 1, Prompt: "Be warm and brief."},
		},
		Offline: scenario.Offline{NotInterested: []string{"not interested", "не интересно"}},
	}
}
