package main

import (
	"context"
	"flag"
	"time"

	"github.com/salesbot/salesbot/adapters/cluster"
)

func clusterCommand() *command {
	var o cluster.StatusOptions
	return &command{name: "cluster", summary: "the nodes that share a log on NATS JetStream", sub: []*command{{
		name: "status", noArgs: true,
		summary: "show the live nodes of a log on JetStream (applied position, lag, leases held) and its account leases",
		flags:   func(fs *flag.FlagSet, a *app) func() error { o.Flags(fs, a.getenv); return o.Check },
		run:     func(ctx context.Context, a *app, _ []string) error { return o.Print(ctx, a.stdout, time.Now()) },
	}}}
}
