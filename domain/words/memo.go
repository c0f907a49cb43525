package words

import "sync"

// A guard compares every reply with the same long texts (the knowledge
// base, the scenario's own texts): deriving their figures and contact
// points again on each turn was most of a turn's time (the regexes over
// a few kilobytes, about 30 ms a turn on the offline engine). memo keeps
// what was derived from each such text; it is a cache only, so a result
// never depends on it. A text is a key as it is (a new knowledge base is
// a new key); at most memoMax texts are kept, and the map starts over
// when it is full (there are a handful: one per scenario and language).
type memo[V any] struct {
	mu sync.Mutex
	m  map[string]V
}

// memoMax bounds the texts a memo keeps.
const memoMax = 64

// memoMin: shorter texts are derived each time (cheap, and too many).
const memoMin = 256

func (c *memo[V]) get(text string, derive func(string) V) V {
	if len(text) < memoMin {
		return derive(text)
	}
	c.mu.Lock()
	v, ok := c.m[text]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = derive(text) // outside the lock: two callers may both derive, alike
	c.mu.Lock()
	if c.m == nil || len(c.m) >= memoMax {
		c.m = map[string]V{}
	}
	c.m[text] = v
	c.mu.Unlock()
	return v
}

var (
	knownFigures  memo[[]Figure]        // Ungrounded's knowledge; read only
	knownContacts memo[map[string]bool] // UnstatedContacts' stated; read only
)
