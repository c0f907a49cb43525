package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/salesbot/salesbot/domain"
)

// TalkOptions are how Talk runs a Conversation.
type TalkOptions struct {
	ConversationOptions
	// Prompt shows "you> " before each line read (an interactive
	// terminal); without it each message read is echoed as "lead: ...".
	Prompt bool
	// Engine names the model in the heading (the LLM, or the offline
	// scenario engine).
	Engine string
}

// Talk runs a Conversation as text ('salesbot chat'): it writes a heading
// (the scenario, the engine, the variant, the commands), starts the
// conversation (with Opening, the assistant's opening turn), then reads in
// a line at a time:
// each line is a message from the lead, "/followup" takes a follow-up turn
// as after silence, "/quit" ends, an empty line is skipped. Each turn is
// written to out: what the assistant sent, then the dialog's state
// (Describe), or why it said nothing.
//
// Talk returns the conversation (its dialog number) when in ends or on
// "/quit". An error of a turn ends it, returned with the conversation (a
// cancelled ctx shows as context.Canceled); so does one reading in. An
// error starting the conversation is returned without one.
func Talk(ctx context.Context, core *Core, in io.Reader, out io.Writer, opts TalkOptions) (*Conversation, error) {
	fmt.Fprintf(out, "Scenario %s (version %s) · %s", core.Scenario.Name, core.Scenario.Version, opts.Engine)
	if opts.Variant != "" {
		fmt.Fprintf(out, " · variant %s", opts.Variant)
	}
	fmt.Fprintln(out, "\nType the lead's messages, one per line; /followup, /quit.")
	conv, t, err := StartConversation(ctx, core, opts.ConversationOptions)
	if err != nil {
		return nil, err
	}
	if opts.Opening {
		writeTurn(out, t)
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for {
		if opts.Prompt {
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
			return conv, nil
		case line == "/followup":
			t, err = conv.FollowUp(ctx)
		default:
			if !opts.Prompt {
				fmt.Fprintf(out, "lead: %s\n", line)
			}
			t, err = conv.Say(ctx, line)
		}
		if err != nil {
			return conv, err
		}
		writeTurn(out, t)
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
		return conv, fmt.Errorf("chat: read standard input: %w", err)
	}
	return conv, nil
}

// writeTurn writes what the assistant sent and, if the turn did anything,
// the dialog's state.
func writeTurn(w io.Writer, t Turn) {
	for _, m := range t.Sent {
		fmt.Fprintf(w, "assistant: %s\n", strings.ReplaceAll(m.Text, "\n", "\n           "))
		if m.File != nil {
			fmt.Fprintf(w, "           [file %s, %s, %d bytes]\n", m.File.Name, m.File.MIME, len(m.File.Data))
		}
	}
	if !t.Acted() {
		return
	}
	for _, l := range strings.Split(strings.TrimRight(Describe(t), "\n"), "\n") {
		fmt.Fprintf(w, "  %s\n", l)
	}
}
