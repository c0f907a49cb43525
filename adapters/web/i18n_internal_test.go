package web

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// Both catalogs have every key, and each string takes the same
// arguments in both.
func TestCatalogsMatch(t *testing.T) {
	en, ru := catalogs["en"], catalogs["ru"]
	if k1, k2 := slices.Sorted(maps.Keys(en)), slices.Sorted(maps.Keys(ru)); !slices.Equal(k1, k2) {
		t.Fatalf("the catalogs' keys differ:\nen %v\nru %v", k1, k2)
	}
	for k, v := range en {
		if strings.Count(v, "%") != strings.Count(ru[k], "%") {
			t.Errorf("%s takes other arguments in en (%q) and ru (%q)", k, v, ru[k])
		}
		if strings.TrimSpace(ru[k]) == "" {
			t.Errorf("%s is empty in ru", k)
		}
	}
}

func TestSince(t *testing.T) {
	for _, c := range []struct {
		d      time.Duration
		en, ru string
	}{
		{-time.Minute, "0 min", "0 мин"},
		{14*time.Minute + 59*time.Second, "14 min", "14 мин"},
		{2*time.Hour + 5*time.Minute, "2 h 5 min", "2 ч 5 мин"},
		{72 * time.Hour, "3 d", "3 дн"},
	} {
		if got := catalog(catalogs["en"]).since(c.d); got != c.en {
			t.Errorf("en since %v = %q, want %q", c.d, got, c.en)
		}
		if got := catalog(catalogs["ru"]).since(c.d); got != c.ru {
			t.Errorf("ru since %v = %q, want %q", c.d, got, c.ru)
		}
	}
}
