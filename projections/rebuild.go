package projections

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrReset: a rebuild could not drop the read models (Sink.Reset); the
// error Rebuild returns wraps the sink's as well. Nothing was projected.
var ErrReset = errors.New("reset read models")

// Progress is how far a rebuild is: the position applied, the log's head
// and the time since the rebuild began.
type Progress struct {
	Done, Head uint64
	Took       time.Duration
}

// Rate is the events applied a second.
func (p Progress) Rate() float64 { return float64(p.Done) / max(p.Took.Seconds(), 1e-9) }

// String is the progress for the operator: position / head, percentage,
// rate and the time left at that rate.
func (p Progress) String() string {
	pct := 100.0
	if p.Head > 0 {
		pct = 100 * float64(p.Done) / float64(p.Head)
	}
	eta := time.Duration(0)
	if rate := p.Rate(); rate > 0 && p.Head > p.Done {
		eta = time.Duration(float64(p.Head-p.Done) / rate * float64(time.Second))
	}
	return fmt.Sprintf("%d/%d events (%.1f%%), %.0f events/s, ETA %s", p.Done, p.Head, pct, p.Rate(), eta.Round(time.Second))
}

// Rebuild drops the read models in r.Sink (Sink.Reset) and projects the
// whole log into them again with r.CatchUp, which binds them to the log
// first. progress, if not nil, hears how far it is after the first batch,
// then after a batch at most once every interval, and after the batch
// that reaches the head; Rebuild sets r.Progress for that. It returns
// where it ended (Took counts from after the reset), and CatchUp's
// errors or one matching ErrReset.
func Rebuild(ctx context.Context, r Runner, interval time.Duration, progress func(Progress)) (Progress, error) {
	if err := r.Sink.Reset(ctx); err != nil {
		return Progress{}, fmt.Errorf("%w: %w", ErrReset, err)
	}
	start, last := time.Now(), time.Time{}
	r.Progress = func(done, head uint64) {
		if progress != nil && (last.IsZero() || time.Since(last) >= interval || done >= head) {
			last = time.Now()
			progress(Progress{Done: done, Head: head, Took: time.Since(start)})
		}
	}
	pos, err := r.CatchUp(ctx)
	return Progress{Done: pos, Head: r.Store.Head(), Took: time.Since(start)}, err
}
