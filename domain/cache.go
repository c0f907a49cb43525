package domain

import "sync"

// StateCache keeps aggregate states between commands, so a command on a
// long stream reads only the events appended since its state was cached.
// It is safe for concurrent use. States are values the deciders never
// mutate (Evolve copies maps before changing them), so sharing them is
// safe. A cache that is full drops about a tenth of its entries.
type StateCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]cached
}

type cached struct {
	state   any
	version uint64
	subject string // whose personal data the state may hold
}

// NewStateCache returns a cache of at most max streams (default 100 000).
func NewStateCache(max int) *StateCache {
	if max <= 0 {
		max = 100_000
	}
	return &StateCache{max: max, entries: map[string]cached{}}
}

func (c *StateCache) get(stream string) (any, uint64, bool) {
	if c == nil {
		return nil, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[stream]
	return e.state, e.version, ok
}

func (c *StateCache) put(stream, subject string, state any, version uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[stream]; ok && old.version > version {
		return // a newer state is cached already
	}
	if len(c.entries) >= c.max {
		n := c.max / 10
		for k := range c.entries {
			if n--; n < 0 {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[stream] = cached{state, version, subject}
}

func (c *StateCache) drop(stream string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.entries, stream)
	c.mu.Unlock()
}

// dropSubject forgets every state holding a subject's personal data (after
// the subject is erased).
func (c *StateCache) dropSubject(subject string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.subject == subject {
			delete(c.entries, k)
		}
	}
}

// Len is the number of cached streams.
func (c *StateCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
