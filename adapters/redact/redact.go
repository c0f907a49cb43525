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

// String returns s with every occurrence of each non-empty secret
// replaced by Marker, also in the percent-encoded forms a secret takes
// inside a URL (query, path and user info encodings).
func String(s string, secrets ...string) string {
	if s == "" {
		return s
	}
	var forms []string
	for _, sec := range secrets {
		if sec == "" {
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

// URL returns raw with the secrets URLSecrets finds in it replaced by
// Marker: the password of its user info and the values of query
// parameters whose names say they hold a secret (key, token, password,
// secret, signature, ...). Text that is not a URL comes back unchanged.
func URL(raw string) string {
	return String(raw, URLSecrets(raw)...)
}

// URLSecrets returns the secrets inside a URL: the user info's password
// (also when raw does not parse) and the values of query parameters named
// like secrets, each as given and decoded.
func URLSecrets(raw string) []string {
	var out []string
	add := func(s string) {
		if s == "" {
			return
		}
		out = append(out, s)
		if d, err := url.PathUnescape(s); err == nil && d != s {
			out = append(out, d)
		}
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, " /?#@") {
		return nil
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		if _, pw, ok := strings.Cut(authority[:at], ":"); ok {
			add(pw)
		}
	}
	if _, query, ok := strings.Cut(rest, "?"); ok {
		query, _, _ = strings.Cut(query, "#")
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if k, err := url.QueryUnescape(k); err == nil && SecretName(k) {
				add(v)
				if d, err := url.QueryUnescape(v); err == nil && d != v {
					out = append(out, d)
				}
			}
		}
	}
	return out
}

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

// DSN returns a PostgreSQL connection string (a postgres:// URL or
// keyword=value pairs) with its passwords replaced by Marker.
func DSN(dsn string) string {
	return String(dsn, DSNSecrets(dsn)...)
}

// DSNSecrets returns the passwords inside a PostgreSQL connection string:
// of a URL as URLSecrets finds them; of keyword=value pairs the values of
// password and sslpassword, quoted or not, both as written and unescaped
// (best effort when the string does not parse).
func DSNSecrets(dsn string) []string {
	if strings.Contains(dsn, "://") {
		return URLSecrets(dsn)
	}
	var out []string
	s := dsn
	for {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return out
		}
		fields := strings.Fields(s[:eq])
		key := ""
		if len(fields) > 0 {
			key = strings.ToLower(fields[len(fields)-1])
		}
		s = strings.TrimLeft(s[eq+1:], " \t\n\r")
		var written, val string
		if strings.HasPrefix(s, "'") {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			written, val = s[1:i], b.String()
			s = s[min(i+1, len(s)):]
		} else {
			end := strings.IndexAny(s, " \t\n\r")
			if end < 0 {
				end = len(s)
			}
			written, val = s[:end], s[:end]
			s = s[end:]
		}
		if strings.Contains(key, "password") {
			for _, v := range []string{written, val} {
				if v != "" {
					out = append(out, v)
				}
			}
		}
	}
}
