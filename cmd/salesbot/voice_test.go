package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/salesbot/salesbot/adapters/llm/openaitest"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
)

// A lead sends a voice note to a sandbox account under 'run --sandbox'
// with the fake OpenAI server: it is downloaded from Telegram
// (upload.getFile), transcribed (POST /v1/audio/transcriptions), the chat
// model reads the transcript marked as one, and its reply reaches the
// lead.
func TestVoiceNoteAnsweredFromItsTranscript(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the sandbox with the dialog engine")
	}
	const (
		said  = "We need a CRM for our sales team, who can tell me more"
		reply = "Glad to help with a CRM for your sales team. Who decides on the purchase?"
	)
	audio := bytes.Repeat([]byte("OggS\x00voice"), 4000)
	model := openaitest.New()
	defer model.Close()
	model.Transcript(audio, said)
	var mu sync.Mutex
	var prompts []string
	model.Func(func(req openai.ChatCompletionRequest) openaitest.Step {
		last := req.Messages[len(req.Messages)-1].Content
		mu.Lock()
		prompts = append(prompts, last)
		mu.Unlock()
		if strings.Contains(last, said) {
			return openaitest.ReplyJSON(domain.TurnOutput{Reply: reply, NextStage: domain.StageDiscovery, Score: 20})
		}
		return openaitest.ReplyJSON(domain.TurnOutput{Reply: "Happy to help. What does your team need?", NextStage: domain.StageDiscovery, Score: 10})
	})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		return map[string]string{"SALESBOT_LLM_BASE_URL": model.URL(), "SALESBOT_LLM_MODEL": "fake-model"}[k]
	}
	a := newApp(strings.NewReader(""), &out, &errb, getenv)
	answered := make(chan struct{})
	a.onSandbox = func(sb *telegramtest.Sandbox) {
		acc, err := sb.Lookup("acme_sales_1")
		if err != nil {
			t.Error(err)
			cancel()
			return
		}
		lead, err := sb.AddUser(telegramtest.UserSpec{Username: "voice_lead", FirstName: "Vera"})
		if err == nil {
			_, err = sb.SendVoice(lead.ID, acc.ID, audio, 6) // fetched when the account connects
		}
		if err != nil {
			t.Error(err)
			cancel()
			return
		}
		go func() {
			for ctx.Err() == nil {
				for _, m := range sb.Messages(lead.ID, acc.ID) {
					if !m.Out && strings.Contains(m.Text, reply) {
						close(answered)
						cancel()
						return
					}
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	code := a.main(ctx, []string{"run", "--sandbox", "--sandbox-leads", "0", "--data-dir", t.TempDir(), "--http-listen", "127.0.0.1:0"})
	select {
	case <-answered:
	default:
		t.Fatalf("the lead got no answer to the voice note (exit %d):\n%s", code, lastLines(errb.String(), 30))
	}
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, lastLines(errb.String(), 30))
	}
	var form *openaitest.Transcription
	for _, r := range model.Requests() {
		if r.Transcription != nil {
			form = r.Transcription
		}
	}
	if form == nil || form.Model != "whisper-1" || !bytes.Equal(form.Audio, audio) {
		t.Fatalf("the transcription request: %+v", form)
	}
	mu.Lock()
	defer mu.Unlock()
	marked := false
	for _, p := range prompts {
		marked = marked || strings.Contains(p, "[voice message, transcribed]: "+said)
	}
	if !marked {
		t.Fatalf("no prompt reads the transcript marked as one: %q", prompts)
	}
}
