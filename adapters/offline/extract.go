package offline

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/salesbot/salesbot/domain/scenario"
)

// Confidences of extracted fields.
const (
	explicit = 0.9 // the lead stated it in so many words
	weak     = 0.6 // a reading that needs the context
)

// match is what an extractor found in one sentence.
type match struct {
	value string
	quote string
	conf  float64
}

// better says whether m should replace the best match so far: a higher
// confidence wins, an equal one keeps the first.
func (m match) better(than match) bool { return m.value != "" && m.conf > than.conf }

// extractor reads one kind of field from a sentence; asked says whether
// the assistant's last line asked for this field.
type extractor func(s sentence, f scenario.FieldSpec, asked bool) match

var extractors = map[string]extractor{
	scenario.ExtractMoney:    extractMoney,
	scenario.ExtractTimeline: extractTimeline,
	scenario.ExtractYesNo:    extractYesNo,
	scenario.ExtractKeywords: extractKeywords,
	scenario.ExtractNumber:   extractNumber,
}

// ---- tokens ----

type tokenKind int

const (
	tokWord tokenKind = iota
	tokNumber
	tokSign    // a currency sign
	tokPercent // %
	tokOther   // any other punctuation
)

type token struct {
	kind tokenKind
	text string // lowercased for words, normalised for numbers ("1500", "2.5")
}

// tokens splits a sentence into words, numbers (with thousands separators
// and a decimal part: "1 500", "1,500.00", "2,5"), currency signs and
// punctuation; spaces are dropped.
func tokens(s string) []token {
	var out []token
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsDigit(r):
			n := scanNumber(s[i:])
			out = append(out, token{kind: tokNumber, text: normNumber(s[i : i+n])})
			i += n
		case unicode.IsLetter(r):
			j := i
			for j < len(s) {
				r, size := utf8.DecodeRuneInString(s[j:])
				if unicode.IsLetter(r) || (r == '\'' || r == '’') && j > i && j+size < len(s) && isLetterAt(s, j+size) {
					j += size
					continue
				}
				break
			}
			w := strings.ReplaceAll(strings.ToLower(s[i:j]), "ё", "е")
			out = append(out, token{kind: tokWord, text: strings.ReplaceAll(w, "’", "'")})
			i = j
		case strings.ContainsRune("$€£₽", r):
			out = append(out, token{kind: tokSign, text: string(r)})
			i += size
		case r == '%':
			out = append(out, token{kind: tokPercent, text: "%"})
			i += size
		case unicode.IsSpace(r):
			i += size
		default:
			out = append(out, token{kind: tokOther, text: string(r)})
			i += size
		}
	}
	return out
}

func isLetterAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

// scanNumber returns the length of the number s starts with: digits, groups
// of three after a space ("1 500 000" when the first group has at most
// three digits), and parts after a point or a comma that a digit follows.
func scanNumber(s string) int {
	digits := func(i int) int {
		j := i
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if !unicode.IsDigit(r) {
				break
			}
			j += size
		}
		return j
	}
	end := digits(0)
	spaced := end <= 3
	for end < len(s) {
		r, size := utf8.DecodeRuneInString(s[end:])
		switch {
		case (r == '.' || r == ',') && end+size < len(s) && isDigitRune(s[end+size:]):
			end = digits(end + size)
			spaced = false
		case spaced && (r == ' ' || r == '\u00a0' || r == '\u202f'):
			j := digits(end + size)
			if j-(end+size) != 3 || j < len(s) && isDigitRune(s[j:]) {
				return end
			}
			end = j
		default:
			return end
		}
	}
	return end
}

func isDigitRune(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsDigit(r)
}

// normNumber drops spaces and thousands separators; a last part after a
// point or a comma that is not three digits long is the decimal part.
func normNumber(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		if r >= '0' && r <= '9' || r == '.' || r == ',' {
			return r
		}
		if unicode.IsDigit(r) { // other scripts' digits
			return -1
		}
		return r
	}, s)
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '.' })
	if len(parts) == 0 {
		return ""
	}
	if len(parts) > 1 && len(parts[len(parts)-1]) != 3 {
		s = strings.Join(parts[:len(parts)-1], "") + "." + parts[len(parts)-1]
	} else {
		s = strings.Join(parts, "")
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	s = strings.TrimLeft(s, "0")
	if s == "" || s[0] == '.' {
		s = "0" + s
	}
	return s
}

// ---- money ----

var (
	currencySigns = map[string]string{"$": "USD", "€": "EUR", "£": "GBP", "₽": "RUB"}
	currencyWords = map[string]string{
		"usd": "USD", "dollar": "USD", "dollars": "USD", "bucks": "USD", "долл": "USD", "доллар": "USD",
		"доллара": "USD", "долларов": "USD", "баксов": "USD", "бакса": "USD",
		"eur": "EUR", "euro": "EUR", "euros": "EUR", "евро": "EUR",
		"gbp": "GBP", "pound": "GBP", "pounds": "GBP", "фунтов": "GBP",
		"rub": "RUB", "rur": "RUB", "руб": "RUB", "рубль": "RUB", "рубля": "RUB", "рублей": "RUB", "р": "RUB",
	}
	multipliers = map[string]float64{
		"k": 1e3, "к": 1e3, "тыс": 1e3, "тысяч": 1e3, "тысячи": 1e3, "тысяча": 1e3, "thousand": 1e3, "thousands": 1e3,
		"млн": 1e6, "миллион": 1e6, "миллиона": 1e6, "миллионов": 1e6, "million": 1e6, "millions": 1e6, "mln": 1e6,
		"m": 1e6, // only with a currency: "5m" alone is minutes or metres
	}
	budgetWords = []string{"budget", "spend", "invest", "pay", "afford", "бюджет", "потрат", "трат", "заплат", "вложи", "выдел"}
)

// extractMoney finds an amount: a number with a currency sign or word
// ("5000$", "$5k", "100 тыс руб", "бюджет 300 000 ₽"), explicit; a number
// with a multiplier where the sentence speaks of a budget ("budget 5k"),
// or a bare number answering the budget question, weak. A question names
// a budget only where it speaks of one ("can we stay under a $3k
// budget?").
func extractMoney(s sentence, _ scenario.FieldSpec, asked bool) match {
	context := asked || hasAnyStem(s.words, budgetWords)
	if s.question && !context {
		return match{} // "is it $29 per user?" asks about a price, it states no budget
	}
	toks := tokens(s.text)
	for i, t := range toks {
		if t.kind != tokNumber {
			continue
		}
		cur := ""
		if i > 0 && toks[i-1].kind == tokSign {
			cur = currencySigns[toks[i-1].text]
		}
		j := i + 1
		mult, multWord := 1.0, ""
		if j < len(toks) && toks[j].kind == tokWord {
			if m, ok := multipliers[toks[j].text]; ok {
				mult, multWord = m, toks[j].text
				j++
				if j < len(toks) && toks[j].text == "." {
					j++
				}
			}
		}
		if cur == "" && j < len(toks) {
			switch toks[j].kind {
			case tokSign:
				cur = currencySigns[toks[j].text]
			case tokWord:
				cur = currencyWords[toks[j].text]
			}
		}
		if j < len(toks) && toks[j].kind == tokPercent {
			continue
		}
		if multWord == "m" && cur == "" {
			continue
		}
		conf := 0.0
		switch {
		case cur != "":
			conf = explicit
		case mult != 1 && context:
			conf = weak
		case mult == 1 && asked && (j >= len(toks) || toks[j].kind != tokWord):
			conf = weak
		}
		if conf == 0 {
			continue
		}
		v, ok := scale(t.text, mult)
		if !ok {
			continue
		}
		if cur != "" {
			v += " " + cur
		}
		return match{value: v, quote: s.text, conf: conf}
	}
	return match{}
}

// scale multiplies a normalised number; ok is false for numbers too large
// to be an amount.
func scale(num string, mult float64) (string, bool) {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f*mult >= 1e15 || math.IsNaN(f) {
		return "", false
	}
	return strconv.FormatFloat(f*mult, 'f', -1, 64), true
}

// ---- timeline ----

var (
	urgent = []string{
		"asap", "as soon as possible", "urgent", "urgently", "immediately", "right away", "right now",
		"срочно", "как можно скорее", "как можно быстрее", "немедленно", "прямо сейчас", "побыстрее",
	}
	softly = []string{"soon", "скоро", "в ближайшее время"}
	// monthsEn are English months; monthsRu are Russian month stems
	// ("марта", "в марте", "к марту") and the forms of май.
	monthsEn   = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
	monthsRu   = []string{"январ", "феврал", "март", "апрел", "июн", "июл", "август", "сентябр", "октябр", "ноябр", "декабр"}
	mayRu      = []string{"май", "мая", "мае", "маю"}
	weekdays   = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "понедельник", "вторник", "четверг", "пятниц", "суббот", "воскресень"}
	wednesday  = []string{"среда", "среду", "среды", "среде"}
	seasonsEn  = []string{"spring", "summer", "autumn", "fall", "winter"}
	seasonsRu  = []string{"весной", "летом", "осенью", "зимой", "весны", "лета", "осени", "зимы", "весне", "осень", "весна"}
	datePreps  = []string{"by", "in", "until", "till", "before", "from", "around", "early", "mid", "late", "end", "beginning", "of", "on", "next", "this", "к", "в", "до", "с", "после", "конца", "концу", "конец", "конце", "начала", "началу", "начале", "середины", "середине", "середина", "ко", "во", "на"}
	relative   = []string{"next", "this", "coming", "following", "следующ", "этом", "этой", "этот", "эту", "ближайш", "будущ"}
	units      = []string{"day", "days", "week", "weeks", "month", "months", "year", "years", "quarter", "quarters", "дн", "день", "недел", "месяц", "год", "лет", "полгода", "квартал"}
	durTrigger = []string{"in", "within", "через", "за"}
	counts     = []string{"a", "an", "one", "two", "three", "four", "five", "six", "few", "couple", "a few", "a couple of", "couple of", "пару", "пара", "несколько", "один", "одну", "одного", "два", "две", "двух", "три", "трех", "четыре", "четырех", "пять", "пяти", "шесть", "шести", "пары", "нескольких"}
	ordinals   = []string{"first", "second", "third", "fourth", "1st", "2nd", "3rd", "4th", "next", "this", "перв", "втор", "трет", "четверт", "следующ", "этом", "1", "2", "3", "4"}
	ends       = []string{"end", "beginning", "start", "middle", "конца", "концу", "конце", "конец", "начала", "началу", "начале", "середины", "середине"}
	quarterRe  = regexp.MustCompile(`^(q[1-4]|[1-4]кв|[1-4]q)$`)
	yearRe     = regexp.MustCompile(`^20[2-9]\d$`) // 2020..2099: "in 2000" is more likely a count
)

// extractTimeline finds when the lead wants to start, in English or
// Russian: "asap", "срочно", "by March", "в марте", "к марту", "Q3",
// "next month", "до конца года", "in 2 weeks", "через месяц", "by 2027",
// "by Friday", "in the autumn", "осенью". A plain duration ("2 weeks") or
// an English month without a preposition counts only as the answer to the
// timeline question, weakly.
func extractTimeline(s sentence, _ scenario.FieldSpec, asked bool) match {
	w := s.words
	n := strings.Join(w, " ")
	found := func(v string, conf float64) match { return match{value: v, quote: s.text, conf: conf} }
	if p, ok := firstPhrase(n, urgent); ok {
		return found(norm(p), explicit)
	}
	for i, word := range w {
		prev := ""
		if i > 0 {
			prev = w[i-1]
		}
		next := ""
		if i+1 < len(w) {
			next = w[i+1]
		}
		switch {
		case quarterRe.MatchString(word):
			return found(span(w, i, i), explicit)
		case isStem(word, []string{"quarter", "квартал"}) && i > 0 && isStem(prev, ordinals):
			return found(span(w, i-1, i), explicit)
		case slices.Contains(monthsEn, word):
			if j := prepBefore(w, i); j >= 0 {
				return found(span(w, j, yearAfter(w, i)), explicit)
			}
			if asked && word != "may" {
				return found(span(w, i, yearAfter(w, i)), weak)
			}
		case isRuMonth(word):
			if j := prepBefore(w, i); j >= 0 {
				return found(span(w, j, yearAfter(w, i)), explicit)
			}
			return found(span(w, i, yearAfter(w, i)), weak)
		case (isStem(word, weekdays) || slices.Contains(wednesday, word)) && i > 0 && slices.Contains(datePreps, prev):
			return found(span(w, i-1, i), explicit)
		case yearRe.MatchString(word) && i > 0 && slices.Contains(datePreps, prev):
			return found(span(w, i-1, i), explicit)
		case isStem(word, relative) && isStem(next, units):
			return found(span(w, i, i+1), explicit)
		case slices.Contains(durTrigger, word):
			if j := duration(w, i+1); j > i {
				return found(span(w, i, j), explicit)
			}
		case slices.Contains(ends, word):
			if j := periodAfter(w, i+1); j > i {
				return found(span(w, leftPreps(w, i), j), explicit)
			}
		case slices.Contains(seasonsRu, word):
			return found(span(w, leftPreps(w, i), i), explicit)
		case slices.Contains(seasonsEn, word) && i > 0 && slices.Contains(datePreps, prev):
			return found(span(w, leftPreps(w, i), i), explicit)
		case word == "tomorrow" || word == "завтра" || word == "послезавтра":
			return found(word, explicit)
		case word == "в" && next == "течение":
			if j := duration(w, i+2); j > i {
				return found(span(w, i, j), explicit)
			}
		}
	}
	if asked {
		for i := range w {
			if j := duration(w, i); j > i && w[i] != "a" && w[i] != "an" && w[i] != "one" {
				return found(span(w, i, j), weak)
			}
		}
	}
	if p, ok := firstPhrase(n, softly); ok {
		return found(norm(p), weak)
	}
	return match{}
}

// periodAfter finds a period ("year", "месяца") right after "end",
// "конца" and the like, over "of" and "the"; it returns its index or -1.
func periodAfter(w []string, i int) int {
	for j := i; j < len(w) && j < i+3; j++ {
		switch {
		case w[j] == "of" || w[j] == "the" || w[j] == "этого" || w[j] == "следующего":
			continue
		case isStem(w[j], units):
			return j
		}
		break
	}
	return -1
}

// leftPreps extends a phrase that starts at w[i] over up to two
// prepositions or articles before it ("by the end").
func leftPreps(w []string, i int) int {
	for k := 0; k < 2 && i > 0 && (w[i-1] == "the" || slices.Contains(datePreps, w[i-1])); k++ {
		i--
	}
	return i
}

func isRuMonth(word string) bool {
	if slices.Contains(mayRu, word) {
		return true
	}
	for _, m := range monthsRu {
		if strings.HasPrefix(word, m) && utf8.RuneCountInString(word)-utf8.RuneCountInString(m) <= 3 {
			return true
		}
	}
	return false
}

// prepBefore returns the index of the first of up to three date words
// (prepositions, a day number) right before w[i], or -1.
func prepBefore(w []string, i int) int {
	j := i
	for j > 0 && i-j < 3 && (slices.Contains(datePreps, w[j-1]) || w[j-1] == "the" || isDay(w[j-1])) {
		j--
	}
	for k := j; k < i; k++ {
		if slices.Contains(datePreps, w[k]) {
			return j
		}
	}
	return -1
}

func isDay(w string) bool {
	d, err := strconv.Atoi(strings.TrimRight(w, "stndrh"))
	return err == nil && d >= 1 && d <= 31
}

// yearAfter extends a month with the year or a day after it.
func yearAfter(w []string, i int) int {
	if i+1 < len(w) && (yearRe.MatchString(w[i+1]) || isDay(w[i+1])) {
		return i + 1
	}
	return i
}

// duration reads "[count] unit" from w[i]: "2 weeks", "a month",
// "a couple of weeks", "месяц", "пару недель"; it returns the unit's index,
// or -1.
func duration(w []string, i int) int {
	j := i
	if j < len(w) && isNumber(w[j]) {
		j++
	} else {
		for k := 3; k >= 1; k-- {
			if j+k <= len(w) && slices.Contains(counts, strings.Join(w[j:j+k], " ")) {
				j += k
				break
			}
		}
		if j < len(w) && w[j] == "of" {
			j++
		}
	}
	if j < len(w) && isStem(w[j], units) {
		return j
	}
	return -1
}

func isNumber(w string) bool {
	_, err := strconv.ParseFloat(w, 64)
	return err == nil
}

func span(w []string, i, j int) string { return strings.Join(w[i:j+1], " ") }

// ---- yes/no ----

var (
	// notDeciding are checked first: "не я решаю" holds "я решаю".
	notDeciding = []string{
		"not my decision", "not my call", "not up to me", "i don't decide", "i dont decide", "i do not decide",
		"i can't decide", "i cant decide", "i cannot decide", "need to ask my", "have to ask my", "need to check with",
		"have to check with", "ask my boss", "ask my manager", "my boss decides", "my manager decides", "boss decides",
		"management decides", "need approval", "needs approval", "need to get approval", "need to consult",
		"someone else decides", "not the decision maker", "i'm not the one", "im not the one",
		"нужно согласовать", "надо согласовать", "нужно согласование", "согласовать с", "согласую с",
		"решаю не я", "не я решаю", "я не решаю", "не мне решать", "не я принимаю", "я не принимаю решени",
		"решает директор", "решает руководитель", "решает руководство", "решает начальник", "решает собственник",
		"решает владелец", "спрошу у", "нужно спросить", "надо спросить", "посоветоваться с", "посоветуюсь с",
	}
	deciding = []string{
		"i decide", "i make the decision", "i make the decisions", "i make decisions", "i make the call",
		"it's my call", "its my call", "it's my decision", "its my decision", "my decision", "up to me",
		"i'm the decision maker", "im the decision maker", "i am the decision maker", "i'm the owner", "im the owner",
		"i am the owner", "i own the company", "i own the business", "i'm the ceo", "im the ceo", "i am the ceo",
		"i'm the founder", "im the founder", "i am the founder", "i'm the head of", "im the head of",
		"i am the head of", "i'm the director", "i am the director", "i run the company", "i run the business",
		"я решаю", "решаю я", "решаю сам", "решаю сама", "я сам решаю", "я сама решаю", "я принимаю решение",
		"я принимаю решения", "решение за мной", "решения принимаю я", "решение принимаю я", "я руководитель",
		"я директор", "я гендиректор", "я владелец", "я основатель", "я собственник", "я руковожу", "я ceo",
	}
	yesWords = []string{"yes", "yeah", "yep", "yup", "sure", "correct", "absolutely", "definitely", "of course", "да", "ага", "угу", "конечно", "верно", "точно", "разумеется"}
	noWords  = []string{"no", "nope", "nah", "not really", "нет", "неа", "не совсем"}
)

// extractYesNo reads a yes or a no: for the authority field from what the
// lead says about deciding ("I decide", "я решаю", "I'm the head of
// sales" → yes; "нужно согласовать с директором" → no), for any yes/no
// field from a sentence that starts with yes or no when it answers the
// field's question.
func extractYesNo(s sentence, f scenario.FieldSpec, asked bool) match {
	n := strings.Join(s.words, " ")
	if f.Name == "authority" {
		if _, ok := firstPhrase(n, notDeciding); ok {
			return match{value: "no", quote: s.text, conf: explicit}
		}
		if _, ok := firstPhrase(n, deciding); ok {
			return match{value: "yes", quote: s.text, conf: explicit}
		}
	}
	if !asked {
		return match{}
	}
	for _, p := range noWords {
		if n == p || strings.HasPrefix(n, p+" ") {
			return match{value: "no", quote: s.text, conf: explicit}
		}
	}
	for _, p := range yesWords {
		if n == p || strings.HasPrefix(n, p+" ") {
			return match{value: "yes", quote: s.text, conf: explicit}
		}
	}
	return match{}
}

// ---- keywords ----

// extractKeywords finds the field's keywords (inflected forms too, see
// hasKeyword); the value is the keywords found, joined, each word of the
// lead's counted once ("reports" is "report" or "reports", not both).
func extractKeywords(s sentence, f scenario.FieldSpec, _ bool) match {
	found := keywordHits([]sentence{s}, f.Keywords)
	if len(found) == 0 {
		return match{}
	}
	return match{value: strings.Join(found, ", "), quote: s.text, conf: explicit}
}

// keywordHits returns the keywords that sentences hold, in the order of
// keywords, skipping one whose match starts on a word that an earlier
// keyword matched.
func keywordHits(ss []sentence, keywords []string) []string {
	type at struct{ s, w int }
	seen := map[at]bool{}
	seenWord := map[string]bool{}
	var found []string
	for _, k := range keywords {
		for i, s := range ss {
			j := keywordAt(s.words, k)
			if j < 0 {
				continue
			}
			if !seen[at{i, j}] && !seenWord[s.words[j]] && !slices.Contains(found, k) {
				found = append(found, k)
			}
			seen[at{i, j}] = true
			seenWord[s.words[j]] = true
			break
		}
	}
	return found
}

// ---- number ----

// peopleUnits are what a plain number counts (stems); a field's keywords
// are units too.
var peopleUnits = []string{
	"people", "person", "employee", "staff", "user", "seat", "member", "manager", "salespeople", "seller", "reps",
	"agent", "developer", "operator", "worker", "colleague", "head",
	"человек", "люд", "сотрудник", "менеджер", "пользовател", "продавц", "продажник", "оператор", "агент",
	"специалист", "член", "работник", "коллег", "мест", "лицензи",
}

// countLead are words a team size follows: "a team of 12", "нас 12".
var countLead = []string{"team of", "we are", "we're", "there are", "команда из", "нас", "штат", "отдел из", "команде"}

// afterCountLead says whether toks end with one of countLead.
func afterCountLead(toks []token) bool {
	for _, l := range countLead {
		lw := strings.Fields(l)
		if len(lw) > len(toks) {
			continue
		}
		ok := true
		for j, w := range lw {
			t := toks[len(toks)-len(lw)+j]
			ok = ok && t.kind == tokWord && t.text == w
		}
		if ok {
			return true
		}
	}
	return false
}

// extractNumber finds a count: a number before a unit ("10 people",
// "команда из 12 человек"), explicit; after "a team of", "нас", or any
// plain number answering the field's question, weak (explicit when that
// answer is just the number).
func extractNumber(s sentence, f scenario.FieldSpec, asked bool) match {
	toks := tokens(s.text)
	units := peopleUnits
	for _, k := range f.Keywords {
		units = append(units, strings.Fields(norm(k))...)
	}
	for i, t := range toks {
		if t.kind != tokNumber || i > 0 && toks[i-1].kind == tokSign {
			continue
		}
		next := token{kind: tokOther}
		if i+1 < len(toks) {
			next = toks[i+1]
		}
		if next.kind == tokSign || next.kind == tokPercent || next.kind == tokWord && (currencyWords[next.text] != "" || multipliers[next.text] != 0) {
			continue
		}
		if strings.Contains(t.text, ".") {
			continue
		}
		v := t.text
		if next.kind == tokWord && isStem(next.text, units) {
			return match{value: v, quote: s.text, conf: explicit}
		}
		if afterCountLead(toks[:i]) {
			return match{value: v, quote: s.text, conf: weak}
		}
		if asked {
			if len(toks) == 1 {
				return match{value: v, quote: s.text, conf: explicit}
			}
			if next.kind != tokWord {
				return match{value: v, quote: s.text, conf: weak}
			}
		}
	}
	return match{}
}
