package campaigns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// OpenRequest asks for one dialog of a campaign: with Contact, from
// Account only, with the prompt variant Variant.
type OpenRequest struct {
	Campaign, Contact, Account uuid.UUID
	Variant                    string
}

// Opener opens campaign dialogs (accounts.Service.CampaignOpener in
// production).
type Opener interface {
	// Open starts the dialog, with the campaign and the variant recorded
	// in its DialogStarted (the dialog engine then writes the opening),
	// and returns its number. It never uses another account than
	// r.Account. Errors:
	//   - a *domain.Error with code ELIMIT: the account may not open a
	//     dialog now (cap, ramp, hours, flood wait); RetryAt says when;
	//   - an error matching ErrContact: the contact cannot get the dialog
	//     (do-not-contact, erased, unreachable, not found on Telegram,
	//     already in a dialog); it is not tried again;
	//   - anything else: the account cannot open one now (restricted,
	//     paused, not connected, a failure); the contact waits.
	// When neither the account nor the contact can take the dialog, the
	// account's error is returned. openertest is the contract suite.
	Open(ctx context.Context, r OpenRequest) (dialogN int64, err error)
}

// ErrContact marks an Opener error that is about the contact rather than
// the account.
var ErrContact = errors.New("campaigns: the contact cannot get the dialog")

// Config configures a Scheduler.
type Config struct {
	Store  eventstore.Store
	Decode func(*eventstore.RecordedEvent) (domain.Event, error)
	// H runs the scheduler's commands (claims, ending a campaign) and
	// loads contacts.
	H      domain.Handlers
	Opener Opener
	Now    func() time.Time // default time.Now
	Tick   time.Duration    // how often Run steps (default 1 s)
	Log    *slog.Logger
	// Notify tells admins something ("campaign-account-paused",
	// "campaign-ended"); it must not block for long. Optional.
	Notify func(kind string, text string)
}

const (
	// A lane waits after a failure that says nothing about when to try
	// again (an account still connecting at start, a store error): from
	// minWait, doubling to maxWait while the failures go on.
	minWait = 5 * time.Second
	maxWait = 5 * time.Minute
	// backoff is the wait before a failed EndCampaign is tried again.
	backoff = time.Minute
	// recheck is how often a lane with nothing to do now looks again (new
	// contacts may join the segment).
	recheck = 5 * time.Minute
	// openTimeout bounds one Open.
	openTimeout = 2 * time.Minute
	// maxSkips bounds the contacts one lane passes over in one step
	// (claimed elsewhere, no longer contactable).
	maxSkips = 16
	// A contact whose opening failed (neither ELIMIT nor ErrContact) while
	// the lane was fine waits on its own, from contactWait doubling to
	// maxContactWait, so the others go on; when the lane opened another
	// one right after, the failure was the contact's, and after
	// maxContactFails of those it is given up.
	contactWait     = time.Minute
	maxContactWait  = time.Hour
	maxContactFails = 5
)

// Scheduler opens the dialogs of the campaigns; see the package doc for
// its rules. Create it with New; Run it, or drive it with Step.
type Scheduler struct {
	cfg      Config
	log      *slog.Logger
	relevant map[string]bool

	pos       uint64 // the next log position to read
	contacts  map[uuid.UUID]*contact
	campaigns map[uuid.UUID]*campaign
	accounts  map[uuid.UUID]*account
	gen       int // bumped when accounts come or go
	zones     map[string]*time.Location
}

type contact struct {
	id  uuid.UUID
	seq uint64         // position of its ContactAdded
	c   domain.Contact // without username, phone, name or user id
	ok  bool           // c.Contactable() == nil
}

type account struct {
	a    domain.Account // from its own stream (usage is in used)
	loc  *time.Location
	used map[string]int // new dialogs by local day
	// Log positions: its registration, its removal while healthy (it
	// drops out; one removed while restricted or lost keeps its share),
	// and since when it has been restricted, paused or lost (0: healthy).
	joined, left, since uint64
}

// state is the account as Owners sees it.
func (a *account) state(id uuid.UUID) AccountState {
	return AccountState{ID: id, Joined: a.joined, Left: a.left, Since: a.since}
}

type campaign struct {
	id      uuid.UUID
	c       domain.Campaign
	loc     *time.Location // of its days (caps)
	members map[uuid.UUID]*member
	lanes   map[uuid.UUID]*lane
	set     []AccountState // the accounts the lanes were built on
	owners  *Owners        // on set
	gen     int            // Scheduler.gen the lanes were built for (-1: rebuild)
	total   int            // dialogs opened
	daily   map[string]int
	endAt   time.Time // a failed EndCampaign is tried again then
}

// member is a contact of a campaign: in its segment, claimed or opened.
type member struct {
	ct      *contact
	in      bool // in the segment
	claimed bool
	account uuid.UUID // the claim's account
	variant string    // the claim's variant
	opened  bool
	gaveUp  bool // the Opener said the contact cannot get it
	moved   bool // claimed for an account removed while healthy: its lane's account opens it
	lane    *lane
	// Opener failures that were the contact's (the lane opened others
	// around them), and when it may be tried again.
	fails   int
	retryAt time.Time
}

func (m *member) ready() bool {
	return m.in && !m.opened && !m.gaveUp && m.ct.ok
}

// lane is a campaign's contacts on one account.
type lane struct {
	account uuid.UUID
	members []*member
	next    time.Time // the next opening is due
	retryAt time.Time // the account said to wait until then
	told    bool      // admins heard that the account is paused
	fails   int       // failures in a row
	suspect *member   // failed first in the current run of failures
	held    time.Time // the earliest end of a held member's wait (at the last pick)
	ready   int       // at the last count (-1: never counted)
	dirty   bool      // a member changed since
	daily   map[string]int
	view    []Target // Pick's input, reused
}

// New returns a scheduler; Run or Step start it.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Store == nil || cfg.Decode == nil || cfg.H.Log == nil || cfg.Opener == nil {
		return nil, errors.New("campaigns: Config.Store, Decode, H.Log and Opener are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.H.Now == nil {
		cfg.H.Now = cfg.Now
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{cfg: cfg, log: cfg.Log, relevant: map[string]bool{}, pos: 1,
		contacts: map[uuid.UUID]*contact{}, campaigns: map[uuid.UUID]*campaign{}, accounts: map[uuid.UUID]*account{},
		zones: map[string]*time.Location{}}
	for _, e := range []domain.Event{
		domain.ContactAdded{}, domain.ContactMerged{}, domain.ContactOptedOut{}, domain.ContactForgotten{}, domain.ContactUnreachable{},
		domain.AccountRegistered{}, domain.AccountLimitsChanged{}, domain.AccountRestricted{}, domain.AccountLost{},
		domain.AccountPaused{}, domain.AccountResumed{}, domain.AccountRemoved{}, domain.AccountFloodWaited{}, domain.NewDialogReserved{},
		domain.CampaignCreated{}, domain.CampaignPaused{}, domain.CampaignResumed{}, domain.CampaignEnded{}, domain.CampaignTargeted{},
		domain.DialogStarted{},
	} {
		s.relevant[e.EventType()] = true
	}
	return s, nil
}

// Run steps every Tick until ctx ends. The first step reads the whole log
// (and opens the claimed contacts a crash left without a dialog); each
// later one reads what was appended since.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		if err := s.Step(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Step reads the log up to its head, then takes one look at every
// campaign at the clock's time: ends those whose schedule is over, and
// opens the dialogs that are due. It returns an error only when the log
// cannot be read; failures of single openings are logged and tried again
// later. Step is not safe for concurrent use (Run calls it from one
// goroutine).
func (s *Scheduler) Step(ctx context.Context) error {
	if err := s.catchUp(ctx); err != nil {
		return err
	}
	now := s.cfg.Now()
	ids := make([]uuid.UUID, 0, len(s.campaigns))
	for id := range s.campaigns {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareIDs)
	sharing := s.sharing(now)
	for _, id := range ids {
		if ctx.Err() != nil {
			return nil
		}
		s.stepCampaign(ctx, s.campaigns[id], now, sharing)
	}
	return nil
}

func compareIDs(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) }

// catchUp applies every event from s.pos to the log's head.
func (s *Scheduler) catchUp(ctx context.Context) error {
	head := s.cfg.Store.Head()
	for s.pos <= head {
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
		c := domain.EvolveContact(ct.c, e)
		c.Username, c.Phone, c.Name, c.UserID = "", "", "", 0 // segments do not need them
		ct.c, ct.ok = c, c.Contactable() == nil
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
	case domain.CampaignCreated, domain.CampaignPaused, domain.CampaignResumed, domain.CampaignEnded:
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
		s.end(ctx, c, now)
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
		if now.Before(l.next) || now.Before(l.retryAt) {
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
		variant := AssignVariant(c.id, m.ct.id, c.c.Variants)
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
