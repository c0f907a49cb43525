package scenario_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

func example(t *testing.T) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Default()
	if err != nil {
		t.Fatalf("the embedded example does not parse: %v", err)
	}
	return s
}

func TestDefaultReturnsACopy(t *testing.T) {
	a, b := example(t), example(t)
	a.Replies.Lost["en"] = "changed"
	if b.Replies.Lost["en"] == "changed" {
		t.Error("two Default scenarios share their texts")
	}
}

// texts lists every text of s with its path, in every language it has.
func texts(s *scenario.Scenario) map[string]string {
	out := map[string]string{}
	add := func(path string, t scenario.Text) {
		for lang, v := range t {
			out[path+"."+lang] = v
		}
	}
	adds := func(path string, t scenario.Texts) {
		for lang, l := range t {
			for i, v := range l {
				out[fmt.Sprintf("%s.%s[%d]", path, lang, i)] = v
			}
		}
	}
	add("disclosure.text", s.Disclosure.Text)
	for i, o := range s.Openings {
		add(fmt.Sprintf("openings[%d]", i), o)
	}
	for _, st := range s.Stages {
		adds("stages."+st.Name+".questions", st.Questions)
		add("stages."+st.Name+".reply", st.Reply)
		add("stages."+st.Name+".follow_up", st.FollowUp)
	}
	for _, f := range s.Qualification.Fields {
		add("fields."+f.Name+".question", f.Question)
	}
	adds("follow_ups.texts", s.FollowUps.Texts)
	add("replies.opt_out", s.Replies.OptOut)
	add("replies.bot_answer", s.Replies.BotAnswer)
	add("replies.handoff", s.Replies.Handoff)
	add("replies.lost", s.Replies.Lost)
	add("replies.fallback", s.Replies.Fallback)
	for _, v := range s.Variants {
		out["variants."+v.Name+".prompt"] = v.Prompt
	}
	return out
}

func TestExample(t *testing.T) {
	s := example(t)
	if s.Name != "acme-analytics" || s.Version == "" || s.Language != "en" || s.Company.Name != "Acme Analytics" {
		t.Errorf("name %q version %q language %q company %q", s.Name, s.Version, s.Language, s.Company.Name)
	}
	if len(s.Openings) != 2 || len(s.Variants) != 2 || len(s.Stages) != len(scenario.Stages)+2 || !s.Branching() {
		t.Errorf("%d openings, %d variants, %d stages, branching %v", len(s.Openings), len(s.Variants), len(s.Stages), s.Branching())
	}
	sum := 0
	for _, f := range s.Qualification.Fields {
		sum += f.Points
	}
	if sum != 100 {
		t.Errorf("the points add up to %d, want 100", sum)
	}
	if s.Handoff.ScoreThreshold != 70 || s.FollowUps.Max != 2 || s.FollowUps.After.Hours() != 24 {
		t.Errorf("threshold %d, follow-ups %d after %v", s.Handoff.ScoreThreshold, s.FollowUps.Max, s.FollowUps.After)
	}
}

// Every text of the example is written in both languages.
func TestExampleIsFullyTranslated(t *testing.T) {
	s := example(t)
	check := func(path string, t2 scenario.Text) {
		for _, lang := range scenario.Languages {
			if strings.TrimSpace(t2[lang]) == "" {
				t.Errorf("%s has no %s text", path, lang)
			}
		}
	}
	checks := func(path string, t2 scenario.Texts) {
		for _, lang := range scenario.Languages {
			if len(t2[lang]) != len(t2[s.Language]) {
				t.Errorf("%s has %d %s texts, %d %s", path, len(t2[lang]), lang, len(t2[s.Language]), s.Language)
			}
		}
	}
	check("disclosure.text", s.Disclosure.Text)
	for i, o := range s.Openings {
		check(fmt.Sprint("openings ", i), o)
	}
	for _, st := range s.Stages {
		checks("stage "+st.Name, st.Questions)
		if st.Exit == scenario.ExitNurture {
			check("stage "+st.Name+" reply", st.Reply)
			check("stage "+st.Name+" follow_up", st.FollowUp)
		}
	}
	for _, f := range s.Qualification.Fields {
		check("field "+f.Name, f.Question)
	}
	checks("follow_ups.texts", s.FollowUps.Texts)
	for name, r := range map[string]scenario.Text{
		"opt_out": s.Replies.OptOut, "bot_answer": s.Replies.BotAnswer, "handoff": s.Replies.Handoff,
		"lost": s.Replies.Lost, "fallback": s.Replies.Fallback,
	} {
		check("replies."+name, r)
	}
}

// The example states no price or percentage its knowledge base does not:
// the price guard would withhold such a message.
func TestExampleFiguresAreGrounded(t *testing.T) {
	s := example(t)
	k := s.KnowledgeText()
	for _, want := range []string{"$49 per user per month", "$89 per user per month", "from $2,000 per month", "15% discount", "14-day free trial"} {
		if !strings.Contains(k, want) {
			t.Errorf("the knowledge text lacks %q:\n%s", want, k)
		}
	}
	if got := strings.Join(domain.Figures(k), " "); !strings.Contains(got, "49") || !strings.Contains(got, "2000") || !strings.Contains(got, "15") {
		t.Errorf("figures of the knowledge text: %s", got)
	}
	for path, text := range texts(s) {
		if bad := domain.UngroundedFigures(text, k); len(bad) > 0 {
			t.Errorf("%s states %v, which the knowledge base does not: %q", path, bad, text)
		}
	}
}

// The example's own texts name only the contact points it states and ask
// for no secret, and its website is stated, so a reply may link to any of
// its pages.
func TestExampleContactPointsAreStated(t *testing.T) {
	s := example(t)
	stated := s.KnowledgeText() + "\n" + s.StatedText()
	if !strings.Contains(s.StatedText(), "https://acme-analytics.example") {
		t.Errorf("the stated text lacks the website:\n%s", s.StatedText())
	}
	for path, text := range texts(s) {
		if bad := domain.UnstatedContacts(text, stated); len(bad) > 0 {
			t.Errorf("%s names %v, which the scenario does not state: %q", path, bad, text)
		}
	}
	for path, text := range texts(s) {
		if secret := domain.AsksForSecret(text); secret != "" {
			t.Errorf("%s reads as asking the lead for a %s: %q", path, secret, text)
		}
	}
	if bad := domain.UnstatedContacts("https://acme-analytics.example/pricing", stated); len(bad) > 0 {
		t.Errorf("a page of the website is not stated: %v", bad)
	}
	if bad := domain.UnstatedContacts("https://acme-pay.example/checkout", stated); len(bad) != 1 {
		t.Errorf("a link to another site is stated: %v", bad)
	}
}

func TestExampleOpenings(t *testing.T) {
	s := example(t)
	for i, o := range s.Openings {
		for lang, text := range o {
			if !strings.HasSuffix(text, "?") {
				t.Errorf("opening %d (%s) does not end with a question: %q", i, lang, text)
			}
			if strings.Contains(text, s.Disclosure.Text[lang]) || strings.Contains(text, "Ada") {
				t.Errorf("opening %d (%s) repeats the disclosure: %q", i, lang, text)
			}
		}
	}
	a, _ := s.Variant("A")
	b, _ := s.Variant("B")
	if s.Opening(a, "en") != s.Openings[0]["en"] || s.Opening(b, "ru") != s.Openings[1]["ru"] {
		t.Error("variants A and B use openings 0 and 1")
	}
	if s.Opening(b, "de") != s.Openings[1]["en"] {
		t.Error("an unknown language falls back to the default")
	}
	if s.Opening(scenario.Variant{}, "ru") != s.Openings[0]["ru"] {
		t.Error("a variant without an opening uses the first")
	}
	if got := s.Opening(scenario.Variant{Opening: new(7)}, "en"); got != "" {
		t.Errorf("an opening out of range = %q, want empty", got)
	}
}

func TestExampleGuardsTexts(t *testing.T) {
	s := example(t)
	for _, lang := range scenario.Languages {
		// The dialog engine's guards accept them as disclosures.
		if got := s.T(s.Replies.BotAnswer, lang); !domain.Discloses(got) {
			t.Errorf("bot_answer in %s does not disclose the AI to the guard: %q", lang, got)
		}
		if got := s.T(s.Disclosure.Text, lang); !domain.Discloses(got) {
			t.Errorf("the disclosure in %s does not disclose the AI to the guard: %q", lang, got)
		}
		if got := s.T(s.Replies.BotAnswer, lang); !strings.Contains(got, "Acme Analytics") {
			t.Errorf("bot_answer in %s does not name the company: %q", lang, got)
		}
	}
	for _, p := range s.Offline.NotInterested {
		if domain.IsOptOut(p) {
			t.Errorf("not_interested phrase %q is an opt-out: the guard would catch it first", p)
		}
	}
	for _, topic := range []string{"contract", "refund", "договор", "возврат"} {
		if !contains(s.Handoff.AlwaysHuman, topic) {
			t.Errorf("always_human lacks %q", topic)
		}
	}
	for _, phrase := range []string{"call me", "talk to a manager", "позовите менеджера"} {
		if !contains(s.Handoff.HumanPhrases, phrase) {
			t.Errorf("human_phrases lacks %q", phrase)
		}
	}
	// A question about the bot is not a request for a person.
	for _, q := range []string{"Are you a bot or a real person?", "Вы живой человек?", "I'm the sales manager here"} {
		if p := domain.ContainsPhrase(q, s.Handoff.HumanPhrases); p != "" {
			t.Errorf("%q counts as asking for a person (phrase %q)", q, p)
		}
	}
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func TestT(t *testing.T) {
	s := &scenario.Scenario{Language: "ru"}
	text := scenario.Text{"ru": "Привет", "en": "  "}
	for lang, want := range map[string]string{"ru": "Привет", "en": "Привет", "de": "Привет", "": "Привет"} {
		if got := s.T(text, lang); got != want {
			t.Errorf("T(%q) = %q, want %q", lang, got, want)
		}
	}
	if got := s.T(scenario.Text{"en": "Hi", "ru": "Привет"}, "en"); got != "Hi" {
		t.Errorf("T(en) = %q", got)
	}
	if got := (&scenario.Scenario{}).T(scenario.Text{"en": "Hi"}, "ru"); got != "Hi" {
		t.Errorf("a scenario without a language falls back to en: %q", got)
	}
	if got := s.List(scenario.Texts{"ru": {"a", "b"}}, "en"); len(got) != 2 {
		t.Errorf("List(en) = %v", got)
	}
	if got := s.List(scenario.Texts{"ru": {"a"}, "en": {"x", "y"}}, "en"); len(got) != 2 || got[0] != "x" {
		t.Errorf("List(en) = %v", got)
	}
}

func TestLookups(t *testing.T) {
	s := example(t)
	if v, ok := s.Variant("B"); !ok || v.Name != "B" || v.Weight != 50 || v.Version != s.Version {
		t.Errorf("Variant(B) = %+v, %v", v, ok)
	}
	if _, ok := s.Variant("Z"); ok {
		t.Error("Variant(Z) found")
	}
	if err := s.CheckVariant("B"); err != nil {
		t.Errorf("CheckVariant(B): %v", err)
	}
	var uv *scenario.UnknownVariantError
	if err := s.CheckVariant("Z"); !errors.As(err, &uv) || uv.Name != "Z" || len(uv.Have) != len(s.Variants) || !strings.Contains(err.Error(), `no variant "Z" (it has A, B`) {
		t.Errorf("CheckVariant(Z): %v", err)
	}
	if f, ok := s.Field("team_size"); !ok || f.Extractor != scenario.ExtractNumber || f.Points != 10 {
		t.Errorf("Field(team_size) = %+v, %v", f, ok)
	}
	if f, ok := s.Field("need"); !ok || f.Extractor != scenario.ExtractKeywords || !contains(f.Keywords, "воронка") {
		t.Errorf("Field(need) = %+v, %v", f, ok)
	}
	if _, ok := s.Field("colour"); ok {
		t.Error("Field(colour) found")
	}
	if st, ok := s.StageSpec("offer"); !ok || st.Goal == "" || len(st.Questions["ru"]) == 0 {
		t.Errorf("StageSpec(offer) = %+v, %v", st, ok)
	}
	if _, ok := s.StageSpec("handoff"); ok {
		t.Error("StageSpec(handoff) found: it is the engine's own")
	}
	if !s.DisclosureFirst() {
		t.Error("the example discloses in the first message")
	}
	no := false
	if (&scenario.Scenario{Disclosure: scenario.Disclosure{FirstMessage: &no}}).DisclosureFirst() {
		t.Error("first_message: false")
	}
	if !(&scenario.Scenario{}).DisclosureFirst() {
		t.Error("first_message absent means true")
	}
}

func TestPickVariantIsSticky(t *testing.T) {
	s := example(t)
	for key := range uint64(1000) {
		a, b := s.PickVariant(key), s.PickVariant(key)
		if a.Name != b.Name {
			t.Fatalf("key %d: %s then %s", key, a.Name, b.Name)
		}
	}
	if s.PickVariant(0).Name == "" || s.PickVariant(math.MaxUint64).Name == "" {
		t.Error("no variant for an edge key")
	}
	if v := (&scenario.Scenario{}).PickVariant(1); v.Name != "" {
		t.Errorf("a scenario without variants picked %+v", v)
	}
}

// PickVariant spreads consecutive keys (dialog numbers) as the weights say.
func TestPickVariantFollowsWeights(t *testing.T) {
	s := &scenario.Scenario{Variants: []scenario.Variant{
		{Name: "A", Weight: 50}, {Name: "B", Weight: 30}, {Name: "C", Weight: 20}, {Name: "D", Weight: 0},
	}}
	const n = 200_000
	got := map[string]int{}
	for key := range uint64(n) {
		got[s.PickVariant(key).Name]++
	}
	if got["D"] != 0 {
		t.Errorf("a variant of weight 0 was picked %d times", got["D"])
	}
	// Chi-squared with 2 degrees of freedom: 13.8 is p = 0.001.
	chi := 0.0
	for name, w := range map[string]float64{"A": 0.5, "B": 0.3, "C": 0.2} {
		want := w * n
		d := float64(got[name]) - want
		chi += d * d / want
	}
	if chi > 13.8 {
		t.Errorf("picks %v are not 50/30/20 (chi² = %.1f)", got, chi)
	}
	// And a split of the example's 50/50 over few dialogs stays near half.
	e := example(t)
	a := 0
	for key := range uint64(1000) {
		if e.PickVariant(key).Name == "A" {
			a++
		}
	}
	if a < 430 || a > 570 {
		t.Errorf("A was picked for %d of 1000 dialogs", a)
	}
}

// docs/scenario.md shows the example as it is.
func TestDocShowsTheExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/scenario.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```yaml\n"+string(scenario.Example)+"```\n") {
		t.Error("docs/scenario.md does not end with the current example.yaml: copy it again")
	}
}
