package adminbot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/mymmrac/telego"
	tu "github.com/mymmrac/telego/telegoutil"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// maxCampaignButtons bounds the pause/resume buttons under /campaigns
// (Telegram takes 100 buttons at most).
const maxCampaignButtons = 40

// campaigns answers /campaigns: each campaign with its status, schedule,
// variants and dialogs so far (a self-optimizing one: each variant's
// current share, posterior rate with its 95% interval, or paused), newest first, with a button to pause or
// resume each one that has not ended.
func (b *Bot) campaigns(ctx context.Context) (reply, error) {
	cs, err := b.cfg.Sink.Campaigns(ctx)
	if err != nil {
		return reply{}, fmt.Errorf("list campaigns: %w", err)
	}
	if len(cs) == 0 {
		return reply{text: "No campaigns yet: create one with salesbot campaigns create (docs/campaigns.md)."}, nil
	}
	var sb strings.Builder
	sb.WriteString("<b>Campaigns</b>\n")
	var rows [][]telego.InlineKeyboardButton
	for _, c := range cs {
		counts, err := b.cfg.Sink.VariantFunnel(ctx, c.ID, time.Time{})
		if err != nil {
			return reply{}, err
		}
		t := projections.SumVariants(counts)
		fmt.Fprintf(&sb, "\n<b>%s</b> · <code>%s</code> · %s\n", Escape(c.Name), projections.ShortID(c.ID), Escape(c.Status))
		fmt.Fprintf(&sb, "%s → %s UTC · variants %s · %d targeted\n", c.Schedule.Start.UTC().Format("Jan 02 15:04"),
			c.Schedule.End.UTC().Format("Jan 02 15:04"), Escape(domain.VariantsText(c.Variants)), c.Targeted)
		fmt.Fprintf(&sb, "%s\n", variantLine(t))
		if opt := projections.BanditText(c); opt != "" {
			fmt.Fprintf(&sb, "<i>%s</i>\n", Escape(opt))
		}
		if c.Status == projections.CampaignEnded || len(rows) >= maxCampaignButtons {
			continue
		}
		label, cmd := "Pause "+truncate(c.Name, 30), "campaign_pause "+c.ID.String()
		if c.Status == projections.CampaignPaused {
			label, cmd = "Resume "+truncate(c.Name, 30), "campaign_resume "+c.ID.String()
		}
		rows = append(rows, tu.InlineKeyboardRow(tu.InlineKeyboardButton(label).WithCallbackData(cmd)))
	}
	r := reply{text: sb.String()}
	if len(rows) > 0 {
		r.buttons = tu.InlineKeyboard(rows...)
	}
	return r, nil
}

// campaignPauseResume answers /campaign_pause and /campaign_resume.
func (b *Bot) campaignPauseResume(ctx context.Context, c Command, by string) (reply, error) {
	cs, err := b.cfg.Sink.Campaigns(ctx)
	if err != nil {
		return reply{}, fmt.Errorf("list campaigns: %w", err)
	}
	found := projections.MatchCampaigns(cs, c.Campaign)
	switch len(found) {
	case 0:
		return reply{text: fmt.Sprintf("No campaign is called or has an id starting %s; /campaigns lists them.", Escape(fmt.Sprintf("%q", truncate(c.Campaign, 40))))}, nil
	case 1:
	default:
		var names []string
		for _, f := range found {
			names = append(names, fmt.Sprintf("%s (<code>%s</code>)", Escape(f.Name), projections.ShortID(f.ID)))
		}
		return reply{text: fmt.Sprintf("%s matches %d campaigns: %s. Send more of the id.", Escape(fmt.Sprintf("%q", truncate(c.Campaign, 40))), len(found), strings.Join(names, ", "))}, nil
	}
	camp := found[0]
	var cmd domain.CampaignCommand = domain.PauseCampaign{By: by}
	done, already := "paused: it opens no new dialogs until /campaign_resume; dialogs already open go on", "is paused already"
	if c.Name == "campaign_resume" {
		cmd, done, already = domain.ResumeCampaign{By: by}, "resumed: it opens dialogs again within its schedule and caps", "is active already"
	}
	evs, err := b.cfg.Domain.Campaign(ctx, camp.ID, cmd)
	if err != nil {
		return reply{}, fmt.Errorf("campaign %s: %w", camp.ID, err)
	}
	if len(evs) == 0 {
		done = already
	}
	return reply{text: fmt.Sprintf("Campaign %s %s.", Escape(camp.Name), done)}, nil
}

// variantLine is a funnel row of VariantFunnel for a manager.
func variantLine(r projections.VariantCounts) string {
	pct := func(n int) string { return fmt.Sprintf("%.0f%%", 100*projections.Rate(n, r.Dialogs)) }
	return fmt.Sprintf("%d dialogs · replied %d (%s) · qualified %d (%s) · handoffs %d (%s) · opted out %d (%s)",
		r.Dialogs, r.Replied, pct(r.Replied), r.Qualified, pct(r.Qualified), r.Handoffs, pct(r.Handoffs), r.OptedOut, pct(r.OptedOut))
}

// variantStats is the /stats section by prompt variant, dialogs started
// since the day given: a line per variant, then each variant tested
// against the first (by name) on every rate. Dialogs without a variant
// are listed last and left out of the tests.
func (b *Bot) variantStats(ctx context.Context, sb *strings.Builder, since time.Time) error {
	rows, err := b.cfg.Sink.VariantFunnel(ctx, uuid.Nil, since)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	var named []projections.VariantCounts
	var none []projections.VariantCounts
	for _, r := range rows {
		if r.Variant == "" {
			none = append(none, r)
		} else {
			named = append(named, r)
		}
	}
	slices.SortFunc(named, func(x, y projections.VariantCounts) int { return strings.Compare(x.Variant, y.Variant) })
	fmt.Fprintf(sb, "\n<b>By variant</b> (started since %s)\n", since.Format(time.DateOnly))
	for _, r := range append(named, none...) {
		key := r.Variant
		if key == "" {
			key = "(none)"
		}
		fmt.Fprintf(sb, "%s: %s\n", Escape(key), variantLine(r))
	}
	last := ""
	for _, t := range projections.Compare(named) {
		if t.Variant != last {
			fmt.Fprintf(sb, "<i>%s against %s:</i>\n", Escape(t.Variant), Escape(t.Control))
			last = t.Variant
		}
		fmt.Fprintf(sb, "%s %s: %s\n", t.Title, t.Points(), Escape(t.Verdict))
	}
	if len(named) > 1 {
		fmt.Fprintf(sb, "Qualified: score %d or more. Likely real: p below %.2f, the chance of such a difference between equal variants.\n",
			projections.QualifiedScore, projections.Significance)
	}
	return nil
}
