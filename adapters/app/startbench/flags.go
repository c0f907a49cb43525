package startbench

import (
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/salesbot/salesbot/adapters/cli"
)

// Flags registers the options of 'salesbot bench start' that fill c.
func (c *Config) Flags(fs *flag.FlagSet) {
	cli.IntRange(fs, &c.Events, "events", 1_000_000, 1000, math.MaxInt32, "events to generate, about (`n`)")
	cli.IntRange(fs, &c.Accounts, "accounts", 100, 1, 10000, "accounts the dialogs spread over (`n`)")
	cli.IntRange(fs, &c.Concurrency, "concurrency", 64, 1, 1024, "goroutines writing the log (`n`)")
	fs.DurationVar(&c.Settle, "settle", 0, "how long each start runs after ready before its peak memory is read (`duration`, default 10s)")
	fs.BoolVar(&c.Keep, "keep", false, "keep the log, its key and the schema (their names are printed)")
}

// LineProgress is a Progress that rewrites one line of w, at most once a
// percent of each stage.
func LineProgress(w io.Writer) func(stage string, done, total int) {
	last := -1
	return func(stage string, done, total int) {
		if pct := done * 100 / max(total, 1); pct != last || done == total {
			last = pct
			fmt.Fprintf(w, "\r%s: %d/%d\x1b[K", stage, done, total)
		}
	}
}

// String is the result as text (Text).
func (r Result) String() string { return r.Text() }
