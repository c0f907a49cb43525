package logmigrate

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/eventstore"
)

// Migrate is 'salesbot log migrate': it opens the Pebble log in dir
// read-only (opts: its master key and anchor), opens the target with
// open (given the clock the target must stamp events with: Copy sets it
// to each copied event's time), copies the log (Copy), closes both and
// returns the report. Progress goes to w about once a second.
func Migrate(ctx context.Context, dir string, opts eventstore.DirOptions, open func(now func() time.Time) (Log, error), w io.Writer) (Report, error) {
	opts.ReadOnly = true
	from, err := eventstore.OpenDir(ctx, dir, opts)
	if err != nil {
		return Report{}, err
	}
	defer from.Close()
	var (
		mu sync.Mutex
		at time.Time
	)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return at
	}
	to, err := open(now)
	if err != nil {
		return Report{}, err
	}
	defer to.Close()
	last := time.Now()
	set := func(t time.Time) { mu.Lock(); at = t; mu.Unlock() }
	return Copy(ctx, from, to, set, func(done, total uint64) {
		if time.Since(last) >= time.Second || done == total {
			last = time.Now()
			fmt.Fprintf(w, "log migrate: %d/%d events copied\n", done, total)
		}
	})
}

// String is the report as 'salesbot log migrate' prints it.
func (r Report) String() string {
	return fmt.Sprintf("copied %d events in %d streams, %d secrets, %d erased subjects in %s\n"+
		"source verified: %d events, log %s, head %x\ncopy verified:   %d events, log %s, head %x",
		r.Events, r.Source.Streams, r.Secrets, r.Forgotten, r.Took.Round(time.Millisecond),
		r.Source.Events, r.Source.LogID, r.Source.HeadHash, r.Target.Events, r.Target.LogID, r.Target.HeadHash)
}

// Options are the options of 'salesbot log migrate'.
type Options struct {
	From string // the data dir whose Pebble log is copied
	To   string // the new log's URL, nats://host:4222/NAME
}

// Flags registers the options on fs.
func (o *Options) Flags(fs *flag.FlagSet) {
	fs.StringVar(&o.From, "from", "", "the data dir whose log to copy (`DIR`; its master key unless --master-key-file)")
	fs.StringVar(&o.To, "to", "", "the new, empty log: `nats://host:4222/NAME` (?replicas=3 on a cluster)")
}

// Check refuses options that name no source or no target.
func (o *Options) Check() error {
	if o.From == "" || o.To == "" {
		return cli.Usagef("give --from DIR and --to nats://host:4222/NAME")
	}
	return nil
}
