package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

func chatCommand() *command {
	var (
		eng     engineConfig
		variant string
		noOpen  bool
		record  bool
	)
	return &command{
		name:    "chat",
		summary: "talk to the assistant in the terminal as a lead would, to try a scenario",
		details: `
Each line you type (or pipe in) is one message from a lead; the assistant
answers as it would in Telegram, with the same turns and guards (opt-out,
AI disclosure, prices only from the knowledge base, handoff rules). After
each answer it prints the stage, the qualification fields with the lead's
quotes, the interest score, and any flag, guard or handoff.

It uses the LLM when one is configured (--llm-api-key or --llm-base-url,
see docs/llm.md) and the offline scenario engine otherwise. By default the
assistant writes the opening first; --no-opening starts as if the lead wrote
first. Lines: /followup takes a follow-up turn as after silence, /quit ends.

Nothing is written to the data directory unless --record is given: then
the conversation is a dialog in the log (source "manual", note "salesbot
chat") that 'salesbot replay dialog N' shows.`,
		flags: func(fs *flag.FlagSet, a *app) func() error {
			eng.register(fs, a)
			fs.StringVar(&variant, "variant", "", "the scenario's prompt `variant` to use; empty = picked by weight")
			fs.BoolVar(&noOpen, "no-opening", false, "the lead writes first (no opening message)")
			fs.BoolVar(&record, "record", false, "record the conversation in the event log of --data-dir")
			return func() error {
				if err := eng.check(); err != nil {
					return err
				}
				if variant != "" {
					if _, ok := eng.sc.Variant(variant); !ok {
						var names []string
						for _, v := range eng.sc.Variants {
							names = append(names, v.Name)
						}
						return usagef("--variant: the scenario has no variant %q (it has %s)", variant, strings.Join(names, ", "))
					}
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

func (a *app) chat(ctx context.Context, eng engineConfig, variant string, opening, record bool) error {
	var store eventstore.Store
	if record {
		st, err := a.openStore(ctx, createLog)
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
	core, name, err := eng.core(a, h)
	if err != nil {
		return err
	}
	out := a.stdout
	fmt.Fprintf(out, "Scenario %s (version %s) · %s", eng.sc.Name, eng.sc.Version, name)
	if variant != "" {
		fmt.Fprintf(out, " · variant %s", variant)
	}
	fmt.Fprintln(out, "\nType the lead's messages, one per line; /followup, /quit.")
	conv, t, err := engine.StartConversation(ctx, core, engine.ConversationOptions{Variant: variant, Opening: opening, Username: "chat"})
	if err != nil {
		return err
	}
	if opening {
		printTurn(out, t)
	}
	tty := isTerminal(a.stdin)
	sc := bufio.NewScanner(a.stdin)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for {
		if tty {
			fmt.Fprint(out, "you> ")
		}
		if !sc.Scan() {
			break
		}
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			continue
		case line == "/quit":
			return a.chatEnd(conv, record)
		case line == "/followup":
			t, err = conv.FollowUp(ctx)
		default:
			if !tty {
				fmt.Fprintf(out, "lead: %s\n", line)
			}
			t, err = conv.Say(ctx, line)
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		printTurn(out, t)
		if !t.Acted() {
			switch {
			case t.Dialog.Stage == domain.StageClosed:
				fmt.Fprintf(out, "  (the dialog is closed: %s; the assistant does not write again)\n", t.Dialog.Outcome)
			case t.Dialog.AISilent():
				fmt.Fprintln(out, "  (the dialog is with a manager: the assistant stays silent)")
			default:
				fmt.Fprintln(out, "  (nothing to say now)")
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("chat: read standard input: %w", err)
	}
	return a.chatEnd(conv, record)
}

func (a *app) chatEnd(conv *engine.Conversation, record bool) error {
	if record {
		fmt.Fprintf(a.stdout, "Recorded as dialog %d: salesbot replay dialog %d --data-dir %s\n", conv.N, conv.N, a.cfg.DataDir)
	}
	return nil
}

func printTurn(w io.Writer, t engine.Turn) {
	for _, m := range t.Sent {
		fmt.Fprintf(w, "assistant: %s\n", strings.ReplaceAll(m.Text, "\n", "\n           "))
	}
	if !t.Acted() {
		return
	}
	for _, l := range strings.Split(strings.TrimRight(engine.Describe(t), "\n"), "\n") {
		fmt.Fprintf(w, "  %s\n", l)
	}
}

// isTerminal says whether a standard stream is an interactive terminal
// (chat then shows a prompt; progress lines are redrawn in place).
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
