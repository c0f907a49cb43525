package tokens

import (
	"encoding/base32"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// The format of a token:
//
//	sb_<id>_<secret>
//	sb_k7tq2mzx4bnw3yra_<52 characters>
//
// "sb_<id>" is the token's prefix (domain.Token.Prefix): 10 random bytes,
// public, shown in lists and events, and how a request's token is found
// (a map lookup, not a scan of hashes). The secret is 32 random bytes
// (256 bits); only its SHA-256 is stored (domain.TokenHash). Both are in
// lower-case base32 (a-z, 2-7): no character a shell, a URL or an HTTP
// header treats specially, and a double-click selects the whole token.
// The fixed "sb_" lets secret scanners and people recognise a leaked one.
const (
	tokenScheme = "sb_"
	idBytes     = 10
	secretBytes = 32
)

var (
	encoding  = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	idLen     = encoding.EncodedLen(idBytes)     // 16
	secretLen = encoding.EncodedLen(secretBytes) // 52
	prefixLen = len(tokenScheme) + idLen         // 19
	tokenLen  = prefixLen + 1 + secretLen        // 72
	maxHeader = len("Bearer ") + tokenLen + 64   // room for spaces; longer is malformed
)

// Secret is a token as created: shown once, then never again. Printed
// (fmt's verbs, slog, JSON) it reads as "[token]", so a log line or a
// struct dump cannot leak it; Reveal gives it to whoever shows it to the
// person who created it.
type Secret struct{ token string }

// Reveal is the token.
func (s Secret) Reveal() string { return s.token }

// Format prints the same placeholder for every verb.
func (Secret) Format(f fmt.State, _ rune) { io.WriteString(f, "[token]") }

// LogValue hides the token from slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("[token]") }

// MarshalJSON hides the token from JSON: an API answer uses Reveal.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[token]"`), nil }

// newToken draws a prefix and a secret from r.
func newToken(r io.Reader) (prefix, secret string, err error) {
	b := make([]byte, idBytes+secretBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", "", fmt.Errorf("tokens: draw a token: %w", err)
	}
	return tokenScheme + encoding.EncodeToString(b[:idBytes]), encoding.EncodeToString(b[idBytes:]), nil
}

// parseToken splits a token into its prefix and secret; ok is false for
// anything not in the format (length, scheme, separator, alphabet).
func parseToken(s string) (prefix, secret string, ok bool) {
	if len(s) != tokenLen || !strings.HasPrefix(s, tokenScheme) || s[prefixLen] != '_' {
		return "", "", false
	}
	for i := len(tokenScheme); i < len(s); i++ {
		if i != prefixLen && !inAlphabet(s[i]) {
			return "", "", false
		}
	}
	return s[:prefixLen], s[prefixLen+1:], true
}

func inAlphabet(c byte) bool { return c >= 'a' && c <= 'z' || c >= '2' && c <= '7' }

// bearer is the token of an Authorization header's value ("Bearer
// <token>", the scheme in any case, RFC 6750); ok is false without one.
func bearer(header string) (string, bool) {
	if len(header) > maxHeader {
		return "", false
	}
	scheme, token, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}
