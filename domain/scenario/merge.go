package scenario

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Merge fields put a lead's own data into an opening or a variant's
// brief: {first_name}, {company}, or any custom field of the contact
// ({city}, {team_size}), each optionally with a fallback used when the
// lead has no such value: {first_name|there}. A name is lower-case
// letters, digits and underscores, starting with a letter. "{{" and "}}"
// stand for literal braces.

// MergeError is a text's broken merge field: Offset is the byte offset of
// its "{" (or of the stray "}") in the text.
type MergeError struct {
	Offset int
	Field  string // what was written between the braces, as far as it goes
	Reason string
}

func (e *MergeError) Error() string {
	if e.Field == "" {
		return "merge field at character " + fmt.Sprint(e.Offset+1) + ": " + e.Reason
	}
	return fmt.Sprintf("merge field {%s: %s", e.Field, e.Reason)
}

// mergeField is one field of a text: text[start:end] is "{name|fallback}".
type mergeField struct {
	start, end  int
	name        string
	fallback    string
	hasFallback bool
}

// maxFallback bounds a fallback's length, in characters.
const maxFallback = 100

// scanMerge calls lit for each literal piece of text and field for each
// merge field, in order; it returns the first broken field.
func scanMerge(text string, lit func(string), field func(mergeField)) *MergeError {
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			lit(b.String())
			b.Reset()
		}
	}
	for i := 0; i < len(text); {
		switch c := text[i]; {
		case c == '{' && strings.HasPrefix(text[i:], "{{"):
			b.WriteByte('{')
			i += 2
		case c == '}' && strings.HasPrefix(text[i:], "}}"):
			b.WriteByte('}')
			i += 2
		case c == '}':
			return &MergeError{Offset: i, Reason: `a "}" without its "{" (write "}}" for a brace)`}
		case c == '{':
			end := strings.IndexAny(text[i+1:], "{}\n")
			if end < 0 || text[i+1+end] != '}' {
				shown := text[i+1:]
				if end >= 0 {
					shown = text[i+1 : i+1+end]
				}
				return &MergeError{Offset: i, Field: clip(shown), Reason: `is not closed with "}" (write "{{" for a brace)`}
			}
			inner := text[i+1 : i+1+end]
			f := mergeField{start: i, end: i + 2 + end}
			f.name, f.fallback, f.hasFallback = strings.Cut(inner, "|")
			f.name = strings.TrimSpace(f.name)
			if f.hasFallback && strings.Contains(f.fallback, "|") {
				return &MergeError{Offset: i, Field: clip(inner) + "}", Reason: `has more than one "|" (one fallback at most)`}
			}
			if !identifier.MatchString(f.name) {
				return &MergeError{Offset: i, Field: clip(inner) + "}", Reason: "the name must be lower-case letters, digits and _ (like first_name, company or a custom field's name)"}
			}
			if utf8.RuneCountInString(f.fallback) > maxFallback {
				return &MergeError{Offset: i, Field: clip(inner) + "}", Reason: fmt.Sprintf("the fallback is longer than %d characters", maxFallback)}
			}
			flush()
			field(f)
			i = f.end
		default:
			b.WriteByte(c)
			i++
		}
	}
	flush()
	return nil
}

// clip shortens what an error quotes.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	r := []rune(s)
	return string(r[:40]) + "…"
}

// CheckMergeFields reports the first broken merge field of text (an
// unclosed "{", a stray "}", a name that is not one, two fallbacks) as a
// *MergeError; nil when every field is well formed. Parse checks the
// openings and the variants' briefs with it.
func CheckMergeFields(text string) error {
	if err := scanMerge(text, func(string) {}, func(mergeField) {}); err != nil {
		return err
	}
	return nil
}

// HasMergeFields says whether text has at least one merge field (a
// broken text has none).
func HasMergeFields(text string) bool {
	has := false
	if err := scanMerge(text, func(string) {}, func(mergeField) { has = true }); err != nil {
		return false
	}
	return has
}

// MergeFieldNames are the names of text's merge fields, in order, each
// once (none for a broken text).
func MergeFieldNames(text string) []string {
	var names []string
	seen := map[string]bool{}
	if err := scanMerge(text, func(string) {}, func(f mergeField) {
		if !seen[f.name] {
			seen[f.name] = true
			names = append(names, f.name)
		}
	}); err != nil {
		return nil
	}
	return names
}

// Merge fills text's merge fields from fields (by name; a value is used
// trimmed, and only when not empty), else with their fallbacks; a field
// with neither leaves nothing, and the space before it goes too when
// punctuation or a space follows ("Hi {first_name}, ..." → "Hi, ...").
// "{{" and "}}" become braces. A text with a broken field (see
// CheckMergeFields; Parse refuses such a file) is returned unchanged.
func Merge(text string, fields map[string]string) string {
	var b strings.Builder
	if err := scanMerge(text, func(s string) { b.WriteString(s) }, func(f mergeField) {
		v := strings.TrimSpace(fields[f.name])
		if v == "" {
			v = f.fallback
		}
		if v == "" {
			if next, _ := utf8.DecodeRuneInString(text[f.end:]); f.end == len(text) || unicode.IsPunct(next) || unicode.IsSpace(next) {
				s := b.String()
				if t := strings.TrimRight(s, " "); len(t) < len(s) {
					b.Reset()
					b.WriteString(t)
				}
			}
			return
		}
		b.WriteString(v)
	}); err != nil {
		return text
	}
	return b.String()
}
