package websessions

import (
	"encoding/base32"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// The format of a link's and a session's secret:
//
//	sbl_<52 characters>   a sign-in link's (in its URL: /web/signin?t=sbl_...)
//	sbs_<52 characters>   a session's (the cookie's value)
//
// After the scheme come 32 random bytes (256 bits) in lower-case base32
// (a-z, 2-7), as in an API token: nothing a URL, a cookie or a shell
// treats specially. Only the SHA-256 of the whole secret is stored
// (domain.TokenHash), and it is also what finds the link or session (a
// map lookup on the hash: nothing about the secret can be learnt from
// its timing). The schemes tell a link from a session and both from an
// API token (sb_), for people and secret scanners alike.
const (
	linkScheme    = "sbl_"
	sessionScheme = "sbs_"
	secretBytes   = 32
)

var (
	encoding  = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	secretLen = 4 + encoding.EncodedLen(secretBytes) // 56, with either scheme
)

// Secret is a link's or a session's secret: given out once (the link's
// URL, the cookie), never stored. Printed (fmt's verbs, slog, JSON) it
// reads as "[secret]", so a log line or a struct dump cannot leak it;
// Reveal gives it to whoever hands it out.
type Secret struct{ secret string }

// Reveal is the secret.
func (s Secret) Reveal() string { return s.secret }

// Format prints the same placeholder for every verb.
func (Secret) Format(f fmt.State, _ rune) { io.WriteString(f, "[secret]") }

// LogValue hides the secret from slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("[secret]") }

// MarshalJSON hides the secret from JSON: whoever hands it out uses
// Reveal.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[secret]"`), nil }

// newSecret draws a secret with scheme from r.
func newSecret(r io.Reader, scheme string) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("websessions: draw a secret: %w", err)
	}
	return scheme + encoding.EncodeToString(b), nil
}

// wellFormed says whether s is a secret with scheme: its length, scheme
// and alphabet (anything else is refused before it is hashed).
func wellFormed(s, scheme string) bool {
	if len(s) != secretLen || !strings.HasPrefix(s, scheme) {
		return false
	}
	for i := len(scheme); i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
