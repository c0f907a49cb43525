package campaigns

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
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
	// Owns, if set, says whether this node opens the dialogs of
	// account's lanes (several nodes on one log: the node that holds
	// the account's lease; the claim stream keeps two nodes from opening
	// one contact); nil = every lane. Leads, if set, says whether this
	// node ends the campaigns whose schedule is over (one node does);
	// nil = it does.
	Owns  func(account uuid.UUID) bool
	Leads func() bool
	Now   func() time.Time // default time.Now
	Tick  time.Duration    // how often Run steps (default 1 s)
	Log   *slog.Logger
	// Snapshots, if set, keep what the scheduler folded from the log, so
	// a restart reads only the events after the last snapshot; nil = the
	// whole log is read at every start.
	Snapshots *eventstore.Snapshots
	// Notify tells admins something ("campaign-account-paused",
	// "campaign-ended", "campaign-variant-paused"); it must not block for
	// long. Optional.
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
	snaps     *eventstore.Snapshotter // Run's
	erased    bool                    // a contact's erasure was folded since the last snapshot
	// armDialogs are the dialogs of self-optimizing campaigns (bandit.go).
	armDialogs map[uuid.UUID]*armDialog
	caught     atomic.Bool // a step read the log up to its head
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
	bandit  bandit    // its optimizer's dialogs, if it optimizes a goal
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
		zones: map[string]*time.Location{}, armDialogs: map[uuid.UUID]*armDialog{}}
	for _, e := range []domain.Event{
		domain.ContactAdded{}, domain.ContactMerged{}, domain.ContactOptedOut{}, domain.ContactForgotten{}, domain.ContactUnreachable{},
		domain.AccountRegistered{}, domain.AccountLimitsChanged{}, domain.AccountRestricted{}, domain.AccountLost{},
		domain.AccountPaused{}, domain.AccountResumed{}, domain.AccountRemoved{}, domain.AccountFloodWaited{}, domain.NewDialogReserved{},
		domain.CampaignCreated{}, domain.CampaignPaused{}, domain.CampaignResumed{}, domain.CampaignEnded{}, domain.CampaignTargeted{},
		domain.CampaignWeightsChanged{}, domain.DialogStarted{},
	} {
		s.relevant[e.EventType()] = true
	}
	return s, nil
}

// Run steps every Tick until ctx ends, and saves a snapshot when it
// stops. The first step reads the whole log, or what follows the last
// snapshot (Config.Snapshots), (and opens the claimed contacts a crash left without a dialog); each
// later one reads what was appended since.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	defer s.snapshot(context.WithoutCancel(ctx), true)
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
	if s.pos == 1 && s.snaps == nil {
		s.snaps = s.cfg.Snapshots.For(snapshotName, snapshotVersion, s.cfg.Now, s.log)
		s.pos = s.snaps.Start(ctx, s.unfold)
	}
	if err := s.catchUp(ctx); err != nil {
		return err
	}
	s.caught.Store(true)
	s.snapshot(ctx, false)
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
		s.reweight(ctx, s.campaigns[id], now)
		s.stepCampaign(ctx, s.campaigns[id], now, sharing)
	}
	return nil
}

// Caught says whether a step has read the log up to its head (Step may
// run in another goroutine): part of the running system's readiness.
func (s *Scheduler) Caught() bool { return s.caught.Load() }

func compareIDs(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) }
