// Package crmtest is what the CRM connectors' fakes (amocrmtest,
// bitrix24test, hubspottest) share: the fake Clock, the queue of faults
// to inject (Faults), the dropped answer (DropConnection) and the strict
// reading of a request's JSON (Strict, StrictNumbers).
package crmtest

import (
	"context"
	"sync"
	"time"
)

// Clock is a fake clock for a connector's client (amocrm.Options.Clock,
// ...): Sleep moves it on at once and records how long it was asked to
// wait, so tests of pacing and backoff take no time and assert no timing.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep moves the clock on by d (unless ctx ended).
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

// Slept is every wait asked for, in order.
func (c *Clock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}
