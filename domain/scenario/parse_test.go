package scenario_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/domain/scenario"
)

// minimal is a small valid scenario; the broken cases edit it, so its line
// numbers are the ones the cases expect.
const minimal = `name: mini
version: "1"
language: en
company:
  name: Mini
  product: Widget
disclosure:
  text: I'm the AI assistant of Mini.
openings:
  - Hello, how do you track sales today?
  - en: Hi, a quick question?
    ru: Привет, короткий вопрос?
stages:
  - name: opening
    goal: get a reply
  - name: discovery
    goal: learn the need
qualification:
  fields:
    - name: need
      question: What do you need?
      extractor: keywords
      keywords: [reports]
      points: 60
    - name: budget
      question: What budget?
      extractor: money
      points: 40
handoff:
  score_threshold: 70
knowledge:
  products:
    - name: Widget
      price: $10 per month
  faq:
    - q: Price?
      a: $10 per month.
follow_ups:
  max: 2
  after: 24h
  texts:
    - Any news?
    - Last note.
replies:
  opt_out: OK, I won't write again.
  bot_answer: I'm the AI assistant of Mini.
  handoff: A colleague will write.
  lost: Thanks, bye.
  fallback: I'll ask a colleague.
variants:
  - name: A
    weight: 1
  - name: B
    weight: 3
    opening: 1
`

// broken are edits of minimal (old is replaced by new; old must occur
// once) with the line, the field and a part of the reason Parse must
// report.
var broken = []struct {
	name     string
	old, new string
	line     int
	field    string
	reason   string
}{
	{"yaml syntax", "  product: Widget\n", "  product: Widget: x\n", 6, "", "mapping values are not allowed"},
	{"bad indentation", "    goal: learn the need\n", "   goal: learn the need\n", 17, "", "did not find expected"},
	{"unclosed quote", "  name: Mini\n", "  name: \"Mini\n", 5, "", "found unexpected end of stream"},
	{"tab indentation", "    goal: get a reply\n", "\tgoal: get a reply\n", 15, "", "found a tab character that violates indentation"},
	{"unknown alias", "    goal: get a reply\n", "    goal: *reply\n", 15, "", "unknown anchor 'reply' referenced"},
	{"unknown key", "  product: Widget\n", "  product: Widget\n  prodcut: x\n", 7, "company.prodcut", `unknown key "prodcut" in company`},
	{"unknown top-level key", "language: en\n", "language: en\nlanguages: [en]\n", 4, "languages", `unknown key "languages"`},
	{"key defined twice", "name: mini\n", "name: mini\nname: again\n", 2, "name", "defined twice (first at line 1)"},
	{"bad language key", "    ru: Привет", "    de: Hallo", 12, "openings[1].de", `unknown language "de"`},
	{"bad default language", "language: en\n", "language: de\n", 3, "language", `unknown language "de"`},
	{"missing name", "name: mini\n", "", 1, "name", "is required"},
	{"missing required reply", "  lost: Thanks, bye.\n", "", 44, "replies.lost", "needs a text in en, the default language"},
	{"opening without the default language", "  - en: Hi, a quick question?\n    ru:", "  - ru:", 11, "openings[1]", "needs a text in en"},
	{"opening repeats the disclosure", "  - Hello, how", "  - I'm the AI assistant of Mini. Hello, how", 10, "openings[0].en", "repeats the disclosure line"},
	{"openings not a list", "openings:\n  - Hello, how do you track sales today?\n  - en: Hi, a quick question?\n    ru: Привет, короткий вопрос?\n", "openings: Hello\n", 9, "openings", "must be a list"},
	{"duplicate variant", "  - name: B\n", "  - name: A\n", 53, "variants[1].name", `variant "A" is listed twice`},
	{"zero weight", "    weight: 1\n", "    weight: 0\n", 52, "variants[0].weight", "must be > 0"},
	{"weight not a number", "    weight: 1\n", "    weight: lots\n", 52, "variants[0].weight", "must be a whole number"},
	{"opening index out of range", "    opening: 1\n", "    opening: 2\n", 55, "variants[1].opening", "2 is not an opening"},
	{"unclosed merge field", "  - Hello, how do", "  - Hello {first_name, how do", 10, "openings[0]", "merge field {first_name, how do you track sales"},
	{"merge field closed on the next field", "    ru: Привет,", "    ru: Привет {first_name {company}},", 12, "openings[1].ru", "is not closed"},
	{"stray closing brace", "  - Hello, how do", "  - Hello first_name}, how do", 10, "openings[0]", `a "}" without its "{"`},
	{"merge field name with spaces", "  - Hello, how do", "  - Hello {First Name|there}, how do", 10, "openings[0]", "the name must be lower-case letters"},
	{"empty merge field", "  - Hello, how do", "  - Hello {}, how do", 10, "openings[0]", "the name must be"},
	{"two fallbacks", "  - Hello, how do", "  - Hello {first_name|there|you}, how do", 10, "openings[0]", `more than one "|"`},
	{"broken merge field in a brief", "    weight: 3\n", "    weight: 3\n    prompt: Greet {company warmly\n", 55, "variants[1].prompt", "is not closed"},
	{"points sum over 100", "      points: 40\n", "      points: 41\n", 28, "qualification.fields[1].points", "add up to 101 here, more than 100"},
	{"points not whole", "      points: 40\n", "      points: 39.5\n", 28, "qualification.fields[1].points", "must be a whole number"},
	{"bad field name", "    - name: budget\n", "    - name: Budget\n", 25, "qualification.fields[1].name", "lowercase letters"},
	{"bad extractor", "extractor: money", "extractor: cash", 27, "qualification.fields[1].extractor", `unknown extractor "cash"`},
	{"keywords extractor without keywords", "      keywords: [reports]\n", "", 20, "qualification.fields[0].keywords", "needs at least one keyword"},
	{"bad stage name", "  - name: discovery\n", "  - name: discovry\n", 16, "stages[1].name", `unknown stage "discovry"`},
	{"stages out of order", "  - name: opening\n", "  - name: offer\n", 16, "stages[1].name", `stage "discovery" must come before "offer"`},
	{"threshold zero", "  score_threshold: 70\n", "  score_threshold: 0\n", 30, "handoff.score_threshold", "must be 1..100"},
	{"bot_answer claims to be human", "  bot_answer: I'm the AI assistant of Mini.\n", "  bot_answer: No, I'm a real person.\n", 46, "replies.bot_answer.en", "must not claim the assistant is a person"},
	{"bot_answer does not say AI", "  bot_answer: I'm the AI assistant of Mini.\n", "  bot_answer: I'm Mini's Ada.\n", 46, "replies.bot_answer.en", "must say the assistant is an AI"},
	{"bad duration", "after: 24h", "after: 24 hours", 40, "follow_ups.after", "must be a duration like 24h or 90m"},
	{"duration as a number", "after: 24h", "after: 24", 40, "follow_ups.after", "must be a duration like 24h or 90m"},
	{"follow-up too soon", "after: 24h", "after: 30s", 40, "follow_ups.after", "at least 1m"},
	{"follow-up texts fewer than max", "  max: 2\n", "  max: 3\n", 41, "follow_ups.texts.en", "has 2 texts, fewer than max (3)"},
	{"too many follow-ups", "  max: 2\n", "  max: 11\n", 39, "follow_ups.max", "must be 0..10"},
	{"empty faq answer", "      a: $10 per month.\n", "      a: \"\"\n", 37, "knowledge.faq[0].a", "is required"},
	{"a second document", "    opening: 1\n", "    opening: 1\n---\nname: x\n", 56, "", "a second YAML document"},
	{"empty file", minimal, "", 1, "", "the file is empty"},
	{"handoff note claims to be human", "  handoff: A colleague will write.\n", "  handoff: I'm a real person, a colleague will write.\n", 47, "replies.handoff", "must not claim the assistant is a person"},
	{"opening with an invented price", "  - Hello, how do you track sales today?\n", "  - Only $59 a month! How do you track sales today?\n", 10, "openings[0]", "states 59 usd, which the knowledge base does not"},
	{"follow-up with an invented discount", "    - Any news?\n", "    - Any news? 40% off this week.\n", 42, "follow_ups.texts[0]", "states 40%"},
	{"a booking link that is no URL", "  product: Widget\n", "  product: Widget\nbooking:\n  link: cal.example/mini\n", 8, "booking.link", "must be an http(s) URL"},
	{"too many slots", "  product: Widget\n", "  product: Widget\nbooking:\n  slots: 9\n", 8, "booking.slots", "must be 1 to 5"},
	{"a media action that is neither reply nor handoff", "  product: Widget\n", "  product: Widget\nmedia:\n  photo: forward\n", 8, "media.photo", "must be reply or handoff"},
	{"a known number as another unit", "    - Any news?\n", "    - Any news? 10% off.\n", 42, "follow_ups.texts[0]", "states 10%"},
}

func edit(t testing.TB, old, new string) string {
	t.Helper()
	if n := strings.Count(minimal, old); n != 1 {
		t.Fatalf("%q occurs %d times in minimal", old, n)
	}
	return strings.Replace(minimal, old, new, 1)
}

func TestParseMinimal(t *testing.T) {
	s, err := scenario.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Openings[0]; len(got) != 1 || got["en"] != "Hello, how do you track sales today?" {
		t.Errorf("a plain text is stored under the default language: %v", got)
	}
	if got := s.FollowUps.Texts; len(got) != 1 || len(got["en"]) != 2 {
		t.Errorf("a plain list is stored under the default language: %v", got)
	}
	if s.FollowUps.After != 24*time.Hour {
		t.Errorf("after = %v", s.FollowUps.After)
	}
	for _, v := range s.Variants {
		if v.Version != "1" {
			t.Errorf("variant %s has version %q, want the scenario's", v.Name, v.Version)
		}
	}
	if s.Variants[0].Opening != nil || *s.Variants[1].Opening != 1 {
		t.Errorf("openings = %v, %v", s.Variants[0].Opening, s.Variants[1].Opening)
	}
}

func TestParsePlainTextsTakeTheDefaultLanguage(t *testing.T) {
	src := edit(t, "language: en\n", "language: ru\n")
	src = strings.Replace(src, "  - en: Hi, a quick question?\n    ru: Привет, короткий вопрос?\n", "  - ru: Привет, короткий вопрос?\n", 1)
	s, err := scenario.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Replies.Lost; len(got) != 1 || got["ru"] != "Thanks, bye." {
		t.Errorf("lost = %v, want it under ru", got)
	}
	if got := s.T(s.Openings[1], "en"); got != "Привет, короткий вопрос?" {
		t.Errorf("en falls back to ru: %q", got)
	}
}

func TestParseNoLanguageMeansEnglish(t *testing.T) {
	s, err := scenario.Parse([]byte(edit(t, "language: en\n", "")))
	if err != nil {
		t.Fatal(err)
	}
	if s.Language != "en" || s.Replies.Lost["en"] != "Thanks, bye." {
		t.Errorf("language %q, lost %v", s.Language, s.Replies.Lost)
	}
}

func TestParseMergeKeys(t *testing.T) {
	src := edit(t, "variants:\n  - name: A\n    weight: 1\n  - name: B\n    weight: 3\n",
		"variants:\n  - &a\n    name: A\n    weight: 1\n    prompt: be brief\n  - <<: *a\n    name: B\n    weight: 3\n")
	s, err := scenario.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if b := s.Variants[1]; b.Name != "B" || b.Weight != 3 || b.Prompt != "be brief" {
		t.Errorf("merged variant = %+v", b)
	}
	bad := strings.Replace(src, "    prompt: be brief\n", "    prompt: be brief\n    promt: x\n", 1)
	_, err = scenario.Parse([]byte(bad))
	var e *scenario.Error
	if !errors.As(err, &e) || e.Line != 55 || !strings.Contains(e.Reason, `unknown key "promt"`) {
		t.Errorf("an unknown key in a merged mapping: %v", err)
	}
}

func TestParseBroken(t *testing.T) {
	for _, c := range broken {
		t.Run(c.name, func(t *testing.T) {
			_, err := scenario.Parse([]byte(edit(t, c.old, c.new)))
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

func TestErrorText(t *testing.T) {
	for _, c := range []struct {
		e    scenario.Error
		want string
	}{
		{scenario.Error{Line: 42, Field: "variants[1].weight", Reason: "must be > 0"}, "scenario: line 42: variants[1].weight: must be > 0"},
		{scenario.Error{Line: 3, Reason: "mapping values are not allowed in this context"}, "scenario: line 3: mapping values are not allowed in this context"},
		{scenario.Error{Reason: "control characters are not allowed"}, "scenario: control characters are not allowed"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestMediaAction(t *testing.T) {
	s, err := scenario.Parse([]byte(edit(t, "  product: Widget\n", "  product: Widget\nmedia:\n  photo: handoff\n  document: reply\n")))
	if err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[string]string{"photo": "handoff", "document": "reply", "voice": "reply", "sticker": "reply", "other": "reply"} {
		if got := s.MediaAction(kind); got != want {
			t.Errorf("set: %s → %s, want %s", kind, got, want)
		}
	}
	d, err := scenario.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[string]string{"photo": "reply", "document": "handoff", "voice": "reply", "video_note": "reply"} {
		if got := d.MediaAction(kind); got != want {
			t.Errorf("default: %s → %s, want %s", kind, got, want)
		}
	}
}
