package telegramtest_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
)

// A persona can answer with a voice note and a photo (Persona.Media):
// the box shows them as what they are, the voice note with its bytes;
// a media kind the sandbox does not know is refused.
func TestPersonaSendsMedia(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := telegramtest.New(ctx, telegramtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	audio := []byte("OggS a voice note")
	acc, err := sb.AddUser(telegramtest.UserSpec{Username: "acme_media"})
	if err != nil {
		t.Fatal(err)
	}
	lead, err := sb.AddPersona(telegramtest.UserSpec{Username: "lead_talks"}, telegramtest.Persona{Media: func(in telegramtest.Incoming) []telegramtest.Media {
		return []telegramtest.Media{{Kind: telegramtest.KindVoice, Data: audio, Duration: 3}, {Kind: telegramtest.KindPhoto, Caption: "see"}}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.SendAs(acc.ID, lead.ID, "hello"); err != nil {
		t.Fatal(err)
	}
	var msgs []telegramtest.Message
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if msgs = sb.Messages(acc.ID, lead.ID); len(msgs) == 3 {
			break
		}
	}
	if len(msgs) != 3 {
		t.Fatalf("the account's chat: %+v", msgs)
	}
	if v := msgs[1]; v.Out || v.Media != telegramtest.KindVoice || v.File == nil || !bytes.Equal(v.File.Data, audio) || v.File.MIME != "audio/ogg" {
		t.Fatalf("the voice note: %+v", v)
	}
	if p := msgs[2]; p.Media != telegramtest.KindPhoto || p.Text != "see" || p.File != nil {
		t.Fatalf("the photo: %+v", p)
	}
	if _, err := sb.SendMedia(lead.ID, acc.ID, telegramtest.Media{Kind: "hologram"}); err == nil {
		t.Fatal("an unknown media kind was sent")
	}
}
