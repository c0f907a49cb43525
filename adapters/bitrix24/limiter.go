package bitrix24

import (
	"context"
	"sync"
	"time"
)

// Limiter is a leaky bucket like the one Bitrix24 keeps per portal:
// each request adds one to the bucket, which drains rate a second; a
// request that would overflow burst waits until there is room. Bitrix24
// answers QUERY_LIMIT_EXCEEDED when its bucket (50, draining 2 a second;
// 250 and 5 on Enterprise) overflows; ours is kept smaller (default
// burst 10) because other applications of the portal share its bucket.
// Wait reserves the next start (the generic cell rate algorithm: a
// theoretical arrival time moved on by 1/rate per request) and sleeps
// until it on the Limiter's Clock, so concurrent callers are spaced, not
// refused.
type Limiter struct {
	mu       sync.Mutex
	clock    Clock
	interval time.Duration // 1/rate
	slack    time.Duration // (burst-1) × interval
	tat      time.Time     // when the bucket is empty again
}

// NewLimiter returns a bucket draining rate requests a second that holds
// burst.
func NewLimiter(rate float64, burst int, clock Clock) *Limiter {
	if rate <= 0 {
		rate = 2
	}
	iv := time.Duration(float64(time.Second) / rate)
	return &Limiter{clock: clock, interval: iv, slack: time.Duration(max(burst, 1)-1) * iv}
}

// Wait reserves the next start and sleeps until it; it returns ctx's
// error if ctx ends first (the start stays reserved: that only slows
// later callers down).
func (l *Limiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	now := l.clock.Now()
	tat := l.tat
	if tat.Before(now) {
		tat = now
	}
	start := tat.Add(-l.slack)
	if start.Before(now) {
		start = now
	}
	l.tat = tat.Add(l.interval)
	l.mu.Unlock()
	if wait := start.Sub(now); wait > 0 {
		return l.clock.Sleep(ctx, wait)
	}
	return ctx.Err()
}
