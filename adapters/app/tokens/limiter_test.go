package tokens_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/tokens"
)

// A token's bucket holds Burst requests and refills at PerSecond; when
// it is empty, Allow says how long until the next request may go, and
// that request then goes. Tokens do not share buckets.
func TestLimiter(t *testing.T) {
	c := &clock{t: t0}
	l := tokens.NewLimiter(tokens.Rate{PerSecond: 2, Burst: 3}, c.Now)
	a, b := uuid.New(), uuid.New()
	allow := func(id uuid.UUID) (bool, time.Duration) { return l.Allow(id) }
	for i := range 3 {
		if ok, _ := allow(a); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := allow(a)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("past the burst: %v, retry after %v; want refused, 500ms", ok, wait)
	}
	if ok, _ := allow(b); !ok {
		t.Fatal("another token is limited by the first's requests")
	}
	c.Add(200 * time.Millisecond)
	if ok, wait := allow(a); ok || wait != 300*time.Millisecond {
		t.Fatalf("200ms later: %v, %v; want refused, 300ms", ok, wait)
	}
	c.Add(300 * time.Millisecond)
	if ok, _ := allow(a); !ok {
		t.Fatal("refused when Retry-After said it may go")
	}
	if ok, _ := allow(a); ok {
		t.Fatal("two requests from one refill")
	}
	c.Add(time.Hour) // refills to the burst, no more
	for i := range 4 {
		if ok, _ := allow(a); ok != (i < 3) {
			t.Fatalf("after an hour, request %d: %v", i+1, ok)
		}
	}
	c.Add(-time.Hour) // a clock set back refills nothing
	if ok, _ := allow(a); ok {
		t.Fatal("a clock set back refilled the bucket")
	}
}

func TestLimiterUnlimitedAndConcurrent(t *testing.T) {
	c := &clock{t: t0}
	free := tokens.NewLimiter(tokens.Rate{}, c.Now)
	for range 1000 {
		if ok, _ := free.Allow(uuid.Nil); !ok {
			t.Fatal("a zero rate limits")
		}
	}
	l := tokens.NewLimiter(tokens.Rate{PerSecond: 1, Burst: 50}, c.Now)
	id := uuid.New()
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if ok, _ := l.Allow(id); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 50 {
		t.Fatalf("%d of 200 concurrent requests allowed; want the burst, 50", allowed)
	}
}
