package adminbot

import (
	"strings"
	"unicode/utf8"
)

// MaxMessage is the longest text one Bot API message may carry.
const MaxMessage = 4096

// Escape makes user text safe in the HTML parse mode: a lead named
// "<b>*_[" shows as typed.
func Escape(s string) string {
	return htmlEscaper.Replace(s)
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// Split cuts text into messages of at most max characters (runes), at line
// breaks where it can, else at spaces, else anywhere; never inside an HTML
// entity such as &amp;. Line breaks at the cuts and at the end are
// dropped. Formatting tags must not span lines (ours do not).
func Split(text string, max int) []string {
	if max <= 0 {
		max = MaxMessage
	}
	var out []string
	for utf8.RuneCountInString(text) > max {
		cut := byteOffset(text, max)
		head := text[:cut]
		if i := strings.LastIndex(head, "\n"); i > 0 {
			cut = i + 1
		} else if i := strings.LastIndex(head, " "); i > 0 {
			cut = i + 1
		} else if i := strings.LastIndex(head, "&"); i >= 0 && !strings.Contains(head[i:], ";") {
			if i > 0 {
				cut = i // do not split an entity
			}
		}
		out = append(out, strings.TrimRight(text[:cut], "\n"))
		text = text[cut:]
	}
	if text = strings.TrimRight(text, "\n"); text != "" || len(out) == 0 {
		out = append(out, text)
	}
	return out
}

// byteOffset is the byte offset of rune n in s.
func byteOffset(s string, n int) int {
	i := 0
	for j := range s {
		if i == n {
			return j
		}
		i++
	}
	return len(s)
}
