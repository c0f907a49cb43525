package projections

import (
	"strings"

	"github.com/google/uuid"
)

// ShortID is the short form of a campaign id people type: its first 8
// characters.
func ShortID(id uuid.UUID) string { return id.String()[:8] }

// MinIDPrefix is the shortest id prefix MatchCampaigns looks up.
const MinIDPrefix = 4

// MatchCampaigns finds the campaigns ref names, in the order of cs: the
// one with that id, else those with that name (case-insensitive), else
// those whose id starts with ref (at least MinIDPrefix characters, as
// ShortID prints). None means no campaign matches; more than one means
// ref is ambiguous and the caller asks for more of the id.
func MatchCampaigns(cs []Campaign, ref string) []Campaign {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil
	}
	if id, err := uuid.Parse(ref); err == nil {
		for _, c := range cs {
			if c.ID == id {
				return []Campaign{c}
			}
		}
		return nil
	}
	var named, prefixed []Campaign
	lower, name := strings.ToLower(ref), oneSpace(ref)
	for _, c := range cs {
		switch {
		case strings.EqualFold(oneSpace(c.Name), name):
			named = append(named, c)
		case len(ref) >= MinIDPrefix && strings.HasPrefix(c.ID.String(), lower):
			prefixed = append(prefixed, c)
		}
	}
	if len(named) > 0 {
		return named
	}
	return prefixed
}

func oneSpace(s string) string { return strings.Join(strings.Fields(s), " ") }
