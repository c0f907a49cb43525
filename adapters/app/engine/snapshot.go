package engine

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// What the engine folded from the log, as a snapshot
// (eventstore.Snapshots): its open dialogs with their times, and the
// dialogs that ended. A lead's opt-out message not yet acted on is text
// a snapshot never holds: none is saved while one waits (it is acted on
// within a tick).

const (
	snapshotName    = "engine"
	snapshotVersion = 2 // 2: a closed dialog keeps its account
)

type folded struct {
	Open   []foldedTrack
	Closed []foldedClosed
}

type foldedTrack struct {
	ID, Account, Contact     uuid.UUID
	N                        int64
	ContactOut               bool
	LastIn, LastOut, RetryAt time.Time
	Failures                 int
}

type foldedClosed struct {
	ID, Account uuid.UUID
	N           int64
	Outcome     domain.Outcome
}

// fold copies what the engine knows, sorted; the caller holds e.mu.
func (e *Engine) fold() (folded, error) {
	var f folded
	for _, tr := range e.dialogs {
		if tr.optOut != "" {
			return folded{}, eventstore.ErrSnapshotLater
		}
		f.Open = append(f.Open, foldedTrack{ID: tr.id, Account: tr.account, Contact: tr.contact, N: tr.n, ContactOut: tr.contactOut,
			LastIn: tr.lastIn, LastOut: tr.lastOut, RetryAt: tr.retryAt, Failures: tr.failures})
	}
	for id, c := range e.closed {
		f.Closed = append(f.Closed, foldedClosed{ID: id, Account: c.account, N: c.n, Outcome: c.outcome})
	}
	slices.SortFunc(f.Open, func(a, b foldedTrack) int {
		return cmp.Or(cmp.Compare(a.N, b.N), cmp.Compare(a.ID.String(), b.ID.String()))
	})
	slices.SortFunc(f.Closed, func(a, b foldedClosed) int {
		return cmp.Or(cmp.Compare(a.N, b.N), cmp.Compare(a.ID.String(), b.ID.String()))
	})
	return f, nil
}

// unfold puts a snapshot's state in place of what the engine knows,
// before it follows the log; the caller holds e.mu. Every open dialog
// is looked at once, as after following the whole log.
func (e *Engine) unfold(state []byte) error {
	var f folded
	if err := eventstore.DecodeState("engine", state, &f); err != nil {
		return err
	}
	for _, t := range f.Open {
		e.track(&track{id: t.ID, account: t.Account, contact: t.Contact, n: t.N, contactOut: t.ContactOut,
			lastIn: t.LastIn, lastOut: t.LastOut, retryAt: t.RetryAt, failures: t.Failures, seq: 1})
	}
	for _, c := range f.Closed {
		e.closed[c.ID] = closedDialog{n: c.N, account: c.Account, outcome: c.Outcome}
	}
	return nil
}

// snapshot saves what the engine folded up to sub's position, when one
// is due or force.
func (e *Engine) snapshot(ctx context.Context, sub *eventstore.Subscription, force bool) {
	e.snaps.Save(ctx, sub.Position()-1, force, func() ([]byte, error) {
		e.mu.Lock()
		f, err := e.fold()
		e.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return eventstore.EncodeState("engine", f)
	})
}
