package accounts

import (
	"cmp"
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/eventstore"
)

// What the service folded from the log, as a snapshot
// (eventstore.Snapshots): the accounts with their open dialogs, the
// messages they still have to send and the counts of those planned, sent
// and failed, and every dialog's account, contact
// and number. The peer links are left out: they are a cache that falls
// back to the index streams.

// snapshotName and snapshotVersion name the service's snapshots; bump
// the version when folded differs.
const (
	snapshotName    = "accounts"
	snapshotVersion = 1
)

type folded struct {
	Accounts []foldedAccount
	Dialogs  []foldedDialog
}

type foldedAccount struct {
	ID            uuid.UUID
	Label, Zone   string
	Lost, Removed bool
	Open          int
	Queue         []foldedItem
	// Outbound messages planned, sent and failed over the whole log.
	Planned, Sent, Failed int
}

type foldedItem struct {
	Dialog   uuid.UUID
	RandomID int64
}

type foldedDialog struct {
	ID, Account, Contact uuid.UUID
	N                    int64
	Open                 bool
}

// fold copies what the service knows; the caller holds s.mu. The copy is
// sorted, so equal states encode to equal bytes.
func (s *Service) fold() folded {
	var f folded
	for _, a := range s.accounts {
		fa := foldedAccount{ID: a.id, Label: a.label, Zone: a.loc.String(), Lost: a.lost, Removed: a.removed, Open: a.open,
			Planned: a.planned, Sent: a.sent, Failed: a.failed}
		for _, it := range a.queue {
			fa.Queue = append(fa.Queue, foldedItem{Dialog: it.dialog, RandomID: it.randomID})
		}
		f.Accounts = append(f.Accounts, fa)
	}
	for id, d := range s.dialogs {
		f.Dialogs = append(f.Dialogs, foldedDialog{ID: id, Account: d.account, Contact: d.contact, N: d.n, Open: d.open})
	}
	slices.SortFunc(f.Accounts, func(a, b foldedAccount) int { return cmp.Compare(a.ID.String(), b.ID.String()) })
	slices.SortFunc(f.Dialogs, func(a, b foldedDialog) int {
		return cmp.Or(cmp.Compare(a.N, b.N), cmp.Compare(a.ID.String(), b.ID.String()))
	})
	return f
}

// unfold puts a snapshot's state in place of what the service knows,
// before it follows the log; the caller holds s.mu.
func (s *Service) unfold(state []byte) error {
	var f folded
	if err := eventstore.DecodeState("accounts", state, &f); err != nil {
		return err
	}
	for _, fa := range f.Accounts {
		a := &account{id: fa.ID, label: fa.Label, loc: location(fa.Zone), lost: fa.Lost, removed: fa.Removed, open: fa.Open, kick: make(chan struct{}, 1),
			planned: fa.Planned, sent: fa.Sent, failed: fa.Failed}
		for _, it := range fa.Queue {
			a.queue = append(a.queue, outItem{dialog: it.Dialog, randomID: it.RandomID})
		}
		s.accounts[a.id] = a
		if f, ok := s.leases[a.id]; ok {
			a.fence, a.held = &f, true
		}
	}
	for _, d := range f.Dialogs {
		s.dialogs[d.ID] = dialogRef{account: d.Account, contact: d.Contact, n: d.N, open: d.Open}
		if d.Open {
			s.openBy[d.Contact] = d.N
		}
	}
	return nil
}

// snapshot saves what the service folded up to sub's position, when one
// is due or force.
func (s *Service) snapshot(ctx context.Context, w *eventstore.Snapshotter, sub *eventstore.Subscription, force bool) {
	w.Save(ctx, sub.Position()-1, force, func() ([]byte, error) {
		s.mu.Lock()
		f := s.fold()
		s.mu.Unlock()
		return eventstore.EncodeState("accounts", f)
	})
}
