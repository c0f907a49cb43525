package domain

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Registry is one stream's state folded in memory, for the service that
// is the stream's one writer (the API tokens, the web sessions). Reads
// take a read lock and never wait for a write's sync; writes are
// serialised, decide at the version the registry knows and, when another
// writer got there first, catch up and decide again. S is the state (a
// value Evolve returns), C the commands Decide takes.
type Registry[S, C any] struct {
	stream  string
	log     EventLog
	decide  func(S, C, time.Time) ([]Event, error)
	evolve  func(S, Event) S
	now     func() time.Time
	retries int

	// write serialises the writes: each decides on the one stream at its
	// version, so two could not go on side by side anyway. It is held
	// across an append's sync; mu is not.
	write sync.Mutex
	// mu guards state and version: written under write and mu, read
	// under mu (or under write alone, by writers).
	mu      sync.RWMutex
	state   S
	version uint64
}

// NewRegistry folds stream of log into a registry. A write that meets
// another writer's events retries retries times (at least 1).
func NewRegistry[S, C any](ctx context.Context, stream string, log EventLog, decide func(S, C, time.Time) ([]Event, error),
	evolve func(S, Event) S, now func() time.Time, retries int) (*Registry[S, C], error) {
	r := &Registry[S, C]{stream: stream, log: log, decide: decide, evolve: evolve, now: now, retries: max(retries, 1)}
	if err := r.Refresh(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Read calls f with the state under the read lock: f must not keep it.
func (r *Registry[S, C]) Read(f func(S)) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f(r.state)
}

// Refresh reads what other writers appended to the stream since the
// registry last looked.
func (r *Registry[S, C]) Refresh(ctx context.Context) error {
	r.write.Lock()
	defer r.write.Unlock()
	return r.catchUp(ctx)
}

// catchUp applies the stream's new events; the caller holds r.write.
func (r *Registry[S, C]) catchUp(ctx context.Context) error {
	evs, v, err := r.log.LoadFrom(ctx, r.stream, r.version+1)
	if err != nil {
		return fmt.Errorf("load %s: %w", r.stream, err)
	}
	r.apply(evs, max(v, r.version))
	return nil
}

// Execute decides cmd() on the state as the registry knows it and
// appends the events at the version it knows; when another writer got
// there first it catches up and decides again (cmd is called each time).
// It returns the events appended (none when the decision was to do
// nothing).
func (r *Registry[S, C]) Execute(ctx context.Context, cmd func() C) ([]Event, error) {
	r.write.Lock()
	defer r.write.Unlock()
	for attempt := 0; ; attempt++ {
		evs, err := r.decide(r.state, cmd(), r.now())
		if err != nil || len(evs) == 0 {
			return nil, err
		}
		err = r.log.Append(ctx, r.stream, r.version, "", evs)
		if err == nil {
			r.apply(evs, r.version+uint64(len(evs)))
			return evs, nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= r.retries {
			return nil, fmt.Errorf("append to %s: %w", r.stream, err)
		}
		if err := r.catchUp(ctx); err != nil {
			return nil, err
		}
	}
}

// apply folds events into the state; the caller holds r.write.
func (r *Registry[S, C]) apply(evs []Event, version uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range evs {
		r.state = r.evolve(r.state, e)
	}
	r.version = version
}
