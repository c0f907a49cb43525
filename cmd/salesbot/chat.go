package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/app/system/runflags"
	"github.com/salesbot/salesbot/adapters/cli"
	"github.com/salesbot/salesbot/adapters/cli/datadir"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

func chatCommand() *command {
	var (
		eng     runflags.Engine
		variant string
		noOpen  bool
		record  bool
	)
	return &command{
		name:    "chat",
		summary: "talk to the assistant in the terminal as a lead would, to try a scenario",
		flags: func(fs *flag.FlagSet, a *app) func() error {
			eng.Register(fs, a.getenv)
			fs.StringVar(&variant, "variant", "", "the scenario's prompt `variant` to use; empty = picked by weight")
			fs.BoolVar(&noOpen, "no-opening", false, "the lead writes first (no opening message)")
			fs.BoolVar(&record, "record", false, "record the conversation in the event log of --data-dir")
			return func() error {
				if err := eng.Check(); err != nil {
					return err
				}
				if variant == "" {
					return nil
				}
				if err := eng.Scenario().CheckVariant(variant); err != nil {
					return usagef("--variant: %v", err)
				}
				return nil
			}
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) > 0 {
				return usagef("takes no arguments, got %q (type the lead's messages on standard input)", args)
			}
			return a.chat(ctx, eng, variant, !noOpen, record)
		},
	}
}

func (a *app) chat(ctx context.Context, eng runflags.Engine, variant string, opening, record bool) error {
	var store eventstore.Store
	if record {
		st, err := a.openStore(ctx, datadir.Create)
		if err != nil {
			return err
		}
		defer st.Close()
		store = st
	} else {
		mem, err := eventstore.NewMemory(eventstore.Options{})
		if err != nil {
			return err
		}
		defer mem.Close()
		store = mem
	}
	h := domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: time.Now}
	core, name, err := eng.Core(a.log, h)
	if err != nil {
		return err
	}
	conv, err := engine.Talk(ctx, core, a.stdin, a.stdout, engine.TalkOptions{Prompt: cli.IsTerminal(a.stdin), Engine: name,
		ConversationOptions: engine.ConversationOptions{Variant: variant, Opening: opening, Username: "chat"}})
	if conv != nil && errors.Is(err, context.Canceled) {
		return nil // a signal during a turn
	}
	if err == nil && record {
		fmt.Fprintf(a.stdout, "Recorded as dialog %d: salesbot replay dialog %d --data-dir %s\n", conv.N, conv.N, a.cfg.DataDir)
	}
	return err
}
