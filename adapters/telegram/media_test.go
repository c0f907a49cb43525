package telegram_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
)

func next(t *testing.T, got <-chan telegram.Message) telegram.Message {
	t.Helper()
	select {
	case m := <-got:
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("no message within 20s")
	}
	return telegram.Message{}
}

// A lead's plain text arrives as updateShortMessage (the sandbox sends
// that form, as Telegram does), both from a new peer (the updates
// manager asks for the difference) and from a known one; media arrive as
// what they are, and a voice note's bytes download.
func TestShortMessagesAndMedia(t *testing.T) {
	d, _ := newDialer(t)
	id, acc := login(t, d, telegramtest.UserSpec{FirstName: "Acme"})
	lead, err := sb.AddUser(telegramtest.UserSpec{Username: "lead_media", FirstName: "Mia"})
	if err != nil {
		t.Fatal(err)
	}
	_, got := connect(t, d, id)
	before := sb.Calls(tg.UploadGetFileRequestTypeID)

	for _, text := range []string{"first, from someone new", "second, from someone known"} {
		if _, err := sb.SendAs(lead.ID, acc.ID, text); err != nil {
			t.Fatal(err)
		}
		m := next(t, got)
		if m.Text != text || m.Peer.UserID != lead.ID || m.Peer.AccessHash == 0 || m.Media != nil || m.Out {
			t.Fatalf("short message delivered as %+v", m)
		}
	}

	voice := bytes.Repeat([]byte("OggS voice "), 100_000) // over one 512 KiB part
	if _, err := sb.SendVoice(lead.ID, acc.ID, voice, 7); err != nil {
		t.Fatal(err)
	}
	m := next(t, got)
	if m.Media == nil || m.Media.Kind != telegram.MediaVoice || m.Media.Duration != 7 || m.Media.MIME != "audio/ogg" || m.Text != "" || m.Media.Download == nil {
		t.Fatalf("voice note delivered as %+v (media %+v)", m, m.Media)
	}
	data, err := m.Media.Download(ctxT(t))
	if err != nil || !bytes.Equal(data, voice) {
		t.Fatalf("downloaded %d bytes (want %d): %v", len(data), len(voice), err)
	}
	if n := sb.Calls(tg.UploadGetFileRequestTypeID) - before; n < 2 {
		t.Fatalf("upload.getFile called %d times for a file of 3 parts", n)
	}

	cases := []struct {
		media telegramtest.Media
		kind  telegram.MediaKind
		name  string
	}{
		{telegramtest.Media{Kind: telegramtest.KindPhoto, Caption: "our office"}, telegram.MediaPhoto, ""},
		{telegramtest.Media{Kind: telegramtest.KindDocument, Name: "brief.pdf", MIME: "application/pdf", Data: []byte("%PDF")}, telegram.MediaDocument, "brief.pdf"},
		{telegramtest.Media{Kind: telegramtest.KindSticker, Data: []byte("webp")}, telegram.MediaSticker, ""},
		{telegramtest.Media{Kind: telegramtest.KindVideo, Data: []byte("mp4"), Duration: 3}, telegram.MediaVideo, ""},
		{telegramtest.Media{Kind: telegramtest.KindVideoNote, Data: []byte("mp4"), Duration: 3}, telegram.MediaVideoNote, ""},
		{telegramtest.Media{Kind: telegramtest.KindAudio, Name: "call.mp3", Data: []byte("ID3"), Duration: 60}, telegram.MediaAudio, "call.mp3"},
	}
	for _, c := range cases {
		if _, err := sb.SendMedia(lead.ID, acc.ID, c.media); err != nil {
			t.Fatal(err)
		}
		m := next(t, got)
		if m.Media == nil || m.Media.Kind != c.kind || m.Media.Name != c.name || m.Text != c.media.Caption {
			t.Fatalf("%s delivered as %+v (media %+v)", c.media.Kind, m, m.Media)
		}
		if (m.Media.Download != nil) != (c.kind == telegram.MediaAudio) {
			t.Fatalf("%s: download offered: %v", c.kind, m.Media.Download != nil)
		}
	}
	msgs := sb.Messages(acc.ID, lead.ID)
	if k := msgs[2].Media; k != telegramtest.KindVoice {
		t.Fatalf("the sandbox's box shows the voice note as %q", k)
	}
}
