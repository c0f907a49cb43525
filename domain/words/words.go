// Package words is the text matching the guards, the scenario checks and
// the offline engine share: one normaliser, whole-word phrase matching,
// and what an assistant must never say of itself; and Capitalize. It is
// pure.
package words

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Capitalize returns s with its first character in title case ("ёлка" is
// "Ёлка"); text that does not begin with valid UTF-8 is returned as it is.
func Capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && n <= 1 {
		return s
	}
	t := unicode.ToTitle(r)
	if t == r {
		return s
	}
	return string(t) + s[n:]
}

// Normalize lowercases, folds ё and the apostrophes, keeps letters, digits
// and apostrophes, and turns everything else (hyphens too) into single
// spaces, so phrases match on word boundaries: " "+Normalize(text)+" "
// contains " "+Normalize(phrase)+" ". "ИИ-ассистент" is "ии ассистент".
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range s {
		r = unicode.ToLower(r)
		switch r {
		case 'ё':
			r = 'е'
		case '’', '`':
			r = '\''
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' {
			b.WriteRune(r)
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}

// HasPhrase says whether one of phrases stands in text as whole words.
func HasPhrase(text string, phrases []string) bool {
	padded := " " + Normalize(text) + " "
	for _, p := range phrases {
		if n := Normalize(p); n != "" && strings.Contains(padded, " "+n+" ") {
			return true
		}
	}
	return false
}

// humanClaims are what an assistant must never say of itself.
var humanClaims = []string{
	"i am human", "i'm human", "im human", "i am a human", "i'm a human", "im a human",
	"i am a person", "i'm a person", "i am a real person", "i'm a real person", "im a real person",
	"i am a real human", "i'm a real human", "i am a live person", "i'm a live person",
	"i am not a bot", "i'm not a bot", "im not a bot", "i am not a robot", "i'm not a robot", "not a robot",
	"i am not an ai", "i'm not an ai", "im not an ai", "i am not ai", "i'm not ai", "i am not a machine", "i'm not a machine",
	"я человек", "я живой человек", "я настоящий человек", "я реальный человек", "я обычный человек",
	"я не бот", "я не робот", "я не ии", "я не искусственный интеллект", "я не нейросеть", "я не программа", "я не машина",
	"я живой", "я живая",
}

// ClaimsHuman says whether a text has the assistant claim to be a person.
func ClaimsHuman(text string) bool { return HasPhrase(text, humanClaims) }
