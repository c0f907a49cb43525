package campaigns_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/campaigns"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// clock is a fake clock the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// world is a log in memory, the command handlers on it, a fake opener
// and a scheduler, all on a fake clock.
type world struct {
	t       *testing.T
	ctx     context.Context
	clock   *clock
	store   *eventstore.MemoryStore
	ev      *eventlog.Log
	h       domain.Handlers
	opener  *opener
	sched   *campaigns.Scheduler
	rng     *rand.Rand
	mu      sync.Mutex
	notices []string              // kind: text
	snaps   *eventstore.Snapshots // the schedulers'
}

func newWorld(t *testing.T, start time.Time, seed uint64) *world {
	t.Helper()
	clk := &clock{t: start}
	st, err := eventstore.NewMemory(eventstore.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ev := eventlog.New(st)
	w := &world{t: t, ctx: context.Background(), clock: clk, store: st, ev: ev, rng: rand.New(rand.NewPCG(seed, seed+1))}
	w.h = domain.Handlers{Log: ev, Index: domain.NewIndexKey(st.IndexKey()), Now: clk.Now, Cache: domain.NewStateCache(0)}
	w.snaps = &eventstore.Snapshots{Store: st, Secrets: st, Every: 20}
	w.opener = &opener{h: w.h, locs: map[uuid.UUID]*time.Location{}, open: map[uuid.UUID]uuid.UUID{}}
	w.sched = w.newScheduler(w.h)
	return w
}

// newScheduler is a new scheduler on the world's log (as after a
// restart). It saves a snapshot at a step that follows 20 events or more
// and starts from the last one, so a restart reads only the events since.
func (w *world) newScheduler(h domain.Handlers) *campaigns.Scheduler {
	w.t.Helper()
	s, err := campaigns.New(campaigns.Config{Store: w.store, Decode: w.ev.Decode, H: h, Opener: w.opener, Now: w.clock.Now,
		Snapshots: w.snaps,
		Notify: func(kind, text string) {
			w.mu.Lock()
			w.notices = append(w.notices, kind+": "+text)
			w.mu.Unlock()
		}})
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) step() {
	w.t.Helper()
	if err := w.sched.Step(w.ctx); err != nil {
		w.t.Fatal(err)
	}
}

// id is a UUID from the world's seeded generator, so runs repeat.
func (w *world) id() uuid.UUID {
	id, err := uuid.NewRandomFromReader(readerFunc(func(p []byte) (int, error) {
		for i := range p {
			p[i] = byte(w.rng.UintN(256))
		}
		return len(p), nil
	}))
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func (w *world) addAccount(label string, l domain.Limits) uuid.UUID {
	w.t.Helper()
	id := w.id()
	if _, err := w.h.Account(w.ctx, id, domain.RegisterAccount{AccountID: id, Label: label, Limits: l}); err != nil {
		w.t.Fatal(err)
	}
	loc, err := time.LoadLocation(l.TimeZone)
	if err != nil {
		w.t.Fatal(err)
	}
	w.opener.mu.Lock()
	w.opener.locs[id] = loc
	w.opener.mu.Unlock()
	return id
}

func (w *world) addContact(n int, tags ...string) uuid.UUID {
	w.t.Helper()
	id := w.id()
	if _, err := w.h.Contact(w.ctx, id, domain.AddContact{ContactID: id, Source: domain.SourceImport, Basis: domain.BasisLegitimateInterest,
		Username: fmt.Sprintf("lead_%05d", n), Tags: tags, Import: "imp-0193a0c0-0000-7000-8000-000000000001"}); err != nil {
		w.t.Fatal(err)
	}
	return id
}

func (w *world) optOut(id uuid.UUID) {
	w.t.Helper()
	if _, err := w.h.Contact(w.ctx, id, domain.OptOutContact{Reason: "stop", By: "lead"}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) account(id uuid.UUID, cmd domain.AccountCommand) {
	w.t.Helper()
	if _, err := w.h.Account(w.ctx, id, cmd); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) createCampaign(cmd domain.CreateCampaign) uuid.UUID {
	w.t.Helper()
	if cmd.CampaignID == uuid.Nil {
		cmd.CampaignID = w.id()
	}
	if cmd.Name == "" {
		cmd.Name = "Q1 outreach"
	}
	if cmd.Scenario == "" {
		cmd.Scenario = "acme"
	}
	if len(cmd.Variants) == 0 {
		cmd.Variants = []domain.VariantWeight{{Name: "A", Weight: 1}}
	}
	if _, err := w.h.Campaign(w.ctx, cmd.CampaignID, cmd); err != nil {
		w.t.Fatal(err)
	}
	return cmd.CampaignID
}

func (w *world) campaignCmd(id uuid.UUID, cmd domain.CampaignCommand) {
	w.t.Helper()
	if _, err := w.h.Campaign(w.ctx, id, cmd); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) noticed(kind string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, s := range w.notices {
		if len(s) > len(kind) && s[:len(kind)+1] == kind+":" {
			n++
		}
	}
	return n
}

// recorded is an event of the log with where and when it was recorded.
type recorded struct {
	e      domain.Event
	stream string
	at     time.Time
}

// events reads the whole log.
func (w *world) events() []recorded {
	w.t.Helper()
	var out []recorded
	for pos := uint64(1); ; {
		recs, err := w.store.ReadAll(w.ctx, pos, 4096)
		if err != nil {
			w.t.Fatal(err)
		}
		if len(recs) == 0 {
			return out
		}
		for i := range recs {
			e, err := w.ev.Decode(&recs[i])
			if err != nil {
				w.t.Fatal(err)
			}
			out = append(out, recorded{e, recs[i].Stream, recs[i].RecordedAt})
			pos = recs[i].Position + 1
		}
	}
}

func dialogs(evs []recorded) []recorded {
	var out []recorded
	for _, r := range evs {
		if _, ok := r.e.(domain.DialogStarted); ok {
			out = append(out, r)
		}
	}
	return out
}

// opener opens dialogs as accounts.CampaignOpener does, in the same
// order: the account first (may it open a dialog now? the domain decides
// on caps, ramp, hours, pauses and restrictions), then the contact (may
// it be written to? is it in a dialog already?), then a new-dialog slot
// of that account and the dialog with the campaign and the variant. It
// records every call, and a call for a contact that may not be written
// to as a violation of the scheduler's rules. It passes the Opener
// contract suite (opener_test.go), as the real one does.
type opener struct {
	h          domain.Handlers
	mu         sync.Mutex
	locs       map[uuid.UUID]*time.Location
	open       map[uuid.UUID]uuid.UUID // contact → the last dialog opened with it
	calls      []campaigns.OpenRequest
	violations []string
	// before, if set, runs first and may fail the call.
	before func(campaigns.OpenRequest) error
}

var _ campaigns.Opener = (*opener)(nil)

func (o *opener) Open(ctx context.Context, r campaigns.OpenRequest) (int64, error) {
	o.mu.Lock()
	o.calls = append(o.calls, r)
	loc, before, last := o.locs[r.Account], o.before, o.open[r.Contact]
	o.mu.Unlock()
	if before != nil {
		if err := before(r); err != nil {
			return 0, err
		}
	}
	if r.Campaign == uuid.Nil || r.Contact == uuid.Nil || r.Account == uuid.Nil {
		return 0, errors.New("opener: a campaign dialog needs a campaign, a contact and an account")
	}
	// The account first, as PickAccount: may it open one now?
	a, err := o.h.AccountNow(ctx, r.Account, loc)
	if err != nil {
		return 0, err
	}
	if _, err := domain.DecideAccount(a, domain.ReserveNewDialog{DialogID: uuid.New(), Loc: loc}, o.h.Now()); err != nil {
		return 0, err
	}
	c, err := o.h.LoadContact(ctx, r.Contact)
	if err != nil {
		return 0, err
	}
	if err := c.Contactable(); err != nil {
		o.mu.Lock()
		o.violations = append(o.violations, fmt.Sprintf("Open called for contact %s: %v", r.Contact, err))
		o.mu.Unlock()
		return 0, fmt.Errorf("%w: %w", campaigns.ErrContact, err)
	}
	if last != uuid.Nil {
		d, err := o.h.LoadDialog(ctx, last)
		if err != nil {
			return 0, err
		}
		if d.Stage != domain.StageClosed {
			return 0, fmt.Errorf("%w: in dialog %d already", campaigns.ErrContact, d.N)
		}
	}
	dialog := uuid.New()
	if _, err := o.h.Account(ctx, r.Account, domain.ReserveNewDialog{DialogID: dialog, Loc: loc}); err != nil {
		return 0, err
	}
	n, err := o.h.NextDialogNumber(ctx, dialog)
	if err != nil {
		return 0, err
	}
	if _, err := o.h.Dialog(ctx, dialog, c.ID, domain.StartDialog{DialogID: dialog, N: n, Contact: c, AccountID: r.Account,
		Variant: r.Variant, By: "campaign:" + r.Campaign.String(), Campaign: r.Campaign}); err != nil {
		return 0, err
	}
	o.mu.Lock()
	o.open[r.Contact] = dialog
	o.mu.Unlock()
	return n, nil
}

func (o *opener) violated() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.violations...)
}

func (o *opener) opened() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.calls)
}
