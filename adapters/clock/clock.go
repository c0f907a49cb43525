// Package clock is waiting on the wall clock, for the adapters: the domain
// reads no clock, so this cannot live there. It imports nothing of
// salesbot, so every edge and application service may use it.
package clock

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx ends: then it returns context.Cause(ctx),
// at once if ctx has ended already (also when d <= 0). It returns nil
// when d has passed.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
