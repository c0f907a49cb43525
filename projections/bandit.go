package projections

import (
	"fmt"
	"slices"
	"strings"

	"github.com/salesbot/salesbot/domain"
)

// BanditArm is one variant of a self-optimizing campaign as the stats,
// the bot and the console show it: its current weight and share of new
// dialogs, its posterior (the mean and the 95% credible interval of its
// rate on the goal), and whether the stop rule paused it.
type BanditArm struct {
	Variant string  `json:"variant"`
	Weight  int     `json:"weight"`
	Share   float64 `json:"share"` // of new dialogs, 0..1
	Alpha   float64 `json:"alpha"`
	Beta    float64 `json:"beta"`
	Mean    float64 `json:"mean"`
	Low     float64 `json:"low"`  // the 95% interval
	High    float64 `json:"high"` // of the rate on the goal
	Paused  bool    `json:"paused"`
	Prior   bool    `json:"prior,omitempty"` // no posterior recorded yet: the uniform prior
}

// BanditArms are a self-optimizing campaign's variants in its order (nil
// for fixed weights): before the first weight change, its own weights
// and the uniform prior.
func BanditArms(c Campaign) []BanditArm {
	if c.Optimize == "" {
		return nil
	}
	weights := c.Variants
	var posts []domain.Posterior
	var paused []string
	if c.Bandit != nil {
		weights, posts, paused = c.Bandit.Weights, c.Bandit.Posteriors, c.Bandit.Paused
	}
	total := 0
	for _, w := range weights {
		total += max(w.Weight, 0)
	}
	arms := make([]BanditArm, 0, len(c.Variants))
	for _, v := range c.Variants {
		a := BanditArm{Variant: v.Name, Paused: slices.Contains(paused, v.Name)}
		if i := slices.IndexFunc(weights, func(w domain.VariantWeight) bool { return w.Name == v.Name }); i >= 0 {
			a.Weight = weights[i].Weight
			a.Share = Rate(max(a.Weight, 0), total)
		}
		p := domain.Posterior{Variant: v.Name, Alpha: 1, Beta: 1}
		if i := slices.IndexFunc(posts, func(p domain.Posterior) bool { return p.Variant == v.Name }); i >= 0 {
			p = posts[i]
		} else {
			a.Prior = true
		}
		a.Alpha, a.Beta, a.Mean = p.Alpha, p.Beta, p.Mean()
		a.Low, a.High = p.Interval(0.95)
		arms = append(arms, a)
	}
	return arms
}

// Text is the arm in one line: "B 90% · rate 15.2% (95%: 11.0–19.9%)",
// "C paused · rate ...".
func (a BanditArm) Text() string {
	share := fmt.Sprintf("%.0f%%", 100*a.Share)
	if a.Paused {
		share = "paused"
	}
	return fmt.Sprintf("%s %s · rate %.1f%% (95%%: %.1f–%.1f%%)", a.Variant, share, 100*a.Mean, 100*a.Low, 100*a.High)
}

// BanditText is a self-optimizing campaign's optimizer in one line for
// people ("" for fixed weights): "optimizing for replied: A 10% · rate
// ...; B 90% · rate ...".
func BanditText(c Campaign) string {
	arms := BanditArms(c)
	if arms == nil {
		return ""
	}
	parts := make([]string, len(arms))
	for i, a := range arms {
		parts[i] = a.Text()
	}
	return "optimizing for " + c.Optimize + ": " + strings.Join(parts, "; ")
}
