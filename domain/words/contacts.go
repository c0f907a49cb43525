package words

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A contact point is where a reply sends a lead: a URL, a bare domain, an
// e-mail address, a phone number or a Telegram @username. ContactPoints
// returns each in a normal form, so the same point written two ways is
// one string:
//   - a URL or a domain: lowercase, without scheme, "www." and a trailing
//     slash or punctuation ("https://WWW.Acme.com/Pay/." is "acme.com/pay");
//     a Telegram link (t.me/acme) is the @username (@acme);
//   - an e-mail address: lowercase;
//   - a phone number: its digits after "tel:", a Russian trunk 8 read as +7
//     ("8 (800) 555-35-35" is "tel:78005553535");
//   - a @username: lowercase with the @.

// tlds are the top-level domains a bare domain ("acme.io") is recognised
// by; with a scheme ("https://") any host counts.
const tlds = `com|net|org|io|ai|app|dev|co|me|ru|su|рф|ua|by|kz|uz|uk|de|fr|es|it|nl|eu|us|ca|info|biz|pro|online|site|store|shop|tech|xyz|ly|gl|gg|cc|tv|to|link|page|club|live|top|money|pay|cash|bank|finance|tel|ws|im|is|la|sh|in|cn|jp|` +
	`click|space|fun|website|icu|vip|win|bet|cloud|digital|agency|studio|group|company|email|support|services|market|trade|capital|exchange|sale|deals|promo|gift|lol|cx|ms|st|tk|ml|ga|cf|gq|су|москва|дети|орг`

var (
	email = regexp.MustCompile(`(?i)[\p{L}\d._%+-]+@[\p{L}\d-]+(?:\.[\p{L}\d-]+)*\.\p{L}{2,}`)
	// link is a URL with a scheme, or a host with an optional port and
	// path, which counts when its TLD is one of tlds.
	link = regexp.MustCompile(`(?i)(https?|ftp|tg)://[^\s<>"'«»]+|((?:[\p{L}\d](?:[\p{L}\d-]*[\p{L}\d])?\.)+[\p{L}\d-]*\p{L}[\p{L}\d-]*)(:\d+)?(/[^\s<>"'«»]*)?`)
	tld  = func() map[string]bool {
		m := map[string]bool{}
		for _, t := range strings.Split(tlds, "|") {
			m[t] = true
		}
		return m
	}()
	// phone candidates: digits with spaces, dashes and brackets, 7+ digits.
	phone     = regexp.MustCompile(`(?:\+|\b)\d[\d \x{00a0}()\-]{5,22}\d\b`)
	username  = regexp.MustCompile(`(?:^|[^\p{L}\d_@.])@([A-Za-z][A-Za-z0-9_]{3,31})\b`)
	tgResolve = regexp.MustCompile(`(?i)^tg://resolve\?domain=([A-Za-z][A-Za-z0-9_]{3,31})`)
	tgLink    = regexp.MustCompile(`^(?:t\.me|telegram\.me|telegram\.dog)/([A-Za-z][A-Za-z0-9_]{3,31})$`)
	// thousands is an amount written in groups of three ("1 500 000").
	thousands = regexp.MustCompile(`^\d{1,3}(?:[ \x{00a0}]\d{3})+$`)
	digitRun  = regexp.MustCompile(`\d+`)
)

// Obfuscations a model (or a prompt injection) may use to slip a contact
// point past a plain pattern, undone by deobfuscate before matching.
var (
	// hidden are characters that show nothing: zero-width spaces and
	// joiners, the soft hyphen, the byte-order mark.
	hidden = strings.NewReplacer("\u200b", "", "\u200c", "", "\u200d", "", "\u2060", "", "\ufeff", "", "\u00ad", "",
		"。", ".", "．", ".", "｡", ".", "․", ".", "＠", "@", "／", "/", "：", ":")
	bracketDot   = regexp.MustCompile(`(?i)\s*[\[({<]\s*(?:\.|dot|точка)\s*[\])}>]\s*`)
	bracketAt    = regexp.MustCompile(`(?i)\s*[\[({<]\s*(?:at|@|собака)\s*[\])}>]\s*`)
	spacedScheme = regexp.MustCompile(`(?i)\b(https?|ftp|tg)\s*:\s*/\s*/\s*`)
	// cyrTLD: a TLD spelled in Cyrillic after "точка" ("acme точка ру").
	cyrTLD = regexp.MustCompile(`(?i)([\p{L}\d])\s+(?:точка|dot)\s+(ру|ком|нет|орг)([^\p{L}\d_-]|$)`)
	// dogAt: "sales собака acme.ru", Russian for the @ (only before a
	// domain, since "собака" is also a dog).
	dogAt    = regexp.MustCompile(`(?i)([\p{L}\d._%+-]+)\s+собака\s+([\p{L}\d-]+\.)`)
	defanged = regexp.MustCompile(`(?i)\bhxxp(s?)(?:\[:\]|:)//`)
	// spacedDot: "acme .com", "acme . com", "acme dot com" (any known
	// TLD, any case); looseDot: "acme. com" only with a lowercase common
	// TLD, since ". " also ends a sentence ("Thanks. It works" stays).
	spacedDot = regexp.MustCompile(`(?i)([\p{L}\d])(?:\s+\.\s*|\s+(?:dot|точка)\s+)(` + tlds + `)([^\p{L}\d_-]|$)`)
	looseDot  = regexp.MustCompile(`([\p{L}\d])\.\s+(com|net|org|ru|рф|su|io|me|ly|xyz|pay|shop|online)([^\p{L}\d_-]|$)`)
	// spacedSlash: "t.me / someone", "wa.me/ 7916...".
	spacedSlash = regexp.MustCompile(`(?i)\b((?:t|wa|telegram)\.me|telegram\.dog)\s*/\s*`)
)

// deobfuscate undoes the ways of writing a contact point so that a plain
// pattern misses it: hidden characters, full-width dots, "[.]", "(dot)",
// "(at)", "hxxps://", a dot with spaces around it ("acme . com"), "dot"
// spelled out before a known TLD.
func deobfuscate(text string) string {
	text = hidden.Replace(text)
	text = bracketDot.ReplaceAllString(text, ".")
	text = bracketAt.ReplaceAllString(text, "@")
	text = defanged.ReplaceAllString(text, "http$1://")
	text = spacedScheme.ReplaceAllString(text, "$1://")
	text = cyrTLD.ReplaceAllStringFunc(text, func(m string) string {
		sm := cyrTLD.FindStringSubmatch(m)
		return sm[1] + "." + map[string]string{"ру": "ru", "ком": "com", "нет": "net", "орг": "org"}[strings.ToLower(sm[2])] + sm[3]
	})
	text = spacedDot.ReplaceAllString(text, "$1.$2$3")
	text = looseDot.ReplaceAllString(text, "$1.$2$3")
	text = dogAt.ReplaceAllString(text, "$1@$2")
	return spacedSlash.ReplaceAllString(text, "$1/")
}

// ContactPoints returns the contact points in text in their normal form,
// each once, in the order they appear. Obfuscated ones count too
// ("acme . com", "acme[.]com", "sales (at) acme dot com", "hxxps://",
// zero-width characters, full-width dots).
func ContactPoints(text string) []string {
	text = deobfuscate(text)
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	// E-mail addresses first, then blanked, so their domains do not count
	// again as domains.
	rest := email.ReplaceAllStringFunc(text, func(m string) string {
		add(strings.ToLower(strings.TrimRight(m, ".")))
		return " "
	})
	var b strings.Builder // rest without the links
	last := 0
	for _, m := range link.FindAllStringSubmatchIndex(rest, -1) {
		if m[0] > 0 {
			if r, _ := utf8.DecodeLastRuneInString(rest[:m[0]]); unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("@._%+-/", r) {
				continue // inside a longer word or path
			}
		}
		if m[2] < 0 { // no scheme: a known TLD
			host := strings.ToLower(rest[m[4]:m[5]])
			if !tld[host[strings.LastIndexByte(host, '.')+1:]] {
				continue
			}
		}
		add(normLink(rest[m[0]:m[1]]))
		b.WriteString(rest[last:m[0]])
		b.WriteByte(' ')
		last = m[1]
	}
	b.WriteString(rest[last:])
	rest = b.String()
	for _, m := range username.FindAllStringSubmatch(rest, -1) {
		add("@" + strings.ToLower(m[1]))
	}
	for _, m := range phone.FindAllString(rest, -1) {
		add(normPhone(m))
	}
	return out
}

// normLink is a URL or a domain in normal form.
func normLink(u string) string {
	u = strings.TrimSpace(u)
	lower := strings.ToLower(u)
	if m := tgResolve.FindStringSubmatch(u); m != nil {
		return "@" + strings.ToLower(m[1])
	}
	for _, p := range []string{"https://", "http://", "ftp://"} {
		if strings.HasPrefix(lower, p) {
			u = u[len(p):]
			break
		}
	}
	u = strings.TrimRightFunc(u, func(r rune) bool {
		return r == '/' || (unicode.IsPunct(r) && r != '_' && r != '=' && r != '#') || unicode.IsSpace(r)
	})
	host, path, _ := strings.Cut(u, "/")
	host = strings.TrimPrefix(strings.ToLower(host), "www.")
	if path != "" {
		u = host + "/" + path
	} else {
		u = host
	}
	if m := tgLink.FindStringSubmatch(u); m != nil {
		return "@" + strings.ToLower(m[1])
	}
	return u
}

// normPhone is a phone number's digits, or "" when the candidate is an
// amount, a range or a date rather than a phone number.
func normPhone(s string) string {
	s = strings.TrimSpace(s)
	groups := digitRun.FindAllString(s, -1)
	d := strings.Join(groups, "")
	switch {
	case len(d) < 7 || len(d) > 15:
		return ""
	case !strings.HasPrefix(s, "+") && len(groups) < 3 && len(d) < 10:
		return "" // "1000-2000", "2024 2025": two numbers, not a phone
	case !strings.HasPrefix(s, "+") && thousands.MatchString(s):
		return "" // "1 500 000"
	case len(groups) == 3 && (len(groups[0]) == 4 && len(groups[1]) <= 2 && len(groups[2]) <= 2 ||
		len(groups[0]) <= 2 && len(groups[1]) <= 2 && len(groups[2]) == 4):
		return "" // a date: 2024-01-15, 15-01-2024
	}
	if len(d) == 11 && d[0] == '8' && !strings.HasPrefix(s, "+") {
		d = "7" + d[1:]
	}
	return "tel:" + d
}

// UnstatedContacts returns the contact points of text that stated does not
// state: a URL counts as stated when stated names it, or names its host
// alone (a company that gives its website owns every page of it; a link
// on a shared host, t.me/someone, must be stated itself); a phone number
// when stated has the same digits.
func UnstatedContacts(text, stated string) []string {
	known := knownContacts.get(stated, func(stated string) map[string]bool {
		known := map[string]bool{}
		for _, c := range ContactPoints(stated) {
			known[c] = true
		}
		return known
	})
	var out []string
	for _, c := range ContactPoints(text) {
		if known[c] {
			continue
		}
		if host, _, ok := strings.Cut(c, "/"); ok && !strings.HasPrefix(c, "tel:") && !strings.HasPrefix(c, "@") && known[host] {
			continue
		}
		out = append(out, c)
	}
	return out
}
