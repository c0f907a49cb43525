package words

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Figure is an amount in a text: a normalised number and what it counts.
// Unit is "%" for a percentage, a currency ("usd", "eur", "gbp", "rub",
// "jpy", "kzt"), or "money" for an amount whose currency is not said
// ("5k", "100 тыс").
type Figure struct {
	Num  string // "1500", "12.5"
	Unit string
}

func (f Figure) String() string {
	if f.Unit == "%" {
		return f.Num + "%"
	}
	return f.Num + " " + f.Unit
}

const (
	num  = `\d[\d \x{00a0}\x{202f}.,]*\d|\d`
	mult = `(?:[ \x{00a0}]?(k\b|тыс\p{L}*\.?|млн\p{L}*\.?|million\b|thousand\b|mln\b))?`
)

// figure finds amounts: a currency before the number ("$1,500", "USD
// 300"), or a percent, a currency or a multiplier after it ("10 %",
// "30-percent", "1 500 ₽", "20-dollar", "5k", "100 тыс руб").
var figure = regexp.MustCompile(`(?i)(?:(?P<pre>[$€£₽¥₸]|\busd\b|\beur\b|\bgbp\b|\brub\b)[ \x{00a0}]?(?P<n1>` + num + `)` + strings.Replace(mult, "(k", "(?P<m1>k", 1) + `)` +
	`|(?:(?P<n2>` + num + `)` + strings.Replace(mult, "(k", "(?P<m2>k", 1) + `(?:[ \x{00a0}-]?(?P<post>%|per ?cent\b|percent\b|процент\p{L}*|[$€£₽¥₸]|руб\p{L}*\.?|р\.|rub\b|usd\b|eur\b|euros?\b|dollars?\b|евро|долл\p{L}*|gbp\b|pounds?\b|фунт\p{L}*|тенге))?)`)

var (
	iPre, iN1, iM1  = figure.SubexpIndex("pre"), figure.SubexpIndex("n1"), figure.SubexpIndex("m1")
	iN2, iM2, iPost = figure.SubexpIndex("n2"), figure.SubexpIndex("m2"), figure.SubexpIndex("post")
)

// Figures returns every amount in text (money or percent), with its number
// normalised ("1 500 ₽" and "1500 руб." are both 1500 rub; "$5k" is 5000
// usd), also when written in words ("forty-nine dollars" is 49 usd, "half
// price" and "вдвое дешевле" are 50%, "free for a year" is 365 days free,
// UnitFree). Plain numbers (12 people, 15:00, a phone number) are not
// amounts.
func Figures(text string) []Figure {
	var out []Figure
	for _, line := range strings.Split(text, "\n") { // an amount never spans lines
		for _, m := range figure.FindAllStringSubmatch(line, -1) {
			n, mul, unit := m[iN1], m[iM1], unitOf(m[iPre])
			if n == "" {
				n, mul, unit = m[iN2], m[iM2], unitOf(m[iPost])
			}
			if unit == "" && mul == "" {
				continue // a plain number
			}
			if unit == "" {
				unit = "money"
			}
			out = append(out, Figure{Num: scale(normNumber(n), mul), Unit: unit})
		}
		out = append(out, wordFigures(line)...)
	}
	return out
}

// unitOf names the unit of a currency sign or word, or a percent.
func unitOf(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return ""
	case s == "%" || strings.HasPrefix(s, "per") || strings.HasPrefix(s, "процент"):
		return "%"
	case s == "$" || s == "usd" || strings.HasPrefix(s, "dollar") || strings.HasPrefix(s, "долл"):
		return "usd"
	case s == "€" || s == "eur" || strings.HasPrefix(s, "euro") || s == "евро":
		return "eur"
	case s == "£" || s == "gbp" || strings.HasPrefix(s, "pound") || strings.HasPrefix(s, "фунт"):
		return "gbp"
	case s == "₽" || s == "rub" || s == "р." || strings.HasPrefix(s, "руб"):
		return "rub"
	case s == "¥":
		return "jpy"
	case s == "₸" || s == "тенге":
		return "kzt"
	}
	return "money"
}

// scale applies a multiplier ("k", "тыс", "млн") to a normalised number.
func scale(n, mul string) string {
	mul = strings.ToLower(mul)
	var by float64
	switch {
	case mul == "":
		return n
	case mul == "k" || strings.HasPrefix(mul, "тыс") || mul == "thousand":
		by = 1e3
	default:
		by = 1e6
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return n
	}
	return strconv.FormatFloat(f*by, 'f', -1, 64)
}

// normNumber drops spaces and thousands separators; a decimal comma
// becomes a point; trailing zero decimals go ("1500.00" is "1500").
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
	if s == "" {
		s = "0"
	}
	return s
}

// Ungrounded returns the amounts in text that the knowledge does not
// state, the same number with the same unit (an amount without a currency
// matches any currency, never a percent): "49% off" is not grounded by a
// price of $49. A free period must be stated with the same length.
func Ungrounded(text, knowledge string) []Figure {
	known := knownFigures.get(knowledge, Figures)
	var out []Figure
	for _, f := range Figures(text) {
		grounded := false
		for _, k := range known {
			if k.Num == f.Num && (k.Unit == f.Unit || (money(k.Unit) && money(f.Unit) && (k.Unit == "money" || f.Unit == "money"))) {
				grounded = true
				break
			}
		}
		if !grounded {
			out = append(out, f)
		}
	}
	return out
}

// money says whether a unit is an amount of money.
func money(unit string) bool { return unit != "%" && unit != UnitFree }
