package domain

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestParseStream(t *testing.T) {
	id := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000ab")
	for _, c := range []struct {
		stream string
		agg    Aggregate
		ok     bool
	}{
		{ContactStream(id), AggregateContact, true},
		{DialogStream(id), AggregateDialog, true},
		{AccountStream(id), AggregateAccount, true},
		{CampaignStream(id), AggregateCampaign, true},
		// Not an aggregate's stream.
		{UsageStream(id, "2026-11-25"), "", false},
		{CampaignTargetStream(id, id), "", false},
		{LegacyPeerStream(id, 42), "", false},
		{LegacyUserStream(42), "", false},
		{DialogNumberStream, "", false},
		{"lead-" + id.String(), "", false},
		// Malformed.
		{"", "", false},
		{"-", "", false},
		{"dialog", "", false},
		{"dialog-", "", false},
		{"dialog-x", "", false},
		{id.String(), "", false},
		{"dialog" + id.String(), "", false},
		{"dialog-" + id.String() + "-", "", false},
		{"dialog-" + id.String()[:35], "", false},
		{"dialog-" + strings.ToUpper(id.String()), "", false},
		{"dialog-" + strings.ReplaceAll(id.String(), "-", ""), "", false},
		{"dialog-{" + id.String() + "}", "", false},
		{"dialog-urn:uuid:" + id.String(), "", false},
		{"Dialog-" + id.String(), "", false},
		{"dialog--" + id.String(), "", false},
		{"dialog-\xff" + id.String()[1:], "", false},
	} {
		agg, got, ok := ParseStream(c.stream)
		if agg != c.agg || ok != c.ok || (ok && got != id) || (!ok && got != uuid.Nil) {
			t.Errorf("ParseStream(%q) = %q, %v, %v; want %q, %v", c.stream, agg, got, ok, c.agg, c.ok)
		}
		for _, a := range []Aggregate{AggregateContact, AggregateDialog, AggregateAccount, AggregateCampaign} {
			got, ok := a.ID(c.stream)
			if want := c.ok && a == c.agg; ok != want || (ok && got != id) {
				t.Errorf("%s.ID(%q) = %v, %v; want %v", a, c.stream, got, ok, want)
			}
		}
	}
}

// Whatever the name, parsing never panics, and what parses names its
// stream exactly.
func FuzzParseStream(f *testing.F) {
	id := uuid.MustParse("0193a0c0-0000-7000-8000-0000000000ab")
	for _, s := range []string{DialogStream(id), ContactStream(id), UsageStream(id, "2026-11-25"), "dialog-", "-", "", "dialog-" + strings.ToUpper(id.String())} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stream string) {
		agg, got, ok := ParseStream(stream)
		if !ok {
			if agg != "" || got != uuid.Nil {
				t.Fatalf("ParseStream(%q) = %q, %v without ok", stream, agg, got)
			}
			return
		}
		if agg.Stream(got) != stream {
			t.Fatalf("ParseStream(%q) = %q, %v, which names %q", stream, agg, got, agg.Stream(got))
		}
		if id2, ok2 := agg.ID(stream); !ok2 || id2 != got {
			t.Fatalf("%s.ID(%q) = %v, %v; ParseStream said %v", agg, stream, id2, ok2, got)
		}
	})
}
