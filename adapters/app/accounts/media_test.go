package accounts_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/llm"
	"github.com/salesbot/salesbot/adapters/llm/openaitest"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
)

// inbounds are the InboundReceived of a stream.
func inbounds(evs []domain.Event) []domain.InboundReceived {
	var out []domain.InboundReceived
	for _, e := range evs {
		if m, ok := e.(domain.InboundReceived); ok {
			out = append(out, m)
		}
	}
	return out
}

// A lead's voice note is downloaded from Telegram (upload.getFile) and
// transcribed by the fake OpenAI server (a multipart request with the
// audio and the model), and recorded as a voice note with its
// transcript; one the server cannot transcribe is recorded as voice
// with the failure; a photo is recorded as a photo with its caption,
// never as empty text.
func TestVoiceNoteTranscribedOnReceipt(t *testing.T) {
	t.Parallel()
	srv := openaitest.New()
	defer srv.Close()
	audio := bytes.Repeat([]byte("OggS voice note "), 50_000) // two parts of 512 KiB
	srv.Transcript(audio, "We need a CRM for twelve people")
	c, err := llm.New(llm.Config{BaseURL: srv.URL(), APIKey: "sk-test", Model: "chat-model", MaxRetries: -1, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	w.transcriber = c.Transcriber("whisper-test")
	w.restart() // the service again, with the transcriber
	acc, accUser := w.addAccount("sales-1")
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })
	lead, err := w.sb.AddUser(telegramtest.UserSpec{Username: "lead_voice", FirstName: "Vera"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.sb.SendAs(lead.ID, accUser.ID, "hello"); err != nil { // a short message opens the dialog
		t.Fatal(err)
	}
	var stream string
	w.eventually("the dialog is opened", func() bool {
		l, found, _ := w.h.DialogOfPeer(context.Background(), acc, lead.ID)
		if found {
			stream = domain.DialogStream(l.DialogID)
		}
		return found && len(inbounds(w.events(stream))) == 1
	})
	if _, err := w.sb.SendVoice(lead.ID, accUser.ID, audio, 9); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sb.SendVoice(lead.ID, accUser.ID, []byte("mumble"), 2); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sb.SendPhoto(lead.ID, accUser.ID, "our whiteboard"); err != nil {
		t.Fatal(err)
	}
	w.eventually("the media are recorded", func() bool { return len(inbounds(w.events(stream))) == 4 })
	in := inbounds(w.events(stream))
	voice := domain.Media{Kind: domain.MediaVoice, MIME: "audio/ogg", Duration: 9}
	if m := in[1]; m.Media == nil || *m.Media != voice || m.Transcript != "We need a CRM for twelve people" || m.Text != "" || m.TranscriptError != "" {
		t.Fatalf("the voice note was recorded as %+v (media %+v)", m, m.Media)
	}
	if m := in[2]; m.Media == nil || m.Media.Kind != domain.MediaVoice || m.Transcript != "" || m.TranscriptError != "transcription failed" {
		t.Fatalf("the voice note that failed was recorded as %+v", m)
	}
	if m := in[3]; m.Media == nil || m.Media.Kind != domain.MediaPhoto || m.Text != "our whiteboard" {
		t.Fatalf("the photo was recorded as %+v", m)
	}
	var forms []*openaitest.Transcription
	for _, r := range srv.Requests() {
		if r.Transcription != nil {
			forms = append(forms, r.Transcription)
		}
	}
	if len(forms) != 2 || forms[0].Model != "whisper-test" || forms[0].FileName != "voice.ogg" || !bytes.Equal(forms[0].Audio, audio) {
		t.Fatalf("transcription requests: %d, first %+v", len(forms), forms)
	}
}

// A message planned with a knowledge-base file sends the file's bytes
// (read when sent, not from the log) as a document with its caption; a
// file the knowledge base no longer has fails the message.
func TestSendsAKnowledgeFile(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	pdf := []byte("%PDF-1.4 price list")
	w.knowledge = map[string][]byte{"price-list.pdf": pdf}
	w.restart()
	acc, accUser := w.addAccount("sales-1")
	lead := w.persona("lead_pl", telegramtest.Persona{Reply: func(telegramtest.Incoming) []string { return nil }})
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })
	st := w.startDialog("lead_pl", "Hello")
	stream := domain.DialogStream(st.DialogID)
	w.eventually("the opening is sent", func() bool { return count[domain.OutboundSent](w.events(stream)) == 1 })
	ctx := context.Background()
	log := eventlog.New(w.store)
	v, err := log.Version(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := log.Append(ctx, stream, v, st.ContactID.String(), []domain.Event{
		domain.OutboundPlanned{RandomID: 901, Text: "Our price list", By: domain.ActorAI, Kind: domain.KindReply,
			File: &domain.Attachment{Name: "price-list.pdf", MIME: "application/pdf", Knowledge: true}},
		domain.OutboundPlanned{RandomID: 902, Text: "Old brochure", By: domain.ActorAI, Kind: domain.KindReply,
			File: &domain.Attachment{Name: "brochure.pdf", MIME: "application/pdf", Knowledge: true}},
	}); err != nil {
		t.Fatal(err)
	}
	w.eventually("the file is sent and the other failed", func() bool {
		evs := w.events(stream)
		return count[domain.OutboundSent](evs) == 2 && count[domain.OutboundFailed](evs) == 1
	})
	msgs := w.sb.Messages(lead.ID, accUser.ID)
	if len(msgs) != 2 || msgs[1].Text != "Our price list" || msgs[1].File == nil || !bytes.Equal(msgs[1].File.Data, pdf) || msgs[1].File.Name != "price-list.pdf" {
		t.Fatalf("the lead's chat: %+v", msgs)
	}
}
