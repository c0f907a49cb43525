package adminbot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/mymmrac/telego"
	tu "github.com/mymmrac/telego/telegoutil"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/words"
	"github.com/salesbot/salesbot/projections"
)

// pageSize is how many dialogs /list shows at once.
const pageSize = 10

// run answers a parsed command; user is the admin's Telegram id.
func (b *Bot) run(ctx context.Context, c Command, user int64) (reply, error) {
	by := "admin:" + strconv.FormatInt(user, 10)
	switch c.Name {
	case "help":
		return reply{text: Help()}, nil
	case "web":
		if b.cfg.Web == nil {
			return reply{text: "No web console runs here: salesbot run serves it when its HTTP server is on (--http-listen)."}, nil
		}
		url, expires, err := b.cfg.Web.Link(ctx, user, b.cfg.Admins[user])
		if err != nil {
			return reply{}, err
		}
		return reply{text: fmt.Sprintf("Your sign-in link to the web console, usable once until %s UTC; do not forward it:\n%s",
			expires.UTC().Format("15:04"), Escape(url))}, nil
	case "list":
		return b.list(ctx, c)
	case "view":
		return b.view(ctx, c.N)
	case "export":
		var buf bytes.Buffer
		if err := projections.ExportDialog(ctx, b.cfg.Sink, c.N, &buf); err != nil {
			return reply{}, err
		}
		return reply{text: fmt.Sprintf("Dialog %d", c.N), document: &document{name: fmt.Sprintf("dialog-%d.txt", c.N), data: buf.Bytes()}}, nil
	case "export_all":
		labels, err := b.labels(ctx)
		if err != nil {
			return reply{}, err
		}
		path, n, err := exportAll(ctx, b.cfg.Sink, c.Since, func(d projections.Dialog) string { return labels[d.AccountID] })
		if err != nil {
			return reply{}, err
		}
		name := "dialogs-" + b.cfg.Now().UTC().Format("2006-01-02") + ".zip"
		return reply{text: fmt.Sprintf("%d dialogs", n), document: &document{name: name, path: path}}, nil
	case "stop", "takeover", "release":
		return b.dialogCommand(ctx, c, by)
	case "won", "lost":
		return b.outcome(ctx, c, by)
	case "reply":
		return b.managerReply(ctx, c, by)
	case "start":
		return b.start(ctx, c, by)
	case "optout":
		if b.cfg.Accounts == nil {
			return reply{text: "No Telegram accounts run in this process, so /optout cannot look the username up."}, nil
		}
		if _, err := b.cfg.Accounts.OptOut(ctx, c.Username, by, "a manager's /optout"); err != nil {
			return reply{}, err
		}
		return reply{text: fmt.Sprintf("@%s is on the do-not-contact list; no account writes to them again.", Escape(c.Username))}, nil
	case "accounts":
		return b.accounts(ctx)
	case "account_add":
		return b.startAddFlow(ctx, b.chat(user), user), nil
	case "cancel":
		if fl := b.flows.get(user); fl != nil {
			fl.cancel()
			return reply{}, nil // the flow says "cancelled" itself
		}
		return reply{text: "Nothing to cancel."}, nil
	case "account_remove":
		if b.cfg.Accounts == nil {
			return reply{text: "No Telegram accounts run in this process; use salesbot accounts remove."}, nil
		}
		a, err := b.account(ctx, c.Account)
		if err != nil {
			return reply{}, err
		}
		if err := b.cfg.Accounts.Remove(ctx, a.ID, by); err != nil {
			return reply{}, err
		}
		return reply{text: fmt.Sprintf("Account %s is logged out and removed; its dialogs stay in the history.", Escape(a.Label))}, nil
	case "pause", "resume":
		return b.pauseResume(ctx, c, by)
	case "pause_all", "resume_all":
		return b.pauseResumeAll(ctx, c.Name == "pause_all", by)
	case "stats":
		return b.stats(ctx, c.Period)
	case "campaigns":
		return b.campaigns(ctx)
	case "campaign_pause", "campaign_resume":
		return b.campaignPauseResume(ctx, c, by)
	}
	return reply{text: fmt.Sprintf("/%s is not available from the bot yet; see docs/admin-bot.md for what is.", c.Name)}, nil
}

func age(t, now time.Time) string {
	if t.IsZero() {
		return "no messages"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// who names a contact for a manager: name and @username, escaped.
func who(c projections.Contact) string {
	name := strings.TrimSpace(c.Name)
	if c.Username != "" {
		name = strings.TrimSpace(name + " @" + c.Username)
	}
	if name == "" {
		name = "(no name)"
	}
	return Escape(name)
}

func (b *Bot) list(ctx context.Context, c Command) (reply, error) {
	f := projections.DialogFilter{Stage: c.Stage, Limit: pageSize + 1, Offset: (c.Page - 1) * pageSize}
	if c.Filter != "all" {
		f.Status = c.Filter
	}
	ds, err := b.cfg.Sink.ListDialogs(ctx, f)
	if err != nil {
		return reply{}, err
	}
	more := len(ds) > pageSize
	ds = ds[:min(len(ds), pageSize)]
	title := c.Filter + " dialogs"
	if c.Stage != "" {
		title += " at " + c.Stage
	}
	if len(ds) == 0 {
		return reply{text: "No " + Escape(title) + fmt.Sprintf(" on page %d.", c.Page)}, nil
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "<b>%s</b>, page %d\n", Escape(words.Capitalize(title)), c.Page)
	var views []telego.InlineKeyboardButton
	for _, d := range ds {
		contact, err := b.cfg.Sink.ContactByID(ctx, d.ContactID)
		if err != nil && !errors.Is(err, projections.ErrNotFound) {
			return reply{}, err
		}
		score := "–"
		if d.Score != nil {
			score = strconv.Itoa(*d.Score)
		}
		fmt.Fprintf(&sb, "\n<b>%d</b> %s · %s · score %s · %s", d.N, who(contact), Escape(d.Stage), score, age(d.LastMessageAt, b.cfg.Now()))
		views = append(views, tu.InlineKeyboardButton(strconv.FormatInt(d.N, 10)).WithCallbackData(fmt.Sprintf("view %d", d.N)))
	}
	rows := tu.InlineKeyboardCols(5, views...)
	var paging []telego.InlineKeyboardButton
	stage := ""
	if c.Stage != "" {
		stage = " " + c.Stage
	}
	if c.Page > 1 {
		paging = append(paging, tu.InlineKeyboardButton("‹ page "+strconv.Itoa(c.Page-1)).WithCallbackData(fmt.Sprintf("list %s%s %d", c.Filter, stage, c.Page-1)))
	}
	if more {
		paging = append(paging, tu.InlineKeyboardButton("page "+strconv.Itoa(c.Page+1)+" ›").WithCallbackData(fmt.Sprintf("list %s%s %d", c.Filter, stage, c.Page+1)))
	}
	if len(paging) > 0 {
		rows = append(rows, paging)
	}
	return reply{text: sb.String(), buttons: tu.InlineKeyboard(rows...)}, nil
}

func (b *Bot) view(ctx context.Context, n int64) (reply, error) {
	s := b.cfg.Sink
	d, err := s.DialogByN(ctx, n)
	if err != nil {
		return reply{}, fmt.Errorf("dialog %d: %w", n, err)
	}
	contact, err := s.ContactByID(ctx, d.ContactID)
	if err != nil && !errors.Is(err, projections.ErrNotFound) {
		return reply{}, err
	}
	labels, err := b.labels(ctx)
	if err != nil {
		return reply{}, err
	}
	label := labels[d.AccountID]
	var sb strings.Builder
	fmt.Fprintf(&sb, "<b>Dialog %d</b> — %s\n", d.N, who(contact))
	fmt.Fprintf(&sb, "Account: %s\nStage: %s (%s", Escape(label), Escape(d.Stage), Escape(d.Status))
	if d.Outcome != "" {
		fmt.Fprintf(&sb, ", %s", Escape(d.Outcome))
	}
	if !d.OutcomeValue.IsZero() {
		fmt.Fprintf(&sb, " %s", Escape(d.OutcomeValue.String()))
	}
	if d.OutcomeReason != "" {
		fmt.Fprintf(&sb, ": %s", Escape(d.OutcomeReason))
	}
	if d.TakenOver {
		sb.WriteString(", with a manager")
	}
	sb.WriteString(")\n")
	if d.Score != nil {
		fmt.Fprintf(&sb, "Score: %d\n", *d.Score)
	}
	if d.Variant != "" {
		fmt.Fprintf(&sb, "Variant: %s\n", Escape(d.Variant))
	}
	if contact.Source != "" {
		fmt.Fprintf(&sb, "Source: %s (%s)\n", Escape(contact.Source), Escape(contact.Basis))
	}
	if d.HandoffReason != "" {
		fmt.Fprintf(&sb, "Handoff: %s\n", Escape(d.HandoffReason))
	}
	switch m, err := s.Meeting(ctx, d.ID); {
	case err != nil && !errors.Is(err, projections.ErrNotFound):
		return reply{}, err
	case err == nil && m.Booked():
		fmt.Fprintf(&sb, "Meeting: booked for %s–%s UTC with %s\n", m.Start.UTC().Format("Mon 2 Jan 15:04"), m.End.UTC().Format("15:04"), Escape(m.Manager))
	case err == nil && m.Link != "":
		fmt.Fprintf(&sb, "Meeting: booking link given (%s)\n", Escape(m.Link))
	case err == nil:
		fmt.Fprintf(&sb, "Meeting: %d slot(s) proposed, none picked yet\n", len(m.Slots))
	}
	if err := writeInsight(ctx, s, d.ID, &sb); err != nil {
		return reply{}, err
	}
	quals, err := s.Qualification(ctx, d.ID)
	if err != nil {
		return reply{}, err
	}
	if len(quals) > 0 {
		sb.WriteString("\n<b>Qualification</b>\n")
		for _, q := range quals {
			fmt.Fprintf(&sb, "%s: %s", Escape(q.Field), Escape(q.Value))
			if q.Quote != "" {
				fmt.Fprintf(&sb, " — «%s»", Escape(q.Quote))
			}
			sb.WriteString("\n")
		}
	}
	msgs, err := s.Messages(ctx, d.ID)
	if err != nil {
		return reply{}, err
	}
	if len(msgs) > 0 {
		sb.WriteString("\n<b>Last messages</b>\n")
		for _, m := range msgs[max(0, len(msgs)-10):] {
			status := ""
			if m.Direction == "out" && m.Status != "sent" {
				status = " [" + m.Status + "]"
			}
			fmt.Fprintf(&sb, "%s %s%s: %s\n", m.At.UTC().Format("01-02 15:04"), Escape(m.Author), Escape(status), Escape(m.Shown()))
		}
	}
	hand := tu.InlineKeyboardButton("Take over").WithCallbackData(fmt.Sprintf("takeover %d", n))
	if d.TakenOver || d.Status == projections.StatusHandoff {
		hand = tu.InlineKeyboardButton("Release to AI").WithCallbackData(fmt.Sprintf("release %d", n))
	}
	row := []telego.InlineKeyboardButton{hand}
	if d.Status != projections.StatusClosed {
		row = append(row, tu.InlineKeyboardButton("Stop").WithCallbackData(fmt.Sprintf("stop %d", n)))
	}
	row = append(row, tu.InlineKeyboardButton("Export").WithCallbackData(fmt.Sprintf("export %d", n)))
	return reply{text: sb.String(), buttons: tu.InlineKeyboard(row)}, nil
}

// chat is an admin's private chat with the bot: its id is the user's.
func (b *Bot) chat(user int64) int64 { return user }

// labels maps account ids to labels.
func (b *Bot) labels(ctx context.Context) (map[uuid.UUID]string, error) {
	accs, err := b.cfg.Sink.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[uuid.UUID]string, len(accs))
	for _, a := range accs {
		m[a.ID] = a.Label
	}
	return m, nil
}

func (b *Bot) dialogCommand(ctx context.Context, c Command, by string) (reply, error) {
	if b.cfg.Dialogs == nil {
		return reply{text: "Dialogs cannot be changed from this process."}, nil
	}
	var err error
	var done string
	switch c.Name {
	case "stop":
		_, err = b.cfg.Dialogs.Stop(ctx, c.N, 0, by)
		done = "stopped: nothing more is sent"
	case "takeover":
		_, err = b.cfg.Dialogs.TakeOver(ctx, c.N, 0, by)
		done = "is yours: the AI is silent until /release"
	case "release":
		err = b.cfg.Dialogs.Release(ctx, c.N, 0, by)
		done = "is back with the AI"
	}
	if err != nil {
		return reply{}, err
	}
	return reply{text: fmt.Sprintf("Dialog %d %s.", c.N, done)}, nil
}

// outcome records how the deal of a dialog ended (/won, /lost).
func (b *Bot) outcome(ctx context.Context, c Command, by string) (reply, error) {
	if b.cfg.Dialogs == nil {
		return reply{text: "Outcomes cannot be recorded from this process."}, nil
	}
	cmd := domain.RecordOutcome{Outcome: domain.OutcomeLost, Reason: c.Text, By: by}
	if c.Name == "won" {
		cmd = domain.RecordOutcome{Outcome: domain.OutcomeWon, Amount: c.Amount, Currency: c.Currency, By: by}
	}
	changed, err := b.cfg.Dialogs.RecordOutcome(ctx, c.N, cmd)
	if err != nil {
		return reply{}, err
	}
	what := "won"
	switch {
	case c.Name == "lost":
		what = "lost: " + c.Text
	case c.Amount != "":
		m, _ := domain.ParseMoney(c.Amount, c.Currency) // recorded, so it reads
		what = "won, " + m.String()
	}
	if !changed {
		return reply{text: Escape(fmt.Sprintf("Dialog %d is recorded as %s already; nothing changed.", c.N, what))}, nil
	}
	return reply{text: Escape(fmt.Sprintf("Dialog %d: %s. Recorded; the AI writes no more in it.", c.N, what))}, nil
}

func (b *Bot) managerReply(ctx context.Context, c Command, by string) (reply, error) {
	if b.cfg.Dialogs == nil {
		return reply{text: "Replies cannot be sent from this process."}, nil
	}
	// A manager who writes has the dialog: the AI does not answer next to
	// them (nor answer again what they answered) until /release.
	took, err := b.cfg.Dialogs.Reply(ctx, c.N, 0, by, c.Text)
	if err != nil {
		return reply{}, err
	}
	text := fmt.Sprintf("Queued for dialog %d; it goes out through the dialog's account within its pacing.", c.N)
	if took {
		text += fmt.Sprintf(" The dialog is now with you: the AI stays silent until /release %d.", c.N)
	}
	return reply{text: text}, nil
}

func (b *Bot) start(ctx context.Context, c Command, by string) (reply, error) {
	if b.cfg.Accounts == nil {
		return reply{text: "No Telegram accounts run in this process, so /start is not available."}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var why string
	note := "started by " + by
	if c.Text != "" {
		note += ": " + c.Text
	}
	st, err := b.cfg.Accounts.Start(ctx, StartRequest{Username: c.Username, Source: domain.SourceManual,
		Basis: domain.BasisLegitimateInterest, Note: note, By: by},
		func(reason string, _ time.Time) { why = reason })
	if err != nil {
		if why != "" && errors.Is(err, context.DeadlineExceeded) {
			return reply{text: Escape(words.Capitalize(why)) + "."}, nil
		}
		return reply{}, err
	}
	return reply{text: fmt.Sprintf("Dialog %d opened with @%s from %s; the opening message is on its way.", st.N, Escape(c.Username), Escape(st.Label)),
		buttons: tu.InlineKeyboard(tu.InlineKeyboardRow(tu.InlineKeyboardButton("View").WithCallbackData(fmt.Sprintf("view %d", st.N))))}, nil
}

func (b *Bot) accounts(ctx context.Context) (reply, error) {
	accs, err := b.cfg.Sink.Accounts(ctx)
	if err != nil {
		return reply{}, err
	}
	if len(accs) == 0 {
		return reply{text: "No accounts yet: add one with salesbot accounts add."}, nil
	}
	now := b.cfg.Now()
	today := now.UTC().Format(time.DateOnly)
	var sb strings.Builder
	sb.WriteString("<b>Accounts</b>\n")
	for _, a := range accs {
		n := 0
		if a.Day == today {
			n = a.DialogsToday
		}
		fmt.Fprintf(&sb, "\n<b>%s</b> — %s", Escape(a.Label), Escape(a.Status))
		if a.Paused {
			sb.WriteString(", paused")
		}
		if a.Reason != "" {
			fmt.Fprintf(&sb, " (%s)", Escape(a.Reason))
		}
		fmt.Fprintf(&sb, "\nnew dialogs today %d of %d · messages sent %d", n, a.DailyCap, a.MessagesTotal)
		if a.FloodUntil.After(now) {
			fmt.Fprintf(&sb, " · flood wait until %s", a.FloodUntil.UTC().Format("15:04 UTC"))
		}
		sb.WriteString("\n")
	}
	return reply{text: sb.String()}, nil
}

// account finds an account by label or id.
func (b *Bot) account(ctx context.Context, ref string) (projections.Account, error) {
	return projections.FindAccount(ctx, b.cfg.Sink, ref)
}

func (b *Bot) pauseResume(ctx context.Context, c Command, by string) (reply, error) {
	a, err := b.account(ctx, c.Account)
	if err != nil {
		return reply{}, err
	}
	var cmd domain.AccountCommand = domain.PauseAccount{By: by}
	done := "paused: it sends nothing until /resume"
	if c.Name == "resume" {
		cmd, done = domain.ResumeAccount{By: by}, "resumed"
	}
	if _, err := b.cfg.Domain.Account(ctx, a.ID, cmd); err != nil {
		return reply{}, err
	}
	return reply{text: fmt.Sprintf("Account %s %s.", Escape(a.Label), done)}, nil
}

func (b *Bot) pauseResumeAll(ctx context.Context, pause bool, by string) (reply, error) {
	accs, err := b.cfg.Sink.Accounts(ctx)
	if err != nil {
		return reply{}, err
	}
	var done, failed []string
	for _, a := range accs {
		if a.Status == string(domain.StatusRemoved) || (!pause && !a.Paused) {
			continue
		}
		var cmd domain.AccountCommand = domain.PauseAccount{By: by}
		if !pause {
			cmd = domain.ResumeAccount{By: by}
		}
		if _, err := b.cfg.Domain.Account(ctx, a.ID, cmd); err != nil {
			failed = append(failed, Escape(a.Label)+": "+Escape(answer(err)))
			continue
		}
		done = append(done, Escape(a.Label))
	}
	verb := "Paused"
	if !pause {
		verb = "Resumed"
	}
	text := fmt.Sprintf("%s %d accounts", verb, len(done))
	if len(done) > 0 {
		text += ": " + strings.Join(done, ", ")
	}
	text += "."
	if len(failed) > 0 {
		text += "\nNot changed: " + strings.Join(failed, "; ")
	}
	return reply{text: text}, nil
}

func (b *Bot) stats(ctx context.Context, period string) (reply, error) {
	s := b.cfg.Sink
	days := map[string]int{"today": 1, "7d": 7, "30d": 30}[period]
	from := b.cfg.Now().UTC().AddDate(0, 0, 1-days).Format(time.DateOnly)
	byDay, err := s.Funnel(ctx, projections.ByDay)
	if err != nil {
		return reply{}, err
	}
	var total projections.FunnelRow
	for _, r := range byDay {
		if r.Key >= from {
			total.Dialogs += r.Dialogs
			total.Replied += r.Replied
			total.Handoffs += r.Handoffs
			total.OptedOut += r.OptedOut
			total.Won += r.Won
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "<b>Dialogs started %s</b> (since %s)\n%s\n", Escape(period), from, funnelLine(total))
	for _, g := range []struct{ title, by string }{{"By stage", projections.ByStage}, {"By variant", projections.ByVariant}, {"By account", projections.ByAccount}} {
		if g.by == projections.ByVariant { // in the period, with the A/B test
			since, err := time.Parse(time.DateOnly, from)
			if err != nil {
				return reply{}, err
			}
			if err := b.variantStats(ctx, &sb, since); err != nil {
				return reply{}, err
			}
			continue
		}
		rows, err := s.Funnel(ctx, g.by)
		if err != nil {
			return reply{}, err
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&sb, "\n<b>%s</b> (all time)\n", g.title)
		for _, r := range rows {
			key := r.Key
			if key == "" {
				key = "(none)"
			}
			fmt.Fprintf(&sb, "%s: %s\n", Escape(key), funnelLine(r))
		}
	}
	return reply{text: sb.String()}, nil
}

func funnelLine(r projections.FunnelRow) string {
	pct := func(n int) string {
		if r.Dialogs == 0 {
			return "0%"
		}
		return fmt.Sprintf("%d%%", n*100/r.Dialogs)
	}
	return fmt.Sprintf("%d dialogs · replied %d (%s) · handoffs %d (%s) · opted out %d · won %d",
		r.Dialogs, r.Replied, pct(r.Replied), r.Handoffs, pct(r.Handoffs), r.OptedOut, r.Won)
}
