package scenario_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/domain/scenario"
)

// withObjections puts an objections list after company (line 7 on).
func withObjections(t *testing.T, list string) string {
	return edit(t, "  product: Widget\n", "  product: Widget\nobjections:\n"+list)
}

func TestParseObjections(t *testing.T) {
	s, err := scenario.Parse([]byte(withObjections(t, `  - id: price
    label: {en: Too expensive, ru: Дорого}
    phrases: {en: [too expensive], ru: [дорого]}
  - id: timing
    label: Not now
    phrases: [not now, later]
`)))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.ObjectionIDs(); !slices.Equal(got, []string{"price", "timing"}) {
		t.Errorf("ids = %v", got)
	}
	o, ok := s.Objection("timing")
	if !ok || o.Label["en"] != "Not now" || !slices.Equal(o.AllPhrases(), []string{"not now", "later"}) {
		t.Errorf("timing = %+v, %v: the plain forms belong to the default language", o, ok)
	}
	p, _ := s.Objection("price")
	if !slices.Equal(p.AllPhrases(), []string{"too expensive", "дорого"}) {
		t.Errorf("price phrases = %v", p.AllPhrases())
	}
	if _, ok := s.Objection("trust"); ok {
		t.Error("an objection not in the list was found")
	}
}

func TestParseBrokenObjections(t *testing.T) {
	for _, c := range []struct {
		name, list    string
		line          int
		field, reason string
	}{
		{"no id", "  - label: Price\n", 8, "objections[0].id", "is required"},
		{"bad id", "  - id: Price\n    label: Price\n", 8, "objections[0].id", "lowercase letters"},
		{"twice", "  - id: price\n    label: Price\n  - id: price\n    label: Cost\n", 10, "objections[1].id", `objection "price" is listed twice`},
		{"no label", "  - id: price\n    phrases: [dear]\n", 8, "objections[0].label", "needs a text in en"},
		{"label in another language only", "  - id: price\n    label: {ru: Дорого}\n", 9, "objections[0].label", "needs a text in en"},
		{"empty phrase", "  - id: price\n    label: Price\n    phrases: {en: [dear, \"\"]}\n", 10, "objections[0].phrases.en[1]", "must not be empty"},
		{"unknown key", "  - id: price\n    label: Price\n    keywords: [dear]\n", 10, "objections[0].keywords", `unknown key "keywords"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := scenario.Parse([]byte(withObjections(t, c.list)))
			var e *scenario.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want a *scenario.Error", err)
			}
			if e.Line != c.line || e.Field != c.field || !strings.Contains(e.Reason, c.reason) {
				t.Errorf("got line %d, field %q, reason %q\nwant line %d, field %q, reason containing %q", e.Line, e.Field, e.Reason, c.line, c.field, c.reason)
			}
		})
	}
}

func TestExampleObjections(t *testing.T) {
	s, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"price", "timing", "has_a_tool", "no_need", "no_authority"} {
		o, ok := s.Objection(id)
		if !ok {
			t.Errorf("the example has no objection %q", id)
			continue
		}
		if o.Label["en"] == "" || o.Label["ru"] == "" || len(o.Phrases["en"]) == 0 || len(o.Phrases["ru"]) == 0 {
			t.Errorf("objection %q is not in both languages: %+v", id, o)
		}
	}
}
