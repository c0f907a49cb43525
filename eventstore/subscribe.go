package eventstore

import (
	"context"
	"fmt"
)

// Subscription delivers every durable event from a start position on, in
// order, each exactly once: first what the log already holds, then new events
// as they become durable. It is pull-based, so a slow consumer holds back
// nothing but itself (backpressure). A Subscription is not safe for
// concurrent use.
type Subscription struct {
	store Store
	next  uint64
	batch int
}

// Subscribe starts a subscription at position from (1 = the beginning).
// batch caps the events one Next returns (default 1024).
func Subscribe(store Store, from uint64, batch int) *Subscription {
	if batch <= 0 {
		batch = 1024
	}
	return &Subscription{store: store, next: max(from, 1), batch: batch}
}

// Next blocks until at least one event at or after the subscription's
// position is durable and returns up to batch of them. It returns ctx.Err()
// when ctx ends and ErrClosed when the store closes.
func (s *Subscription) Next(ctx context.Context) ([]RecordedEvent, error) {
	for {
		evs, err := s.store.ReadAll(ctx, s.next, s.batch)
		if err != nil {
			return nil, fmt.Errorf("eventstore: subscription at position %d: %w", s.next, err)
		}
		if len(evs) > 0 {
			s.next = evs[len(evs)-1].Position + 1
			return evs, nil
		}
		if _, err := s.store.WaitHead(ctx, s.next-1); err != nil {
			return nil, err
		}
	}
}

// Position is the position the next event will have.
func (s *Subscription) Position() uint64 { return s.next }
