package tokens

import (
	"bytes"
	"strings"
	"testing"
)

// The lengths the package doc names, and a token parses back into what
// newToken drew.
func TestFormat(t *testing.T) {
	if idLen != 16 || secretLen != 52 || prefixLen != 19 || tokenLen != 72 {
		t.Fatalf("lengths %d %d %d %d", idLen, secretLen, prefixLen, tokenLen)
	}
	prefix, secret, err := newToken(bytes.NewReader(bytes.Repeat([]byte{0xff, 0}, 21)))
	if err != nil {
		t.Fatal(err)
	}
	p, s, ok := parseToken(prefix + "_" + secret)
	if !ok || p != prefix || s != secret || !strings.HasPrefix(prefix, "sb_") {
		t.Fatalf("%q %q: %q %q %v", prefix, secret, p, s, ok)
	}
	for _, bad := range []string{"", prefix + "_", prefix + "-" + secret, "SB" + (prefix + "_" + secret)[2:], prefix + "_" + secret[1:] + "1",
		prefix + "_" + secret[1:] + "=", prefix + "_" + secret[1:] + "_", strings.Replace(prefix+"_"+secret, "_", "x", 1)} {
		if _, _, ok := parseToken(bad); ok {
			t.Errorf("%q parses", bad)
		}
	}
	for h, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", " BEARER abc": "abc"} {
		if got, ok := bearer(h); !ok || got != want {
			t.Errorf("bearer(%q) = %q, %v", h, got, ok)
		}
	}
	for _, h := range []string{"", "Bearer", "Basic abc", "Bearerabc", "Bearer " + strings.Repeat("a", 200)} {
		if _, ok := bearer(h); ok {
			t.Errorf("bearer(%q) ok", h)
		}
	}
}
