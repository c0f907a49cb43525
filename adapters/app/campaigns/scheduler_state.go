package campaigns

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// What the scheduler knows: the log folded into contacts, accounts and
// campaigns, and each campaign's contacts spread over its accounts.

// catchUp applies every event from s.pos to the log's head.
func (s *Scheduler) catchUp(ctx context.Context) error {
	head := s.cfg.Store.Head()
	for s.pos <= head {
		if err := ctx.Err(); err != nil { // stopped while catching up
			return err
		}
		recs, err := s.cfg.Store.ReadAll(ctx, s.pos, 1024)
		if err != nil {
			return fmt.Errorf("campaigns: read the log at position %d: %w", s.pos, err)
		}
		if len(recs) == 0 {
			return nil
		}
		for i := range recs {
			r := &recs[i]
			s.pos = r.Position + 1
			if outcomeTypes[r.Type] {
				if err := s.outcome(r); err != nil {
					return err
				}
				continue
			}
			if !s.relevant[r.Type] {
				continue
			}
			e, err := s.cfg.Decode(r)
			if err != nil {
				return fmt.Errorf("campaigns: %w", err)
			}
			s.apply(r, e)
		}
	}
	return nil
}

// apply folds one event into what the scheduler knows.
func (s *Scheduler) apply(r *eventstore.RecordedEvent, e domain.Event) {
	switch e := e.(type) {
	case domain.ContactAdded, domain.ContactMerged, domain.ContactOptedOut, domain.ContactForgotten, domain.ContactUnreachable:
		id, ok := domain.AggregateContact.ID(r.Stream)
		if !ok {
			return
		}
		ct := s.contact(id)
		if _, added := e.(domain.ContactAdded); added {
			ct.seq = r.Position
		}
		ct.c, ct.ok = foldContact(ct.c, e)
		if _, erased := e.(domain.ContactForgotten); erased {
			s.erased = true
		}
		for _, cp := range s.campaigns {
			s.placeContact(cp, ct)
		}
	case domain.NewDialogReserved:
		if a := s.accounts[e.AccountID]; a != nil {
			a.used[e.Day]++
		}
	case domain.AccountRegistered, domain.AccountLimitsChanged, domain.AccountRestricted, domain.AccountLost,
		domain.AccountPaused, domain.AccountResumed, domain.AccountRemoved, domain.AccountFloodWaited:
		id, ok := domain.AggregateAccount.ID(r.Stream)
		if !ok {
			return
		}
		a := s.accounts[id]
		if a == nil {
			a = &account{used: map[string]int{}}
			s.accounts[id] = a
		}
		was := a.since
		a.a = domain.EvolveAccount(a.a, e)
		a.loc = s.zone(a.a.Limits.TimeZone)
		switch e.(type) {
		case domain.AccountRegistered:
			a.joined, a.left, a.since = r.Position, 0, 0
		case domain.AccountRemoved:
			if !a.a.Restricted && !a.a.Lost {
				a.left = r.Position
			} else if a.since == 0 {
				a.since = r.Position
			}
		case domain.AccountRestricted, domain.AccountLost, domain.AccountPaused, domain.AccountResumed:
			switch unhealthy := a.a.Restricted || a.a.Lost || a.a.Paused; {
			case unhealthy && a.since == 0:
				a.since = r.Position
			case !unhealthy && a.a.Status != domain.StatusRemoved:
				a.since = 0
			}
		}
		switch e.(type) {
		case domain.AccountRegistered, domain.AccountRemoved:
			s.gen++ // the contacts may belong elsewhere now
		default:
			if a.since != was {
				s.gen++
			}
		}
	case domain.CampaignCreated, domain.CampaignPaused, domain.CampaignResumed, domain.CampaignEnded, domain.CampaignWeightsChanged:
		id, ok := domain.AggregateCampaign.ID(r.Stream)
		if !ok {
			return
		}
		c := s.campaign(id)
		c.c = domain.EvolveCampaign(c.c, e)
		if _, created := e.(domain.CampaignCreated); created {
			c.loc = s.zone(c.c.Schedule.TimeZone)
			c.gen = -1
			for _, ct := range s.contacts {
				s.placeContact(c, ct)
			}
		}
	case domain.CampaignTargeted:
		c := s.campaign(e.CampaignID)
		m := s.member(c, s.contact(e.ContactID))
		m.claimed, m.account, m.variant = true, e.AccountID, e.Variant
		m.touch()
		switch {
		case m.lane == nil:
			s.place(c, m) // if the lanes are built; else their build does
		case c.gen == s.gen:
			if acc := s.laneAccount(c, m); m.lane.account != acc {
				s.moveTo(c, m, acc)
			}
		}
	case domain.DialogStarted:
		if e.Campaign == uuid.Nil {
			return
		}
		c := s.campaign(e.Campaign)
		s.opened(c, s.member(c, s.contact(e.ContactID)), e.AccountID, r.RecordedAt)
		s.started(c, e, r.RecordedAt)
	}
}

func (s *Scheduler) contact(id uuid.UUID) *contact {
	ct := s.contacts[id]
	if ct == nil {
		ct = &contact{id: id}
		s.contacts[id] = ct
	}
	return ct
}

func (s *Scheduler) campaign(id uuid.UUID) *campaign {
	c := s.campaigns[id]
	if c == nil {
		c = &campaign{id: id, loc: time.UTC, members: map[uuid.UUID]*member{}, lanes: map[uuid.UUID]*lane{}, gen: -1, daily: map[string]int{}}
		s.campaigns[id] = c
	}
	return c
}

// member is the campaign's member for a contact, made if need be.
func (s *Scheduler) member(c *campaign, ct *contact) *member {
	m := c.members[ct.id]
	if m == nil {
		m = &member{ct: ct, in: c.c.Exists && c.c.Segment.Matches(ct.c)}
		c.members[ct.id] = m
		s.place(c, m)
	}
	return m
}

// placeContact updates whether a contact is in a campaign's segment.
func (s *Scheduler) placeContact(c *campaign, ct *contact) {
	if !c.c.Exists {
		return
	}
	in := c.c.Segment.Matches(ct.c)
	if m := c.members[ct.id]; m != nil {
		m.in = in
		m.touch()
	} else if in {
		s.member(c, ct)
	}
}

// place puts a member in its lane, if the lanes are built (else the
// next build does).
func (s *Scheduler) place(c *campaign, m *member) {
	if c.gen != s.gen || m.lane != nil {
		return
	}
	acc := s.laneAccount(c, m)
	if acc == uuid.Nil {
		return
	}
	l := c.lane(acc)
	l.members = append(l.members, m)
	m.lane = l
	l.dirty = true
}

// laneAccount is the account of a member's lane: its claim's, unless
// that account was removed while healthy (its claimed contacts move like
// its others: not a restricted account's share); else its owner
// (Owners). uuid.Nil: none (yet).
func (s *Scheduler) laneAccount(c *campaign, m *member) uuid.UUID {
	m.moved = false
	if m.claimed {
		if m.account == uuid.Nil || m.opened {
			return m.account
		}
		if a := s.accounts[m.account]; a == nil || a.left == 0 {
			return m.account
		}
		m.moved = true
	}
	if c.owners == nil {
		return uuid.Nil
	}
	return c.owners.Of(c.id, m.ct.id)
}

// touch marks the member's lane for a recount.
func (m *member) touch() {
	if m.lane != nil {
		m.lane.dirty = true
	}
}

func (s *Scheduler) moveTo(c *campaign, m *member, acc uuid.UUID) {
	if old := m.lane; old != nil {
		if i := slices.Index(old.members, m); i >= 0 {
			old.members = slices.Delete(old.members, i, i+1)
		}
		old.dirty = true
	}
	m.lane = nil
	if acc != uuid.Nil {
		l := c.lane(acc)
		l.members = append(l.members, m)
		m.lane = l
		l.dirty = true
	}
}

func (c *campaign) lane(acc uuid.UUID) *lane {
	l := c.lanes[acc]
	if l == nil {
		l = &lane{account: acc, daily: map[string]int{}, ready: -1, dirty: true}
		c.lanes[acc] = l
	}
	return l
}

// opened records a dialog of the campaign with a member (once).
func (s *Scheduler) opened(c *campaign, m *member, acc uuid.UUID, at time.Time) {
	if m.opened {
		return
	}
	m.opened = true
	m.touch()
	day := at.In(c.loc).Format(time.DateOnly)
	c.total++
	c.daily[day]++
	c.lane(acc).daily[day]++
}

// accountSet is the accounts a campaign's contacts are spread over (see
// Owners): the campaign's list (or every account) that are registered;
// those removed while healthy come as history (Left) and drop out. An
// account removed while restricted or lost keeps its share, so removing
// it moves nothing to the others.
func (s *Scheduler) accountSet(c domain.Campaign) []AccountState {
	var ids []AccountState
	keep := func(id uuid.UUID) {
		a := s.accounts[id]
		if a == nil || !a.a.Exists || slices.ContainsFunc(ids, func(x AccountState) bool { return x.ID == id }) {
			return
		}
		ids = append(ids, a.state(id))
	}
	if len(c.Accounts) > 0 {
		for _, id := range c.Accounts {
			keep(id)
		}
	} else {
		for id := range s.accounts {
			keep(id)
		}
	}
	slices.SortFunc(ids, func(a, b AccountState) int { return compareIDs(a.ID, b.ID) })
	return ids
}

// buildLanes spreads a campaign's members over its accounts when the
// accounts changed (see Owners). Claimed members stay on their claim's
// account unless it was removed while healthy.
func (s *Scheduler) buildLanes(c *campaign) {
	if c.gen == s.gen {
		return
	}
	set := s.accountSet(c.c)
	if c.gen >= 0 && slices.Equal(set, c.set) {
		c.gen = s.gen
		return
	}
	c.set, c.gen, c.owners = set, s.gen, NewOwners(set)
	for _, l := range c.lanes {
		l.members, l.ready, l.dirty = nil, -1, true
	}
	for _, m := range c.members {
		m.lane = nil
		s.place(c, m)
	}
	s.log.Debug("campaigns: contacts spread over accounts", "campaign", c.id, "accounts", len(set), "members", len(c.members))
}
