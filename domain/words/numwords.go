package words

import (
	"regexp"
	"strconv"
	"strings"
)

// Amounts written in words ("forty-nine dollars", "десять процентов",
// "пятьдесят тысяч рублей", "half price", "вдвое дешевле", "free for a
// year") are figures like digits are: wordFigures finds them.

// numberWords are the number words wordFigures reads, in English and in
// the Russian cases a price is written in.
var numberWords = func() map[string]float64 {
	m := map[string]float64{}
	add := func(v float64, ws ...string) {
		for _, w := range ws {
			m[w] = v
		}
	}
	en := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
		"eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	for i, w := range en {
		add(float64(i), w)
	}
	for i, w := range []string{"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"} {
		add(float64(20+10*i), w)
	}
	ru := [][]string{
		{"ноль", "нуля"}, {"один", "одна", "одно", "одного", "одной", "одну"}, {"два", "две", "двух"}, {"три", "трех"},
		{"четыре", "четырех"}, {"пять", "пяти"}, {"шесть", "шести"}, {"семь", "семи"}, {"восемь", "восьми"},
		{"девять", "девяти"}, {"десять", "десяти"}, {"одиннадцать", "одиннадцати"}, {"двенадцать", "двенадцати"},
		{"тринадцать", "тринадцати"}, {"четырнадцать", "четырнадцати"}, {"пятнадцать", "пятнадцати"},
		{"шестнадцать", "шестнадцати"}, {"семнадцать", "семнадцати"}, {"восемнадцать", "восемнадцати"},
		{"девятнадцать", "девятнадцати"},
	}
	for i, ws := range ru {
		add(float64(i), ws...)
	}
	for i, ws := range [][]string{{"двадцать", "двадцати"}, {"тридцать", "тридцати"}, {"сорок", "сорока"},
		{"пятьдесят", "пятидесяти"}, {"шестьдесят", "шестидесяти"}, {"семьдесят", "семидесяти"},
		{"восемьдесят", "восьмидесяти"}, {"девяносто", "девяноста"}} {
		add(float64(20+10*i), ws...)
	}
	for i, ws := range [][]string{{"сто", "ста"}, {"двести", "двухсот"}, {"триста", "трехсот"}, {"четыреста", "четырехсот"},
		{"пятьсот", "пятисот"}, {"шестьсот", "шестисот"}, {"семьсот", "семисот"}, {"восемьсот", "восьмисот"}, {"девятьсот", "девятисот"}} {
		add(float64(100*(i+1)), ws...)
	}
	add(1.5, "полтора", "полторы", "полутора")
	add(500, "пятихатка", "пятихатку", "пятихатки", "пятихаток") // slang: 500 roubles
	return m
}()

// multiplierWords scale the number before them.
var multiplierWords = map[string]float64{
	"hundred": 100, "hundreds": 100,
	"thousand": 1e3, "тысяча": 1e3, "тысячи": 1e3, "тысяч": 1e3, "тысячу": 1e3, "тысячам": 1e3, "тыс": 1e3,
	"million": 1e6, "миллион": 1e6, "миллиона": 1e6, "миллионов": 1e6, "млн": 1e6,
	"grand": 1e3, "косарь": 1e3, "косаря": 1e3, "косарей": 1e3, "косарик": 1e3, "косарика": 1e3,
}

// impliedUnit are number words that carry their own unit, slang for money:
// "twenty grand", "два косаря", "пятихатка".
var impliedUnit = map[string]string{
	"grand": "money", "косарь": "rub", "косаря": "rub", "косарей": "rub", "косарик": "rub", "косарика": "rub",
	"пятихатка": "rub", "пятихатку": "rub", "пятихатки": "rub", "пятихаток": "rub",
}

// wordUnit is the unit of a word after a number in words, or "".
func wordUnit(w string) string {
	switch {
	case w == "percent" || strings.HasPrefix(w, "процент") || w == "dollars" || w == "dollar" || w == "bucks" ||
		strings.HasPrefix(w, "доллар") || strings.HasPrefix(w, "рубл") || w == "руб" || w == "euro" || w == "euros" ||
		w == "евро" || w == "quid" || w == "pounds" || w == "pound" || strings.HasPrefix(w, "фунт") || w == "тенге" || w == "rubles" || w == "roubles":
	default:
		return ""
	}
	switch {
	case w == "bucks":
		return "usd"
	case w == "quid":
		return "gbp"
	case w == "rubles" || w == "roubles":
		return "rub"
	}
	return unitOf(w)
}

// halfPrice are the ways to say 50% off.
var halfPrice = []string{"half price", "half off", "half the price", "half of the price", "half the cost", "at half",
	"twice as cheap", "twice cheaper", "вдвое дешевле", "в два раза дешевле", "в 2 раза дешевле", "вдвое меньше",
	"в два раза меньше", "полцены", "половину цены", "половину стоимости", "половина цены", "половина стоимости", "за половину",
	"half off the price", "fifty fifty", "two for one", "2 for 1", "two for the price of one", "buy one get one free", "bogo",
	"два по цене одного", "2 по цене 1", "in half", "by half", "by a half", "by 50 percent", "скидка в половину", "скидку в половину", "на половину дешевле", "наполовину дешевле"}

// fractionOff is a discount written as a fraction ("a third off",
// "quarter price", "треть цены", "на четверть дешевле", "втрое дешевле"):
// the fraction word's group, then the percent it means (rounded).
var fractionOff = regexp.MustCompile(`(?:^| )(?:(?:a|one) )?(quarter|third|fifth|tenth)s? (?:off|price|the price|of the price|discount)(?: |$)` +
	`|(?:^| )(?:скидк\p{L}* (?:в )?|на )?(четверть|треть|пятую часть|десятую часть)(?: (?:цены|стоимости|дешевле|скидк\p{L}*))(?: |$)` +
	`|(?:^| )скидк\p{L}* (?:в )?(четверть|треть)(?: |$)` +
	`|(?:^| )дешевле на (четверть|треть)(?: |$)` +
	`|(?:^| )(втрое|вчетверо|впятеро|в три раза|в четыре раза|в пять раз|three times|four times|five times) (?:дешевле|cheaper)(?: |$)`)

// fractionPercent is what a fractionOff word takes off the price, in percent.
var fractionPercent = map[string]string{
	"quarter": "25", "четверть": "25", "third": "33", "треть": "33", "fifth": "20", "пятую часть": "20",
	"tenth": "10", "десятую часть": "10",
	"втрое": "67", "в три раза": "67", "three times": "67", "вчетверо": "75", "в четыре раза": "75", "four times": "75",
	"впятеро": "80", "в пять раз": "80", "five times": "80",
}

// discountNumber is a discount given as a bare number in words ("скидка
// пятьдесят", "a discount of twenty"): a percentage.
var discountNumber = regexp.MustCompile(`(?:^| )(?:скидк\p{L}*|discount(?: of)?) (?:в |на |of )?$`)

// freePeriod is a free period: "free for a year", "14 day free trial",
// "бесплатно на месяц", "первый месяц бесплатно", "the first two months
// are free", "два месяца в подарок".
var freePeriod = regexp.MustCompile(`(?:^| )(?:free (?:of charge )?(?:for )?(?:the )?(?:first |whole |entire |full )?|бесплатн\p{L}* (?:на |в течение |первы\p{L}* |целы\p{L}* )*)(?:(\d+|\p{L}+) )?(days?|weeks?|months?|years?|день|дня|дней|недел\p{L}*|месяц\p{L}*|год|года|году|лет|полгода)(?: |$)` +
	`|(?:^| )(?:(\d+|\p{L}+) )?(days?|weeks?|months?|years?|день|дня|дней|недел\p{L}*|месяц\p{L}*|год|года|лет|полгода) (?:(?:are|is|will be|come|comes|go|goes) )?(?:completely |totally |absolutely |entirely )?(?:for )?(?:free|бесплатн|on us|on the house|в подарок|gratis)`)

// fractionOffWords and freePeriodWords: every match of fractionOff and
// of freePeriod holds one of them (each alternative of the pattern
// requires one), so a text with none is not run through the pattern, the
// costliest part of reading a reply (findIf). Keep them in step with the
// patterns.
var (
	fractionOffWords = []string{"quarter", "third", "fifth", "tenth", "четверть", "треть", "пятую часть", "десятую часть", "дешевле", "cheaper"}
	freePeriodWords  = []string{"free", "бесплатн", "on us", "on the house", "в подарок", "gratis"}
)

// findIf is re's submatches in text, or none without running re when text
// holds none of the words every match holds.
func findIf(re *regexp.Regexp, words []string, text string) [][]string {
	for _, w := range words {
		if strings.Contains(text, w) {
			return re.FindAllStringSubmatch(text, -1)
		}
	}
	return nil
}

// periodDays is the length of a period word in days.
func periodDays(w string) float64 {
	switch {
	case w == "полгода":
		return 182
	case strings.HasPrefix(w, "day") || strings.HasPrefix(w, "дн") || w == "день" || w == "дня":
		return 1
	case strings.HasPrefix(w, "week") || strings.HasPrefix(w, "недел"):
		return 7
	case strings.HasPrefix(w, "month") || strings.HasPrefix(w, "месяц"):
		return 30
	}
	return 365
}

// UnitFree is the unit of a free period: its Num is the days.
const UnitFree = "days free"

// wordFigures returns the amounts in one line written in words.
func wordFigures(line string) []Figure {
	n := Normalize(line)
	if n == "" {
		return nil
	}
	var out []Figure
	toks := strings.Fields(n)
	for i := 0; i < len(toks); i++ {
		v, j, ok := readNumber(toks, i)
		if !ok {
			continue
		}
		unit := ""
		if j < len(toks) {
			unit = wordUnit(toks[j])
			if unit == "" && toks[j] == "per" && j+1 < len(toks) && toks[j+1] == "cent" {
				unit = "%"
			}
		}
		if unit == "" {
			unit = impliedUnit[toks[j-1]]
		}
		if unit == "" && discountNumber.MatchString(strings.Join(toks[:i], " ")+" ") {
			unit = "%" // "скидка пятьдесят", "a discount of twenty"
		}
		if unit != "" {
			out = append(out, Figure{Num: strconv.FormatFloat(v, 'f', -1, 64), Unit: unit})
		}
		i = j - 1
	}
	for _, t := range toks {
		if v, ok := percentAdjective(t); ok {
			out = append(out, Figure{Num: strconv.FormatFloat(v, 'f', -1, 64), Unit: "%"})
		}
	}
	for _, m := range findIf(fractionOff, fractionOffWords, n) {
		for _, g := range m[1:] {
			if g != "" {
				out = append(out, Figure{Num: fractionPercent[g], Unit: "%"})
			}
		}
	}
	padded := " " + n + " "
	for _, h := range halfPrice {
		if strings.Contains(padded, " "+h+" ") {
			out = append(out, Figure{Num: "50", Unit: "%"})
			break
		}
	}
	for _, m := range findIf(freePeriod, freePeriodWords, n) {
		count, period := m[1], m[2]
		if period == "" {
			count, period = m[3], m[4]
		}
		c := 1.0
		if d, err := strconv.ParseFloat(count, 64); err == nil {
			c = d
		} else if w, ok := numberWords[count]; ok {
			c = w
		}
		out = append(out, Figure{Num: strconv.FormatFloat(c*periodDays(period), 'f', -1, 64), Unit: UnitFree})
	}
	return out
}

// readNumber reads number words from toks[i]: the value, the index after
// them, and whether toks[i] starts a number.
func readNumber(toks []string, i int) (float64, int, bool) {
	if _, ok := numberWords[toks[i]]; !ok {
		if _, ok := multiplierWords[toks[i]]; !ok || toks[i] == "тыс" || toks[i] == "млн" {
			return 0, i, false
		}
		// "тысяча рублей", "a hundred dollars": the multiplier alone is one of it.
	}
	var total, cur float64
	j := i
	for ; j < len(toks); j++ {
		w := toks[j]
		if v, ok := numberWords[w]; ok {
			cur += v
			continue
		}
		if m, ok := multiplierWords[w]; ok {
			if cur == 0 {
				cur = 1
			}
			if m == 100 {
				cur *= m
				continue
			}
			total += cur * m
			cur = 0
			continue
		}
		if w == "and" && j+1 < len(toks) {
			if _, ok := numberWords[toks[j+1]]; ok {
				continue
			}
		}
		break
	}
	return total + cur, j, true
}

// percentAdjective reads a Russian compound adjective of a percentage
// ("десятипроцентная" 10, "двадцатипятипроцентную" 25, "стопроцентная"
// 100): its number words in the genitive, run together, before
// "процентн".
func percentAdjective(tok string) (float64, bool) {
	i := strings.Index(tok, "процентн")
	if i <= 0 {
		return 0, false
	}
	rest, total := tok[:i], 0.0
	for rest != "" {
		best := ""
		for w := range numberWords {
			if len(w) > len(best) && strings.HasPrefix(rest, w) {
				best = w
			}
		}
		if best == "" {
			return 0, false
		}
		total += numberWords[best]
		rest = rest[len(best):]
	}
	return total, true
}
