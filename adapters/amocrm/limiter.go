package amocrm

import (
	"context"
	"sync"
	"time"
)

// Limiter lets at most rate requests start in any one second (a sliding
// window: a request starts no earlier than a second after the one rate
// requests before it). A token bucket of rate tokens would allow twice
// rate in the first second (the full bucket, then the refill); amoCRM
// counts requests per second, so the window is the stricter choice and
// still allows a burst of rate. Wait reserves the next start and sleeps
// until it on the Limiter's Clock, so concurrent callers are spaced, not
// refused.
type Limiter struct {
	mu     sync.Mutex
	clock  Clock
	starts []time.Time // the last rate starts, a ring
	next   int
	last   time.Time
}

// NewLimiter returns a limiter of rate requests a second.
func NewLimiter(rate int, clock Clock) *Limiter {
	return &Limiter{clock: clock, starts: make([]time.Time, max(rate, 1))}
}

// Wait reserves the next start and sleeps until it; it returns ctx's
// error if ctx ends first (the start stays reserved: that only slows
// later callers down).
func (l *Limiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	now := l.clock.Now()
	start := now
	if s := l.starts[l.next]; !s.IsZero() && s.Add(time.Second).After(start) {
		start = s.Add(time.Second)
	}
	if l.last.After(start) {
		start = l.last
	}
	l.starts[l.next] = start
	l.next = (l.next + 1) % len(l.starts)
	l.last = start
	l.mu.Unlock()
	if wait := start.Sub(now); wait > 0 {
		return l.clock.Sleep(ctx, wait)
	}
	return ctx.Err()
}
