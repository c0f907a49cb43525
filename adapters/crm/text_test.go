package crm_test

import (
	"reflect"
	"testing"

	"github.com/salesbot/salesbot/adapters/crm"
)

func TestSplitText(t *testing.T) {
	for _, c := range []struct {
		text string
		max  int
		want []string
	}{
		{"  ", 5, nil},
		{"short", 5, []string{"short"}},
		{"ab\ncd\nef", 5, []string{"ab\ncd", "ef"}},
		{"abcdefg", 3, []string{"abc", "def", "g"}},
		{"абвгд", 2, []string{"аб", "вг", "д"}},
		{"abc\ndef", 3, []string{"abc", "def"}},
	} {
		if got := crm.SplitText(c.text, c.max); !reflect.DeepEqual(got, c.want) {
			t.Errorf("SplitText(%q, %d) = %q, want %q", c.text, c.max, got, c.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{{"abc", 3, "abc"}, {"abcd", 3, "ab…"}, {"привет", 4, "при…"}} {
		if got := crm.Truncate(c.s, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}
