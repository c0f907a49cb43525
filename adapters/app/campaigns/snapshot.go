package campaigns

import (
	"cmp"
	"context"
	"maps"
	"slices"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// What the scheduler folded from the log, as a snapshot
// (eventstore.Snapshots): contacts as segments see them, accounts,
// campaigns with their members and the dialogs each opened per day.
// What is not in the log is not in a snapshot either (a lane's waits,
// failures and the contacts the Opener refused start afresh, as after following the whole log), and the
// lanes are built again from the members.
//
// Segments match custom fields, which are personal data: a snapshot
// holds them for contacts not erased, sealed by the master key; folding
// an erasure saves a new snapshot at once and scrubs the old one
// (Snapshots.Save with scrub).

const (
	snapshotName    = "campaigns"
	snapshotVersion = 2 // 2: the dialogs of self-optimizing campaigns
)

type folded struct {
	Contacts  []foldedContact
	Accounts  []foldedAccount
	Campaigns []foldedCampaign
}

type foldedContact struct {
	ID  uuid.UUID
	Seq uint64
	C   domain.Contact
	OK  bool
}

type foldedAccount struct {
	ID                  uuid.UUID
	A                   domain.Account
	Used                map[string]int
	Joined, Left, Since uint64
}

type foldedCampaign struct {
	ID      uuid.UUID
	C       domain.Campaign
	Members []foldedMember
	Total   int
	Daily   map[string]int
	Lanes   []foldedLane // the dialogs each account opened, by day
	Arms    []foldedArm  // the dialogs of a self-optimizing campaign
}

type foldedArm struct {
	Dialog uuid.UUID
	D      armDialog
}

type foldedMember struct {
	Contact             uuid.UUID
	In, Claimed, Opened bool
	Account             uuid.UUID
	Variant             string
}

type foldedLane struct {
	Account uuid.UUID
	Daily   map[string]int
}

func byID[T any](id func(T) uuid.UUID) func(a, b T) int {
	return func(a, b T) int { return compareIDs(id(a), id(b)) }
}

// fold copies what the scheduler knows, sorted, so equal states encode
// to equal bytes.
func (s *Scheduler) fold() folded {
	var f folded
	for _, ct := range s.contacts {
		f.Contacts = append(f.Contacts, foldedContact{ID: ct.id, Seq: ct.seq, C: ct.c, OK: ct.ok})
	}
	slices.SortFunc(f.Contacts, func(a, b foldedContact) int {
		return cmp.Or(cmp.Compare(a.Seq, b.Seq), compareIDs(a.ID, b.ID))
	})
	for id, a := range s.accounts {
		f.Accounts = append(f.Accounts, foldedAccount{ID: id, A: a.a, Used: a.used, Joined: a.joined, Left: a.left, Since: a.since})
	}
	slices.SortFunc(f.Accounts, byID(func(a foldedAccount) uuid.UUID { return a.ID }))
	for id, c := range s.campaigns {
		fc := foldedCampaign{ID: id, C: c.c, Total: c.total, Daily: c.daily}
		for cid, m := range c.members {
			fc.Members = append(fc.Members, foldedMember{Contact: cid, In: m.in, Claimed: m.claimed, Opened: m.opened,
				Account: m.account, Variant: m.variant})
		}
		slices.SortFunc(fc.Members, byID(func(m foldedMember) uuid.UUID { return m.Contact }))
		for _, acc := range slices.SortedFunc(maps.Keys(c.lanes), compareIDs) {
			if d := c.lanes[acc].daily; len(d) > 0 {
				fc.Lanes = append(fc.Lanes, foldedLane{Account: acc, Daily: d})
			}
		}
		for id, d := range c.bandit.dialogs {
			fc.Arms = append(fc.Arms, foldedArm{Dialog: id, D: *d})
		}
		slices.SortFunc(fc.Arms, byID(func(a foldedArm) uuid.UUID { return a.Dialog }))
		f.Campaigns = append(f.Campaigns, fc)
	}
	slices.SortFunc(f.Campaigns, byID(func(c foldedCampaign) uuid.UUID { return c.ID }))
	return f
}

// unfold puts a snapshot's state in place of what the scheduler knows,
// before it reads the log.
func (s *Scheduler) unfold(state []byte) error {
	var f folded
	if err := eventstore.DecodeState("campaigns", state, &f); err != nil {
		return err
	}
	for _, fc := range f.Contacts {
		s.contacts[fc.ID] = &contact{id: fc.ID, seq: fc.Seq, c: fc.C, ok: fc.OK}
	}
	for _, fa := range f.Accounts {
		used := fa.Used
		if used == nil {
			used = map[string]int{}
		}
		s.accounts[fa.ID] = &account{a: fa.A, loc: s.zone(fa.A.Limits.TimeZone), used: used, joined: fa.Joined, left: fa.Left, since: fa.Since}
	}
	for _, fc := range f.Campaigns {
		c := s.campaign(fc.ID)
		c.c, c.total = fc.C, fc.Total
		c.loc = s.zone(c.c.Schedule.TimeZone)
		if fc.Daily != nil {
			c.daily = fc.Daily
		}
		for _, fm := range fc.Members {
			c.members[fm.Contact] = &member{ct: s.contact(fm.Contact), in: fm.In, claimed: fm.Claimed, opened: fm.Opened,
				account: fm.Account, variant: fm.Variant}
		}
		for _, fl := range fc.Lanes {
			c.lane(fl.Account).daily = fl.Daily
		}
		for _, fa := range fc.Arms {
			if c.bandit.dialogs == nil {
				c.bandit.dialogs = map[uuid.UUID]*armDialog{}
			}
			d := fa.D
			c.bandit.dialogs[fa.Dialog], s.armDialogs[fa.Dialog] = &d, &d
		}
	}
	return nil
}

// snapshot saves what the scheduler folded up to its position when one
// is due, or force; at once, scrubbing the old ones, when it folded an
// erasure.
func (s *Scheduler) snapshot(ctx context.Context, force bool) {
	state := func() ([]byte, error) { return eventstore.EncodeState("campaigns", s.fold()) }
	if s.erased {
		s.erased = false
		s.snaps.Scrub(ctx, s.pos-1, state)
		return
	}
	s.snaps.Save(ctx, s.pos-1, force, state)
}
