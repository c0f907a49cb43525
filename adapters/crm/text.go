package crm

import (
	"strings"
	"unicode/utf8"
)

// SplitText splits text into parts of at most max characters, at line
// ends where it can, else anywhere (never inside a UTF-8 character);
// each part and text are trimmed of spaces.
func SplitText(text string, max int) []string {
	text = strings.TrimSpace(text)
	var out []string
	for text != "" {
		if utf8.RuneCountInString(text) <= max {
			out = append(out, text)
			break
		}
		cut := byteIndexOfRune(text, max)
		if text[cut] != '\n' { // else the part ends at a line end already
			if nl := strings.LastIndexByte(text[:cut], '\n'); nl > 0 {
				cut = nl
			}
		}
		out = append(out, strings.TrimSpace(text[:cut]))
		text = strings.TrimSpace(text[cut:])
	}
	return out
}

// Truncate is s cut to at most n characters, ending in "…" when cut.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return s[:byteIndexOfRune(s, n-1)] + "…"
}

// byteIndexOfRune is where s's character n starts (len(s) past the end).
func byteIndexOfRune(s string, n int) int {
	i := 0
	for b := range s {
		if i == n {
			return b
		}
		i++
	}
	return len(s)
}
