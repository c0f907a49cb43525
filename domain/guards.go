package domain

import (
	"regexp"
	"strings"
	"unicode"
)

// Guards are rules enforced in code on every dialog turn, whatever a model
// says: a lead's opt-out, a question whether the assistant is a bot, and
// prices or discounts that are not in the knowledge base. They are
// deliberately conservative: a false opt-out only ends a dialog politely,
// a missed one would write to someone who said stop.

// optOutPhrases end a dialog wherever they stand in a message.
var optOutPhrases = []string{
	// Russian
	"не пишите мне", "не пиши мне", "больше не пишите", "больше не пиши", "не пишите больше", "не пиши больше",
	"отпишитесь", "отпишите меня", "отписаться от", "удалите мой номер", "удалите меня", "уберите меня",
	"не беспокойте", "не беспокой меня", "отстаньте", "отвали", "не звоните и не пишите", "прекратите писать",
	"перестаньте писать", "хватит писать", "хватит мне писать", "не хочу получать", "не присылайте",
	// English
	"unsubscribe", "stop messaging", "stop writing", "stop texting", "stop contacting", "stop sending",
	"don't message me", "dont message me", "do not message me", "don't contact me", "dont contact me",
	"do not contact me", "don't write to me", "do not write to me", "dont write to me", "leave me alone",
	"remove me from", "take me off", "opt me out", "opt out", "opt-out", "no more messages",
}

// optOutWords end a dialog only as the whole message ("Stop." yes; "stop
// by our office" or "стоп, а сколько стоит?" no).
var optOutWords = map[string]bool{
	"stop": true, "стоп": true, "хватит": true, "отписка": true, "unsubscribe": true, "stop please": true,
	"please stop": true, "pls stop": true, "стоп пожалуйста": true, "пожалуйста стоп": true, "хватит пожалуйста": true,
	"отпишись": true, "stop it": true, "enough": true, "довольно": true,
}

// IsOptOut says whether a lead's message asks not to be written to again.
func IsOptOut(text string) bool {
	n := normalize(text)
	if n == "" {
		return false
	}
	if optOutWords[n] {
		return true
	}
	padded := " " + n + " "
	for _, p := range optOutPhrases {
		if strings.Contains(padded, " "+p+" ") {
			return true
		}
	}
	return false
}

// botQuestions ask whether the assistant is a machine.
var botQuestions = []string{
	"ты бот", "вы бот", "это бот", "ты робот", "вы робот", "ты человек", "вы человек", "живой человек",
	"ты ии", "вы ии", "ты ai", "вы ai", "нейросеть", "chatgpt", "чат бот", "чатбот",
	"are you a bot", "are you a robot", "are you human", "are you a human", "are you a real person",
	"is this a bot", "is this an ai", "are you an ai", "are you ai", "am i talking to a bot", "talking to a human",
	"are you real", "is this automated", "a real person",
}

// AsksIfBot says whether a lead asks if the assistant is a bot or a
// person; the answer must be that it is the company's AI assistant.
func AsksIfBot(text string) bool {
	padded := " " + normalize(text) + " "
	for _, q := range botQuestions {
		if strings.Contains(padded, " "+q+" ") {
			return true
		}
	}
	return false
}

// normalize lowercases, turns punctuation into spaces, folds ё and the
// apostrophes, and collapses spaces.
func normalize(s string) string {
	s = strings.ToLower(s)
	s = strings.NewReplacer("ё", "е", "’", "'", "`", "'").Replace(s)
	var b strings.Builder
	space := true
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '-' {
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

// figure finds amounts that need grounding: a number with a currency (a
// sign or a word, before or after it) or a percent.
var figure = regexp.MustCompile(`(?i)(?:([$€£₽]) ?(\d[\d \x{00a0}\x{202f}.,]*\d|\d))|(?:(\d[\d \x{00a0}\x{202f}.,]*\d|\d)[ \x{00a0}]?(%|процент\p{L}*|percent|[$€£₽]|руб\p{L}*|р\.|usd|eur|euro\p{L}*|dollars?|евро|долл\p{L}*|тыс\p{L}*|k\b))`)

// Figures returns the normalised numbers of every amount in text (money
// or percent), such as "1500" for "1 500 ₽" or "$1,500".
func Figures(text string) []string {
	var out []string
	for _, m := range figure.FindAllStringSubmatch(text, -1) {
		num := m[2]
		if num == "" {
			num = m[3]
		}
		out = append(out, normNumber(num))
	}
	return out
}

// normNumber drops thousands separators; a decimal comma becomes a point;
// trailing zero decimals go ("1500.00" is "1500").
func normNumber(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	// A separator followed by exactly three digits at the end of a group
	// is a thousands separator; otherwise it is a decimal mark.
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '.' })
	if len(parts) > 1 && len(parts[len(parts)-1]) != 3 {
		s = strings.Join(parts[:len(parts)-1], "") + "." + parts[len(parts)-1]
	} else {
		s = strings.Join(parts, "")
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// UngroundedFigures returns the amounts in a reply that the knowledge base
// does not state: a reply with any must not be sent (the lead goes to a
// person), so the assistant never invents a price or a discount.
func UngroundedFigures(reply, knowledge string) []string {
	known := map[string]bool{}
	for _, f := range Figures(knowledge) {
		known[f] = true
	}
	var out []string
	for _, f := range Figures(reply) {
		if !known[f] {
			out = append(out, f)
		}
	}
	return out
}
