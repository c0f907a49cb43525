package contacts

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress draws an import's progress (Options.Progress) on w: on a
// terminal one line redrawn with \r at most every 200 ms, elsewhere a line
// every 10%. Update is safe for concurrent use; a nil *Progress draws
// nothing.
type Progress struct {
	w        io.Writer
	what     string
	terminal bool
	start    time.Time
	mu       sync.Mutex
	last     time.Time
	step     int // the last 10% step printed
}

// NewProgress draws the progress of what ("import") on w, a terminal or
// not.
func NewProgress(w io.Writer, what string, terminal bool) *Progress {
	return &Progress{w: w, what: what, start: time.Now(), terminal: terminal}
}

// Update draws that done of total rows are recorded.
func (p *Progress) Update(done, total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := func() string {
		took := time.Since(p.start)
		rate := float64(done) / max(took.Seconds(), 1e-9)
		eta := time.Duration(0)
		if rate > 0 && total > done {
			eta = time.Duration(float64(total-done) / rate * float64(time.Second))
		}
		return fmt.Sprintf("%s: %d/%d rows (%d%%), %.0f rows/s, ETA %s", p.what, done, total, done*100/max(total, 1), rate, eta.Round(time.Second))
	}
	if p.terminal {
		if time.Since(p.last) >= 200*time.Millisecond || done == total {
			p.last = time.Now()
			fmt.Fprintf(p.w, "\r%s\033[K", line())
		}
		return
	}
	if step := done * 10 / max(total, 1); step > p.step {
		p.step = step
		fmt.Fprintln(p.w, line())
	}
}

// Finish ends the redrawn line on a terminal.
func (p *Progress) Finish() {
	if p != nil && p.terminal {
		fmt.Fprintln(p.w)
	}
}
