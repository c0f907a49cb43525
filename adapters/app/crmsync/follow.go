package crmsync

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/clock"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// Store is what a Follower needs of the event store: the log and its
// sealed values (where the Follower keeps its place).
type Store interface {
	eventstore.Store
	eventstore.Secrets
}

// Follower pushes dialogs to one CRM as they become worth a lead: it
// follows the log and runs Sync for the dialog of every event that
// Triggers, in log order. A Sync that fails (the CRM down, a rate limit,
// a refused token) is tried again, with a growing wait, until it
// succeeds: the Follower does not go past it, so nothing is skipped and
// the CRM sees dialogs in the order they qualified. Its place in the log
// is kept sealed in the store, so a restart goes on from there; a
// Follower's first start begins at the log's head (a CRM connected today
// gets today's leads, not every dialog of the past).
type Follower struct {
	Store   Store
	Service Service
	CRM     CRM
	// MinWait and MaxWait bound the wait between failed attempts (0: 5 s
	// and 5 min).
	MinWait, MaxWait time.Duration
	Log              *slog.Logger // nil: discard
	// Sleep waits d or until ctx ends; nil: a timer (tests pass their
	// own).
	Sleep func(ctx context.Context, d time.Duration) error
}

// triggers are the types of the events that Triggers (decoded only
// those).
var triggers = map[string]bool{domain.HandoffRequested{}.EventType(): true, domain.QualificationUpdated{}.EventType(): true}

// Run follows the log until ctx ends (then it returns nil) or the store
// fails.
func (f Follower) Run(ctx context.Context) error {
	log := f.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("crm", f.CRM.Name())
	pos, err := f.place(ctx)
	if err != nil {
		return err
	}
	follow := eventstore.Subscribe(f.Store, pos+1, 256)
	for {
		recs, err := follow.Next(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("crmsync %s: follow the log: %w", f.CRM.Name(), err)
		}
		for i := range recs {
			r := &recs[i]
			if id, ok := domain.AggregateDialog.ID(r.Stream); ok && triggers[r.Type] {
				if err := f.sync(ctx, log, id, r.Position); err != nil { // ctx ended
					return f.save(ctx, pos) // what was pushed before it is not pushed again
				}
			}
			pos = r.Position
		}
		if err := f.save(ctx, pos); err != nil {
			return err
		}
	}
}

// sync runs Sync for dialog id until it succeeds or says the dialog is
// no lead (not ready, erased, gone); it returns an error only when ctx
// ended.
func (f Follower) sync(ctx context.Context, log *slog.Logger, id uuid.UUID, pos uint64) error {
	sleep := f.Sleep
	if sleep == nil {
		sleep = clock.Sleep
	}
	minWait, maxWait := cmp.Or(f.MinWait, 5*time.Second), cmp.Or(f.MaxWait, 5*time.Minute)
	for delay := minWait; ; delay = min(2*delay, maxWait) {
		d, err := f.Service.H.LoadDialog(ctx, id)
		if err == nil {
			var res Result
			res, err = f.Service.Sync(ctx, f.CRM, d.N)
			switch {
			case err == nil:
				if res.Created || res.Found || res.Noted {
					log.Info("crm: dialog pushed", "dialog", d.N, "lead", res.Link.CRMLeadID, "created", res.Created, "noted", res.Noted)
				}
				return nil
			case errors.Is(err, ErrNotReady), errors.Is(err, ErrForgotten), errors.Is(err, ErrUnknownDialog):
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Warn("crm: a dialog could not be pushed; trying again", "dialog", d.N, "position", pos, "in", delay, "err", err)
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// placeName names the Follower's place among the store's sealed values.
func (f Follower) placeName() string { return "crmsync/" + f.CRM.Name() + "/checkpoint" }

// place is where the Follower stopped; at its first start, the log's
// head (kept at once).
func (f Follower) place(ctx context.Context) (uint64, error) {
	b, err := f.Store.Secret(ctx, f.placeName())
	if errors.Is(err, eventstore.ErrNotFound) {
		head := f.Store.Head()
		return head, f.save(ctx, head)
	}
	var pos uint64
	if err == nil {
		err = json.Unmarshal(b, &pos)
	}
	if err != nil {
		return 0, fmt.Errorf("crmsync %s: read the checkpoint: %w", f.CRM.Name(), err)
	}
	return pos, nil
}

func (f Follower) save(ctx context.Context, pos uint64) error {
	b, _ := json.Marshal(pos)
	if err := f.Store.PutSecretNoSync(context.WithoutCancel(ctx), f.placeName(), b); err != nil {
		return fmt.Errorf("crmsync %s: keep the checkpoint: %w", f.CRM.Name(), err)
	}
	return nil
}
