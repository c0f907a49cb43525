package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/salesbot/salesbot/adapters/adminbot/botapitest"
	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/llm/openaitest"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
)

// The process logs at INFO (what 'run' prints by default) hold ids, kinds
// and counts, never a lead's words: a lead writes in, the model hands the
// dialog to a manager with a reason that quotes the lead, the admins get
// the notice, and neither the lead's name, username, phone, message nor
// the reason is in the logs.
func TestNoLeadTextInTheLogsAtInfo(t *testing.T) {
	const token = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	const (
		first, last = "Zelda", "Quux"
		username    = "zelda_quux"
		phone       = "+4915199990000"
		says        = "We need kumquat analytics for our whole team"
		reason      = "Zelda Quux wants a call about kumquat analytics at +4915199990000"
	)
	api := botapitest.New(t, token)
	llm := openaitest.New()
	defer llm.Close()
	llm.Func(func(openai.ChatCompletionRequest) openaitest.Step {
		return openaitest.ReplyJSON(domain.TurnOutput{Reply: "Thank you, a colleague will write to you.", NextStage: domain.StageDiscovery, Score: 20, HandoffReason: reason})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	env := map[string]string{"SALESBOT_LLM_BASE_URL": llm.URL(), "SALESBOT_LLM_MODEL": "fake-model"}
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	handedOff := false
	a.onSandbox = func(sb *telegramtest.Sandbox) {
		lead, err := sb.AddUser(telegramtest.UserSpec{Username: username, Phone: phone, FirstName: first, LastName: last})
		if err != nil {
			t.Error(err)
			return
		}
		acc, err := sb.Lookup(demo.AccountUsername(1))
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := sb.SendAs(lead.ID, acc.ID, says); err != nil {
			t.Error(err)
			return
		}
		go func() {
			for ctx.Err() == nil {
				for _, c := range api.Take() {
					if c.Method == "sendMessage" && strings.Contains(fmt.Sprint(c.Params["text"]), "handed to a manager") {
						handedOff = true
						cancel()
						return
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	code := a.main(ctx, []string{"run", "--sandbox", "--sandbox-leads", "0", "--data-dir", t.TempDir(),
		"--bot-token", token, "--bot-api-url", api.URL(), "--admin-ids", "42:owner"})
	if code != 0 {
		t.Fatalf("run: %d %s", code, errb.String())
	}
	logs := errb.String()
	if !handedOff {
		t.Fatalf("no handoff notice reached the admins:\n%s", logs)
	}
	if !strings.Contains(logs, "kind=handoff") {
		t.Fatalf("the handoff notice is not logged (by kind):\n%s", logs)
	}
	for _, s := range []string{first, last, username, strings.TrimPrefix(phone, "+"), "kumquat", "stranger_"} {
		if strings.Contains(strings.ToLower(logs), strings.ToLower(s)) {
			t.Errorf("the logs at INFO hold %q:\n%s", s, logs)
		}
	}
}
