package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/salesbot/salesbot/adapters/llm/openaitest"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

func runIn(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errb, func(k string) string { return env[k] })
	return result{code, out.String(), errb.String()}
}

func TestChatOfflineInAPipe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	r := runIn(t, nil, "Are you a bot?\nHow much does it cost?\n\nstop\nhello?\n", "chat", "--variant", "B", "--data-dir", dir)
	if r.code != 0 {
		t.Fatalf("chat: %+v", r)
	}
	for _, want := range []string{
		"offline scenario engine · variant B",
		"assistant: I'm Ada, the AI assistant of Acme Analytics.", // the opening, with the disclosure
		"lead: Are you a bot?",
		"flags: asks-if-bot",
		"$49 per user per month", // the price from the knowledge base
		"opt-out: the dialog is closed and the contact is on the do-not-contact list",
		"stage: closed (opted-out)",
		"(the dialog is closed: opted-out; the assistant does not write again)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("chat output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Count(r.stdout, "Understood, I won't write to you again") != 1 {
		t.Errorf("not exactly one opt-out confirmation:\n%s", r.stdout)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("chat without --record wrote the data directory")
	}
}

func TestChatRecordReplaysAndVerifies(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	r := runIn(t, nil, "We need pipeline reports for 12 reps\n/quit\nnever read\n", "chat", "--record", "--no-opening", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "Recorded as dialog 1") || strings.Contains(r.stdout, "never read") {
		t.Fatalf("chat --record: %+v", r)
	}
	rep := run(t, nil, "replay", "dialog", "1", "--data-dir", dir)
	if rep.code != 0 || !strings.Contains(rep.stdout, "TurnTaken") || !strings.Contains(rep.stdout, `lead: "We need pipeline reports for 12 reps"`) || !strings.Contains(rep.stdout, "QualificationUpdated") {
		t.Fatalf("replay: %+v", rep)
	}
	if v := run(t, nil, "verify", "--data-dir", dir); v.code != 0 {
		t.Fatalf("verify: %+v", v)
	}
}

func TestChatWithTheLLM(t *testing.T) {
	srv := openaitest.New(openaitest.ReplyJSON(domain.TurnOutput{Reply: "Happy to help. What does your team need most?", NextStage: domain.StageDiscovery, Score: 15}))
	defer srv.Close()
	env := map[string]string{"SALESBOT_LLM_BASE_URL": srv.URL(), "SALESBOT_LLM_MODEL": "fake-model"}
	r := runIn(t, env, "Hi there\n", "chat", "--no-opening")
	if r.code != 0 || !strings.Contains(r.stdout, "LLM fake-model at "+srv.URL()) || !strings.Contains(r.stdout, "assistant: Happy to help.") || !strings.Contains(r.stdout, "score: 15") {
		t.Fatalf("chat with the LLM: %+v", r)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Body.Model != "fake-model" || reqs[0].Body.ResponseFormat == nil || reqs[0].Body.ResponseFormat.Type != openai.ChatCompletionResponseFormatTypeJSONSchema {
		t.Fatalf("requests %+v", reqs)
	}
	if last := reqs[0].Body.Messages[len(reqs[0].Body.Messages)-1].Content; !strings.Contains(last, "Hi there") || !strings.Contains(last, "<lead_messages>") {
		t.Fatalf("the lead's message is not delimited: %q", last)
	}
}

func TestBrokenScenarioIsRejectedWithItsLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "broken.yaml")
	ex := run(t, nil, "scenario", "example")
	if ex.code != 0 || !strings.Contains(ex.stdout, "knowledge:") {
		t.Fatalf("scenario example: %+v", ex)
	}
	// The example, with the handoff threshold out of range on its line.
	lines := strings.Split(ex.stdout, "\n")
	at := -1
	for i, l := range lines {
		if strings.Contains(l, "score_threshold:") {
			lines[i], at = "  score_threshold: 170", i+1
		}
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "line " + strconv.Itoa(at)
	for _, args := range [][]string{{"chat", "--scenario", file}, {"run", "--sandbox", "--scenario", file}, {"scenario", "check", file}} {
		r := runIn(t, nil, "hi\n", args...)
		if r.code != 2 || !strings.Contains(r.stderr, file) || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "score_threshold") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming %s, %s and the field", args, r.code, r.stderr, file, want)
		}
	}
	good := filepath.Join(t.TempDir(), "good.yaml")
	os.WriteFile(good, []byte(ex.stdout), 0o600)
	if r := run(t, nil, "scenario", "check", good); r.code != 0 || !strings.Contains(r.stdout, "is valid") {
		t.Fatalf("scenario check of the example: %+v", r)
	}
	if r := runIn(t, nil, "", "chat", "--variant", "Z"); r.code != 2 || !strings.Contains(r.stderr, `no variant "Z"`) {
		t.Fatalf("chat --variant Z: %+v", r)
	}
	if r := runIn(t, map[string]string{"SALESBOT_DEBOUNCE": "soon"}, "", "chat"); r.code != 2 || !strings.Contains(r.stderr, "SALESBOT_DEBOUNCE") {
		t.Fatalf("a bad debounce: %+v", r)
	}
}

// `scenario graph FILE` prints the example's branching stages as Mermaid;
// a file with a dead end is refused with its line.
func TestScenarioGraph(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, scenario.Example, 0o600)
	r := run(t, nil, "scenario", "graph", good)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "flowchart TD\n") || !strings.Contains(r.stdout, `qualification -->|"budget < 49"| nurture`) ||
		!strings.Contains(r.stdout, `enterprise(["enterprise: handoff (enterprise lead: senior manager)"])`) {
		t.Fatalf("scenario graph: %+v", r)
	}
	broken := filepath.Join(dir, "broken.yaml")
	src := strings.Replace(string(scenario.Example), "    transitions:\n      - to: objections\n", "", 1)
	os.WriteFile(broken, []byte(src), 0o600)
	if r := run(t, nil, "scenario", "graph", broken); r.code != 2 || !strings.Contains(r.stderr, `stage "offer" is a dead end`) || !strings.Contains(r.stderr, "line ") {
		t.Fatalf("scenario graph of a dead end: %+v", r)
	}
	if r := run(t, nil, "scenario", "graph"); r.code != 2 {
		t.Fatalf("scenario graph without a file: %+v", r)
	}
}
