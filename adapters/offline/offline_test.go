package offline

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/modeltest"
	"github.com/salesbot/salesbot/domain/scenario"
)

func TestContract(t *testing.T) {
	modeltest.Run(t, func(t *testing.T) domain.Model { return New() })
}

// testScenario is a small scenario in English and Russian.
func testScenario() *scenario.Scenario {
	return &scenario.Scenario{
		Name:     "test",
		Version:  "1",
		Language: "en",
		Company:  scenario.Company{Name: "Acme", Product: "Acme CRM"},
		Openings: []scenario.Text{{"en": "Hi! I'm Acme's AI assistant.", "ru": "Здравствуйте! Я ИИ-ассистент Acme."}},
		Stages: []scenario.Stage{
			{Name: "opening"}, {Name: "discovery"}, {Name: "qualification"},
			{Name: "offer", Questions: scenario.Texts{
				"en": {"Shall I set up a free 14-day trial for you?", "Would a short demo call help?"},
				"ru": {"Подключить вам бесплатный пробный период на 14 дней?"},
			}},
			{Name: "objections", Questions: scenario.Texts{
				"en": {"What would make it work for you?"},
				"ru": {"Что могло бы вам помочь решиться?"},
			}},
		},
		Qualification: scenario.Qualification{Fields: []scenario.FieldSpec{
			{Name: "need", Extractor: scenario.ExtractKeywords, Points: 30,
				Keywords: []string{"crm", "leads", "sales", "automation", "продаж", "заявки", "лиды", "автоматизир", "автоматизац"},
				Question: scenario.Text{"en": "What would you like to improve in your sales?", "ru": "Что вы хотите улучшить в продажах?"}},
			{Name: "budget", Extractor: scenario.ExtractMoney, Points: 25,
				Question: scenario.Text{"en": "What budget do you have in mind?", "ru": "Какой бюджет вы рассматриваете?"}},
			{Name: "timeline", Extractor: scenario.ExtractTimeline, Points: 20,
				Question: scenario.Text{"en": "When would you like to start?", "ru": "Когда хотите начать?"}},
			{Name: "authority", Extractor: scenario.ExtractYesNo, Points: 15,
				Question: scenario.Text{"en": "Are you the one who decides on this?", "ru": "Решение принимаете вы?"}},
			{Name: "team_size", Extractor: scenario.ExtractNumber, Points: 10,
				Question: scenario.Text{"en": "How many people are in your sales team?", "ru": "Сколько человек в отделе продаж?"}},
		}},
		Handoff: scenario.Handoff{
			ScoreThreshold: 70,
			AlwaysHuman:    []string{"contract", "договор"},
			HumanPhrases:   []string{"talk to a human", "real person", "talk to a manager", "менеджер", "менеджера", "позовите человека"},
		},
		Knowledge: scenario.Knowledge{
			Products: []scenario.Product{
				{Name: "Start", Price: "$29 per user per month", Description: "Contacts, deals and reminders."},
				{Name: "Pro", Price: "$79 per user per month", Description: "Everything in Start plus automations and reports."},
			},
			Terms: []string{"Annual billing saves 15%.", "A 14-day free trial, no card needed."},
			FAQ: []scenario.FAQ{
				{Q: "Do you integrate with Telegram?", A: "Yes, Acme CRM connects to Telegram in two clicks.", Keywords: []string{"telegram", "телеграм"}},
				{Q: "Is my data safe?", A: "Data is stored in the EU and encrypted.", Keywords: []string{"security", "safe", "безопасн"}},
			},
		},
		Replies: scenario.Replies{
			OptOut:    scenario.Text{"en": "Understood, I won't write again.", "ru": "Поняла, больше не напишу."},
			BotAnswer: scenario.Text{"en": "I'm Acme's AI assistant.", "ru": "Я ИИ-ассистент Acme."},
			Handoff:   scenario.Text{"en": "A colleague will write to you shortly.", "ru": "Коллега скоро вам напишет."},
			Lost:      scenario.Text{"en": "Thanks for your time, all the best!", "ru": "Спасибо за время, всего доброго!"},
			Fallback:  scenario.Text{"en": "Let me check that with a colleague.", "ru": "Уточню это у коллеги."},
		},
		Variants: []scenario.Variant{{Name: "a", Weight: 1}, {Name: "b", Weight: 1}},
		Offline:  scenario.Offline{NotInterested: []string{"not interested", "no thanks", "не интересно", "не актуально"}},
	}
}

func field(sc *scenario.Scenario, name string) scenario.FieldSpec {
	f, ok := sc.Field(name)
	if !ok {
		panic("no field " + name)
	}
	return f
}

type extractCase struct {
	text  string
	asked bool
	want  string  // "" = nothing
	conf  float64 // checked when want is set
}

// runExtractor runs an extractor over a message's sentences like the
// engine does: the best match wins.
func runExtractor(t *testing.T, ex extractor, f scenario.FieldSpec, cases []extractCase) {
	t.Helper()
	for _, c := range cases {
		var m match
		for _, s := range sentences(c.text) {
			if x := ex(s, f, c.asked); x.better(m) {
				m = x
			}
		}
		if m.value != c.want || c.want != "" && m.conf != c.conf {
			t.Errorf("%s(%q, asked=%v) = %q (%v), want %q (%v)", f.Extractor, c.text, c.asked, m.value, m.conf, c.want, c.conf)
		}
		if m.value != "" && !strings.Contains(c.text, m.quote) {
			t.Errorf("%s(%q): quote %q is not the lead's words", f.Extractor, c.text, m.quote)
		}
	}
}

func TestExtractMoney(t *testing.T) {
	runExtractor(t, extractMoney, field(testScenario(), "budget"), []extractCase{
		{text: "5000$", want: "5000 USD", conf: explicit},
		{text: "Around $5k a month", want: "5000 USD", conf: explicit},
		{text: "we can spend $1,500.", want: "1500 USD", conf: explicit},
		{text: "€2.5k tops", want: "2500 EUR", conf: explicit},
		{text: "2000 dollars", want: "2000 USD", conf: explicit},
		{text: "budget is 5k", want: "5000", conf: weak},
		{text: "around 5000", asked: true, want: "5000", conf: weak},
		{text: "100 тыс руб", want: "100000 RUB", conf: explicit},
		{text: "Бюджет 300 000 ₽.", want: "300000 RUB", conf: explicit},
		{text: "до 50 тыс. рублей в месяц", want: "50000 RUB", conf: explicit},
		{text: "около 2000 долларов", want: "2000 USD", conf: explicit},
		{text: "Готовы потратить 200к", want: "200000", conf: weak},
		{text: "Ну, думаю, 1,5 млн руб на год", want: "1500000 RUB", conf: explicit},
		{text: "Can we stay under a $3k budget?", want: "3000 USD", conf: explicit},
		// Not amounts.
		{text: "Is it $29 per user?"},
		{text: "I have 2 kids"},
		{text: "We are 10 people"},
		{text: "in 2 weeks"},
		{text: "by Q3"},
		{text: "a 10% discount would help"},
		{text: "we need 5k users"},
		{text: "it takes 5m"},
		{text: "У нас 2 офиса и 30 сотрудников"},
		{text: "скидка 10%", asked: true},
		{text: "10 people", asked: true},
	})
}

func TestExtractTimeline(t *testing.T) {
	runExtractor(t, extractTimeline, field(testScenario(), "timeline"), []extractCase{
		{text: "We'd like to start by March", want: "by march", conf: explicit},
		{text: "next month", want: "next month", conf: explicit},
		{text: "Probably in 2 weeks.", want: "in 2 weeks", conf: explicit},
		{text: "within a couple of weeks", want: "within a couple of weeks", conf: explicit},
		{text: "Q3", want: "q3", conf: explicit},
		{text: "in the third quarter", want: "third quarter", conf: explicit},
		{text: "by the end of the year", want: "by the end of the year", conf: explicit},
		{text: "ASAP please", want: "asap", conf: explicit},
		{text: "by 15 March 2027", want: "by 15 march 2027", conf: explicit},
		{text: "before Friday", want: "before friday", conf: explicit},
		{text: "in 2027", want: "in 2027", conf: explicit},
		{text: "March", asked: true, want: "march", conf: weak},
		{text: "2 weeks", asked: true, want: "2 weeks", conf: weak},
		{text: "soon", want: "soon", conf: weak},
		{text: "до конца года", want: "до конца года", conf: explicit},
		{text: "Нам нужно к марту", want: "к марту", conf: explicit},
		{text: "в марте", want: "в марте", conf: explicit},
		{text: "через месяц", want: "через месяц", conf: explicit},
		{text: "через 2 недели", want: "через 2 недели", conf: explicit},
		{text: "через пару недель", want: "через пару недель", conf: explicit},
		{text: "в течение трех месяцев", want: "в течение трех месяцев", conf: explicit},
		{text: "в следующем месяце", want: "следующем месяце", conf: explicit},
		{text: "Срочно!", want: "срочно", conf: explicit},
		{text: "до пятницы", want: "до пятницы", conf: explicit},
		{text: "в 3 квартале", want: "3 квартале", conf: explicit},
		{text: "апрель", want: "апрель", conf: weak},
		// Not timelines.
		{text: "Stop by our office"},
		{text: "I have 2 kids"},
		{text: "we met in the office"},
		{text: "we've been in business 5 years"},
		{text: "we grew to 3000 users in 2000"},
		{text: "may I ask something?"},
		{text: "March is a nice month to visit", asked: false},
		{text: "в среднем 10 человек"},
		{text: "давайте созвонимся"},
		{text: "Сколько стоит?", asked: true},
	})
}

func TestExtractYesNo(t *testing.T) {
	sc := testScenario()
	runExtractor(t, extractYesNo, field(sc, "authority"), []extractCase{
		{text: "Yes, I decide.", want: "yes", conf: explicit},
		{text: "I'm the head of sales", want: "yes", conf: explicit},
		{text: "it's my call", want: "yes", conf: explicit},
		{text: "Я решаю", want: "yes", conf: explicit},
		{text: "Да, решение за мной", want: "yes", conf: explicit},
		{text: "Нужно согласовать с директором", want: "no", conf: explicit},
		{text: "not my decision, my boss decides", want: "no", conf: explicit},
		{text: "Не я решаю", want: "no", conf: explicit},
		{text: "It's not up to me", want: "no", conf: explicit},
		{text: "yes", asked: true, want: "yes", conf: explicit},
		{text: "Yep, that's me", asked: true, want: "yes", conf: explicit},
		{text: "Нет", asked: true, want: "no", conf: explicit},
		{text: "да", asked: true, want: "yes", conf: explicit},
		// Not answers.
		{text: "yes"},
		{text: "нет"},
		{text: "yesterday we talked", asked: true},
		{text: "I decided to look around"},
		{text: "нетворкинг", asked: true},
		{text: "Do you know who decides?"},
	})
	// A yes/no field other than authority takes only a yes or a no to its
	// own question.
	other := scenario.FieldSpec{Name: "has_crm", Extractor: scenario.ExtractYesNo}
	runExtractor(t, extractYesNo, other, []extractCase{
		{text: "I decide"},
		{text: "no, we use spreadsheets", asked: true, want: "no", conf: explicit},
	})
}

func TestExtractKeywords(t *testing.T) {
	runExtractor(t, extractKeywords, field(testScenario(), "need"), []extractCase{
		{text: "We need a CRM for our sales team.", want: "crm, sales", conf: explicit},
		{text: "too many leads get lost", want: "leads", conf: explicit},
		{text: "Хотим автоматизировать заявки", want: "заявки, автоматизир", conf: explicit},
		{text: "Нужна автоматизация продаж", want: "продаж, автоматизац", conf: explicit},
		{text: "Продажи падают", want: "продаж", conf: explicit},
		// Not keywords.
		{text: "I like ice cream"},
		{text: "salesforce is what we use"},
		{text: "leadership matters"},
	})
}

func TestExtractNumber(t *testing.T) {
	runExtractor(t, extractNumber, field(testScenario(), "team_size"), []extractCase{
		{text: "10 people", want: "10", conf: explicit},
		{text: "We have 25 employees.", want: "25", conf: explicit},
		{text: "a team of 12", want: "12", conf: weak},
		{text: "Команда из 12 человек", want: "12", conf: explicit},
		{text: "У нас 8 менеджеров", want: "8", conf: explicit},
		{text: "нас 8", want: "8", conf: weak},
		{text: "12", asked: true, want: "12", conf: explicit},
		{text: "around 15", asked: true, want: "15", conf: weak},
		// Not counts.
		{text: "I have 2 kids"},
		{text: "$500 a month"},
		{text: "in 2 weeks"},
		{text: "20% growth"},
		{text: "$500", asked: true},
		{text: "5000 руб", asked: true},
	})
}

// dialog is a test conversation: it keeps the history and the
// qualification the dialog engine would.
type dialog struct {
	t     *testing.T
	e     *Engine
	in    domain.TurnInput
	stage domain.Stage
}

func newDialog(t *testing.T, sc *scenario.Scenario, lang string) *dialog {
	d := &dialog{t: t, e: New(), stage: domain.StageOpening}
	d.in = domain.TurnInput{Kind: domain.TurnReply, Scenario: sc, Variant: sc.Variants[0], Language: lang}
	d.in.History = []domain.Line{{Role: domain.RoleAssistant, Text: sc.Openings[0][lang] + " " + sc.Qualification.Fields[0].Question[lang]}}
	return d
}

// say sends the lead's messages and applies the output.
func (d *dialog) say(msgs ...string) domain.TurnOutput {
	d.t.Helper()
	in := d.in
	in.Stage = d.stage
	in.New = msgs
	out, u, err := d.e.Turn(context.Background(), in)
	if err != nil {
		d.t.Fatalf("Turn(%q): %v", msgs, err)
	}
	if u.Engine != "offline" || u.Attempts != 1 || u.Latency != 0 {
		d.t.Errorf("usage %+v", u)
	}
	if err := modeltest.Validate(in, out); err != nil {
		d.t.Errorf("Turn(%q): %v", msgs, err)
	}
	for _, m := range msgs {
		d.in.History = append(d.in.History, domain.Line{Role: domain.RoleLead, Text: m})
	}
	d.in.History = append(d.in.History, domain.Line{Role: domain.RoleAssistant, Text: out.Reply})
	for _, u := range out.Qualification {
		f := &domain.Field{Value: u.Value, Quote: u.Quote, Confidence: u.Confidence}
		switch u.Name {
		case "need":
			d.in.Qual.Need = f
		case "budget":
			d.in.Qual.Budget = f
		case "timeline":
			d.in.Qual.Timeline = f
		case "authority":
			d.in.Qual.Authority = f
		default:
			d.in.Qual.Custom = append(d.in.Qual.Custom, domain.CustomField{Name: u.Name, Value: u.Value, Quote: u.Quote, Confidence: u.Confidence})
		}
	}
	d.stage = out.NextStage
	return out
}

func updates(out domain.TurnOutput) map[string]string {
	m := map[string]string{}
	for _, u := range out.Qualification {
		m[u.Name] = u.Value
	}
	return m
}

func TestScriptedConversation(t *testing.T) {
	sc := testScenario()
	for _, c := range []struct {
		lang  string
		lines []string
		want  []map[string]string
		offer string
	}{
		{"en",
			[]string{"We need to stop losing leads.", "Around $3000 a month.", "We'd like to start by March.", "Yes, I decide.", "A team of 12 people."},
			[]map[string]string{{"need": "leads"}, {"budget": "3000 USD"}, {"timeline": "by march"}, {"authority": "yes"}, {"team_size": "12"}},
			"I'd suggest Start ($29 per user per month).",
		},
		{"ru",
			[]string{"Хотим автоматизировать заявки.", "Бюджет 100 тыс руб в месяц.", "Нам нужно к марту.", "Да, я решаю.", "Команда из 12 человек."},
			[]map[string]string{{"need": "заявки, автоматизир"}, {"budget": "100000 RUB"}, {"timeline": "к марту"}, {"authority": "yes"}, {"team_size": "12"}},
			"Предлагаю Start ($29 per user per month).",
		},
	} {
		t.Run(c.lang, func(t *testing.T) {
			d := newDialog(t, sc, c.lang)
			stages := []domain.Stage{"qualification", "qualification", "qualification", "qualification", "offer"}
			score := -1
			for i, line := range c.lines {
				out := d.say(line)
				if got := updates(out); !reflect.DeepEqual(got, c.want[i]) {
					t.Errorf("turn %d (%q): updates %v, want %v", i, line, got, c.want[i])
				}
				if out.NextStage != stages[i] {
					t.Errorf("turn %d: stage %q, want %q", i, out.NextStage, stages[i])
				}
				if out.Score <= score {
					t.Errorf("turn %d: score %d did not rise from %d", i, out.Score, score)
				}
				score = out.Score
				if i+1 < len(sc.Qualification.Fields) {
					if q := sc.Qualification.Fields[i+1].Question[c.lang]; out.Reply != q {
						t.Errorf("turn %d: reply %q, want the next question %q", i, out.Reply, q)
					}
				} else {
					if !strings.HasPrefix(out.Reply, c.offer) {
						t.Errorf("turn %d: reply %q, want the offer %q", i, out.Reply, c.offer)
					}
					if q := sc.Stages[3].Questions[c.lang][0]; !strings.HasSuffix(out.Reply, q) {
						t.Errorf("turn %d: reply %q does not end with the offer's question %q", i, out.Reply, q)
					}
				}
			}
			if score < sc.Handoff.ScoreThreshold {
				t.Errorf("final score %d, want at least %d", score, sc.Handoff.ScoreThreshold)
			}
			// In the offer an objection moves to objections, answered by
			// the free trial.
			out := d.say(map[string]string{"en": "Hmm, that's too expensive for us.", "ru": "Дороговато для нас."}[c.lang])
			if out.NextStage != domain.StageObjections {
				t.Errorf("objection: stage %q", out.NextStage)
			}
			if !strings.HasPrefix(out.Reply, "A 14-day free trial, no card needed.") {
				t.Errorf("objection: reply %q, want the free trial first", out.Reply)
			}
			// A later turn does not repeat the offer or go back.
			out = d.say(map[string]string{"en": "ok", "ru": "ок"}[c.lang])
			if out.NextStage != domain.StageObjections || strings.Contains(out.Reply, c.offer) {
				t.Errorf("after the objection: %+v", out)
			}
		})
	}
}

func defaultScenario(t testing.TB) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Default()
	if err != nil {
		t.Fatalf("scenario.Default: %v", err)
	}
	return sc
}

func TestOfferFits(t *testing.T) {
	all := domain.Qualification{
		Budget: &domain.Field{Value: "5000 USD"}, Timeline: &domain.Field{Value: "q3"},
		Authority: &domain.Field{Value: "yes"}, Custom: []domain.CustomField{{Name: "team_size", Value: "10"}},
	}
	for need, want := range map[string]string{
		"leads":      "I'd suggest Start ($29 per user per month).",
		"automation": "I'd suggest Pro ($79 per user per month).", // "automations" in its description
	} {
		q := all
		q.Need = &domain.Field{Value: need}
		out := turnOnce(t, domain.TurnInput{Qual: q, Stage: domain.StageQualification, New: []string{"ok"}})
		if !strings.HasPrefix(out.Reply, want) {
			t.Errorf("need %q: offer %q, want %q", need, out.Reply, want)
		}
	}
	// The product the lead names.
	q := all
	q.Need = &domain.Field{Value: "leads"}
	if out := turnOnce(t, domain.TurnInput{Qual: q, Stage: domain.StageQualification, New: []string{"tell me about Pro"}}); !strings.HasPrefix(out.Reply, "I'd suggest Pro") {
		t.Errorf("named product: %q", out.Reply)
	}
}

// TestDefaultScenario runs the shipped example scenario: each answer fills
// its field, the score rises to the handoff threshold, and the offer comes
// when all are known.
func TestDefaultScenario(t *testing.T) {
	sc := defaultScenario(t)
	for _, c := range []struct {
		lang  string
		lines []string
	}{
		{"en", []string{"We build pipeline reports by hand in Excel.", "Maybe $500 a month", "we'd like to start next quarter", "I'm the head of sales, it's my call", "we are 8 people"}},
		{"ru", []string{"Отчёты по воронке собираем вручную", "Бюджет около 50 тыс руб в месяц", "Хотим запустить до конца квартала", "Да, решаю я", "В отделе 6 человек"}},
	} {
		t.Run(c.lang, func(t *testing.T) {
			d := &dialog{t: t, e: New(), stage: domain.StageOpening}
			d.in = domain.TurnInput{Kind: domain.TurnReply, Scenario: sc, Variant: sc.Variants[0], Language: c.lang,
				History: []domain.Line{{Role: domain.RoleAssistant, Text: sc.Opening(sc.Variants[0], c.lang)}}}
			var out domain.TurnOutput
			for i, line := range c.lines {
				out = d.say(line)
				f := sc.Qualification.Fields[i]
				if _, ok := updates(out)[f.Name]; !ok || len(out.Qualification) != 1 {
					t.Errorf("turn %d (%q): updates %+v, want %s", i, line, out.Qualification, f.Name)
				}
				if i+1 < len(sc.Qualification.Fields) {
					if q := sc.T(sc.Qualification.Fields[i+1].Question, c.lang); out.Reply != q {
						t.Errorf("turn %d: reply %q, want %q", i, out.Reply, q)
					}
				}
			}
			if out.Score < sc.Handoff.ScoreThreshold || out.NextStage != domain.StageOffer {
				t.Errorf("after qualification: score %d, stage %q", out.Score, out.NextStage)
			}
			offer, _ := sc.StageSpec("offer")
			p := sc.Knowledge.Products[0]
			if !strings.Contains(out.Reply, p.Name+" ("+p.Price+")") || !strings.HasSuffix(out.Reply, sc.List(offer.Questions, c.lang)[0]) {
				t.Errorf("offer: %q", out.Reply)
			}
		})
	}
	// A price question gets the FAQ's price answer in the lead's language
	// (the example has one in each): every product's price, as the
	// knowledge base states it, and nothing in the other language.
	for _, lang := range []string{"en", "ru"} {
		out := turnOnce(t, domain.TurnInput{Scenario: sc, Language: lang, New: []string{map[string]string{"en": "How much is it?", "ru": "Сколько это стоит?"}[lang]}})
		for _, p := range sc.Knowledge.Products {
			if figs := domain.Figures(p.Price); len(figs) == 0 || !slices.Contains(domain.Figures(out.Reply), figs[0]) {
				t.Errorf("%s: price reply %q lacks %s's price %s", lang, out.Reply, p.Name, p.Price)
			}
		}
		if got := domain.DetectLanguage("", out.Reply); got != lang {
			t.Errorf("%s: price reply %q is in %s", lang, out.Reply, got)
		}
	}
}

func turnOnce(t *testing.T, in domain.TurnInput) domain.TurnOutput {
	t.Helper()
	if in.Scenario == nil {
		in.Scenario = testScenario()
	}
	in.Kind = domain.TurnReply
	if in.Language == "" {
		in.Language = "en"
	}
	if in.Stage == "" {
		in.Stage = domain.StageDiscovery
	}
	out, _, err := New().Turn(context.Background(), in)
	if err != nil {
		t.Fatalf("Turn(%q): %v", in.New, err)
	}
	if err := modeltest.Validate(in, out); err != nil {
		t.Errorf("Turn(%q): %v", in.New, err)
	}
	return out
}

func TestPriceQuestion(t *testing.T) {
	for _, c := range []struct{ lang, msg, intro, question string }{
		{"en", "How much does it cost?", "Our prices:", "What would you like to improve in your sales?"},
		{"en", "what's your pricing", "Our prices:", "What would you like to improve in your sales?"},
		{"ru", "Сколько стоит?", "Наши цены:", "Что вы хотите улучшить в продажах?"},
		{"ru", "а какая цена", "Наши цены:", "Что вы хотите улучшить в продажах?"},
	} {
		out := turnOnce(t, domain.TurnInput{Language: c.lang, New: []string{c.msg}})
		want := c.intro + "\nStart — $29 per user per month\nPro — $79 per user per month\n" + c.question
		if out.Reply != want {
			t.Errorf("%q: reply\n%s\nwant\n%s", c.msg, out.Reply, want)
		}
		if out.Flags.NeedsInfo {
			t.Errorf("%q: a price question is answered", c.msg)
		}
	}
}

func TestBotQuestion(t *testing.T) {
	for _, c := range []struct{ lang, msg, answer string }{
		{"en", "Wait, are you a bot?", "I'm Acme's AI assistant."},
		{"ru", "Вы бот?", "Я ИИ-ассистент Acme."},
	} {
		out := turnOnce(t, domain.TurnInput{Language: c.lang, New: []string{c.msg}})
		if !out.Flags.AsksIfBot || !strings.HasPrefix(out.Reply, c.answer+"\n") {
			t.Errorf("%q: %+v", c.msg, out)
		}
		if out.Flags.NeedsInfo {
			t.Errorf("%q: a bot question is answered", c.msg)
		}
	}
}

func TestNotInterested(t *testing.T) {
	for _, c := range []struct{ lang, msg, want string }{
		{"en", "No thanks, we're fine.", "Thanks for your time, all the best!"},
		{"ru", "Нам это не интересно", "Спасибо за время, всего доброго!"},
	} {
		out := turnOnce(t, domain.TurnInput{Language: c.lang, New: []string{c.msg}})
		if out.Reply != c.want || out.NextStage != domain.StageClosed {
			t.Errorf("%q: %+v", c.msg, out)
		}
	}
}

func TestHumanRequest(t *testing.T) {
	for _, c := range []struct{ lang, msg, want string }{
		{"en", "Can I talk to a human please?", "A colleague will write to you shortly."},
		{"ru", "Позовите менеджера", "Коллега скоро вам напишет."},
		{"en", "I'm asking to talk to a human", "A colleague will write to you shortly."},
		{"en", "I'm the owner and I want to talk to a manager", "A colleague will write to you shortly."},
		{"ru", "Мне нужен менеджер", "Коллега скоро вам напишет."},
	} {
		out := turnOnce(t, domain.TurnInput{Language: c.lang, New: []string{c.msg}})
		if out.Reply != c.want || !out.Flags.WantsHuman || out.HandoffReason != "lead asked for a human" {
			t.Errorf("%q: %+v", c.msg, out)
		}
	}
	// The lead describing themselves does not ask for anyone.
	for _, msg := range []string{"I'm the manager of a team of 5", "Я менеджер по продажам"} {
		sc := testScenario()
		sc.Handoff.HumanPhrases = append(sc.Handoff.HumanPhrases, "manager")
		if out := turnOnce(t, domain.TurnInput{Scenario: sc, New: []string{msg}}); out.Flags.WantsHuman || out.HandoffReason != "" {
			t.Errorf("%q: %+v", msg, out)
		}
	}
	// A topic for a person hands off too, without the lead asking.
	out := turnOnce(t, domain.TurnInput{New: []string{"Can you send me the contract?"}})
	if out.Reply != "A colleague will write to you shortly." || out.Flags.WantsHuman || out.HandoffReason == "" {
		t.Errorf("contract: %+v", out)
	}
}

func TestOptOut(t *testing.T) {
	out := turnOnce(t, domain.TurnInput{Stage: domain.StageQualification, New: []string{"We need a CRM", "Stop."}})
	if out.Reply != "" || !out.Flags.OptOut || out.NextStage != domain.StageQualification || len(out.Qualification) != 0 {
		t.Errorf("opt-out: %+v", out)
	}
}

func TestBurst(t *testing.T) {
	for _, c := range []struct {
		lang string
		msgs []string
		want map[string]string
	}{
		{"en", []string{"We need a CRM", "budget is $3000", "and we want to start next month"},
			map[string]string{"need": "crm", "budget": "3000 USD", "timeline": "next month"}},
		{"ru", []string{"Нужна CRM для продаж", "бюджет 200 000 ₽", "начать хотим через месяц", "нас 8 человек"},
			map[string]string{"need": "crm, продаж", "budget": "200000 RUB", "timeline": "через месяц", "team_size": "8"}},
	} {
		out := turnOnce(t, domain.TurnInput{Language: c.lang, New: c.msgs})
		if got := updates(out); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: updates %v, want %v", c.msgs, got, c.want)
		}
		if q := field(testScenario(), "authority").Question[c.lang]; out.Reply != q {
			t.Errorf("%q: reply %q, want the authority question %q", c.msgs, out.Reply, q)
		}
		if out.NextStage != domain.StageQualification {
			t.Errorf("%q: stage %q", c.msgs, out.NextStage)
		}
	}
}

func TestLanguage(t *testing.T) {
	sc := testScenario()
	en := turnOnce(t, domain.TurnInput{Language: "en", New: []string{"We need a CRM"}})
	ru := turnOnce(t, domain.TurnInput{Language: "ru", New: []string{"Нужна CRM"}})
	if en.Reply != sc.Qualification.Fields[1].Question["en"] || ru.Reply != sc.Qualification.Fields[1].Question["ru"] {
		t.Errorf("en %q, ru %q", en.Reply, ru.Reply)
	}
	// A language the scenario has no text in falls back to its default.
	de := turnOnce(t, domain.TurnInput{Language: "de", New: []string{"We need a CRM"}})
	if de.Reply != sc.Qualification.Fields[1].Question["en"] {
		t.Errorf("de %q", de.Reply)
	}
}

func TestFAQAndNeedsInfo(t *testing.T) {
	for _, c := range []struct {
		msg       string
		needsInfo bool
		prefix    string
	}{
		{"Do you integrate with Telegram?", false, "Yes, Acme CRM connects to Telegram in two clicks.\n"},
		{"Is my data safe with you?", false, "Data is stored in the EU and encrypted.\n"},
		{"Do you integrate with SAP?", true, "Let me check that with a colleague.\n"},
		{"Есть интеграция с 1С?", true, "Let me check that with a colleague.\n"},
		{"What does the Pro plan include?", false, "What would you like to improve"},
		{"How are you?", false, "What would you like to improve"},
		{"Can you help me?", false, "What would you like to improve"},
		{"Maybe we could start next month?", false, "What would you like to improve"},
	} {
		out := turnOnce(t, domain.TurnInput{New: []string{c.msg}})
		if out.Flags.NeedsInfo != c.needsInfo || !strings.HasPrefix(out.Reply, c.prefix) {
			t.Errorf("%q: needs info %v, reply %q; want %v, %q…", c.msg, out.Flags.NeedsInfo, out.Reply, c.needsInfo, c.prefix)
		}
	}
}

func TestKnownFields(t *testing.T) {
	q := domain.Qualification{Budget: &domain.Field{Value: "5000 USD", Confidence: 0.9}}
	// Restating the same value, or a weak reading, changes nothing.
	for _, msg := range []string{"5000 dollars, as I said", "budget 7k maybe"} {
		out := turnOnce(t, domain.TurnInput{Qual: q, New: []string{msg}})
		if _, ok := updates(out)["budget"]; ok {
			t.Errorf("%q: budget updated: %v", msg, out.Qualification)
		}
	}
	// A new explicit amount does.
	out := turnOnce(t, domain.TurnInput{Qual: q, New: []string{"Actually we can do $8000"}})
	if got := updates(out)["budget"]; got != "8000 USD" {
		t.Errorf("restated budget: %v", out.Qualification)
	}
	if out.Score != 25 {
		t.Errorf("score %d, want 25 (the budget's points)", out.Score)
	}
	// A keywords field learns more keywords and keeps the ones it had.
	q = domain.Qualification{Need: &domain.Field{Value: "leads", Confidence: 0.9}}
	for msg, want := range map[string]string{"our CRM loses leads": "leads, crm", "leads again": ""} {
		out := turnOnce(t, domain.TurnInput{Qual: q, New: []string{msg}})
		if got := updates(out)["need"]; got != want {
			t.Errorf("%q: need %q, want %q", msg, got, want)
		}
	}
}

func TestStageNeverGoesBack(t *testing.T) {
	out := turnOnce(t, domain.TurnInput{Stage: domain.StageOffer, New: []string{"hello"}})
	if out.NextStage != domain.StageOffer {
		t.Errorf("stage %q, want offer", out.NextStage)
	}
	// Doubts before the offer are not objections to it.
	out = turnOnce(t, domain.TurnInput{Stage: domain.StageQualification, New: []string{"not sure, maybe in autumn"}})
	if out.NextStage != domain.StageQualification || strings.Contains(out.Reply, "trial") || updates(out)["timeline"] != "in autumn" {
		t.Errorf("early doubt: %+v", out)
	}
	// A scenario without a discovery stage goes from opening to the next
	// stage it has only when the need is known.
	sc := testScenario()
	sc.Stages = []scenario.Stage{{Name: "opening"}, {Name: "qualification"}, {Name: "offer"}}
	out = turnOnce(t, domain.TurnInput{Scenario: sc, Stage: domain.StageOpening, New: []string{"hello"}})
	if out.NextStage != domain.StageOpening {
		t.Errorf("no discovery stage: %q", out.NextStage)
	}
}

func TestTextField(t *testing.T) {
	sc := testScenario()
	tool := scenario.FieldSpec{Name: "current_tool", Extractor: scenario.ExtractText, Points: 5,
		Question: scenario.Text{"en": "What do you use today?", "ru": "Чем пользуетесь сейчас?"}}
	sc.Qualification.Fields = append([]scenario.FieldSpec{tool}, sc.Qualification.Fields...)
	history := []domain.Line{{Role: domain.RoleAssistant, Text: "Hi! What do you use today?"}}
	out := turnOnce(t, domain.TurnInput{Scenario: sc, History: history, New: []string{"  Spreadsheets and a lot of patience. "}})
	if len(out.Qualification) != 1 || out.Qualification[0] != (domain.FieldUpdate{Name: "current_tool", Value: "Spreadsheets and a lot of patience.", Quote: "Spreadsheets and a lot of patience.", Confidence: weak}) {
		t.Errorf("text answer: %+v", out.Qualification)
	}
	// Not without the question, and not from a question.
	out = turnOnce(t, domain.TurnInput{Scenario: sc, New: []string{"Spreadsheets"}})
	if _, ok := updates(out)["current_tool"]; ok {
		t.Errorf("text without the question: %+v", out.Qualification)
	}
	out = turnOnce(t, domain.TurnInput{Scenario: sc, History: history, New: []string{"why do you ask?"}})
	if _, ok := updates(out)["current_tool"]; ok {
		t.Errorf("text from a question: %+v", out.Qualification)
	}
	// The lead asked back: the question stands.
	if out.Reply != tool.Question["en"] {
		t.Errorf("after a question back: %q, want the question again", out.Reply)
	}
}

func TestUnansweredQuestion(t *testing.T) {
	sc := testScenario()
	need, budget := sc.Qualification.Fields[0].Question["en"], sc.Qualification.Fields[1].Question["en"]
	history := []domain.Line{{Role: domain.RoleAssistant, Text: need}}
	// An answer that does not fill the field just asked: the next
	// question, not the same one again.
	if out := turnOnce(t, domain.TurnInput{History: history, New: []string{"we use excel, it's a mess"}}); out.Reply != budget {
		t.Errorf("after an unrelated answer: %q, want %q", out.Reply, budget)
	}
	// A question asked twice already goes to the back.
	history = []domain.Line{{Role: domain.RoleAssistant, Text: need}, {Role: domain.RoleLead, Text: "hm"}, {Role: domain.RoleAssistant, Text: need}}
	if out := turnOnce(t, domain.TurnInput{History: history, New: []string{"why?"}}); out.Reply != budget {
		t.Errorf("after two asks: %q, want %q", out.Reply, budget)
	}
}

// The offline opening is the variant's, its merge fields filled from the
// lead, else with their fallbacks.
func TestOpening(t *testing.T) {
	sc := testScenario()
	sc.Openings = []scenario.Text{
		{"en": "Hi {first_name|there}! How does {company|your team} report today?", "ru": "Здравствуйте, {first_name|коллега}! Как {company|ваша команда} делает отчёты?"},
		{"en": "Hello {first_name}, a question about {city|your city}."},
	}
	second := 1
	sc.Variants = []scenario.Variant{{Name: "A", Weight: 1}, {Name: "B", Weight: 1, Opening: &second}}
	anna := domain.Lead{FirstName: "Anna", Company: "Northwind", Fields: []domain.ContactField{{Name: "city", Value: "Riga"}}}
	for _, c := range []struct {
		variant int
		lang    string
		lead    domain.Lead
		want    string
	}{
		{0, "en", anna, "Hi Anna! How does Northwind report today?"},
		{0, "en", domain.Lead{}, "Hi there! How does your team report today?"},
		{0, "ru", anna, "Здравствуйте, Anna! Как Northwind делает отчёты?"},
		{0, "ru", domain.Lead{}, "Здравствуйте, коллега! Как ваша команда делает отчёты?"},
		{1, "en", anna, "Hello Anna, a question about Riga."},
		{1, "en", domain.Lead{}, "Hello, a question about your city."},
	} {
		in := domain.TurnInput{Kind: domain.TurnOpening, Scenario: sc, Variant: sc.Variants[c.variant], Language: c.lang, Stage: domain.StageOpening, Lead: c.lead}
		out, u, err := New().Turn(context.Background(), in)
		if err != nil || out.Reply != c.want || out.NextStage != domain.StageOpening || u.Engine != "offline" {
			t.Errorf("variant %d, %s, %+v: %q, %q, %+v, %v; want %q", c.variant, c.lang, c.lead, out.Reply, out.NextStage, u, err, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	e := New()
	in := domain.TurnInput{Kind: domain.TurnFollowUp, Scenario: testScenario(), Language: "en"}
	if _, u, err := e.Turn(context.Background(), in); !errors.Is(err, ErrKind) || u.Engine != "offline" {
		t.Errorf("follow-up: %v, %+v", err, u)
	}
	in = domain.TurnInput{Kind: domain.TurnReply, New: []string{"hi"}}
	if _, _, err := e.Turn(context.Background(), in); !errors.Is(err, ErrNoScenario) {
		t.Errorf("no scenario: %v", err)
	}
}

// leadMessages are many kinds of lead message, for the properties that
// hold for all of them.
var leadMessages = []string{
	"", "hi", "How much does it cost?", "Сколько стоит Pro?", "Can you do it for $10?", "I heard you give 50% off",
	"Is there a discount of 20%?", "скидка 30% будет?", "We need a CRM", "Бюджет 100 тыс руб", "$5k", "by March",
	"Are you a bot?", "ты бот? сколько стоит?", "too expensive", "дорого", "not sure", "talk to a human", "stop",
	"no thanks", "Do you integrate with SAP?", "Do you integrate with Telegram?", "Yes, I decide.", "нужно согласовать",
	"10 people", "Q3", "through 2027 at 15%", "$29 or $79?", "🙂", "\xff\xfe", "?", "...", "1 500 ₽", "€",
}

func TestGrounded(t *testing.T) {
	for _, sc := range []*scenario.Scenario{testScenario(), defaultScenario(t)} {
		t.Run(sc.Name, func(t *testing.T) { testGrounded(t, sc) })
	}
}

func testGrounded(t *testing.T, sc *scenario.Scenario) {
	knowledge := sc.KnowledgeText()
	stages := []domain.Stage{domain.StageOpening, domain.StageDiscovery, domain.StageQualification, domain.StageOffer, domain.StageObjections}
	full := domain.Qualification{
		Need: &domain.Field{Value: "crm"}, Budget: &domain.Field{Value: "5000 USD"}, Timeline: &domain.Field{Value: "q3"},
		Authority: &domain.Field{Value: "yes"}, Custom: []domain.CustomField{{Name: "team_size", Value: "10"}},
	}
	for _, lang := range []string{"en", "ru"} {
		for _, stage := range stages {
			for _, q := range []domain.Qualification{{}, full} {
				for i, m := range leadMessages {
					msgs := []string{m}
					if i > 0 {
						msgs = append(msgs, leadMessages[i-1])
					}
					out := turnOnce(t, domain.TurnInput{Scenario: sc, Language: lang, Stage: stage, Qual: q, New: msgs})
					if u := domain.UngroundedFigures(out.Reply, knowledge); u != nil {
						t.Errorf("%q (%s, %s): reply %q states %v", msgs, lang, stage, out.Reply, u)
					}
				}
			}
		}
	}
}

// TestUngroundedScenarioTexts: a scenario text with a figure the
// knowledge base does not state is left out of the reply.
func TestUngroundedScenarioTexts(t *testing.T) {
	sc := testScenario()
	sc.Qualification.Fields[1].Question = scenario.Text{"en": "Is your budget above $1000?"}
	sc.Replies.Fallback = scenario.Text{"en": "We have a 30% discount!"}
	sc.Replies.Lost = scenario.Text{"en": "Come back for 50% off."}
	knowledge := sc.KnowledgeText()
	for msg, want := range map[string]string{
		"We need a CRM":              "When would you like to start?",                 // the budget question is left out
		"Do you integrate with SAP?": "What would you like to improve in your sales?", // the fallback too
		"not interested":             "Thank you for your time.",
	} {
		out := turnOnce(t, domain.TurnInput{Scenario: sc, New: []string{msg}})
		if u := domain.UngroundedFigures(out.Reply, knowledge); u != nil || out.Reply == "" {
			t.Errorf("%q: reply %q states %v", msg, out.Reply, u)
		}
		if out.Reply != want {
			t.Errorf("%q: reply %q, want %q", msg, out.Reply, want)
		}
	}
}

// TestLongBurst: a burst of long messages takes time linear in its length
// (a quadratic scan over numbers once took minutes here).
func TestLongBurst(t *testing.T) {
	var msgs []string
	for _, unit := range []string{"1 000 ", "in 2 weeks $5k by march ", "я решаю, нас 5 человек. ", "how much? "} {
		msgs = append(msgs, strings.Repeat(unit, 1<<16/len(unit)))
	}
	out := turnOnce(t, domain.TurnInput{New: msgs})
	if len(out.Qualification) == 0 {
		t.Errorf("nothing read from %d long messages", len(msgs))
	}
}

func TestDeterministic(t *testing.T) {
	sc := testScenario()
	for _, m := range leadMessages {
		in := domain.TurnInput{Kind: domain.TurnReply, Scenario: sc, Language: "ru", Stage: domain.StageDiscovery, New: []string{m, "We need a CRM by March, $5k"}}
		a, ua, erra := New().Turn(context.Background(), in)
		b, ub, errb := New().Turn(context.Background(), in)
		if !reflect.DeepEqual(a, b) || ua != ub || (erra == nil) != (errb == nil) {
			t.Errorf("%q: two turns differ:\n%+v\n%+v", m, a, b)
		}
	}
}

func FuzzTurn(f *testing.F) {
	for _, m := range leadMessages {
		f.Add(m, "")
	}
	f.Add("5 000 000 000 000 000 000 $", "через 99999999999999999999 лет")
	f.Add("1.2.3.4.5 k $", "by 32 march")
	scs := []*scenario.Scenario{testScenario(), defaultScenario(f)}
	f.Fuzz(func(t *testing.T, a, b string) {
		for i, lang := range []string{"en", "ru"} {
			sc := scs[i]
			knowledge := sc.KnowledgeText()
			for _, stage := range []domain.Stage{domain.StageOpening, domain.StageOffer} {
				history := []domain.Line{{Role: domain.RoleAssistant, Text: sc.Qualification.Fields[1].Question[lang]}, {Role: domain.RoleLead, Text: b}}
				in := domain.TurnInput{Kind: domain.TurnReply, Scenario: sc, Language: lang, Stage: stage, History: history, New: []string{a, b}}
				out, _, err := New().Turn(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				if again, _, _ := New().Turn(context.Background(), in); !reflect.DeepEqual(out, again) {
					t.Fatalf("%q: two turns differ:\n%+v\n%+v", a, out, again)
				}
				if err := modeltest.Validate(in, out); err != nil {
					t.Fatalf("%q: %v", a, err)
				}
				if u := domain.UngroundedFigures(out.Reply, knowledge); u != nil {
					t.Fatalf("%q: reply %q states %v", a, out.Reply, u)
				}
				for _, u := range out.Qualification {
					if !strings.Contains(a, u.Quote) && !strings.Contains(b, u.Quote) {
						t.Fatalf("quote %q is not the lead's words", u.Quote)
					}
				}
			}
		}
	})
}

func BenchmarkTurn(b *testing.B) {
	in := domain.TurnInput{Kind: domain.TurnReply, Scenario: testScenario(), Language: "en", Stage: domain.StageDiscovery, New: []string{
		"We need a CRM for our sales team, budget $5k, by March. Are you a bot?",
		"Сколько стоит? Нам нужно к марту, команда из 12 человек",
	}}
	e := New()
	for b.Loop() {
		if _, _, err := e.Turn(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}

// In a branching scenario's own stage the offline engine asks the stage's
// questions, then follows its first transition without a condition; an
// exit that ends the AI's part stays.
func TestFollowsTheScenariosOwnStages(t *testing.T) {
	sc := testScenario()
	sc.Stages = []scenario.Stage{
		{Name: "opening", Transitions: []scenario.Transition{{To: "pilot"}}},
		{Name: "pilot", Questions: scenario.Texts{"en": {"Would a pilot with two reps suit you?"}},
			Transitions: []scenario.Transition{{To: "lost", When: &scenario.Condition{Field: "authority", Equals: "no"}}, {To: "offer"}}},
		{Name: "offer", Transitions: []scenario.Transition{{To: "lost"}}},
		{Name: "lost", Exit: scenario.ExitLost},
	}
	if !sc.Branching() {
		t.Fatal("the test scenario does not branch")
	}
	out := turnOnce(t, domain.TurnInput{Scenario: sc, Stage: domain.StageOpening, New: []string{"hello"}})
	if out.NextStage != "pilot" {
		t.Errorf("from an opening whose only way out is pilot: stage %q, want pilot", out.NextStage)
	}
	out = turnOnce(t, domain.TurnInput{Scenario: sc, Stage: "pilot", New: []string{"hello"}})
	if out.NextStage != "pilot" {
		t.Errorf("with the pilot question not yet asked: stage %q, want pilot", out.NextStage)
	}
	history := []domain.Line{{Role: domain.RoleAssistant, Text: "Would a pilot with two reps suit you?"}}
	out = turnOnce(t, domain.TurnInput{Scenario: sc, Stage: "pilot", History: history, New: []string{"maybe"}})
	if out.NextStage != "offer" {
		t.Errorf("after the pilot question: stage %q, want offer (the first transition without a condition)", out.NextStage)
	}
	out = turnOnce(t, domain.TurnInput{Scenario: sc, Stage: "lost", History: history, New: []string{"hello"}})
	if out.NextStage != "lost" {
		t.Errorf("a closed-lost stage: %q, want it to stay", out.NextStage)
	}
}
