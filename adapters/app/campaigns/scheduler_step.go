package campaigns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// Stepping: each campaign's lanes opening the dialogs that are due.

// sharing counts, per account, the campaigns in their schedule that have
// contacts waiting on it.
func (s *Scheduler) sharing(now time.Time) map[uuid.UUID]int {
	n := map[uuid.UUID]int{}
	for _, c := range s.campaigns {
		if !c.active(now) {
			continue
		}
		for acc, l := range c.lanes {
			if l.ready != 0 {
				n[acc]++
			}
		}
	}
	return n
}

func (c *campaign) active(now time.Time) bool {
	return c.c.Exists && c.c.Status == domain.StatusCampaignActive &&
		!now.Before(c.c.Schedule.Start) && now.Before(c.c.Schedule.End)
}

// failed makes the lane wait after a failure; it says whether this is the
// first of a run (worth a warning; the others are logged at debug level).
func (l *lane) failed(now time.Time) bool {
	l.retryAt = now.Add(min(minWait<<min(l.fails, 10), maxWait))
	l.fails++
	return l.fails == 1
}

// pick is Pick on the lane's members at now (zero: none waits on its
// own). The suspect of a failure is held too, so that another contact
// goes next.
func (l *lane) pick(now time.Time) (next, ready int) {
	l.view = l.view[:0]
	l.held = time.Time{}
	for _, m := range l.members {
		mine := !m.claimed || m.account == l.account || m.moved
		t := Target{Seq: m.ct.seq, Claimed: m.claimed && mine, Ready: mine && m.ready(), Held: now.Before(m.retryAt) || m == l.suspect}
		if t.Ready && t.Held && (l.held.IsZero() || m.retryAt.Before(l.held)) {
			l.held = m.retryAt
		}
		l.view = append(l.view, t)
	}
	next, ready = Pick(l.view)
	l.ready, l.dirty = ready, false
	return next, ready
}

// count is how many of the lane's contacts are ready, counted again only
// if one of them changed.
func (l *lane) count() int {
	if l.dirty || l.ready < 0 {
		l.pick(time.Time{})
	}
	return l.ready
}

// stepCampaign takes one look at a campaign.
func (s *Scheduler) stepCampaign(ctx context.Context, c *campaign, now time.Time, sharing map[uuid.UUID]int) {
	if !c.c.Exists || c.c.Status == domain.StatusCampaignEnded {
		return
	}
	if !now.Before(c.c.Schedule.End) {
		if s.cfg.Leads == nil || s.cfg.Leads() {
			s.end(ctx, c, now)
		}
		return
	}
	if !c.active(now) {
		return
	}
	s.buildLanes(c)
	accs := make([]uuid.UUID, 0, len(c.lanes))
	due := false
	for acc, l := range c.lanes {
		accs = append(accs, acc)
		due = due || (!now.Before(l.next) && !now.Before(l.retryAt))
	}
	if !due {
		return
	}
	slices.SortFunc(accs, compareIDs)
	caps := c.c.Caps
	if caps.TotalDialogs > 0 && c.total >= caps.TotalDialogs {
		return // all it may open is open
	}
	day := now.In(c.loc).Format(time.DateOnly)
	if caps.DailyNewDialogs > 0 && c.daily[day] >= caps.DailyNewDialogs {
		return
	}
	// The campaign's caps are split between the lanes; counting them
	// takes a pass over every lane, so only when there are caps.
	daily, total := map[uuid.UUID]int{}, map[uuid.UUID]int{}
	if caps.DailyNewDialogs > 0 || caps.TotalDialogs > 0 {
		dw, tw := make([]int, len(accs)), make([]int, len(accs))
		for i, acc := range accs {
			n := c.lanes[acc].count()
			tw[i] = n
			if a := s.accounts[acc]; a != nil && n > 0 {
				dw[i] = min(n, domain.NewDialogCap(a.a, now, a.loc))
			}
		}
		ds, ts := Shares(caps.DailyNewDialogs, dw), Shares(caps.TotalDialogs-c.total, tw)
		for i, acc := range accs {
			daily[acc], total[acc] = Unlimited, Unlimited
			if caps.DailyNewDialogs > 0 {
				daily[acc] = ds[i]
			}
			if caps.TotalDialogs > 0 {
				total[acc] = ts[i]
			}
		}
	}
	for _, acc := range accs {
		if ctx.Err() != nil {
			return
		}
		l := c.lanes[acc]
		if now.Before(l.next) || now.Before(l.retryAt) || (s.cfg.Owns != nil && !s.cfg.Owns(acc)) {
			continue
		}
		dShare, tShare := Unlimited, Unlimited
		if v, ok := daily[acc]; ok {
			dShare, tShare = v, total[acc]
		}
		s.stepLane(ctx, c, l, now, day, LaneCaps{Sharing: sharing[acc], DailyShare: dShare, DailyUsed: l.daily[day], TotalShare: tShare})
	}
}

// unavailable says why an account may not open dialogs at all now ("" if
// it may).
func unavailable(a *account) string {
	switch {
	case a == nil || !a.a.Exists:
		return "not registered"
	case a.a.Status == domain.StatusRemoved:
		return "removed"
	case a.a.Lost:
		return "lost (" + a.a.Reason + ")"
	case a.a.Restricted:
		return "restricted (" + a.a.Reason + ")"
	case a.a.Paused:
		return "paused"
	}
	return ""
}

// stepLane opens the lane's next dialog if it is due.
func (s *Scheduler) stepLane(ctx context.Context, c *campaign, l *lane, now time.Time, day string, caps LaneCaps) {
	a := s.accounts[l.account]
	if why := unavailable(a); why != "" {
		if !l.told && l.count() > 0 {
			l.told = true
			label := l.account.String()
			if a != nil && a.a.Label != "" {
				label = a.a.Label
			}
			s.log.Warn("campaigns: account unavailable; its contacts wait", "campaign", c.id, "account", l.account, "why", why, "waiting", l.ready)
			s.notify("campaign-account-paused", fmt.Sprintf("Campaign %q: account %s is %s. Its %d waiting contacts stay with it and are not moved to other accounts.", c.c.Name, label, why, l.ready))
		}
		return
	}
	l.told = false
	if now.Before(a.a.FloodUntil) {
		l.retryAt = a.a.FloodUntil
		return
	}
	w := s.window(c, a)
	if _, open := w.Open(now); !open {
		if next, ok := w.Next(now); ok {
			l.next = next
		} else {
			l.next = c.c.Schedule.End // never open again in this campaign
		}
		return
	}
	caps.AccountCap = domain.NewDialogCap(a.a, now, a.loc)
	caps.AccountUsed = a.used[now.In(a.loc).Format(time.DateOnly)]
	later := func(d time.Time) int { // a later day: its own cap, split as today's
		c := caps
		c.AccountCap, c.AccountUsed, c.DailyUsed = domain.NewDialogCap(a.a, d, a.loc), 0, 0
		return c.Today()
	}
	due := l.next
	for range maxSkips {
		next, ready := l.pick(now)
		today, left := caps.Today(), min(ready, caps.TotalShare)
		switch {
		case next < 0 && left > 0 && !l.held.IsZero():
			if l.suspect != nil && !now.Before(l.held) {
				l.suspect = nil // nobody else to try: the suspect again
				continue
			}
			l.next = l.held // only held ones are left
			return
		case next < 0 || left <= 0:
			l.next = now.Add(recheck)
			return
		case today <= 0:
			l.next = NextDue(w, now, due, Pace{Targets: left})
			return
		}
		switch s.open(ctx, c, l, l.members[next], now) {
		case openedIt:
			l.next = NextDue(w, now, due, Pace{Targets: left - 1, Today: today - 1, DayCap: later})
			return
		case waitLane:
			return
		}
	}
	l.next = now.Add(minWait) // many skips in a row: go on a little later
}

type outcome int

const (
	openedIt outcome = iota
	skipIt           // not this contact: try the next one
	waitLane         // the account or the log said wait
)

// open claims a member (unless claimed already), checks it may be written
// to now, and opens its dialog.
func (s *Scheduler) open(ctx context.Context, c *campaign, l *lane, m *member, now time.Time) outcome {
	log := s.log.With("campaign", c.id, "contact", m.ct.id, "account", l.account)
	if !m.claimed {
		variant := AssignVariant(c.id, m.ct.id, c.c.CurrentWeights())
		claim := domain.CampaignTargeted{CampaignID: c.id, ContactID: m.ct.id, AccountID: l.account, Variant: variant}
		err := s.cfg.H.Log.Append(ctx, domain.CampaignTargetStream(c.id, m.ct.id), 0, "", []domain.Event{claim})
		switch {
		case errors.Is(err, domain.ErrConflict):
			// Claimed already: the claim's event says by whom and for
			// which account, and puts the contact in that lane.
			log.Info("campaigns: contact claimed already; skipped")
			m.claimed, m.account = true, uuid.Nil
			m.touch()
			return skipIt
		case err != nil:
			l.failed(now)
			log.Error("campaigns: claim a contact", "err", fmt.Errorf("claim contact %s for campaign %s: %w", m.ct.id, c.id, err), "retry_at", l.retryAt)
			return waitLane
		}
		m.claimed, m.account, m.variant = true, l.account, variant
		m.touch()
	}
	// The contact as it stands now, not as the last step saw it.
	ct, err := s.cfg.H.LoadContact(ctx, m.ct.id)
	if err != nil {
		l.failed(now)
		log.Error("campaigns: load a contact", "err", fmt.Errorf("load contact %s: %w", m.ct.id, err), "retry_at", l.retryAt)
		return waitLane
	}
	if err := ct.Contactable(); err != nil {
		log.Info("campaigns: contact may not be written to; skipped", "why", err)
		m.gaveUp = true
		m.touch()
		return skipIt
	}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	n, err := s.cfg.Opener.Open(octx, OpenRequest{Campaign: c.id, Contact: m.ct.id, Account: l.account, Variant: m.variant})
	cancel()
	var de *domain.Error
	switch {
	case err == nil:
		if l.suspect != nil && l.suspect != m && l.fails == 1 {
			s.struck(c, l.suspect)
		}
		l.fails, l.suspect, m.fails = 0, nil, 0
		s.opened(c, m, l.account, now)
		log.Info("campaigns: dialog opened", "dialog", n, "variant", m.variant)
		return openedIt
	case ctx.Err() != nil:
		return waitLane
	case errors.As(err, &de) && de.Code == domain.ELIMIT:
		l.fails = 0
		l.retryAt = now.Add(minWait)
		if de.RetryAt.After(now) {
			l.retryAt = de.RetryAt
		}
		log.Debug("campaigns: the account waits", "until", l.retryAt, "why", err)
		return waitLane
	case errors.Is(err, ErrContact):
		log.Info("campaigns: contact cannot get the dialog; skipped", "why", err)
		m.gaveUp = true
		m.touch()
		return skipIt
	default:
		// The account's or the contact's? The lane waits (the account may
		// be failing), and the first failure of a run makes the contact
		// wait longer, so another one goes next: if that one opens, the
		// failure was the contact's (struck).
		level := slog.LevelDebug
		l.suspect = nil
		if l.failed(now) {
			level = slog.LevelWarn
			l.suspect = m
			m.retryAt = l.retryAt.Add(min(contactWait<<min(m.fails, 10), maxContactWait))
		}
		log.Log(ctx, level, "campaigns: the dialog could not be opened; the contact waits", "err", err, "retry_at", l.retryAt, "contact_retry_at", m.retryAt)
		return waitLane
	}
}

// struck counts a failure as the contact's, and gives up on it after
// maxContactFails of them.
func (s *Scheduler) struck(c *campaign, m *member) {
	m.fails++
	if m.fails < maxContactFails || m.opened {
		return
	}
	m.gaveUp = true
	m.touch()
	s.log.Warn("campaigns: the dialog with a contact failed again and again while others opened; given up", "campaign", c.id, "contact", m.ct.id, "failures", m.fails)
	s.notify("campaign-contact-failed", fmt.Sprintf("Campaign %q: the dialog with contact %s failed %d times while others opened; it is not tried again until a restart.", c.c.Name, m.ct.id, m.fails))
}

// end ends a campaign whose schedule is over.
func (s *Scheduler) end(ctx context.Context, c *campaign, now time.Time) {
	if now.Before(c.endAt) {
		return
	}
	if _, err := s.cfg.H.Campaign(ctx, c.id, domain.EndCampaign{By: "scheduler", Reason: "schedule over"}); err != nil {
		s.log.Error("campaigns: end a campaign", "campaign", c.id, "err", fmt.Errorf("end campaign %s: %w", c.id, err))
		c.endAt = now.Add(backoff)
		return
	}
	c.c.Status = domain.StatusCampaignEnded // its event follows in the log
	s.log.Info("campaigns: campaign ended", "campaign", c.id, "name", c.c.Name, "opened", c.total)
	s.notify("campaign-ended", fmt.Sprintf("Campaign %q ended: its schedule is over (%d dialogs opened).", c.c.Name, c.total))
}

// window is the campaign's window on an account (NewWindow, with the
// time zones loaded once).
func (s *Scheduler) window(c *campaign, a *account) Window {
	l, sc := a.a.Limits, c.c.Schedule
	w := Window{From: sc.Start, To: sc.End,
		Account:  Hours{Loc: a.loc, StartMinute: l.StartMinute, EndMinute: l.EndMinute, Days: l.Days},
		Campaign: Hours{Loc: a.loc, StartMinute: sc.StartMinute, EndMinute: sc.EndMinute, Days: sc.Days}}
	if sc.TimeZone != "" {
		w.Campaign.Loc = c.loc
	}
	return w
}

// zone loads a time zone once (unknown: UTC).
func (s *Scheduler) zone(tz string) *time.Location {
	loc, ok := s.zones[tz]
	if !ok {
		loc = location(tz)
		s.zones[tz] = loc
	}
	return loc
}

func (s *Scheduler) notify(kind, text string) {
	if s.cfg.Notify != nil {
		s.cfg.Notify(kind, text)
	}
}
