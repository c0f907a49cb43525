package scenario

import (
	"slices"
	"strings"
)

// MaxObjections is how many objections a scenario may list.
const MaxObjections = 30

// Objection is one objection leads raise, which a dialog's insight may
// name when the dialog closes or is handed off: the LLM picks from the
// list by ID; the offline engine names an objection when one of the
// lead's messages has one of its Phrases.
type Objection struct {
	// ID names it in events and reports: lowercase letters, digits and _
	// ("price", "has_a_tool"); each once.
	ID string `yaml:"id"`
	// Label is how people read it, per language ("Too expensive").
	Label Text `yaml:"label"`
	// Phrases are what leads say when they raise it, any language
	// ("too expensive", "дорого"); a plain list is the default language.
	Phrases Texts `yaml:"phrases"`
}

// Objection returns the objection with the id.
func (s *Scenario) Objection(id string) (Objection, bool) {
	i := slices.IndexFunc(s.Objections, func(o Objection) bool { return o.ID == id })
	if i < 0 {
		return Objection{}, false
	}
	return s.Objections[i], true
}

// ObjectionIDs lists the objections' ids in file order.
func (s *Scenario) ObjectionIDs() []string {
	ids := make([]string, 0, len(s.Objections))
	for _, o := range s.Objections {
		ids = append(ids, o.ID)
	}
	return ids
}

// AllPhrases are the objection's phrases in every language.
func (o Objection) AllPhrases() []string {
	var out []string
	for _, lang := range Languages {
		out = append(out, o.Phrases[lang]...)
	}
	return out
}

// validateObjections checks the objections list: ids that are
// identifiers, each once; a label in the default language; phrases that
// are not empty.
func validateObjections(s *Scenario, c *checker) *Error {
	if len(s.Objections) > MaxObjections {
		return c.errf(index("objections", MaxObjections), "at most %d objections", MaxObjections)
	}
	for i, o := range s.Objections {
		p := index("objections", i)
		switch {
		case o.ID == "":
			return c.errf(join(p, "id"), "is required")
		case !identifier.MatchString(o.ID):
			return c.errf(join(p, "id"), "%q must be lowercase letters, digits and _ starting with a letter", o.ID)
		case slices.ContainsFunc(s.Objections[:i], func(x Objection) bool { return x.ID == o.ID }):
			return c.errf(join(p, "id"), "objection %q is listed twice", o.ID)
		case strings.TrimSpace(o.Label[s.Language]) == "":
			return c.errf(join(p, "label"), "needs a text in %s, the default language", s.Language)
		}
		for _, lang := range Languages {
			for j, ph := range o.Phrases[lang] {
				if strings.TrimSpace(ph) == "" {
					at := join(join(p, "phrases"), lang)
					if _, ok := c.lines[at]; !ok {
						at = join(p, "phrases")
					}
					return c.errf(index(at, j), "must not be empty")
				}
			}
		}
	}
	return nil
}
