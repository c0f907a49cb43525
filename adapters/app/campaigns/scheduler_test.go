package campaigns_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/domain"
)

// Monday 2026-11-23, 00:00 UTC.
var week = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

func day(d int, hm string) time.Time {
	t, err := time.Parse("15:04", hm)
	if err != nil {
		panic(err)
	}
	return week.AddDate(0, 0, d).Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute)
}

var weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

func utcLimits(dailyCap int) domain.Limits {
	return domain.Limits{DailyNewDialogs: dailyCap, TimeZone: "UTC", StartMinute: 9 * 60, EndMinute: 18 * 60, Days: weekdays}
}

// run steps the world every 5 minutes from from to to, calling hook (if
// any) before each step.
func (w *world) run(from, to time.Time, hook func(now time.Time)) {
	w.t.Helper()
	for now := from; !now.After(to); now = now.Add(5 * time.Minute) {
		w.clock.Set(now)
		if hook != nil {
			hook(now)
		}
		w.step()
	}
}

func sortedIDs(ids []uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// setup registers accounts (a week before) and contacts, and leaves the
// clock on Sunday night.
func setup(w *world, accounts, contacts int, l domain.Limits) ([]uuid.UUID, []uuid.UUID) {
	w.clock.Set(week.AddDate(0, 0, -7))
	var accs, cs []uuid.UUID
	for i := range accounts {
		accs = append(accs, w.addAccount(fmt.Sprintf("sales-%d", i), l))
	}
	w.clock.Set(week.Add(-time.Hour))
	for i := range contacts {
		cs = append(cs, w.addContact(i, "saas"))
	}
	return accs, cs
}

// An account restricted in a campaign that has room to spare: its
// contacts wait for it — the other accounts, well below their caps, do
// not take them or speed up — and go out once a manager resumes it.
func TestRestrictedAccountsShareWaits(t *testing.T) {
	w := newWorld(t, week, 7)
	accs, _ := setup(w, 5, 300, utcLimits(40))
	camp := w.createCampaign(domain.CreateCampaign{Segment: domain.Segment{Tags: []string{"saas"}},
		Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 5)}})
	x := accs[2]
	restrictAt, resumeAt := day(1, "12:00"), day(3, "09:00")
	w.run(week, week.AddDate(0, 0, 5).Add(10*time.Minute), func(now time.Time) {
		switch {
		case now.Equal(restrictAt):
			w.account(x, domain.MarkRestricted{Reason: "PEER_FLOOD"})
		case now.Equal(resumeAt):
			w.account(x, domain.ResumeAccount{By: "admin:1"})
		}
	})
	set := sortedIDs(accs)
	perDay := map[uuid.UUID][]int{}
	for _, a := range accs {
		perDay[a] = make([]int, 5)
	}
	opened := map[uuid.UUID]bool{}
	for _, r := range dialogs(w.events()) {
		d := r.e.(domain.DialogStarted)
		if opened[d.ContactID] {
			t.Fatalf("contact %s got two dialogs", d.ContactID)
		}
		opened[d.ContactID] = true
		if want := campaigns.AssignAccount(camp, d.ContactID, set); d.AccountID != want {
			t.Errorf("dialog %d on another account than its contact's", d.N)
		}
		if d.AccountID == x && !r.at.Before(restrictAt) && r.at.Before(resumeAt) {
			t.Errorf("the restricted account opened dialog %d at %v", d.N, r.at)
		}
		perDay[d.AccountID][int(r.at.Sub(week).Hours()/24)]++
	}
	if len(opened) != 300 {
		t.Errorf("%d of 300 contacts opened by the end of the campaign", len(opened))
	}
	for _, a := range accs {
		if a == x {
			continue
		}
		// About 60 contacts each over five days: 12 a day, before and
		// after the restriction alike.
		for d, n := range perDay[a] {
			if n < 9 || n > 15 {
				t.Errorf("account %v opened %d on day %d (per day %v)", a, n, d, perDay[a])
			}
		}
	}
	if n := perDay[x][2]; n != 0 {
		t.Errorf("the restricted account opened %d on Wednesday", n)
	}
	if perDay[x][3]+perDay[x][4] < perDay[x][0] {
		t.Errorf("the resumed account's waiting contacts did not go out: per day %v", perDay[x])
	}
	if k := w.noticed("campaign-account-paused"); k != 1 {
		t.Errorf("%d notices, want 1: %v", k, w.notices)
	}
}

func TestPausedAndEndedCampaigns(t *testing.T) {
	w := newWorld(t, week, 8)
	setup(w, 1, 50, utcLimits(40))
	camp := w.createCampaign(domain.CreateCampaign{Schedule: domain.CampaignSchedule{Start: week, End: day(2, "12:00")}})
	pauseAt, resumeAt := day(0, "12:00"), day(1, "12:00")
	w.run(week, day(3, "18:00"), func(now time.Time) {
		switch {
		case now.Equal(pauseAt):
			w.campaignCmd(camp, domain.PauseCampaign{By: "admin:1"})
		case now.Equal(resumeAt):
			w.campaignCmd(camp, domain.ResumeCampaign{By: "admin:1"})
		}
	})
	var n int
	for _, r := range dialogs(w.events()) {
		n++
		if !r.at.Before(pauseAt) && r.at.Before(resumeAt) {
			t.Errorf("a paused campaign opened a dialog at %v", r.at)
		}
		if !r.at.Before(day(2, "12:00")) {
			t.Errorf("a dialog opened at %v, after the campaign's end", r.at)
		}
	}
	if n == 0 || n > 50 {
		t.Fatalf("%d dialogs", n)
	}
	c, err := w.h.LoadCampaign(w.ctx, camp)
	if err != nil || c.Status != domain.StatusCampaignEnded {
		t.Fatalf("campaign %+v %v", c, err)
	}
	var ended []domain.CampaignEnded
	for _, r := range w.events() {
		if e, ok := r.e.(domain.CampaignEnded); ok {
			ended = append(ended, e)
			if !r.at.Equal(day(2, "12:00")) {
				t.Errorf("ended at %v", r.at)
			}
		}
	}
	if len(ended) != 1 || ended[0] != (domain.CampaignEnded{By: "scheduler", Reason: "schedule over"}) {
		t.Fatalf("ended: %+v", ended)
	}
	if w.noticed("campaign-ended") != 1 {
		t.Fatalf("notices %v", w.notices)
	}
}

// A crash between a claim and the dialog: on the next start the claimed
// contact goes first, on the claim's account with the claim's variant;
// a claim with a dialog is not opened again. A restart in the middle of a
// day goes on where the last run stopped.
func TestRestartAndTheCrashWindow(t *testing.T) {
	w := newWorld(t, week, 9)
	accs, cs := setup(w, 2, 40, utcLimits(40))
	camp := w.createCampaign(domain.CreateCampaign{Variants: []domain.VariantWeight{{Name: "A", Weight: 1}, {Name: "B", Weight: 1}},
		Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 2)}})
	set := sortedIDs(accs)
	// Contact 0 was claimed for the account it does not hash to, with
	// variant "B", and the process died; contact 1 was claimed and opened.
	other := accs[0]
	if campaigns.AssignAccount(camp, cs[0], set) == other {
		other = accs[1]
	}
	claim := func(c, a uuid.UUID, v string) {
		if err := w.ev.Append(w.ctx, domain.CampaignTargetStream(camp, c), 0, "", []domain.Event{domain.CampaignTargeted{CampaignID: camp, ContactID: c, AccountID: a, Variant: v}}); err != nil {
			t.Fatal(err)
		}
	}
	w.clock.Set(day(0, "09:00"))
	claim(cs[0], other, "B")
	claim(cs[1], campaigns.AssignAccount(camp, cs[1], set), "A")
	if _, err := w.opener.Open(w.ctx, campaigns.OpenRequest{Campaign: camp, Contact: cs[1], Account: campaigns.AssignAccount(camp, cs[1], set), Variant: "A"}); err != nil {
		t.Fatal(err)
	}
	w.opener.calls = nil
	w.step()
	var first *campaigns.OpenRequest
	for _, c := range w.opener.calls {
		if c.Account == other {
			first = &c
			break
		}
	}
	if first == nil || first.Contact != cs[0] || first.Variant != "B" {
		t.Fatalf("first opening on the claim's account: %+v (calls %+v)", first, w.opener.calls)
	}
	// Half a day, a restart, the rest.
	w.run(day(0, "09:05"), day(0, "13:00"), nil)
	w.sched = w.newScheduler(w.h)
	before := len(dialogs(w.events()))
	w.run(day(0, "13:05"), week.AddDate(0, 0, 2), nil)
	counts := map[uuid.UUID]int{}
	ds := dialogs(w.events())
	for _, r := range ds {
		counts[r.e.(domain.DialogStarted).ContactID]++
	}
	for c, n := range counts {
		if n != 1 {
			t.Errorf("contact %s got %d dialogs", c, n)
		}
	}
	if len(counts) != 40 || before < 5 || before > 30 {
		t.Errorf("%d contacts opened, %d before the restart", len(counts), before)
	}
	// No burst after the restart: openings of an account stay apart.
	last := map[uuid.UUID]time.Time{}
	for _, r := range ds {
		d := r.e.(domain.DialogStarted)
		if prev, ok := last[d.AccountID]; ok && r.at.Sub(prev) < 5*time.Minute && r.at.After(day(0, "09:00")) {
			t.Errorf("account opened two dialogs %v apart at %v", r.at.Sub(prev), r.at)
		}
		last[d.AccountID] = r.at
	}
}

// hookLog runs hooks around the scheduler's appends.
type hookLog struct {
	domain.EventLog
	before, after func(stream string)
}

func (l *hookLog) Append(ctx context.Context, stream string, expected uint64, subject string, evs []domain.Event) error {
	if l.before != nil {
		l.before(stream)
	}
	err := l.EventLog.Append(ctx, stream, expected, subject, evs)
	if err == nil && l.after != nil {
		l.after(stream)
	}
	return err
}

func (w *world) hooked(before, after func(stream string)) domain.Handlers {
	h := w.h
	h.Log = &hookLog{EventLog: w.ev, before: before, after: after}
	h.Cache = domain.NewStateCache(0)
	return h
}

// Someone else claims a contact between the scheduler's look and its
// claim: the scheduler skips it, then opens it on the other claim's
// account (the claim is the intent) — once.
func TestClaimConflict(t *testing.T) {
	w := newWorld(t, week, 10)
	accs, cs := setup(w, 2, 6, utcLimits(40))
	camp := w.createCampaign(domain.CreateCampaign{Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 1)}})
	var stolen uuid.UUID
	var thief uuid.UUID
	w.sched = w.newScheduler(w.hooked(func(stream string) {
		if stolen != uuid.Nil || !strings.HasPrefix(stream, "ctarget-") {
			return
		}
		for _, c := range cs {
			if stream == domain.CampaignTargetStream(camp, c) {
				stolen = c
			}
		}
		thief = accs[0]
		if campaigns.AssignAccount(camp, stolen, sortedIDs(accs)) == thief {
			thief = accs[1]
		}
		if err := w.ev.Append(w.ctx, stream, 0, "", []domain.Event{domain.CampaignTargeted{CampaignID: camp, ContactID: stolen, AccountID: thief, Variant: "A"}}); err != nil {
			t.Fatal(err)
		}
	}, nil))
	w.run(day(0, "09:00"), week.AddDate(0, 0, 1), nil)
	n := 0
	for _, r := range dialogs(w.events()) {
		if d := r.e.(domain.DialogStarted); d.ContactID == stolen {
			n++
			if d.AccountID != thief {
				t.Errorf("the claimed contact was opened on %v, not on its claim's account %v", d.AccountID, thief)
			}
		}
	}
	if stolen == uuid.Nil || n != 1 {
		t.Fatalf("the contact claimed by another was opened %d times", n)
	}
}

// A contact who opts out just after being claimed is never passed to
// the Opener.
func TestOptOutBetweenClaimAndOpen(t *testing.T) {
	w := newWorld(t, week, 11)
	_, cs := setup(w, 1, 5, utcLimits(40))
	camp := w.createCampaign(domain.CreateCampaign{Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 1)}})
	var victim uuid.UUID
	w.sched = w.newScheduler(w.hooked(nil, func(stream string) {
		if victim != uuid.Nil {
			return
		}
		for _, c := range cs {
			if stream == domain.CampaignTargetStream(camp, c) {
				victim = c
				w.optOut(c)
			}
		}
	}))
	w.run(day(0, "09:00"), week.AddDate(0, 0, 1), nil)
	if victim == uuid.Nil {
		t.Fatal("nothing was claimed")
	}
	for _, c := range w.opener.calls {
		if c.Contact == victim {
			t.Fatal("Open was called for a contact who had opted out")
		}
	}
	if v := w.opener.violated(); len(v) > 0 {
		t.Fatal(v)
	}
	if got := len(dialogs(w.events())); got != 4 {
		t.Fatalf("%d dialogs, want the 4 others", got)
	}
}

// The campaign's caps: never more than DailyNewDialogs a day nor
// TotalDialogs in all; a restricted account keeps its share of both.
func TestCampaignCaps(t *testing.T) {
	for _, c := range []struct {
		name          string
		restrict      bool
		maxDay, total int
	}{
		{"caps", false, 9, 20},
		{"a restricted account keeps its share", true, 6, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, week, 12)
			accs, _ := setup(w, 3, 200, utcLimits(40))
			if c.restrict {
				w.account(accs[0], domain.MarkRestricted{Reason: "PEER_FLOOD"})
			}
			w.createCampaign(domain.CreateCampaign{Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 5)},
				Caps: domain.CampaignCaps{DailyNewDialogs: 9, TotalDialogs: 20}})
			w.run(week, week.AddDate(0, 0, 5), nil)
			perDay := map[int]int{}
			total := 0
			for _, r := range dialogs(w.events()) {
				total++
				perDay[int(r.at.Sub(week).Hours()/24)]++
				if c.restrict && r.e.(domain.DialogStarted).AccountID == accs[0] {
					t.Fatal("the restricted account opened a dialog")
				}
			}
			for d, n := range perDay {
				if n > c.maxDay {
					t.Errorf("%d dialogs on day %d, over %d", n, d, c.maxDay)
				}
			}
			if c.total > 0 && total != c.total {
				t.Errorf("%d dialogs in all, want %d (per day %v)", total, c.total, perDay)
			}
			if c.restrict && (total >= 20 || total < 10) {
				t.Errorf("%d dialogs in all with one of three accounts restricted (per day %v)", total, perDay)
			}
		})
	}
}

// What the Opener says: ELIMIT waits until RetryAt; ErrContact skips the
// contact (the next one goes in the same step); anything else waits a
// little (the failed contact a little longer: another one goes next).
func TestOpenerErrors(t *testing.T) {
	w := newWorld(t, week, 13)
	accs, cs := setup(w, 1, 10, utcLimits(40))
	w.createCampaign(domain.CreateCampaign{Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 1)}})
	retryAt := day(0, "10:30")
	var bad uuid.UUID
	failures := 0
	w.opener.before = func(r campaigns.OpenRequest) error {
		now := w.clock.Now()
		switch {
		case now.Before(retryAt):
			return &domain.Error{Code: domain.ELIMIT, Message: "flood wait", RetryAt: retryAt}
		case bad == uuid.Nil:
			bad = r.Contact
			return fmt.Errorf("%w: no such username", campaigns.ErrContact)
		case failures < 2:
			failures++
			return errors.New("not connected")
		}
		return nil
	}
	w.run(day(0, "09:00"), week.AddDate(0, 0, 1), nil)
	var times []time.Time
	for _, c := range w.opener.calls {
		if c.Account != accs[0] {
			t.Fatalf("call %+v", c)
		}
	}
	calls := w.opener.calls
	if len(calls) < 3 || calls[1].Contact != bad {
		t.Fatalf("calls %+v", calls)
	}
	opened := map[uuid.UUID]bool{}
	for _, r := range dialogs(w.events()) {
		times = append(times, r.at)
		opened[r.e.(domain.DialogStarted).ContactID] = true
	}
	if opened[bad] || len(opened) != len(cs)-1 {
		t.Fatalf("opened %d; the contact the Opener refused: %v", len(opened), opened[bad])
	}
	if times[0].Before(retryAt.Add(2 * time.Minute)) {
		t.Fatalf("first dialog at %v, before the retry and the waits after the failures", times[0])
	}
	// One call before the retry time (the lane waited), the refused one,
	// two failures, then one call per dialog.
	if n := len(calls); n != 1+1+2+len(cs)-1 {
		t.Fatalf("%d calls: %+v", n, calls)
	}
}

// Contacts who join the segment during the campaign (a new import, new
// tags) are targeted; the campaign's account list is respected.
func TestLateJoinersAndAccountList(t *testing.T) {
	w := newWorld(t, week, 14)
	accs, _ := setup(w, 3, 0, utcLimits(40))
	camp := w.createCampaign(domain.CreateCampaign{Segment: domain.Segment{Tags: []string{"vip"}}, Accounts: []uuid.UUID{accs[1], uuid.New()},
		Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 2)}})
	var joined []uuid.UUID
	w.run(day(0, "09:00"), week.AddDate(0, 0, 2), func(now time.Time) {
		switch {
		case now.Equal(day(0, "10:00")):
			for i := range 3 {
				id := w.id()
				if _, err := w.h.Contact(w.ctx, id, domain.AddContact{ContactID: id, Source: domain.SourceAPI, Basis: domain.BasisConsent, Username: fmt.Sprintf("vip_%d", i), Tags: []string{"VIP"}}); err != nil {
					t.Fatal(err)
				}
				joined = append(joined, id)
			}
		case now.Equal(day(0, "11:00")):
			c := w.addContact(100, "retail")
			if _, err := w.h.Contact(w.ctx, c, domain.MergeContact{Tags: []string{"vip"}}); err != nil {
				t.Fatal(err)
			}
			joined = append(joined, c)
		}
	})
	ds := dialogs(w.events())
	if len(ds) != len(joined) {
		t.Fatalf("%d dialogs for %d contacts in the segment", len(ds), len(joined))
	}
	for _, r := range ds {
		d := r.e.(domain.DialogStarted)
		if d.AccountID != accs[1] || d.Campaign != camp {
			t.Fatalf("dialog %+v", d)
		}
	}
}

func TestNewRequiresItsPorts(t *testing.T) {
	if _, err := campaigns.New(campaigns.Config{}); err == nil {
		t.Fatal("a scheduler without a store")
	}
}

// Two campaigns on one account split what its cap leaves each day, and
// both spread their half over the day.
func TestCampaignsShareAnAccount(t *testing.T) {
	w := newWorld(t, week, 15)
	w.clock.Set(week.AddDate(0, 0, -7))
	acc := w.addAccount("sales-1", utcLimits(10))
	w.clock.Set(week.Add(-time.Hour))
	for i := range 60 {
		w.addContact(i, []string{"a", "b"}[i%2])
	}
	sched := domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 5)}
	ca := w.createCampaign(domain.CreateCampaign{Name: "A", Segment: domain.Segment{Tags: []string{"a"}}, Schedule: sched})
	cb := w.createCampaign(domain.CreateCampaign{Name: "B", Segment: domain.Segment{Tags: []string{"b"}}, Schedule: sched})
	w.run(week, week.AddDate(0, 0, 1), nil)
	per := map[uuid.UUID][]time.Time{}
	for _, r := range dialogs(w.events()) {
		d := r.e.(domain.DialogStarted)
		if d.AccountID != acc {
			t.Fatalf("dialog on %v", d.AccountID)
		}
		per[d.Campaign] = append(per[d.Campaign], r.at)
	}
	for _, c := range []uuid.UUID{ca, cb} {
		ts := per[c]
		if len(ts) != 5 {
			t.Fatalf("campaign %v opened %d of the account's 10 (%v)", c, len(ts), per)
		}
		if last := ts[len(ts)-1]; last.Before(day(0, "15:00")) {
			t.Errorf("campaign %v spent its half by %v", c, last)
		}
	}
}

// A healthy account removed from the company gives its contacts to the
// others; one removed after a restriction keeps them (they wait), so
// removing it is no way around the restriction.
func TestRemovedAccounts(t *testing.T) {
	for _, restricted := range []bool{false, true} {
		t.Run(fmt.Sprintf("restricted=%v", restricted), func(t *testing.T) {
			w := newWorld(t, week, 16)
			accs, cs := setup(w, 2, 20, utcLimits(40))
			camp := w.createCampaign(domain.CreateCampaign{Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 2)}})
			gone := accs[0]
			w.run(week, week.AddDate(0, 0, 2), func(now time.Time) {
				if now.Equal(day(0, "09:30")) {
					if restricted {
						w.account(gone, domain.MarkRestricted{Reason: "PEER_FLOOD"})
					}
					w.account(gone, domain.RemoveAccount{By: "admin:1"})
				}
			})
			mine := 0
			for _, c := range cs {
				if campaigns.AssignAccount(camp, c, sortedIDs(accs)) == gone {
					mine++
				}
			}
			opened, onGone := 0, 0
			for _, r := range dialogs(w.events()) {
				opened++
				if r.e.(domain.DialogStarted).AccountID == gone {
					onGone++
				}
			}
			if restricted && opened != len(cs)-mine+onGone {
				t.Fatalf("%d opened; the removed restricted account had %d contacts and opened %d", opened, mine, onGone)
			}
			if !restricted && opened != len(cs) {
				t.Fatalf("%d of %d opened after a healthy account was removed", opened, len(cs))
			}
		})
	}
}

// An account added while another is restricted takes an even slice of
// the healthy accounts' contacts and none of the restricted one's: they
// wait for it.
func TestNewAccountTakesNothingOfARestrictedOne(t *testing.T) {
	w := newWorld(t, week, 17)
	accs, cs := setup(w, 2, 300, utcLimits(40))
	camp := w.createCampaign(domain.CreateCampaign{Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 3)}})
	x, healthy := accs[0], accs[1]
	var added uuid.UUID
	restrictAt, addAt := day(0, "10:00"), day(0, "12:00")
	w.run(week, week.AddDate(0, 0, 3), func(now time.Time) {
		switch {
		case now.Equal(restrictAt):
			w.account(x, domain.MarkRestricted{Reason: "PEER_FLOOD"})
		case now.Equal(addAt):
			added = w.addAccount("sales-new", utcLimits(40))
		}
	})
	before := sortedIDs(accs)
	opened := map[uuid.UUID]uuid.UUID{}
	fromX, fromHealthy := 0, 0
	for _, r := range dialogs(w.events()) {
		d := r.e.(domain.DialogStarted)
		opened[d.ContactID] = d.AccountID
		was := campaigns.AssignAccount(camp, d.ContactID, before)
		switch {
		case d.AccountID == x && !r.at.Before(restrictAt):
			t.Errorf("the restricted account opened dialog %d at %v", d.N, r.at)
		case d.AccountID == added && was == x:
			fromX++
		case d.AccountID == added:
			fromHealthy++
		case d.AccountID != was:
			t.Errorf("dialog %d moved from %v to %v", d.N, was, d.AccountID)
		}
	}
	if fromX != 0 {
		t.Errorf("the new account opened %d of the restricted account's contacts", fromX)
	}
	healthyOwn := 0
	for _, c := range cs {
		if campaigns.AssignAccount(camp, c, before) == healthy {
			healthyOwn++
		}
	}
	// It takes about a third of the healthy account's contacts.
	if f := float64(fromHealthy) / float64(healthyOwn); f < 0.2 || f > 0.45 {
		t.Errorf("the new account opened %d of the healthy account's %d contacts", fromHealthy, healthyOwn)
	}
	for _, c := range cs {
		if _, ok := opened[c]; !ok && campaigns.AssignAccount(camp, c, before) != x {
			t.Errorf("a healthy account's contact %v was not opened", c)
		}
	}
}

// A contact claimed for a healthy account that is removed before it
// opens the dialog moves with the account's other contacts (with its
// claim's variant); it does not wait for an account that will not come
// back.
func TestClaimOfARemovedHealthyAccountMoves(t *testing.T) {
	w := newWorld(t, week, 18)
	accs, cs := setup(w, 2, 10, utcLimits(40))
	camp := w.createCampaign(domain.CreateCampaign{Variants: []domain.VariantWeight{{Name: "A", Weight: 1}, {Name: "B", Weight: 1}},
		Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 1)}})
	gone, other := accs[0], accs[1]
	if campaigns.AssignAccount(camp, cs[0], sortedIDs(accs)) != gone {
		gone, other = other, gone
	}
	w.clock.Set(day(0, "08:00"))
	if err := w.ev.Append(w.ctx, domain.CampaignTargetStream(camp, cs[0]), 0, "", []domain.Event{
		domain.CampaignTargeted{CampaignID: camp, ContactID: cs[0], AccountID: gone, Variant: "B"}}); err != nil {
		t.Fatal(err)
	}
	w.step() // the claim is in its lane
	w.clock.Set(day(0, "08:05"))
	w.account(gone, domain.RemoveAccount{By: "admin:1"})
	w.run(day(0, "08:05"), week.AddDate(0, 0, 1), nil)
	n := 0
	for _, r := range dialogs(w.events()) {
		d := r.e.(domain.DialogStarted)
		if d.AccountID != other {
			t.Errorf("dialog %d on %v, not on the account left", d.N, d.AccountID)
		}
		if d.ContactID == cs[0] {
			n++
			if d.Variant != "B" {
				t.Errorf("the moved claim opened with variant %q, not its claim's", d.Variant)
			}
		}
	}
	if n != 1 {
		t.Fatalf("the claimed contact of the removed account got %d dialogs, want 1", n)
	}
}

// One contact whose opening keeps failing (neither ELIMIT nor
// ErrContact) does not hold up its lane: it waits on its own, the others
// go out, and after a few failures while others opened it is given up,
// with a notice. An account that fails for everyone for a while gives
// up on nobody.
func TestAFailingContactDoesNotBlockItsLane(t *testing.T) {
	for _, outage := range []bool{false, true} {
		t.Run(fmt.Sprintf("outage=%v", outage), func(t *testing.T) {
			w := newWorld(t, week, 19)
			_, cs := setup(w, 1, 10, utcLimits(40))
			w.createCampaign(domain.CreateCampaign{Schedule: domain.CampaignSchedule{Start: week, End: week.AddDate(0, 0, 3)}})
			var bad uuid.UUID
			badCalls := 0
			w.opener.before = func(r campaigns.OpenRequest) error {
				if outage {
					if w.clock.Now().Before(day(0, "11:00")) {
						return errors.New("not connected")
					}
					return nil
				}
				if bad == uuid.Nil {
					bad = r.Contact
				}
				if r.Contact == bad {
					badCalls++
					return errors.New("telegram: INTERNAL_SERVER_ERROR")
				}
				return nil
			}
			w.run(day(0, "09:00"), week.AddDate(0, 0, 3), nil)
			opened := map[uuid.UUID]bool{}
			for _, r := range dialogs(w.events()) {
				opened[r.e.(domain.DialogStarted).ContactID] = true
			}
			want, notices := len(cs), 0
			if !outage {
				want, notices = len(cs)-1, 1
				if badCalls < 5 || badCalls > 6 {
					t.Errorf("the failing contact was tried %d times", badCalls)
				}
			}
			if len(opened) != want || opened[bad] {
				t.Errorf("%d of %d contacts opened (the failing one: %v); %d calls", len(opened), len(cs), opened[bad], w.opener.opened())
			}
			if k := w.noticed("campaign-contact-failed"); k != notices {
				t.Errorf("%d notices, want %d: %v", k, notices, w.notices)
			}
		})
	}
}
