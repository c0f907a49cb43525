package telegramtest

import (
	"bytes"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// Media kinds a lead can send (Media.Kind), as Telegram shapes them:
// voice and audio are documents with DocumentAttributeAudio (Voice for a
// voice note), video and video_note documents with DocumentAttributeVideo
// (RoundMessage for a video note), a sticker a document with
// DocumentAttributeSticker, a document a file with its name, a photo a
// MessageMediaPhoto.
const (
	KindVoice     = "voice"
	KindAudio     = "audio"
	KindPhoto     = "photo"
	KindVideo     = "video"
	KindVideoNote = "video_note"
	KindDocument  = "document"
	KindSticker   = "sticker"
)

// Media is a media message a user sends (SendMedia, Persona.Media).
type Media struct {
	Kind     string // one of the Kind* names
	Data     []byte // the file's bytes, served by upload.getFile (not for photos)
	Name     string // a document's file name
	MIME     string
	Duration int    // seconds, for voice, audio and video
	Caption  string // the message's text
}

// SendVoice sends a voice note from one user to another, as a Telegram
// app records it: audio/ogg with DocumentAttributeAudio{Voice: true}.
func (s *Sandbox) SendVoice(from, to int64, audio []byte, seconds int) (int, error) {
	return s.SendMedia(from, to, Media{Kind: KindVoice, Data: audio, MIME: "audio/ogg", Duration: seconds})
}

// SendPhoto sends a photo with a caption (may be empty).
func (s *Sandbox) SendPhoto(from, to int64, caption string) (int, error) {
	return s.SendMedia(from, to, Media{Kind: KindPhoto, Caption: caption})
}

// SendMedia delivers a media message from one user to another as if sent
// from a Telegram app (an updateNewMessage with the media); its file is
// served by upload.getFile to the recipient.
func (s *Sandbox) SendMedia(from, to int64, m Media) (int, error) {
	c, err := s.mediaContent(m)
	if err != nil {
		return 0, err
	}
	res, err := s.send(from, to, c, 0, 0)
	if err != nil {
		return 0, err
	}
	return res.Updates[0].(*tg.UpdateMessageID).ID, nil
}

func (s *Sandbox) mediaContent(m Media) (content, error) {
	date := int(s.now().Unix())
	c := content{text: m.Caption}
	if m.Kind == KindPhoto {
		p := &tg.Photo{ID: randomInt63(), AccessHash: randomInt63(), FileReference: []byte{1}, Date: date, DCID: DC,
			Sizes: []tg.PhotoSizeClass{&tg.PhotoSize{Type: "x", W: 800, H: 600, Size: len(m.Data)}}}
		c.photo = p
		return c, nil
	}
	mime := m.MIME
	var attrs []tg.DocumentAttributeClass
	switch m.Kind {
	case KindVoice:
		attrs = append(attrs, &tg.DocumentAttributeAudio{Voice: true, Duration: m.Duration})
		c.voice = true
		if mime == "" {
			mime = "audio/ogg"
		}
	case KindAudio:
		attrs = append(attrs, &tg.DocumentAttributeAudio{Duration: m.Duration})
		if mime == "" {
			mime = "audio/mpeg"
		}
	case KindVideo, KindVideoNote:
		attrs = append(attrs, &tg.DocumentAttributeVideo{Duration: float64(m.Duration), W: 640, H: 640, RoundMessage: m.Kind == KindVideoNote})
		c.round = m.Kind == KindVideoNote
		if mime == "" {
			mime = "video/mp4"
		}
	case KindSticker:
		attrs = append(attrs, &tg.DocumentAttributeSticker{Alt: "🙂", Stickerset: &tg.InputStickerSetEmpty{}})
		if mime == "" {
			mime = "image/webp"
		}
	case KindDocument:
	default:
		return content{}, tgerr.New(400, "MEDIA_INVALID")
	}
	if mime == "" {
		mime = "application/octet-stream"
	}
	if m.Name != "" {
		attrs = append(attrs, &tg.DocumentAttributeFilename{FileName: m.Name})
	}
	for _, a := range attrs {
		if f, ok := a.(interface{ SetFlags() }); ok {
			f.SetFlags()
		}
	}
	doc := &tg.Document{ID: randomInt63(), AccessHash: randomInt63(), FileReference: []byte{1}, Date: date,
		MimeType: mime, Size: int64(len(m.Data)), DCID: DC, Attributes: attrs}
	c.doc = doc
	c.file = &File{Name: m.Name, MIME: mime, Data: bytes.Clone(m.Data)}
	return c, nil
}

// uploadGetFile serves the bytes of a document the caller received or
// sent (InputDocumentFileLocation), by offset and limit as Telegram does.
func (s *Sandbox) uploadGetFile(c *call) (any, error) {
	r, err := decode[tg.UploadGetFileRequest](c)
	if err != nil {
		return nil, err
	}
	loc, ok := r.Location.(*tg.InputDocumentFileLocation)
	if !ok {
		return nil, tgerr.New(400, "LOCATION_INVALID")
	}
	if r.Limit <= 0 || r.Limit > 1<<20 || r.Offset < 0 || r.Limit%1024 != 0 {
		return nil, tgerr.New(400, "LIMIT_INVALID")
	}
	s.mu.Lock()
	f, found := s.files[loc.ID]
	hash := s.docHashes[loc.ID]
	s.mu.Unlock()
	if !found || hash != loc.AccessHash {
		return nil, tgerr.New(400, "FILE_ID_INVALID")
	}
	var part []byte
	if r.Offset < int64(len(f.Data)) {
		part = f.Data[r.Offset:min(r.Offset+int64(r.Limit), int64(len(f.Data)))]
	}
	return &tg.UploadFile{Type: &tg.StorageFilePartial{}, Mtime: int(s.now().Unix()), Bytes: bytes.Clone(part)}, nil
}

// docKind names a document message's kind.
func docKind(m *tg.MessageMediaDocument) string {
	doc, ok := m.Document.(*tg.Document)
	if !ok {
		return KindDocument
	}
	for _, a := range doc.Attributes {
		switch a := a.(type) {
		case *tg.DocumentAttributeAudio:
			if a.Voice || m.Voice {
				return KindVoice
			}
			return KindAudio
		case *tg.DocumentAttributeVideo:
			if a.RoundMessage || m.Round {
				return KindVideoNote
			}
			return KindVideo
		case *tg.DocumentAttributeSticker:
			return KindSticker
		}
	}
	return KindDocument
}
