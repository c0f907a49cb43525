package engine_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

// inputModel answers every turn with one output and keeps what it read.
type inputModel struct {
	out domain.TurnOutput
	mu  sync.Mutex
	in  []domain.TurnInput
}

func (m *inputModel) Turn(_ context.Context, in domain.TurnInput) (domain.TurnOutput, domain.Usage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.in = append(m.in, in)
	return m.out, domain.Usage{Engine: "llm", Model: "fake"}, nil
}

// receive records a lead's message with media, as the accounts service
// does, and takes the reply turn.
func receive(t *testing.T, core *engine.Core, conv *engine.Conversation, id int64, cmd domain.RecordInbound) engine.Outcome {
	t.Helper()
	cmd.TelegramMessageID, cmd.At = id, time.Now()
	if _, err := core.H.Dialog(t.Context(), conv.ID, conv.Contact, cmd); err != nil {
		t.Fatal(err)
	}
	out, err := core.Turn(t.Context(), conv.ID, domain.TurnReply, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A voice note is read from its transcript, marked as one; a photo is
// described; a voice note without a transcript is "[voice message]".
// The scenario's default hands a document to a person without asking
// the model; an opt-out said in a voice note ends the dialog.
func TestMediaTurns(t *testing.T) {
	core := talkCore(t)
	model := &inputModel{out: domain.TurnOutput{Reply: "Happy to help. How many people are on your team?", NextStage: domain.StageDiscovery, Score: 10}}
	core.Model = model
	conv, _, err := engine.StartConversation(t.Context(), core, engine.ConversationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	voice := &domain.Media{Kind: domain.MediaVoice, MIME: "audio/ogg", Duration: 5}
	out := receive(t, core, conv, 101, domain.RecordInbound{Media: voice, Transcript: "we need a CRM for our sales team"})
	if len(model.in) != 1 || len(model.in[0].New) != 1 || model.in[0].New[0] != "[voice message, transcribed]: we need a CRM for our sales team" {
		t.Fatalf("the model read %+v", model.in)
	}
	if out.Dialog.Stage != domain.StageDiscovery || out.Dialog.AISilent() {
		t.Fatalf("after the voice note: %+v", out.Dialog)
	}
	receive(t, core, conv, 102, domain.RecordInbound{Media: &domain.Media{Kind: domain.MediaPhoto}, Text: "this is our board"})
	receive(t, core, conv, 103, domain.RecordInbound{Media: voice, TranscriptError: "transcription failed"})
	if len(model.in) != 3 || model.in[1].New[0] != "[photo]\nthis is our board" || model.in[2].New[0] != "[voice message]" {
		t.Fatalf("the model read %q, %q", model.in[1].New, model.in[2].New)
	}
	// The history reads the earlier media the same way.
	hist := model.in[2].History
	if !containsLine(hist, "[voice message, transcribed]: we need a CRM for our sales team") || !containsLine(hist, "[photo]\nthis is our board") {
		t.Fatalf("history %+v", hist)
	}

	out = receive(t, core, conv, 104, domain.RecordInbound{Media: &domain.Media{Kind: domain.MediaDocument, Name: "requirements.pdf", MIME: "application/pdf"}})
	if len(model.in) != 3 {
		t.Fatal("the model was asked about a document the scenario hands to a person")
	}
	if out.Dialog.Stage != domain.StageHandoff {
		t.Fatalf("a document did not hand off: %+v", out.Dialog)
	}
	handedOff := false
	for _, e := range out.Events {
		if h, ok := e.(domain.HandoffRequested); ok && strings.HasPrefix(h.Reason, "media: ") && strings.Contains(h.Reason, "[document: requirements.pdf]") {
			handedOff = true
		}
	}
	if !handedOff {
		t.Fatalf("no handoff naming the document in %+v", out.Events)
	}
}

func containsLine(lines []domain.Line, text string) bool {
	for _, l := range lines {
		if l.Role == domain.RoleLead && l.Text == text {
			return true
		}
	}
	return false
}

func TestOptOutInAVoiceNote(t *testing.T) {
	core := talkCore(t)
	model := &inputModel{out: domain.TurnOutput{Reply: "Sure!", NextStage: domain.StageDiscovery}}
	core.Model = model
	conv, _, err := engine.StartConversation(t.Context(), core, engine.ConversationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := receive(t, core, conv, 201, domain.RecordInbound{Media: &domain.Media{Kind: domain.MediaVoice}, Transcript: "please stop writing to me"})
	if out.Dialog.Outcome != domain.OutcomeOptedOut || len(model.in) != 0 {
		t.Fatalf("an opt-out in a voice note: %+v, model asked %d times", out.Dialog, len(model.in))
	}
}

// The offline engine sends the knowledge base's price list when a lead
// asks for it by a keyword (English or Russian), with its caption; a
// message without one sends no file. The file's bytes stay out of the
// log (Attachment.Knowledge).
func TestOfflineSendsThePriceList(t *testing.T) {
	core := talkCore(t)
	core.Scenario.Knowledge.Files = []scenario.File{{Name: "price-list.pdf", Path: "price-list.pdf",
		Caption: scenario.Text{"en": "Our price list", "ru": "Наш прайс-лист"}, Keywords: []string{"price list", "прайс"}}}
	for _, c := range []struct {
		say, caption string
	}{
		{"Hi! Could you send me your price list?", "Our price list"},
		{"Здравствуйте, пришлите прайс, пожалуйста", "Наш прайс-лист"},
		{"Hello, what does your product do?", ""},
	} {
		conv, _, err := engine.StartConversation(t.Context(), core, engine.ConversationOptions{})
		if err != nil {
			t.Fatal(err)
		}
		turn, err := conv.Say(t.Context(), c.say)
		if err != nil {
			t.Fatal(err)
		}
		var file *domain.OutboundPlanned
		for i, s := range turn.Sent {
			if s.File != nil {
				file = &turn.Sent[i]
			}
		}
		switch {
		case c.caption == "" && file != nil:
			t.Errorf("%q sent a file: %+v", c.say, file)
		case c.caption != "" && (file == nil || file.Text != c.caption || file.File.Name != "price-list.pdf" || file.File.MIME != "application/pdf" ||
			!file.File.Knowledge || file.File.Data != "" || len(turn.Sent) != 2):
			t.Errorf("%q: sent %+v (file %+v)", c.say, turn.Sent, file)
		}
	}
}
