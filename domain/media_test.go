package domain

import (
	"encoding/json"
	"testing"
)

func TestInboundMedia(t *testing.T) {
	voice := &Media{Kind: MediaVoice, MIME: "audio/ogg", Duration: 6}
	runDialogCases(t, []dialogCase{
		{"a voice note with its transcript", []Event{started},
			RecordInbound{TelegramMessageID: 5, Media: voice, Transcript: "we need a CRM", At: now},
			[]Event{InboundReceived{TelegramMessageID: 5, Media: voice, Transcript: "we need a CRM", At: now}}, ""},
		{"a voice note whose transcription failed", []Event{started},
			RecordInbound{TelegramMessageID: 5, Media: voice, TranscriptError: "transcription failed", At: now},
			[]Event{InboundReceived{TelegramMessageID: 5, Media: voice, TranscriptError: "transcription failed", At: now}}, ""},
		{"a photo with a caption", []Event{started},
			RecordInbound{TelegramMessageID: 6, Text: "our office", Media: &Media{Kind: MediaPhoto}, At: now},
			[]Event{InboundReceived{TelegramMessageID: 6, Text: "our office", Media: &Media{Kind: MediaPhoto}, At: now}}, ""},
		{"an unknown kind", []Event{started},
			RecordInbound{TelegramMessageID: 6, Media: &Media{Kind: "hologram"}, At: now}, nil, EINVALID},
		{"a transcript without media", []Event{started},
			RecordInbound{TelegramMessageID: 6, Text: "hi", Transcript: "hi", At: now}, nil, EINVALID},
	})
}

func TestModelText(t *testing.T) {
	cases := []struct {
		e          InboundReceived
		model, own string
	}{
		{InboundReceived{Text: "hello"}, "hello", "hello"},
		{InboundReceived{Media: &Media{Kind: MediaVoice}, Transcript: "please stop writing"}, "[voice message, transcribed]: please stop writing", "please stop writing"},
		{InboundReceived{Media: &Media{Kind: MediaVoice}, TranscriptError: "transcription failed"}, "[voice message]", ""},
		{InboundReceived{Media: &Media{Kind: MediaAudio, Name: "call.mp3"}, Transcript: "hi"}, "[audio: call.mp3, transcribed]: hi", "hi"},
		{InboundReceived{Media: &Media{Kind: MediaPhoto}, Text: "our office"}, "[photo]\nour office", "our office"},
		{InboundReceived{Media: &Media{Kind: MediaDocument, Name: "price [v2].pdf"}}, "[document: price (v2).pdf]", ""},
		{InboundReceived{Media: &Media{Kind: MediaSticker}}, "[sticker]", ""},
		{InboundReceived{Media: &Media{Kind: MediaVideo}}, "[video]", ""},
		{InboundReceived{Media: &Media{Kind: MediaVideoNote}}, "[video message]", ""},
		{InboundReceived{Media: &Media{Kind: MediaOther}}, "[media]", ""},
	}
	for _, c := range cases {
		if got := c.e.ModelText(); got != c.model {
			t.Errorf("ModelText of %+v = %q, want %q", c.e, got, c.model)
		}
		if got := c.e.Said(); got != c.own {
			t.Errorf("Said of %+v = %q, want %q", c.e, got, c.own)
		}
	}
	if !IsOptOut(InboundReceived{Media: &Media{Kind: MediaVoice}, Transcript: "stop"}.Said()) {
		t.Error("an opt-out said in a voice note is not read as one")
	}
}

// An InboundReceived recorded before media were decodes as a text.
func TestOldInboundDecodes(t *testing.T) {
	var e InboundReceived
	if err := json.Unmarshal([]byte(`{"tg_message_id":5,"text":"hi","at":"2026-01-02T03:04:05Z"}`), &e); err != nil {
		t.Fatal(err)
	}
	if e.Media != nil || e.ModelText() != "hi" || e.Said() != "hi" {
		t.Fatalf("decoded %+v", e)
	}
}

// The model may send only the knowledge base's files: a file it names is
// planned after the reply with its caption; any other name is withheld,
// and the reply still goes.
func TestTurnSendsOnlyKnowledgeFiles(t *testing.T) {
	withFiles := func(tt TakeTurn) TakeTurn {
		tt.Rules.Files = []SendableFile{{Name: "price-list.pdf", MIME: "application/pdf", Caption: "Our price list"}}
		return tt
	}
	const reply = "Here is our price list. How many people are on your team?"
	runDialogCases(t, []dialogCase{
		{name: "a named file is sent", given: opened("send me the price list"),
			when: withFiles(replyTurn(1, []string{"send me the price list"}, TurnOutput{Reply: reply, NextStage: StageDiscovery, Score: 20, File: "Price-List.pdf"})),
			then: []Event{taken(TurnReply, 1, score(20)), QualificationUpdated{Qual: Qualification{Score: score(20)}}, StageChanged{From: StageOpening, To: StageDiscovery}, planned(101, reply, KindReply),
				OutboundPlanned{RandomID: 102, Text: "Our price list", By: ActorAI, Kind: KindReply,
					File: &Attachment{Name: "price-list.pdf", MIME: "application/pdf", Knowledge: true}}}},
		{name: "an invented file is withheld", given: opened("send me the price list"),
			when: withFiles(replyTurn(1, []string{"send me the price list"}, TurnOutput{Reply: reply, NextStage: StageDiscovery, Score: 20, File: "discount-coupon.pdf"})),
			then: []Event{taken(TurnReply, 1, score(20), guards(`file "discount-coupon.pdf" is not in the knowledge base: withheld`)),
				QualificationUpdated{Qual: Qualification{Score: score(20)}}, StageChanged{From: StageOpening, To: StageDiscovery}, planned(101, reply, KindReply)}},
	})
}

// The scenario's media rule hands off without a model's answer: the
// handoff note, the reason as given.
func TestTurnHandsOffForMedia(t *testing.T) {
	tt := replyTurn(1, []string{"[document: brief.pdf]"}, TurnOutput{})
	tt.Usage, tt.Handoff = Usage{Engine: "scenario"}, "media: the lead sent [document: brief.pdf]"
	runDialogCases(t, []dialogCase{
		{name: "a document goes to a person", given: opened("x"), when: tt,
			then: []Event{TurnTaken{Kind: TurnReply, Engine: "scenario", Scenario: "acme", ScenarioVersion: "3", Variant: "A", VariantVersion: "3", Language: "en", Answered: 1},
				planned(101, rules.HandoffReply, KindHandoff), HandoffRequested{Reason: "media: the lead sent [document: brief.pdf]"},
				StageChanged{From: StageOpening, To: StageHandoff}}},
	})
}
