package webhooks

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/domain"
)

// The command line's `salesbot webhooks add|list|remove|replay`: each
// subcommand's options and what it does on a Service, for cmd/salesbot
// to wire (through the running server, or on the data dir).

// Command is one `salesbot webhooks` subcommand.
type Command struct {
	Name, Summary string
	Usage         string // after "salesbot webhooks NAME"
	// Flags registers its options on fs and returns their check, run
	// once fs is parsed.
	Flags func(fs *flag.FlagSet) func() error
	// Run does it on svc for by (cli), printing to out.
	Run func(ctx context.Context, svc *Service, args []string, out, errOut io.Writer, by string) error
}

// Commands are the subcommands, each with its own options.
func Commands() []Command {
	return []Command{addCommand(), listCommand(), removeCommand(), replayCommand()}
}

// usage is a usage error naming the option (or argument) a refusal is
// about, else the refusal.
func usage(err error) error {
	if domain.ErrorCode(err) != domain.EINVALID {
		return err
	}
	if f := domain.ErrorField(err); f != "" && f != "webhook" {
		return cli.Usagef("--%s: %v", f, err)
	}
	return cli.Usagef("%v", err)
}

func addCommand() Command {
	var url, events string
	var personal, asJSON bool
	return Command{Name: "add", Summary: "subscribe a URL to events; prints the signing secret once",
		Flags: func(fs *flag.FlagSet) func() error {
			fs.StringVar(&url, "url", "", "where to POST the events: an http(s) `URL` (required; private addresses need run's --webhooks-allow-private)")
			fs.StringVar(&events, "events", "", "the event `types`, comma-separated: "+strings.Join(eventNames(), ", ")+" (required)")
			fs.BoolVar(&personal, "personal", false, "payloads carry personal fields (usernames, names, message texts)")
			fs.BoolVar(&asJSON, "json", false, "print JSON")
			return func() error {
				if url == "" || events == "" {
					return cli.Usagef("--url and --events are required")
				}
				return nil
			}
		},
		Run: func(ctx context.Context, svc *Service, args []string, out, errOut io.Writer, by string) error {
			if len(args) > 0 {
				return cli.Usagef("webhooks add takes no arguments, only options")
			}
			a, err := svc.Add(ctx, AddRequest{URL: url, Events: strings.Split(events, ","), Personal: personal, By: by})
			if err != nil {
				return usage(err)
			}
			fmt.Fprintf(errOut, "subscribed %s to %s; its signing secret is shown only now: give it to the receiver\n", a.Webhook.ID, a.Webhook.Target)
			if asJSON {
				return cli.WriteJSON(out, struct {
					ID     string `json:"id"`
					Secret string `json:"secret"`
				}{a.Webhook.ID.String(), a.Secret.Reveal()})
			}
			_, err = fmt.Fprintln(out, a.Secret.Reveal())
			return err
		}}
}

func eventNames() []string {
	all := domain.WebhookEvents()
	out := make([]string, len(all))
	for i, e := range all {
		out[i] = string(e)
	}
	return out
}

func listCommand() Command {
	var asJSON bool
	return Command{Name: "list", Summary: "list the webhook subscriptions and how their delivery goes",
		Flags: func(fs *flag.FlagSet) func() error {
			fs.BoolVar(&asJSON, "json", false, "print JSON")
			return nil
		},
		Run: func(ctx context.Context, svc *Service, _ []string, out, _ io.Writer, _ string) error {
			vs, err := svc.List(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return cli.WriteJSON(out, vs)
			}
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tTARGET\tEVENTS\tPERSONAL\tCHECKPOINT\tLAST ERROR")
			for _, v := range vs {
				last := v.LastError
				if v.Status == StatusDisabled {
					last = fmt.Sprintf("%s (stuck at %d)", v.DisableReason, v.StuckAt)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%t\t%d\t%s\n", v.ID, v.Status, v.Target, len(v.Events), v.Personal, v.Checkpoint, last)
			}
			return tw.Flush()
		}}
}

func removeCommand() Command {
	return Command{Name: "remove", Summary: "end a webhook subscription for good", Usage: " ID",
		Flags: func(*flag.FlagSet) func() error { return nil },
		Run: func(ctx context.Context, svc *Service, args []string, out, _ io.Writer, by string) error {
			v, err := find(ctx, svc, args)
			if err == nil {
				err = svc.Remove(ctx, v.ID, by)
			}
			if err != nil {
				return usage(err)
			}
			_, err = fmt.Fprintf(out, "removed webhook %s to %s\n", v.ID, v.Target)
			return err
		}}
}

func replayCommand() Command {
	var from uint64
	return Command{Name: "replay", Summary: "deliver a subscription's events again from a log position (and enable it if disabled)", Usage: " ID",
		Flags: func(fs *flag.FlagSet) func() error {
			fs.Uint64Var(&from, "from", 0, "the log `position` to deliver again from (required; a disabled one: its stuck position)")
			return func() error {
				if from == 0 {
					return cli.Usagef("--from is required: a log position, 1 or more")
				}
				return nil
			}
		},
		Run: func(ctx context.Context, svc *Service, args []string, out, _ io.Writer, by string) error {
			v, err := find(ctx, svc, args)
			if err == nil {
				err = svc.Replay(ctx, v.ID, from, by)
			}
			if err != nil {
				return usage(err)
			}
			_, err = fmt.Fprintf(out, "webhook %s to %s delivers again from position %d\n", v.ID, v.Target, from)
			return err
		}}
}

// find is the subscription the one argument names.
func find(ctx context.Context, svc *Service, args []string) (View, error) {
	if len(args) != 1 {
		return View{}, cli.Usagef("give one webhook: its id, or the beginning of it (see 'salesbot webhooks list')")
	}
	return svc.Find(ctx, args[0])
}
