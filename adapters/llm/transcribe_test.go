package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/llm/openaitest"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
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

// With knowledge-base files the answer's schema has "file", one of their
// names or "", the system prompt lists them, and the model's choice
// comes back in the output; without files the schema has no "file".
func TestFileInTheSchema(t *testing.T) {
	in := testInput()
	plain, err := turnSchema(in)
	if err != nil || bytes.Contains(plain, []byte(`"file"`)) {
		t.Fatalf("a scenario without files: %s %v", plain, err)
	}
	sc := *in.Scenario
	sc.Knowledge.Files = []scenario.File{{Name: "price-list.pdf", Path: "p.pdf", When: "the lead asks for prices"}}
	in.Scenario = &sc
	schema, err := turnSchema(in)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]struct {
			Enum []string `json:"enum"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(schema, &s); err != nil {
		t.Fatal(err)
	}
	if f, ok := s.Properties["file"]; !ok || !slices.Equal(f.Enum, []string{"", "price-list.pdf"}) || !slices.Contains(s.Required, "file") {
		t.Fatalf("schema: %s", schema)
	}
	want := validOutput()
	want.File = "price-list.pdf"
	srv := newServer(t, openaitest.ReplyJSON(want))
	c, _ := newClient(t, srv)
	out, _, err := c.Turn(context.Background(), in)
	if err != nil || out.File != "price-list.pdf" {
		t.Fatalf("output %+v, %v", out, err)
	}
	var system string
	for _, m := range srv.Requests()[0].Body.Messages {
		system += m.Content
	}
	if !strings.Contains(system, "- price-list.pdf — the lead asks for prices") {
		t.Fatal("the prompt does not list the file")
	}
}
