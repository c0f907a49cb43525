package domain

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseBudget reads an amount and its currency from a budget as the lead
// stated it: "5000 USD", "$5k", "€1 200", "50 000 руб", "1,5 млн рублей",
// "USD 3000 per month". It finds the numbers written next to a currency
// (a symbol, an ISO code, or a currency's name in English or Russian);
// exactly one such number gives the amount, so a range ("$5k–7k") or
// two currencies give none (ok false), as does a number without a
// currency. Groups of three digits may be separated by spaces, commas,
// points or apostrophes ("1.200" is 1200); a decimal part has one or two
// digits after a point or a comma; k/к/тыс (thousand) and m/млн
// (million) multiply.
func ParseBudget(text string) (Money, bool) {
	var found []Money
	for _, loc := range budgetNumber.FindAllStringIndex(text, -1) {
		start, end := loc[0], loc[1]
		if r, _ := utf8.DecodeLastRuneInString(text[:start]); start > 0 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			continue // part of a word: "B2B"
		}
		number := text[start:end]
		mult, rest := multiplierAfter(text[end:])
		if r, _ := utf8.DecodeRuneInString(rest); rest == text[end:] && unicode.IsLetter(r) && currencyAfter(rest) == "" {
			continue // part of a word: "10x"
		}
		if isRange(text[:start]) {
			return Money{}, false // "$5k–7k", "5 000 - 7 000 руб": no one amount
		}
		code := currencyAfter(rest)
		if code == "" {
			code = currencyBefore(text[:start])
		}
		if code == "" {
			continue
		}
		dec, ok := budgetDecimal(number, mult)
		if !ok {
			return Money{}, false
		}
		m, err := ParseMoney(dec, code)
		if err != nil {
			return Money{}, false
		}
		found = append(found, m)
	}
	if len(found) != 1 {
		return Money{}, false
	}
	return found[0], true
}

// isRange says whether the text before a number ends with a number and a
// dash: the number is the top of a range.
func isRange(before string) bool {
	t := strings.TrimRight(before, " \u00a0\u202f")
	cut := strings.TrimRight(t, "-–—")
	if cut == t {
		return false
	}
	cut = strings.TrimRight(cut, " \u00a0\u202fkKкmM")
	r, _ := utf8.DecodeLastRuneInString(cut)
	return unicode.IsDigit(r)
}

// budgetNumber is a number with its thousands grouped (by a space, a
// no-break or thin space, a comma, a point or an apostrophe) or not, and
// a decimal part of one or two digits.
var budgetNumber = regexp.MustCompile(`\d{1,3}(?:[ \x{00A0}\x{202F},.'’]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?`)

// multiplierAfter reads a multiplier written right after a number (after
// one space at most): k, к, тыс., thousand, m, mln, млн, million. It
// returns the multiplier ("" if none) and the text after it.
func multiplierAfter(s string) (string, string) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, " "), "\u00a0")
	end := strings.IndexFunc(t, func(r rune) bool { return !unicode.IsLetter(r) })
	if end < 0 {
		end = len(t)
	}
	word := strings.ToLower(t[:end])
	switch {
	case word == "k" || word == "к" || word == "тыс" || strings.HasPrefix(word, "тысяч") || word == "thousand":
		return "k", strings.TrimPrefix(t[end:], ".")
	case word == "m" || word == "mln" || word == "млн" || strings.HasPrefix(word, "миллион") || word == "million":
		return "m", strings.TrimPrefix(t[end:], ".")
	}
	return "", s
}

// budgetDecimal turns a matched number and multiplier into a decimal with
// a point.
func budgetDecimal(number, mult string) (string, bool) {
	whole, frac := number, ""
	if i := strings.LastIndexAny(number, ".,"); i >= 0 && len(number)-i-1 <= 2 {
		whole, frac = number[:i], number[i+1:]
	}
	whole = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, whole)
	shift := 0
	switch mult {
	case "k":
		shift = 3
	case "m":
		shift = 6
	}
	for range shift {
		if frac != "" {
			whole, frac = whole+frac[:1], frac[1:]
		} else {
			whole += "0"
		}
	}
	if whole == "" {
		return "", false
	}
	if frac == "" {
		return whole, true
	}
	return whole + "." + frac, true
}

// currencySymbols are the signs a budget may carry.
var currencySymbols = map[string]string{"$": "USD", "€": "EUR", "£": "GBP", "₽": "RUB", "₸": "KZT", "₴": "UAH"}

// currencyWords are names of currencies in English and Russian (lower
// case, by prefix where Russian declines them), besides ISO codes.
var currencyWords = []struct{ prefix, code string }{
	{"dollar", "USD"}, {"buck", "USD"}, {"доллар", "USD"}, {"бакс", "USD"}, {"долл", "USD"},
	{"euro", "EUR"}, {"евро", "EUR"},
	{"pound", "GBP"}, {"фунт", "GBP"},
	{"rouble", "RUB"}, {"ruble", "RUB"}, {"руб", "RUB"}, {"р", "RUB"},
	{"тенге", "KZT"}, {"гривн", "UAH"}, {"грн", "UAH"},
}

// commonCodes are the ISO codes also recognised in lower case ("5000
// usd"); any other code only in upper case, so that words such as "all"
// or "try" are not read as currencies.
var commonCodes = map[string]bool{"usd": true, "eur": true, "rub": true, "gbp": true, "kzt": true, "uah": true, "byn": true, "cny": true, "chf": true}

// currencyOf is the code a word or sign names, or "".
func currencyOf(word string) string {
	if code, ok := currencySymbols[word]; ok {
		return code
	}
	if len(word) == 3 && (strings.ToUpper(word) == word || commonCodes[word]) {
		if code, _, err := CurrencyDigits(word); err == nil {
			return code
		}
	}
	lower := strings.ToLower(word)
	for _, w := range currencyWords {
		if w.prefix == "р" {
			if lower == "р" {
				return w.code
			}
			continue
		}
		if strings.HasPrefix(lower, w.prefix) {
			return w.code
		}
	}
	return ""
}

// currencyAfter is the currency written right after a number (after
// spaces), or "".
func currencyAfter(s string) string {
	s = strings.TrimLeft(s, " \u00a0\u202f")
	if r, size := utf8.DecodeRuneInString(s); size > 0 && !unicode.IsLetter(r) {
		return currencySymbols[s[:size]]
	}
	end := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if end < 0 {
		end = len(s)
	}
	return currencyOf(s[:end])
}

// currencyBefore is the currency written right before a number (before
// spaces), or "": "$5k", "USD 5000", "US$ 5000".
func currencyBefore(s string) string {
	s = strings.TrimRight(s, " \u00a0\u202f")
	if r, size := utf8.DecodeLastRuneInString(s); size > 0 && !unicode.IsLetter(r) {
		return currencySymbols[s[len(s)-size:]]
	}
	start := strings.LastIndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	word := s[start+1:]
	if start >= 0 {
		_, size := utf8.DecodeRuneInString(s[start:])
		word = s[start+size:]
	}
	if word == "р" || word == "Р" {
		return "" // "р 500" is no way to write roubles
	}
	return currencyOf(word)
}
