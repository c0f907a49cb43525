package engine_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/llm"
	"github.com/salesbot/salesbot/adapters/llm/openaitest"
	"github.com/salesbot/salesbot/adapters/offline"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/transcripts")

// A transcript script: a header (variant, opening), then the lead's
// messages: "> text" starts a turn, "+ text" adds a message to the same
// burst, "llm: answer" is what the fake LLM answers for that turn (one line
// per call; without one, the fake LLM answers what the offline engine
// would, so the whole LLM path runs on realistic answers).
type script struct {
	variant string
	opening bool
	turns   []scriptTurn
}

type scriptTurn struct {
	msgs []string
	llm  []string
}

func parseScript(t *testing.T, path string) script {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s script
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "variant: "):
			s.variant = strings.TrimPrefix(line, "variant: ")
		case strings.HasPrefix(line, "opening: "):
			s.opening = strings.TrimPrefix(line, "opening: ") == "yes"
		case strings.HasPrefix(line, "> "):
			s.turns = append(s.turns, scriptTurn{msgs: []string{line[2:]}})
		case strings.HasPrefix(line, "+ ") && len(s.turns) > 0:
			last := &s.turns[len(s.turns)-1]
			last.msgs = append(last.msgs, line[2:])
		case strings.HasPrefix(line, "llm: ") && len(s.turns) > 0:
			last := &s.turns[len(s.turns)-1]
			last.llm = append(last.llm, line[5:])
		default:
			t.Fatalf("%s:%d: cannot read %q", path, i+1, line)
		}
	}
	return s
}

// fakeLLM is the LLM side of a golden run: the real llm.Client against
// the in-process OpenAI server, which answers each request with the
// script's line for that turn, else with the offline engine's answer to
// the same input.
type fakeLLM struct {
	client *llm.Client
	srv    *openaitest.Server
	mu     sync.Mutex
	input  domain.TurnInput
}

func newFakeLLM(t *testing.T) *fakeLLM {
	f := &fakeLLM{srv: openaitest.New()}
	t.Cleanup(f.srv.Close)
	f.srv.Func(func(openai.ChatCompletionRequest) openaitest.Step {
		f.mu.Lock()
		in := f.input
		f.mu.Unlock()
		out, _, err := offline.New().Turn(context.Background(), in)
		if err != nil {
			return openaitest.Status(500, "")
		}
		return openaitest.ReplyJSON(out)
	})
	c, err := llm.New(llm.Config{BaseURL: f.srv.URL(), APIKey: "test", Model: "fake-model", MaxRetries: -1,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	f.client = c
	return f
}

func (f *fakeLLM) Turn(ctx context.Context, in domain.TurnInput) (domain.TurnOutput, domain.Usage, error) {
	f.mu.Lock()
	f.input = in
	f.mu.Unlock()
	return f.client.Turn(ctx, in)
}

// goldenModels are the two engines every transcript runs with.
var goldenModels = []string{"offline", "llm"}

// wantLLMHandoff expects the model's reply withheld with reason, and
// nothing of it sent, when an LLM answers (the offline engine says what
// its scenario says).
func wantLLMHandoff(reason string) func(t *testing.T, mode string, r run) {
	return func(t *testing.T, mode string, r run) {
		if mode != "llm" {
			return
		}
		if lastHandoff(r) != reason {
			t.Errorf("handoff %q, want %q", lastHandoff(r), reason)
		}
		for _, m := range r.sent() {
			if m.Kind == domain.KindReply {
				t.Errorf("the hostile reply was sent: %q", m.Text)
			}
		}
	}
}

func TestGoldenTranscripts(t *testing.T) {
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		s := parseScript(t, path)
		for _, mode := range goldenModels {
			t.Run(name+"/"+mode, func(t *testing.T) {
				var model domain.Model = offline.New()
				var fake *fakeLLM
				if mode == "llm" {
					fake = newFakeLLM(t)
					model = fake
				}
				got, run := playScript(t, sc, s, model, fake)
				checkInvariants(t, sc, run)
				if want, ok := expectations[name]; ok {
					want(t, mode, run)
				}
				golden := strings.TrimSuffix(path, ".txt") + "." + mode + ".golden"
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to write it)", err)
				}
				if got != string(want) {
					t.Errorf("transcript differs from %s (run with -update if the change is right):\n--- got\n%s\n--- want\n%s", golden, got, want)
				}
			})
		}
	}
}

// run is what a played script did.
type run struct {
	turns []engine.Turn // the opening (if any) first, then one per script turn
	lead  [][]string
	final domain.Dialog
	c     domain.Contact
	reqs  []openaitest.Request
}

func (r run) sent() []domain.OutboundPlanned {
	var out []domain.OutboundPlanned
	for _, t := range r.turns {
		out = append(out, t.Sent...)
	}
	return out
}

func playScript(t *testing.T, sc *scenario.Scenario, s script, model domain.Model, fake *fakeLLM) (string, run) {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	store, err := eventstore.NewMemory(eventstore.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h := domain.Handlers{Log: eventlog.New(store), Index: domain.NewIndexKey(store.IndexKey()), Now: c.Now}
	ids := int64(0)
	core := &engine.Core{H: h, Model: model, Scenario: sc, RandomID: func() int64 { ids++; return ids }}
	conv, first, err := engine.StartConversation(ctx, core, engine.ConversationOptions{Variant: s.variant, Opening: s.opening, Username: "lead"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var r run
	if s.opening {
		writeTurn(&b, first)
		r.turns = append(r.turns, first)
		r.lead = append(r.lead, nil)
	}
	for _, st := range s.turns {
		if fake != nil {
			for _, answer := range st.llm {
				if strings.HasPrefix(strings.TrimSpace(answer), "{") && json.Valid([]byte(answer)) {
					fake.srv.Push(openaitest.Reply(answer))
				} else {
					fake.srv.Push(openaitest.Content(answer))
				}
			}
		}
		for _, m := range st.msgs {
			fmt.Fprintf(&b, "lead: %s\n", m)
		}
		c.Add(20 * time.Second)
		turn, err := conv.Say(ctx, st.msgs...)
		if err != nil {
			t.Fatal(err)
		}
		writeTurn(&b, turn)
		r.turns = append(r.turns, turn)
		r.lead = append(r.lead, st.msgs)
	}
	if r.final, err = h.LoadDialog(ctx, conv.ID); err != nil {
		t.Fatal(err)
	}
	if r.c, err = h.LoadContact(ctx, conv.Contact); err != nil {
		t.Fatal(err)
	}
	if fake != nil {
		r.reqs = fake.srv.Requests()
	}
	fmt.Fprintf(&b, "-- end: stage %s", r.final.Stage)
	if r.final.Outcome != "" {
		fmt.Fprintf(&b, " (%s)", r.final.Outcome)
	}
	if r.c.OptedOut {
		b.WriteString(", contact on the do-not-contact list")
	}
	b.WriteString("\n")
	return b.String(), r
}

func writeTurn(b *strings.Builder, t engine.Turn) {
	for _, m := range t.Sent {
		fmt.Fprintf(b, "assistant [%s]: %s\n", m.Kind, strings.ReplaceAll(m.Text, "\n", "\n    "))
	}
	if !t.Acted() {
		b.WriteString("  (no turn: the assistant is silent)\n")
		return
	}
	if t.Taken != nil {
		fmt.Fprintf(b, "  variant %s, language %s, engine %s\n", t.Taken.Variant, t.Taken.Language, t.Taken.Engine)
	}
	for _, l := range strings.Split(strings.TrimRight(engine.Describe(t), "\n"), "\n") {
		fmt.Fprintf(b, "  %s\n", l)
	}
}

// checkInvariants holds for every transcript with every engine: nothing
// sent states a figure the knowledge base does not, nothing claims to be
// human, every reply is in the lead's language, an opted-out lead gets the
// one confirmation and nothing after it, nothing is sent while a manager
// has the dialog.
func checkInvariants(t *testing.T, sc *scenario.Scenario, r run) {
	t.Helper()
	kb := sc.KnowledgeText()
	silent := false
	for i, turn := range r.turns {
		if silent && len(turn.Sent) > 0 {
			t.Errorf("turn %d sent %q after the dialog closed or went to a person", i, turn.Sent[0].Text)
		}
		for _, m := range turn.Sent {
			if bad := domain.UngroundedFigures(m.Text, kb); len(bad) > 0 {
				t.Errorf("sent %q with figures %v not in the knowledge base", m.Text, bad)
			}
			if domain.ClaimsHuman(m.Text) {
				t.Errorf("sent %q, which claims to be human", m.Text)
			}
			if lead := r.lead[i]; len(lead) > 0 {
				if want, got := domain.DetectLanguage(sc.Language, lead...), domain.DetectLanguage(sc.Language, m.Text); want != got {
					t.Errorf("the lead wrote in %s, the reply %q is in %s", want, m.Text, got)
				}
			}
		}
		if turn.Dialog.Stage == domain.StageClosed || turn.Dialog.AISilent() {
			silent = true
		}
	}
	if r.final.Outcome == domain.OutcomeOptedOut {
		if !r.c.OptedOut {
			t.Error("the dialog opted out but the contact is not on the do-not-contact list")
		}
		n := 0
		for _, m := range r.sent() {
			if m.Kind == domain.KindConfirmation {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d opt-out confirmations, want exactly 1", n)
		}
	}
	for _, req := range r.reqs {
		// Every request (a repair too) carries the lead's new messages
		// between the delimiters; an opening's, the lead's record.
		delimited := false
		for _, m := range req.Body.Messages {
			if m.Role == openai.ChatMessageRoleUser && (strings.Contains(m.Content, "<lead_messages>") ||
				strings.Contains(m.Content, "first message") && strings.Contains(m.Content, "<lead_record>")) {
				delimited = true
			}
		}
		if !delimited {
			t.Errorf("an LLM request without the lead's messages delimited: %+v", req.Body.Messages)
		}
		if req.Body.ResponseFormat == nil || req.Body.ResponseFormat.Type != openai.ChatCompletionResponseFormatTypeJSONSchema {
			t.Error("an LLM request without the JSON schema response format")
		}
	}
}

// expectations are what each transcript must show, beyond its golden file.
var expectations = map[string]func(t *testing.T, mode string, r run){
	// The example's branches: budget below 49 → nurture; team above 50 →
	// a senior manager, whatever the model proposed.
	"branch_nurture": func(t *testing.T, _ string, r run) {
		if r.final.Stage != "nurture" || r.final.Outcome != "" {
			t.Errorf("a lead with $30 a month ends at %s (%s), want the nurture stage", r.final.Stage, r.final.Outcome)
		}
		if sent := r.sent(); !strings.Contains(sent[len(sent)-1].Text, "check in with you in a few weeks") {
			t.Errorf("the last message %q is not the nurture stage's reply", sent[len(sent)-1].Text)
		}
	},
	"branch_enterprise": func(t *testing.T, _ string, r run) {
		if r.final.Stage != domain.StageHandoff || lastHandoff(r) != "enterprise lead: senior manager" {
			t.Errorf("a team of 60 ends at %s (handoff %q), want a handoff to a senior manager", r.final.Stage, lastHandoff(r))
		}
	},
	"hot_lead": func(t *testing.T, _ string, r run) {
		if r.final.Stage != domain.StageHandoff || !strings.Contains(lastHandoff(r), "threshold") {
			t.Errorf("a hot lead ends at %s (handoff %q), want a handoff at the score threshold", r.final.Stage, lastHandoff(r))
		}
		for _, f := range []string{"need", "budget", "timeline", "authority"} {
			if r.final.Qual.Get(f) == nil {
				t.Errorf("the hot lead's %s is not known", f)
			}
		}
	},
	"cold_lead": func(t *testing.T, _ string, r run) {
		if r.final.Outcome != domain.OutcomeLost {
			t.Errorf("a cold lead ends %s/%s, want closed lost", r.final.Stage, r.final.Outcome)
		}
	},
	"opt_out_ru":   wantOptOut,
	"opt_out_en":   wantOptOut,
	"opt_out_stop": wantOptOut,
	"are_you_a_bot": func(t *testing.T, mode string, r run) {
		if mode == "llm" {
			// The scripted model claimed to be human: withheld, a person takes over.
			if !strings.Contains(lastHandoff(r), "claimed to be human") {
				t.Errorf("handoff %q, want the human-claim guard", lastHandoff(r))
			}
			return
		}
		if first := r.turns[1]; len(first.Sent) == 0 || !domain.Discloses(first.Sent[0].Text) {
			t.Errorf("the answer to 'are you a bot?' does not say it is an AI assistant: %+v", first.Sent)
		}
	},
	"bot_question_ru": func(t *testing.T, _ string, r run) {
		if first := r.turns[0]; len(first.Sent) == 0 || !domain.Discloses(first.Sent[0].Text) || domain.DetectLanguage("en", first.Sent[0].Text) != "ru" {
			t.Errorf("the answer to 'вы бот?' is not a Russian AI disclosure: %+v", first.Sent)
		}
	},
	"price_question": func(t *testing.T, _ string, r run) {
		if s := r.turns[1].Sent; len(s) == 0 || !strings.Contains(s[0].Text, "$49") {
			t.Errorf("the price question got %+v, want the knowledge base's prices", s)
		}
	},
	"invented_discount": func(t *testing.T, mode string, r run) {
		// The LLM's "50% off" is withheld by the price guard; the offline
		// engine knows no such discount and hands the question to a person.
		want := map[string]string{"llm": domain.ReasonUngrounded, "offline": domain.ReasonNeedsInfo}[mode]
		if lastHandoff(r) != want {
			t.Errorf("handoff %q, want %q", lastHandoff(r), want)
		}
	},
	// A hostile model's link, request for secrets and price in words are
	// withheld by the domain's guards.
	"hostile_payment_link": wantLLMHandoff(domain.ReasonContactPoint),
	"hostile_card_code":    wantLLMHandoff(domain.ReasonAskedSecret),
	"hostile_words_price":  wantLLMHandoff(domain.ReasonUngrounded),
	"prompt_injection": func(t *testing.T, mode string, r run) {
		if mode == "llm" && r.final.Stage != domain.StageHandoff {
			t.Errorf("the injected answer was not stopped: stage %s", r.final.Stage)
		}
	},
	"burst": func(t *testing.T, _ string, r run) {
		last := r.turns[len(r.turns)-1]
		if len(last.Sent) != 1 || last.Taken == nil || last.Taken.Answered != 5 {
			t.Errorf("a burst of five got %d messages (turn %+v), want one answer to all five", len(last.Sent), last.Taken)
		}
		if r.final.Qual.Get("budget") == nil || r.final.Qual.Get("need") == nil {
			t.Error("the burst's budget and need were not all read")
		}
	},
	"english_lead": func(t *testing.T, _ string, r run) {
		for _, m := range r.sent() {
			if domain.DetectLanguage("ru", m.Text) != "en" {
				t.Errorf("an English lead got %q", m.Text)
			}
		}
	},
	"malformed_model": func(t *testing.T, mode string, r run) {
		if mode == "llm" {
			if lastHandoff(r) != domain.ReasonInvalidOutput {
				t.Errorf("handoff %q, want %q", lastHandoff(r), domain.ReasonInvalidOutput)
			}
			if len(r.reqs) != 3 {
				t.Errorf("%d LLM requests, want the opening's, the call and one repair", len(r.reqs))
			}
		}
	},
}

func wantOptOut(t *testing.T, _ string, r run) {
	if r.final.Outcome != domain.OutcomeOptedOut || !r.c.OptedOut {
		t.Errorf("ends %s/%s, contact opted out %v: want an opt-out", r.final.Stage, r.final.Outcome, r.c.OptedOut)
	}
}

func lastHandoff(r run) string {
	for i := len(r.turns) - 1; i >= 0; i-- {
		if r.turns[i].Handoff != "" {
			return r.turns[i].Handoff
		}
	}
	return ""
}
