package engine_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/offline"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
)

func talkCore(t *testing.T) *engine.Core {
	t.Helper()
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	store, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h := domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: time.Now}
	return &engine.Core{H: h, Model: offline.New(), Scenario: sc}
}

// In a pipe Talk echoes each message, prints each turn and the state, says
// why a closed dialog gets no answer, skips empty lines and stops at /quit.
func TestTalkInAPipe(t *testing.T) {
	var out strings.Builder
	in := strings.NewReader("Are you a bot?\n\n  \nstop\nhello?\n/quit\nnever read\n")
	conv, err := engine.Talk(t.Context(), talkCore(t), in, &out, engine.TalkOptions{Engine: "offline", ConversationOptions: engine.ConversationOptions{Opening: true, Variant: "B"}})
	if err != nil || conv == nil || conv.N != 1 {
		t.Fatalf("Talk: %+v %v", conv, err)
	}
	got := out.String()
	for _, want := range []string{
		"Scenario acme-analytics (version 1.0) · offline · variant B\nType the lead's messages, one per line; /followup, /quit.\nassistant: ", // the opening
		"lead: Are you a bot?\n",
		"  flags: asks-if-bot\n",
		"lead: stop\n",
		"  opt-out: the dialog is closed and the contact is on the do-not-contact list\n",
		"lead: hello?\n  (the dialog is closed: opted-out; the assistant does not write again)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "never read") || strings.Contains(got, "you> ") || strings.Count(got, "lead: ") != 3 {
		t.Errorf("read past /quit, prompted in a pipe, or echoed an empty line:\n%s", got)
	}
}

// At a terminal Talk prompts instead of echoing; the lead may write first
// and ask for a follow-up; the end of the input ends it.
func TestTalkAtATerminal(t *testing.T) {
	var out strings.Builder
	conv, err := engine.Talk(t.Context(), talkCore(t), strings.NewReader("We need pipeline reports\n/followup\n"), &out, engine.TalkOptions{Prompt: true})
	if err != nil || conv == nil {
		t.Fatalf("Talk: %v", err)
	}
	got := out.String()
	if strings.Count(got, "you> ") != 3 || strings.Contains(got, "lead: ") || !strings.Contains(got, "/quit.\nyou> assistant: ") || !strings.Contains(got, "  stage: ") {
		t.Errorf("a terminal session:\n%s", got)
	}
}

func TestTalkReadError(t *testing.T) {
	broken := errors.New("broken pipe")
	conv, err := engine.Talk(t.Context(), talkCore(t), io.MultiReader(strings.NewReader("hello\n"), iotest.ErrReader(broken)), io.Discard, engine.TalkOptions{})
	if !errors.Is(err, broken) || conv == nil {
		t.Fatalf("a failing input: %v", err)
	}
}
