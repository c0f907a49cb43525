package projections

import (
	"testing"

	"github.com/google/uuid"
)

func TestMatchCampaigns(t *testing.T) {
	a := Campaign{ID: uuid.MustParse("3f2a9c1e-0000-4000-8000-00000000000a"), Name: "Q1 Berlin"}
	b := Campaign{ID: uuid.MustParse("3f2a77aa-0000-4000-8000-00000000000b"), Name: "q1 berlin"}
	c := Campaign{ID: uuid.MustParse("9abc0000-0000-4000-8000-00000000000c"), Name: "3f2a"} // a name that looks like an id
	cs := []Campaign{a, b, c}
	for _, tc := range []struct {
		ref  string
		want []Campaign
	}{
		{a.ID.String(), []Campaign{a}},
		{"  " + b.ID.String() + " ", []Campaign{b}},
		{uuid.New().String(), nil},
		{"Q1 BERLIN", []Campaign{a, b}}, // two of that name: ambiguous
		{"q1   berlin", []Campaign{a, b}},
		{"3f2a9c1e", []Campaign{a}},
		{"3F2A9C", []Campaign{a}},
		{"3f2a", []Campaign{c}}, // a name wins over an id prefix
		{"3f2", nil},            // too short for a prefix
		{"9abc", []Campaign{c}},
		{"", nil},
		{"nothing", nil},
	} {
		got := MatchCampaigns(cs, tc.ref)
		if len(got) != len(tc.want) {
			t.Errorf("%q: %d matches, want %d", tc.ref, len(got), len(tc.want))
			continue
		}
		for i := range got {
			if got[i].ID != tc.want[i].ID {
				t.Errorf("%q: match %d is %s, want %s", tc.ref, i, got[i].ID, tc.want[i].ID)
			}
		}
	}
	if ShortID(a.ID) != "3f2a9c1e" {
		t.Fatal(ShortID(a.ID))
	}
}
