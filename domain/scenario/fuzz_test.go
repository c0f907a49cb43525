package scenario_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/salesbot/salesbot/domain/scenario"
)

// FuzzParse: Parse never panics; it returns a valid scenario or an *Error
// with a reason, and every method works on what it returns.
func FuzzParse(f *testing.F) {
	f.Add(scenario.Example)
	f.Add([]byte(minimal))
	for _, c := range broken {
		f.Add([]byte(edit(f, c.old, c.new)))
	}
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("<<: {name: x}\nname: y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenario.Parse(data)
		if err != nil {
			var e *scenario.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want a *scenario.Error", err, err)
			}
			if e.Reason == "" || e.Line < 0 || e.Line > bytes.Count(data, []byte("\n"))+1 {
				t.Fatalf("error without a reason or with a line not in the file: %#v", e)
			}
			if s != nil {
				t.Fatal("a scenario with an error")
			}
			return
		}
		if !slices.Contains(scenario.Languages, s.Language) || len(s.Variants) == 0 || len(s.Openings) == 0 {
			t.Fatalf("an invalid scenario parsed: %+v", s)
		}
		for key := range uint64(20) {
			v := s.PickVariant(key)
			if _, ok := s.Variant(v.Name); !ok || v.Version == "" {
				t.Fatalf("picked %+v", v)
			}
			for _, lang := range scenario.Languages {
				if s.Opening(v, lang) == "" {
					t.Fatalf("variant %s has no opening in %s", v.Name, lang)
				}
			}
		}
		_ = s.KnowledgeText()
	})
}
