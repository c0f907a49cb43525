package sinktest

import (
	"testing"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// A lead's media are rows with their kind: a voice note's transcript as
// its text, marked transcribed; a photo's caption; a voice note without a
// transcript and a sticker as their kind alone. An erasure blanks the
// transcript with the texts.
func testMedia(t *testing.T, newSink Factory) {
	w := newWorld(t)
	ctx := t.Context()
	c, d := w.addDialog(t, 1, "vera")
	voice := &domain.Media{Kind: domain.MediaVoice, MIME: "audio/ogg", Duration: 4}
	for _, cmd := range []domain.RecordInbound{
		{TelegramMessageID: 1, Media: voice, Transcript: "we need a CRM", At: t0},
		{TelegramMessageID: 2, Media: &domain.Media{Kind: domain.MediaPhoto}, Text: "our board", At: t0},
		{TelegramMessageID: 3, Media: voice, TranscriptError: "transcription failed", At: t0},
		{TelegramMessageID: 4, Media: &domain.Media{Kind: domain.MediaVideoNote}, At: t0},
		{TelegramMessageID: 5, Text: "hello", At: t0},
	} {
		w.must(t)(w.h.Dialog(ctx, d, c, cmd))
	}
	sink := newSink(t)
	catchUp(t, w.runner(sink))
	want := []struct {
		media, text, shown string
		transcribed        bool
	}{
		{"voice", "we need a CRM", "[voice] we need a CRM", true},
		{"photo", "our board", "[photo] our board", false},
		{"voice", "", "[voice]", false},
		{"video_note", "", "[video note]", false},
		{"", "hello", "hello", false},
	}
	ms := messagesOf(t, sink, d)
	if len(ms) != len(want) {
		t.Fatalf("%d messages, want %d: %+v", len(ms), len(want), ms)
	}
	for i, m := range ms {
		if w := want[i]; m.Media != w.media || m.Text != w.text || m.Transcribed != w.transcribed || m.Shown() != w.shown {
			t.Errorf("message %d: %+v (shown %q), want %+v", i+1, m, m.Shown(), w)
		}
	}
	w.must(t)(w.h.Contact(ctx, c, domain.ForgetContact{By: "admin:1"}))
	catchUp(t, w.runner(sink))
	for _, m := range messagesOf(t, sink, d) {
		if m.Text != projections.Forgotten {
			t.Errorf("after the erasure: %+v", m)
		}
	}
}
