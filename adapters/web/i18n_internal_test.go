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

func TestNumbersAndDelays(t *testing.T) {
	en, ru := catalog(catalogs["en"]), catalog(catalogs["ru"])
	for _, c := range []struct{ got, want string }{
		{en.number(0), "0"}, {en.number(999), "999"}, {en.number(1000), "1,000"}, {en.number(-1234567), "-1,234,567"},
		{ru.number(1234567), "1\u00a0234\u00a0567"},
		{en.usd(0), "$0.00"}, {en.price(0.15), "$0.15"}, {en.price(10), "$10.00"}, {en.price(0.075), "$0.075"}, {ru.price(2.5), "2,50\u00a0$"}, {en.usd(12.345), "$12.35"}, {en.usd(0.00312), "$0.0031"}, {ru.usd(1.5), "1,50\u00a0$"},
		{en.delay(-time.Second), "0 s"}, {en.delay(59*time.Second + 600*time.Millisecond), "1 min 0 s"},
		{en.delay(90 * time.Second), "1 min 30 s"}, {ru.delay(4 * time.Second), "4 с"}, {en.delay(3 * time.Hour), "3 h 0 min"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}
