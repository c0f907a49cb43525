package scenario_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/domain/scenario"
)

func TestMerge(t *testing.T) {
	anna := map[string]string{"first_name": "Anna", "company": "Northwind", "city": "  Riga ", "team_size": ""}
	for _, c := range []struct {
		name, text string
		fields     map[string]string
		want       string
	}{
		{"no fields", "Hello, how are you?", anna, "Hello, how are you?"},
		{"first name and company", "Hi {first_name}! How does {company} report today?", anna, "Hi Anna! How does Northwind report today?"},
		{"custom field, trimmed", "Teams in {city} ...", anna, "Teams in Riga ..."},
		{"value wins over the fallback", "Hi {first_name|there}!", anna, "Hi Anna!"},
		{"fallback when missing", "Hi {first_name|there}!", nil, "Hi there!"},
		{"fallback when empty", "A team of {team_size|some} people", anna, "A team of some people"},
		{"fallback with spaces and Cyrillic", "Здравствуйте, {first_name|коллега}!", nil, "Здравствуйте, коллега!"},
		{"no value, no fallback: the space before goes", "Hi {first_name}, how are you?", nil, "Hi, how are you?"},
		{"no value at the end", "Thanks {first_name}", nil, "Thanks"},
		{"no value before a word keeps the space", "Hi {title}Anna", nil, "Hi Anna"},
		{"unknown field uses its fallback", "Hi {nickname|friend}", anna, "Hi friend"},
		{"same field twice", "{first_name}, {first_name|x}", anna, "Anna, Anna"},
		{"literal braces", "Use {{braces}} and {first_name}", anna, "Use {braces} and Anna"},
		{"spaces in the name are trimmed", "Hi { first_name |there}", anna, "Hi Anna"},
		{"broken text unchanged", "Hi {first_name", anna, "Hi {first_name"},
		{"a value is not merged again", "Hi {first_name}", map[string]string{"first_name": "{company}"}, "Hi {company}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := scenario.Merge(c.text, c.fields); got != c.want {
				t.Errorf("Merge(%q) = %q, want %q", c.text, got, c.want)
			}
		})
	}
}

func TestCheckMergeFields(t *testing.T) {
	for _, c := range []struct {
		text   string
		offset int    // -1: valid
		reason string // a part of the error
	}{
		{"Hello", -1, ""},
		{"Hi {first_name|there}, {company} and {team_size}", -1, ""},
		{"Braces {{like this}}", -1, ""},
		{"Hi {first_name", 3, "is not closed"},
		{"Hi {first_name\n}", 3, "is not closed"},
		{"Hi {first {name}}", 3, "is not closed"},
		{"Hi first_name}", 13, `a "}" without its "{"`},
		{"Hi {}", 3, "the name must be"},
		{"Hi {First}", 3, "the name must be"},
		{"Hi {1st}", 3, "the name must be"},
		{"Hi {имя}", 3, "the name must be"},
		{"Hi {a|b|c}", 3, `more than one "|"`},
		{"Hi {a|" + strings.Repeat("x", 101) + "}", 3, "longer than 100"},
	} {
		err := scenario.CheckMergeFields(c.text)
		var me *scenario.MergeError
		switch {
		case c.offset < 0 && err != nil:
			t.Errorf("CheckMergeFields(%q) = %v, want nil", c.text, err)
		case c.offset >= 0 && !errors.As(err, &me):
			t.Errorf("CheckMergeFields(%q) = %v, want a *MergeError", c.text, err)
		case c.offset >= 0 && (me.Offset != c.offset || !strings.Contains(err.Error(), c.reason)):
			t.Errorf("CheckMergeFields(%q) = %v at %d, want %q at %d", c.text, err, me.Offset, c.reason, c.offset)
		}
	}
}

func TestHasMergeFields(t *testing.T) {
	for text, want := range map[string]bool{
		"Hello":                  false,
		"Braces {{x}}":           false,
		"Hi {first_name}":        true,
		"Hi {first_name|there}!": true,
		"Hi {first_name":         false, // broken: not a field
	} {
		if got := scenario.HasMergeFields(text); got != want {
			t.Errorf("HasMergeFields(%q) = %v, want %v", text, got, want)
		}
	}
	if got := scenario.MergeFieldNames("{company} {first_name|x} {company}"); !slices.Equal(got, []string{"company", "first_name"}) {
		t.Errorf("MergeFieldNames = %v", got)
	}
}
