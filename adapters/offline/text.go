package offline

import (
	"github.com/salesbot/salesbot/domain/words"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/salesbot/salesbot/domain/scenario"
)

// norm is words.Normalize: lowercase, ё and the apostrophes folded,
// everything but letters, digits and apostrophes (hyphens too) turned into
// single spaces, so that phrases match on word boundaries.
func norm(s string) string { return words.Normalize(s) }

// hasPhrase says whether a normalised text holds phrase as whole words.
func hasPhrase(normText, phrase string) bool {
	p := norm(phrase)
	return p != "" && strings.Contains(" "+normText+" ", " "+p+" ")
}

// firstPhrase returns the first of phrases that a normalised text holds.
func firstPhrase(normText string, phrases []string) (string, bool) {
	for _, p := range phrases {
		if hasPhrase(normText, p) {
			return p, true
		}
	}
	return "", false
}

// hasKeyword says whether words hold keyword as a run of words, where the
// keyword's last word may take an ending: up to three more letters when
// it has four to seven ("lead" matches "leads", "договор" "договора" but
// not "договоримся"), any when it has eight or more ("автоматиз" matches
// "автоматизировать"); "crm" matches only "crm".
func hasKeyword(words []string, keyword string) bool { return keywordAt(words, keyword) >= 0 }

// keywordAt is where in words keyword first matches, or -1.
func keywordAt(words []string, keyword string) int {
	kw := strings.Fields(norm(keyword))
	if len(kw) == 0 {
		return -1
	}
	for i := 0; i+len(kw) <= len(words); i++ {
		ok := true
		for j, k := range kw {
			w := words[i+j]
			if w == k {
				continue
			}
			if j == len(kw)-1 && stemMatch(w, k) {
				continue
			}
			ok = false
			break
		}
		if ok {
			return i
		}
	}
	return -1
}

func stemMatch(word, stem string) bool {
	n := utf8.RuneCountInString(stem)
	return n >= 4 && strings.HasPrefix(word, stem) && (n >= 8 || utf8.RuneCountInString(word)-n <= 3)
}

// hasAnyStem says whether any word starts with one of stems.
func hasAnyStem(words []string, stems []string) bool {
	for _, w := range words {
		if isStem(w, stems) {
			return true
		}
	}
	return false
}

func isStem(word string, stems []string) bool {
	for _, s := range stems {
		if strings.HasPrefix(word, s) {
			return true
		}
	}
	return false
}

// sentence is one sentence of a lead's message.
type sentence struct {
	text     string   // trimmed, a substring of the message (with its final punctuation)
	words    []string // norm(text) split into words
	question bool
}

// sentences splits a message after '.', '!', '?', '…', ';' and line breaks;
// a point between digits or before a lowercase word does not end one.
func sentences(msg string) []sentence {
	var out []sentence
	add := func(s string) {
		s = strings.TrimSpace(s)
		words := strings.Fields(norm(s))
		if len(words) == 0 {
			return
		}
		out = append(out, sentence{text: s, words: words, question: isQuestion(s, words)})
	}
	start := 0
	inDelim := false
	prev := rune(0)
	for i, r := range msg {
		delim := false
		switch r {
		case '!', '?', '…', ';', '\n':
			delim = true
		case '.':
			delim = !continues(prev, msg[i+1:])
		}
		if inDelim && !delim {
			add(msg[start:i])
			start = i
		}
		inDelim = delim
		prev = r
	}
	add(msg[start:])
	return out
}

// continues says whether a point does not end a sentence: between digits
// ("1.500") or before a lowercase word ("100 тыс. руб").
func continues(prev rune, rest string) bool {
	next, _ := utf8.DecodeRuneInString(rest)
	if unicode.IsDigit(prev) && unicode.IsDigit(next) {
		return true
	}
	rest = strings.TrimLeft(rest, " \u00a0")
	next, _ = utf8.DecodeRuneInString(rest)
	return unicode.IsLower(next)
}

// questionWords start a question.
var questionWords = []string{
	"what", "how", "why", "when", "where", "which", "who", "whom", "whose", "do", "does", "did", "can", "could",
	"is", "are", "will", "would", "should", "have", "has", "may",
	"что", "как", "какой", "какая", "какое", "какие", "каким", "какую", "каков", "когда", "где", "куда", "откуда",
	"почему", "зачем", "сколько", "можно", "есть", "кто", "чем", "ли", "разве", "неужели",
}

func isQuestion(s string, words []string) bool {
	if strings.Contains(s, "?") {
		return true
	}
	return len(words) > 0 && slices.Contains(questionWords, words[0])
}

// allTexts returns a text in every language, in sorted order.
func allTexts(t scenario.Text) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(t)) {
		if s := strings.TrimSpace(t[k]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// oneLine folds line breaks and runs of spaces into single spaces, as
// Scenario.KnowledgeText does: a price is copied the way the knowledge
// text states it.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// phrase is one of the engine's own connecting words, by language: the
// scenario has no text for them, and none of them holds a figure.
type phrase map[string]string

var (
	pricesIntro = phrase{"en": "Our prices:", "ru": "Наши цены:"}
	offerIntro  = phrase{"en": "I'd suggest", "ru": "Предлагаю"}
	// lastResort, goodbye and handingOff are said when the scenario text
	// the engine would use states a figure the knowledge base does not.
	lastResort = phrase{"en": "Could you tell me a bit more?", "ru": "Расскажите, пожалуйста, подробнее?"}
	goodbye    = phrase{"en": "Thank you for your time.", "ru": "Спасибо за уделённое время."}
	handingOff = phrase{"en": "A colleague will write to you here.", "ru": "Коллега напишет вам здесь."}
)

func (p phrase) in(lang string) string {
	if s, ok := p[lang]; ok {
		return s
	}
	return p["en"]
}

// clip cuts s to at most n runes, at a rune boundary.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return strings.TrimSpace(s[:j])
		}
		i++
	}
	return s
}
