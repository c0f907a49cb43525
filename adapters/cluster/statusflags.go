package cluster

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
	"github.com/salesbot/salesbot/eventstore"
)

// StatusOptions are the options of 'salesbot cluster status'.
type StatusOptions struct {
	Log  string // nats://host:4222/NAME
	JSON bool
}

// Flags registers the options on fs; --log defaults to $SALESBOT_LOG_URL.
func (o *StatusOptions) Flags(fs *flag.FlagSet, getenv func(string) string) {
	datadir.LogFlag(fs, &o.Log, getenv)
	fs.BoolVar(&o.JSON, "json", false, "print one JSON document")
}

// Check refuses a missing or malformed --log as a usage error.
func (o *StatusOptions) Check() error {
	if _, err := eventstore.ParseLogURL(o.Log); err != nil {
		return cli.Usagef("--log (%s): %v", datadir.LogURLEnv, err)
	}
	return nil
}

// Print writes the log's Status to w, as text (uptimes at now) or JSON.
func (o *StatusOptions) Print(ctx context.Context, w io.Writer, now time.Time) error {
	r, err := Status(ctx, o.Log, 0)
	if err != nil {
		return err
	}
	if o.JSON {
		return r.WriteJSON(w)
	}
	return r.WriteText(w, now)
}
