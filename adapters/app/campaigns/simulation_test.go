package campaigns_test

import (
	"flag"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/domain"
)

var simContacts = flag.Int("sim.contacts", 10_000, "contacts in the 7-day campaign simulation")

// A 7-day campaign on a fake clock: 10 000 contacts, 20 accounts in two
// time zones (daily cap 40, half of them new with a ramp of 10, 20, 30),
// opt-outs before and during the week, one account restricted on
// Wednesday. The scheduler steps every 5 fake minutes; the fake opener
// goes through the real command handlers, so the domain enforces caps,
// ramp and working hours.
func TestSimulationWeek(t *testing.T) {
	started := time.Now()
	n := *simContacts
	monday := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) // a Monday
	end := monday.AddDate(0, 0, 7)
	w := newWorld(t, monday.AddDate(0, 0, -14), 42)
	w.snaps = nil // a week of steps on 10 000 contacts: snapshots are tested elsewhere
	w.sched = w.newScheduler(w.h)

	// Accounts: even ones in Moscow (UTC+3), odd ones in Novosibirsk
	// (UTC+7); in each zone every other pair is new and ramps up.
	type acc struct {
		id     uuid.UUID
		label  string
		loc    *time.Location
		ramped bool
	}
	zones := []string{"Europe/Moscow", "Asia/Novosibirsk"}
	var accs []acc
	newOnes := []int{}
	for i := range 20 {
		l := domain.Limits{DailyNewDialogs: 40, MessagesPerMinute: 6, MinDelay: 20 * time.Second,
			TimeZone: zones[i%2], StartMinute: 9 * 60, EndMinute: 18 * 60,
			Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}}
		ramped := (i/2)%2 == 1
		if ramped {
			newOnes = append(newOnes, i)
			continue
		}
		accs = append(accs, acc{w.addAccount(fmt.Sprintf("sales-%02d", i), l), fmt.Sprintf("sales-%02d", i), loadZone(t, l.TimeZone), false})
	}
	// The new accounts are registered on Sunday night (Monday morning
	// local time): Monday is day 1 of their ramp.
	w.clock.Set(monday.Add(-time.Hour))
	for _, i := range newOnes {
		l := domain.Limits{DailyNewDialogs: 40, MessagesPerMinute: 6, MinDelay: 20 * time.Second, Ramp: []int{10, 20, 30},
			TimeZone: zones[i%2], StartMinute: 9 * 60, EndMinute: 18 * 60,
			Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}}
		accs = append(accs, acc{w.addAccount(fmt.Sprintf("sales-%02d", i), l), fmt.Sprintf("sales-%02d", i), loadZone(t, l.TimeZone), true})
	}
	restricted := accs[0] // a Moscow account without a ramp
	byID := map[uuid.UUID]acc{}
	for _, a := range accs {
		byID[a.id] = a
	}

	// Contacts: 70% tagged saas (the segment), the rest retail.
	w.clock.Set(monday.Add(-50 * time.Minute))
	contacts := make([]uuid.UUID, n)
	inSegment := map[uuid.UUID]bool{}
	for i := range contacts {
		tag := "retail"
		if w.rng.Float64() < 0.7 {
			tag = "saas"
		}
		contacts[i] = w.addContact(i, "lead", tag)
		inSegment[contacts[i]] = tag == "saas"
	}
	// 1% are on the do-not-contact list before the campaign, 0.5% are
	// unreachable.
	w.clock.Set(monday.Add(-40 * time.Minute))
	dnc := map[uuid.UUID]bool{}
	for _, c := range contacts {
		switch x := w.rng.Float64(); {
		case x < 0.01:
			w.optOut(c)
			dnc[c] = true
		case x < 0.015:
			if _, err := w.h.Contact(w.ctx, c, domain.MarkContactUnreachable{Reason: "USER_PRIVACY_RESTRICTED"}); err != nil {
				t.Fatal(err)
			}
			dnc[c] = true
		}
	}
	// 2% opt out during the week, at random times.
	type optOut struct {
		at      time.Time
		contact uuid.UUID
	}
	var optOuts []optOut
	optedAt := map[uuid.UUID]time.Time{}
	for _, i := range w.rng.Perm(n)[:n/50] {
		if c := contacts[i]; !dnc[c] {
			at := monday.Add(time.Duration(w.rng.Int64N(int64(end.Sub(monday)))))
			optOuts = append(optOuts, optOut{at, c})
		}
	}
	sort.Slice(optOuts, func(i, j int) bool { return optOuts[i].at.Before(optOuts[j].at) })

	w.clock.Set(monday.Add(-30 * time.Minute))
	variants := []domain.VariantWeight{{Name: "A", Weight: 50}, {Name: "B", Weight: 30}, {Name: "C", Weight: 20}}
	camp := w.createCampaign(domain.CreateCampaign{Name: "Week of SaaS", Segment: domain.Segment{Tags: []string{"saas"}},
		Variants: variants, Schedule: domain.CampaignSchedule{Start: monday, End: end},
		Caps: domain.CampaignCaps{DailyNewDialogs: 1000, TotalDialogs: 5000}, By: "admin:1"}) // caps the accounts' caps stay under
	restrictAt := monday.AddDate(0, 0, 2).Add(12 * time.Hour) // Wednesday 15:00 in Moscow
	setup := time.Since(started)

	// The week, in steps of 5 minutes.
	restrictedDone := false
	steps := 0
	for now := monday; !now.After(end.Add(10 * time.Minute)); now = now.Add(5 * time.Minute) {
		w.clock.Set(now)
		for len(optOuts) > 0 && !optOuts[0].at.After(now) {
			w.optOut(optOuts[0].contact)
			optedAt[optOuts[0].contact] = now
			optOuts = optOuts[1:]
		}
		if !restrictedDone && !now.Before(restrictAt) {
			w.account(restricted.id, domain.MarkRestricted{Reason: "PEER_FLOOD"})
			restrictedDone = true
		}
		w.step()
		steps++
	}
	simulated := time.Since(started) - setup

	// What the log says.
	evs := w.events()
	type dayKey struct {
		account uuid.UUID
		day     string
	}
	reserved := map[dayKey]int{}
	hours := map[uuid.UUID]map[int]int{} // account → local hour → openings
	dayHours := map[dayKey]map[int]int{} // account and day → local hour → openings
	perDayUTC := map[string]int{}        // openings by UTC day
	var claims, ended int
	var endedBy, endedWhy string
	for _, r := range evs {
		switch e := r.e.(type) {
		case domain.NewDialogReserved:
			a := byID[e.AccountID]
			k := dayKey{e.AccountID, e.Day}
			reserved[k]++
			h := e.At.In(a.loc).Hour()
			if hours[e.AccountID] == nil {
				hours[e.AccountID] = map[int]int{}
			}
			hours[e.AccountID][h]++
			if dayHours[k] == nil {
				dayHours[k] = map[int]int{}
			}
			dayHours[k][h]++
			if e.At.After(restrictAt) && e.AccountID == restricted.id {
				t.Errorf("the restricted account reserved a dialog at %v", e.At)
			}
		case domain.CampaignTargeted:
			claims++
		case domain.CampaignEnded:
			ended++
			endedBy, endedWhy = e.By, e.Reason
		}
	}

	// Caps: every account, every local day, within its cap; the healthy
	// ones exactly at it on every working day (10 000 contacts are more
	// than 20 accounts may write to in a week).
	capOf := func(a acc, day int) int {
		if a.ramped && day < 3 {
			return []int{10, 20, 30}[day]
		}
		return 40
	}
	workdays := []string{}
	for d := range 5 {
		workdays = append(workdays, monday.AddDate(0, 0, d).Format(time.DateOnly))
	}
	for k, got := range reserved {
		d := slices.Index(workdays, k.day)
		if d < 0 {
			t.Errorf("account %s opened %d dialogs on %s, not a working day of the campaign", byID[k.account].label, got, k.day)
			continue
		}
		if c := capOf(byID[k.account], d); got > c {
			t.Errorf("account %s opened %d dialogs on %s, over its cap %d", byID[k.account].label, got, k.day, c)
		}
	}
	wantTotal := 0
	for _, a := range accs {
		for d, day := range workdays {
			got, c := reserved[dayKey{a.id, day}], capOf(a, d)
			switch {
			case a.id == restricted.id && d < 2:
				if got != c {
					t.Errorf("%s (later restricted) opened %d on %s, want its cap %d", a.label, got, day, c)
				}
			case a.id == restricted.id && d > 2:
				if got != 0 {
					t.Errorf("the restricted account opened %d on %s", got, day)
				}
			case a.id != restricted.id && got != c:
				t.Errorf("%s opened %d on %s, want its cap %d", a.label, got, day, c)
			}
			if a.id == restricted.id {
				wantTotal += got
			} else {
				wantTotal += c
			}
		}
	}
	if got := reserved[dayKey{restricted.id, workdays[2]}]; got == 0 || got >= 40 {
		t.Errorf("the restricted account opened %d on Wednesday before its restriction at 15:00", got)
	}

	// Dialogs: one per contact, on its sticky account, never to an
	// opted-out, erased or unreachable contact, and the restricted
	// account's share moved to nobody.
	ds := dialogs(evs)
	all := make([]uuid.UUID, 0, len(accs))
	for _, a := range accs {
		all = append(all, a.id)
	}
	slices.SortFunc(all, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	perContact := map[uuid.UUID]int{}
	perVariant := map[string]int{}
	perAccount := map[uuid.UUID]int{}
	for _, r := range ds {
		d := r.e.(domain.DialogStarted)
		perContact[d.ContactID]++
		perVariant[d.Variant]++
		perAccount[d.AccountID]++
		perDayUTC[r.at.Format("Mon 01-02")]++
		switch {
		case d.Campaign != camp:
			t.Errorf("dialog %d has campaign %v", d.N, d.Campaign)
		case !inSegment[d.ContactID]:
			t.Errorf("dialog %d is with a contact outside the segment", d.N)
		case dnc[d.ContactID]:
			t.Errorf("dialog %d is with a contact on the do-not-contact list before the campaign", d.N)
		case !optedAt[d.ContactID].IsZero() && !r.at.Before(optedAt[d.ContactID]):
			t.Errorf("dialog %d opened at %v with a contact who opted out at %v", d.N, r.at, optedAt[d.ContactID])
		case d.AccountID != campaigns.AssignAccount(camp, d.ContactID, all):
			t.Errorf("dialog %d is on account %s, not on the contact's own account", d.N, byID[d.AccountID].label)
		case d.Variant != campaigns.AssignVariant(camp, d.ContactID, variants):
			t.Errorf("dialog %d has variant %s, not the contact's own", d.N, d.Variant)
		}
	}
	for c, k := range perContact {
		if k > 1 {
			t.Errorf("contact %s got %d dialogs from the campaign", c, k)
		}
	}
	if v := w.opener.violated(); len(v) > 0 {
		t.Errorf("%d Open calls for contacts that may not be written to, e.g. %s", len(v), v[0])
	}
	if len(ds) != wantTotal || claims != len(ds) || w.opener.opened() != len(ds) {
		t.Errorf("%d dialogs, %d claims, %d Open calls; the caps allow %d", len(ds), claims, w.opener.opened(), wantTotal)
	}
	if ended != 1 || endedBy != "scheduler" || endedWhy != "schedule over" {
		t.Errorf("campaign ended %d times, by %q (%q)", ended, endedBy, endedWhy)
	}
	if k := w.noticed("campaign-account-paused"); k != 1 {
		t.Errorf("%d campaign-account-paused notices, want 1", k)
	}

	// Spread: over the week no hour of an account's working day has more
	// than twice its fair share, nor any hour of one day more than twice
	// that day's fair share (plus one for the rounding of small days).
	worst, worstDay := 0.0, 0.0
	for _, a := range accs {
		total := 0
		for h := 9; h < 18; h++ {
			total += hours[a.id][h]
		}
		for h, k := range hours[a.id] {
			if h < 9 || h >= 18 {
				t.Errorf("%s opened %d dialogs in the hour %02d:00, outside its working hours", a.label, k, h)
			}
			fair := float64(total) / 9
			worst = max(worst, float64(k)/fair)
			if float64(k) > 2*fair {
				t.Errorf("%s opened %d of its %d dialogs in the hour %02d:00 (fair share %.1f)", a.label, k, total, h, fair)
			}
		}
		for _, day := range workdays {
			k := dayKey{a.id, day}
			for h, c := range dayHours[k] {
				fair := float64(reserved[k]) / 9
				worstDay = max(worstDay, float64(c)/fair)
				if float64(c) > 2*fair+1 {
					t.Errorf("%s opened %d of its %d dialogs of %s in the hour %02d:00", a.label, c, reserved[k], day, h)
				}
			}
		}
	}

	// Variants: close to 50/30/20 (chi-square, 2 degrees of freedom;
	// 13.8 is p = 0.001).
	chi := 0.0
	for _, v := range variants {
		exp := float64(len(ds)) * float64(v.Weight) / 100
		d := float64(perVariant[v.Name]) - exp
		chi += d * d / exp
	}
	if chi > 13.8 {
		t.Errorf("variants %v: chi-square %.1f", perVariant, chi)
	}

	// The numbers, for the report.
	var days []string
	for d := range 7 {
		day := monday.AddDate(0, 0, d).Format("Mon 01-02")
		days = append(days, fmt.Sprintf("%s %d", day, perDayUTC[day]))
	}
	t.Logf("%d contacts, %d accounts, %d steps of 5 min: setup %v, simulation %v", n, len(accs), steps, setup.Round(time.Millisecond), simulated.Round(time.Millisecond))
	t.Logf("dialogs opened: %d (the caps allow %d); claims %d; by UTC day: %s", len(ds), wantTotal, claims, strings.Join(days, ", "))
	var per []string
	for _, a := range accs {
		kind := "flat"
		if a.ramped {
			kind = "ramp"
		}
		if a.id == restricted.id {
			kind = "restricted Wed 15:00"
		}
		var byDay []string
		for _, day := range workdays {
			byDay = append(byDay, fmt.Sprint(reserved[dayKey{a.id, day}]))
		}
		per = append(per, fmt.Sprintf("%s (%s, %s) %d [%s]", a.label, a.loc, kind, perAccount[a.id], strings.Join(byDay, " ")))
	}
	t.Logf("per account (Mon..Fri):\n  %s", strings.Join(per, "\n  "))
	t.Logf("variants: A %d (%.1f%%), B %d (%.1f%%), C %d (%.1f%%); chi-square %.2f",
		perVariant["A"], pct(perVariant["A"], len(ds)), perVariant["B"], pct(perVariant["B"], len(ds)), perVariant["C"], pct(perVariant["C"], len(ds)), chi)
	t.Logf("busiest hour vs fair share: %.2f× over the week, %.2f× on a single day", worst, worstDay)
	t.Logf("opted out during the week: %d; on the do-not-contact list or unreachable before: %d", len(optedAt), len(dnc))
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func loadZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
