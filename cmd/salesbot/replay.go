package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

func replayCommand() *command {
	var asJSON bool
	return &command{
		name:    "replay",
		summary: "print a dialog's full history from the event log",
		usage:   " dialog N",
		details: `
Reads the log itself, not the read models: every event of dialog N in order
with its position, time, type and content (messages, stage changes,
qualification, handoffs, who acted). Personal data of an erased contact
shows as [forgotten]. With --json, one JSON object per line.`,
		flags: func(fs *flag.FlagSet, a *app) func() error {
			fs.BoolVar(&asJSON, "json", false, "one JSON object per event")
			return nil
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) != 2 || args[0] != "dialog" {
				return usagef("want 'replay dialog N', got %q", strings.Join(args, " "))
			}
			n, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || n <= 0 {
				return usagef("dialog number %q is not a positive integer", args[1])
			}
			s, err := a.openStore(ctx, readLog)
			if err != nil {
				return err
			}
			defer s.Close()
			return replayDialog(ctx, a, s, n, asJSON)
		},
	}
}

var errFound = errors.New("found")

// findDialog scans the log for the DialogStarted event numbered n.
func findDialog(ctx context.Context, s eventstore.Store, n int64) (string, error) {
	var stream string
	err := s.Scan(ctx, 1, int(min(s.Head(), 1<<62)), func(e *eventstore.RecordedEvent) error {
		if e.Type != (domain.DialogStarted{}).EventType() {
			return nil
		}
		var ds domain.DialogStarted
		if err := json.Unmarshal(e.Payload, &ds); err != nil {
			return fmt.Errorf("position %d: %w", e.Position, err)
		}
		if ds.N == n {
			stream = strings.Clone(e.Stream)
			return errFound
		}
		return nil
	})
	switch {
	case errors.Is(err, errFound):
		return stream, nil
	case err != nil:
		return "", err
	}
	return "", fmt.Errorf("no dialog %d in the log", n)
}

func replayDialog(ctx context.Context, a *app, s eventstore.Store, n int64, asJSON bool) error {
	stream, err := findDialog(ctx, s, n)
	if err != nil {
		return err
	}
	recs, err := s.ReadStream(ctx, stream, 1)
	if err != nil {
		return err
	}
	log := eventlog.New(s)
	if !asJSON {
		fmt.Fprintf(a.stdout, "dialog %d (%s): %d events\n", n, stream, len(recs))
	}
	for i := range recs {
		r := &recs[i]
		e, err := log.Decode(r)
		if err != nil {
			return err
		}
		if asJSON {
			b, err := json.Marshal(map[string]any{
				"position": r.Position, "version": r.Version, "at": r.RecordedAt, "type": r.Type,
				"event_id": r.ID, "forgotten": r.Forgotten, "data": e,
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, string(b))
			continue
		}
		fmt.Fprintf(a.stdout, "%s  #%-3d pos %-8d %-20s %s\n", r.RecordedAt.UTC().Format(time.DateTime), r.Version, r.Position, r.Type, describe(e))
	}
	return nil
}

// describe is one readable line of an event for auditors.
func describe(e domain.Event) string {
	switch e := e.(type) {
	case domain.DialogStarted:
		return fmt.Sprintf("by %s: contact %s, account %s, variant %q", e.By, e.ContactID, e.AccountID, e.Variant)
	case domain.InboundReceived:
		return fmt.Sprintf("lead: %q (telegram message %d)", e.Text, e.TelegramMessageID)
	case domain.OutboundPlanned:
		who := string(e.By)
		if e.Person != "" {
			who += " (" + e.Person + ")"
		}
		return fmt.Sprintf("%s plans: %q (random_id %d)", who, e.Text, e.RandomID)
	case domain.OutboundSent:
		return fmt.Sprintf("sent random_id %d as telegram message %d", e.RandomID, e.TelegramMessageID)
	case domain.OutboundFailed:
		return fmt.Sprintf("random_id %d failed: %s", e.RandomID, e.Reason)
	case domain.StageChanged:
		return fmt.Sprintf("%s → %s", e.From, e.To)
	case domain.HandoffRequested:
		return "reason: " + e.Reason
	case domain.DialogTakenOver:
		return "by " + e.By
	case domain.DialogReleased:
		return fmt.Sprintf("by %s, AI resumes at %s", e.By, e.To)
	case domain.DialogStopped:
		return "by " + e.By
	case domain.DialogOptedOut:
		return fmt.Sprintf("lead: %q", e.Reason)
	case domain.DialogClosed:
		return fmt.Sprintf("%s, by %s", e.Outcome, e.By)
	}
	b, _ := json.Marshal(e)
	return string(b)
}
