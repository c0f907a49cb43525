package domain

import (
	"context"
	"errors"
	"strings"
)

// MediaKind is what a lead's message carries besides text. A plain text
// message has no Media at all.
type MediaKind string

const (
	MediaVoice     MediaKind = "voice"      // a voice note (transcribed when a Transcriber is set)
	MediaAudio     MediaKind = "audio"      // an audio file (transcribed like a voice note)
	MediaPhoto     MediaKind = "photo"      // a photo
	MediaVideo     MediaKind = "video"      // a video file
	MediaVideoNote MediaKind = "video_note" // a round video message
	MediaDocument  MediaKind = "document"   // any other file
	MediaSticker   MediaKind = "sticker"    // a sticker
	MediaOther     MediaKind = "other"      // anything else Telegram sends (a poll, a location, ...)
)

// MediaKinds lists every MediaKind.
var MediaKinds = []MediaKind{MediaVoice, MediaAudio, MediaPhoto, MediaVideo, MediaVideoNote, MediaDocument, MediaSticker, MediaOther}

// Valid says whether k is one of MediaKinds.
func (k MediaKind) Valid() bool {
	for _, x := range MediaKinds {
		if k == x {
			return true
		}
	}
	return false
}

// Transcribed says whether a message of this kind is heard, not seen:
// its words come from a transcript.
func (k MediaKind) Transcribed() bool { return k == MediaVoice || k == MediaAudio }

// Media is what a lead's message carried, as Telegram describes it: the
// file's name (documents, audio), MIME type and duration in seconds
// (voice, audio, video). A file's name may say who the lead is, so it is
// personal data.
type Media struct {
	Kind     MediaKind `json:"kind"`
	Name     string    `json:"name,omitempty" personal:"name"`
	MIME     string    `json:"mime,omitempty"`
	Duration int       `json:"duration,omitempty"`
}

// Audio is a voice note or audio file to transcribe.
type Audio struct {
	Name string // a file name with an extension the service knows ("voice.ogg")
	MIME string
	Data []byte
}

// Transcriber turns speech into text: an OpenAI-compatible audio
// transcription (adapters/llm). Transcribe returns ErrTranscription
// (wrapped, with the cause) when the audio cannot be transcribed now; the
// caller records the message without a transcript, so nothing is lost.
type Transcriber interface {
	Transcribe(ctx context.Context, a Audio) (string, error)
}

// ErrTranscription: a voice note or audio file could not be transcribed.
var ErrTranscription = errors.New("domain: transcription failed")

// Said is the lead's own words in the message: its text (a caption, with
// media) and, for a voice note or audio, the transcript. The opt-out rule
// and language detection read it.
func (e InboundReceived) Said() string {
	t := strings.TrimSpace(e.Transcript)
	switch {
	case t == "":
		return e.Text
	case strings.TrimSpace(e.Text) == "":
		return t
	}
	return e.Text + "\n" + t
}

// ModelText is the message as a model reads it: media described in
// brackets ("[photo]", "[document: price.pdf]"), a transcript marked as
// one ("[voice message, transcribed]: ..."), then the caption. A voice
// note without a transcript (no Transcriber, or it failed) is "[voice
// message]": the model knows something was said that it cannot hear.
func (e InboundReceived) ModelText() string {
	if e.Media == nil {
		return e.Text
	}
	desc := e.Media.Describe()
	if t := strings.TrimSpace(e.Transcript); t != "" && e.Media.Kind.Transcribed() {
		desc = strings.TrimSuffix(desc, "]") + ", transcribed]: " + t
	}
	if c := strings.TrimSpace(e.Text); c != "" {
		return desc + "\n" + c
	}
	return desc
}

// Describe is the media in brackets, as a model and the transcripts
// show it: "[voice message]", "[photo]", "[document: price.pdf]".
func (m Media) Describe() string {
	switch m.Kind {
	case MediaVoice:
		return "[voice message]"
	case MediaAudio:
		if m.Name != "" {
			return "[audio: " + mediaName(m.Name) + "]"
		}
		return "[audio]"
	case MediaPhoto:
		return "[photo]"
	case MediaVideo:
		return "[video]"
	case MediaVideoNote:
		return "[video message]"
	case MediaDocument:
		if m.Name != "" {
			return "[document: " + mediaName(m.Name) + "]"
		}
		return "[document]"
	case MediaSticker:
		return "[sticker]"
	}
	return "[media]"
}

func mediaName(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("[", "(", "]", ")").Replace(s)), " ")
}

// SendableFile is a knowledge-base file a reply may send: its name (what
// the model names and the lead sees), media type and caption in the
// turn's language.
type SendableFile struct {
	Name, MIME, Caption string
}

// sendFile plans the knowledge-base file the model named, with its
// caption, after the reply; a name the knowledge base does not have is
// withheld, like an invented link.
func (t *turnBuilder) sendFile(name string) error {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil
	}
	for _, f := range t.cmd.Rules.Files {
		if !strings.EqualFold(f.Name, name) {
			continue
		}
		caption := strings.TrimSpace(f.Caption)
		if caption == "" {
			caption = f.Name
		}
		if len(t.ids) == 0 || t.ids[0] == 0 {
			return errorf(EINVALID, "the turn needs a random_id for the file it sends")
		}
		t.after = append(t.after, OutboundPlanned{RandomID: t.ids[0], Text: caption, By: ActorAI, Kind: KindReply,
			File: &Attachment{Name: f.Name, MIME: f.MIME, Knowledge: true}})
		t.ids = t.ids[1:]
		return nil
	}
	t.guard(guardUnknownFile, name)
	return nil
}
