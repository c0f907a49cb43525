// Package redact keeps secrets (bot tokens, API keys, passwords) out of
// the text salesbot prints and logs: error messages, URLs shown in help
// and log lines, PostgreSQL connection strings.
//
// It works on known values: whoever holds a secret names it, and every
// occurrence of it, raw or percent-encoded as it appears inside a URL, is
// replaced by Marker. URLSecrets and DSNSecrets find the secrets inside a
// URL or a PostgreSQL DSN (a password, a key in the query string), so a
// caller holding only the URL can name them.
package redact

import (
	"net/url"
	"slices"
	"strings"
)

// Marker replaces a secret.
const Marker = "[REDACTED]"

// MinLen is the shortest secret String masks: a shorter one (a dummy
// key "x" for a local LLM server) cannot be told from ordinary text, and
// masking it would garble every message.
const MinLen = 4

// String returns s with every occurrence of each secret (of MinLen
// bytes or more) replaced by Marker, also in the percent-encoded forms a
// secret takes inside a URL (query, path and user info encodings).
func String(s string, secrets ...string) string {
	if s == "" {
		return s
	}
	var forms []string
	for _, sec := range secrets {
		if len(sec) < MinLen {
			continue
		}
		userinfo := strings.TrimPrefix(url.UserPassword("u", sec).String(), "u:")
		forms = append(forms, sec, url.QueryEscape(sec), url.PathEscape(sec), userinfo)
	}
	// Longest first, so that a secret containing another is masked whole.
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, Marker)
	}
	return s
}

// Error returns err with each secret in its message replaced by Marker,
// or err itself when its message holds none (and nil for nil). The result
// wraps err: errors.Is and errors.As still find what err wraps
// (context.DeadlineExceeded, a *url.Error); only Error() changes, so log
// the returned error, not what errors.As digs out of it.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := String(msg, secrets...)
	if red == msg {
		return err
	}
	return &redacted{msg: red, err: err}
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// URL returns raw with the password of its user info and the values of
// query parameters named like secrets (SecretName) replaced by Marker,
// also when raw does not parse. Text that is not a URL comes back
// unchanged.
func URL(raw string) string { return mask(raw, urlSpans(raw)) }

// URLSecrets returns the secrets URL masks, each as written and decoded,
// for String and Error to find in text that quotes the URL.
func URLSecrets(raw string) []string { return values(raw, urlSpans(raw)) }

// DSN returns a PostgreSQL connection string (a postgres:// URL or
// keyword=value pairs) with its passwords replaced by Marker: in a URL
// as URL does; of keyword=value pairs the values of password and
// sslpassword, quoted or not (best effort when the string does not
// parse).
func DSN(dsn string) string { return mask(dsn, dsnSpans(dsn)) }

// DSNSecrets returns the passwords DSN masks, each as written and
// unescaped, for String and Error.
func DSNSecrets(dsn string) []string { return values(dsn, dsnSpans(dsn)) }

// SecretName says whether a parameter named name (a query parameter, a
// connection string keyword) holds a secret by its name: one containing
// pass, pwd, secret, token, key, auth, credential or sig.
func SecretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"pass", "pwd", "secret", "token", "key", "auth", "credential", "sig"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// span is where a secret is written in a string, s[start:end], and its
// value decoded.
type span struct {
	start, end int
	value      string
}

// mask replaces each span (in order, not overlapping) by Marker.
func mask(s string, spans []span) string {
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.start])
		b.WriteString(Marker)
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// values returns each span's text as written and, when it differs, its
// decoded value.
func values(s string, spans []span) []string {
	var out []string
	for _, sp := range spans {
		out = append(out, s[sp.start:sp.end])
		if sp.value != s[sp.start:sp.end] {
			out = append(out, sp.value)
		}
	}
	return out
}

// urlSpans finds the user info's password and the secret query values
// of raw, scanning rather than parsing, so that a URL that does not parse
// is masked too.
func urlSpans(raw string) []span {
	i := strings.Index(raw, "://")
	if i <= 0 || strings.ContainsAny(raw[:i], " /?#@") {
		return nil
	}
	var out []span
	rest := i + 3
	end := len(raw)
	if j := strings.IndexAny(raw[rest:], "/?#"); j >= 0 {
		end = rest + j
	}
	if at := strings.LastIndex(raw[rest:end], "@"); at >= 0 {
		if c := strings.IndexByte(raw[rest:rest+at], ':'); c >= 0 && c+1 < at {
			w := raw[rest+c+1 : rest+at]
			v, err := url.PathUnescape(w)
			if err != nil {
				v = w
			}
			out = append(out, span{rest + c + 1, rest + at, v})
		}
	}
	q := strings.IndexByte(raw[end:], '?')
	if h := strings.IndexByte(raw[end:], '#'); q < 0 || (h >= 0 && h < q) {
		return out
	}
	pos := end + q + 1
	stop := len(raw)
	if h := strings.IndexByte(raw[pos:], '#'); h >= 0 {
		stop = pos + h
	}
	for pos < stop {
		next := stop
		if a := strings.IndexByte(raw[pos:stop], '&'); a >= 0 {
			next = pos + a
		}
		if eq := strings.IndexByte(raw[pos:next], '='); eq >= 0 && pos+eq+1 < next {
			k, err := url.QueryUnescape(raw[pos : pos+eq])
			if err == nil && SecretName(k) {
				w := raw[pos+eq+1 : next]
				v, err := url.QueryUnescape(w)
				if err != nil {
					v = w
				}
				out = append(out, span{pos + eq + 1, next, v})
			}
		}
		pos = next + 1
	}
	return out
}

// dsnSpans finds the passwords of a PostgreSQL connection string.
func dsnSpans(dsn string) []span {
	if strings.Contains(dsn, "://") {
		return urlSpans(dsn)
	}
	var out []span
	pos := 0
	for {
		eq := strings.IndexByte(dsn[pos:], '=')
		if eq < 0 {
			return out
		}
		fields := strings.Fields(dsn[pos : pos+eq])
		key := ""
		if len(fields) > 0 {
			key = strings.ToLower(fields[len(fields)-1])
		}
		pos += eq + 1
		for pos < len(dsn) && strings.IndexByte(" \t\n\r", dsn[pos]) >= 0 {
			pos++
		}
		var sp span
		if strings.HasPrefix(dsn[pos:], "'") {
			var b strings.Builder
			i := pos + 1
			for ; i < len(dsn) && dsn[i] != '\''; i++ {
				if dsn[i] == '\\' && i+1 < len(dsn) {
					i++
				}
				b.WriteByte(dsn[i])
			}
			sp = span{pos + 1, i, b.String()}
			pos = min(i+1, len(dsn))
		} else {
			end := len(dsn)
			if j := strings.IndexAny(dsn[pos:], " \t\n\r"); j >= 0 {
				end = pos + j
			}
			sp = span{pos, end, dsn[pos:end]}
			pos = end
		}
		if strings.Contains(key, "password") && sp.end > sp.start {
			out = append(out, sp)
		}
	}
}
