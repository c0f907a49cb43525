package llm

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/domain"
)

func TestTranscribe(t *testing.T) {
	srv := newServer(t)
	c, _ := newClient(t, srv)
	audio := bytes.Repeat([]byte{0x4f, 0x67, 0x67, 0x53, 0}, 1000)
	srv.Transcript(audio, " We need a CRM for 12 people. ")

	tr := c.Transcriber("")
	got, err := tr.Transcribe(context.Background(), domain.Audio{Name: "voice.ogg", MIME: "audio/ogg", Data: audio})
	if err != nil || got != "We need a CRM for 12 people." {
		t.Fatalf("transcript %q, %v", got, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/v1/audio/transcriptions" || reqs[0].Transcription == nil {
		t.Fatalf("requests: %+v", reqs)
	}
	form := reqs[0].Transcription
	if form.Model != DefaultTranscriptionModel || form.FileName != "voice.ogg" || !bytes.Equal(form.Audio, audio) {
		t.Fatalf("the multipart form: model %q, file %q, %d bytes", form.Model, form.FileName, len(form.Audio))
	}
	if h := reqs[0].Header.Get("Authorization"); h != "Bearer sk-test" {
		t.Fatalf("authorization %q", h)
	}

	// Another model by name; audio the server has no transcript for is
	// an error matching domain.ErrTranscription, without the key.
	_, err = c.Transcriber("gpt-4o-transcribe").Transcribe(context.Background(), domain.Audio{Data: []byte("unknown")})
	if !errors.Is(err, domain.ErrTranscription) || strings.Contains(err.Error(), "sk-test") {
		t.Fatalf("unknown audio: %v", err)
	}
	if last := srv.Requests()[1].Transcription; last.Model != "gpt-4o-transcribe" || last.FileName != "voice.ogg" {
		t.Fatalf("second request: %+v", last)
	}
	if _, err := tr.Transcribe(context.Background(), domain.Audio{}); !errors.Is(err, domain.ErrTranscription) {
		t.Fatalf("empty audio: %v", err)
	}
}
