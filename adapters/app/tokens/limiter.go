package tokens

import (
	"math"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Rate is how many requests a token may make: PerSecond on average, up
// to Burst at once (a token bucket). Zero PerSecond: no limit.
type Rate struct {
	PerSecond float64
	Burst     int
}

// DefaultRate is 10 requests a second, bursts of 50: enough for a script
// paging through dialogs or a dashboard polling a few views.
func DefaultRate() Rate { return Rate{PerSecond: 10, Burst: 50} }

// Limiter limits each token's requests to a Rate: the HTTP API asks it
// after Authenticate and answers 429 with Retry-After when it says no.
// It keeps one bucket per token it has seen (tokens are few). Safe for
// concurrent use.
type Limiter struct {
	rate Rate
	now  func() time.Time

	mu      sync.Mutex
	buckets map[uuid.UUID]*bucket
}

type bucket struct {
	tokens float64 // requests it may make now
	at     time.Time
}

// NewLimiter returns a Limiter of rate on the clock now. A Burst below 1
// is 1.
func NewLimiter(rate Rate, now func() time.Time) *Limiter {
	rate.Burst = max(rate.Burst, 1)
	return &Limiter{rate: rate, now: now, buckets: map[uuid.UUID]*bucket{}}
}

// Allow takes one request from token's bucket. When the bucket is empty
// it takes nothing and says how long until it holds a request again
// (round it up to whole seconds for Retry-After).
func (l *Limiter) Allow(token uuid.UUID) (ok bool, retryAfter time.Duration) {
	if l.rate.PerSecond <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, seen := l.buckets[token]
	if !seen {
		b = &bucket{tokens: float64(l.rate.Burst), at: now}
		l.buckets[token] = b
	}
	if elapsed := now.Sub(b.at); elapsed > 0 { // a clock set back adds nothing
		b.tokens = math.Min(float64(l.rate.Burst), b.tokens+elapsed.Seconds()*l.rate.PerSecond)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / l.rate.PerSecond * float64(time.Second)))
	return false, wait
}
