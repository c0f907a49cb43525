package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"
)

// MediaKind is what a message carries besides text; the names are
// domain.MediaKind's.
type MediaKind string

const (
	MediaVoice     MediaKind = "voice"
	MediaAudio     MediaKind = "audio"
	MediaPhoto     MediaKind = "photo"
	MediaVideo     MediaKind = "video"
	MediaVideoNote MediaKind = "video_note"
	MediaDocument  MediaKind = "document"
	MediaSticker   MediaKind = "sticker"
	MediaOther     MediaKind = "other"
)

// Media is what a message carried besides its text (a caption), as
// Telegram describes it. Download is set for voice notes and audio: it
// fetches the file (upload.getFile) up to MaxDownload bytes, else
// ErrTooBig; other media are described, not fetched.
type Media struct {
	Kind     MediaKind
	Name     string // the file's name, if Telegram gives one
	MIME     string
	Duration int   // seconds (voice, audio, video)
	Size     int64 // bytes, if known
	Download func(ctx context.Context) ([]byte, error)
}

// MaxDownload is the largest file Media.Download fetches: about ten
// minutes of a voice note, far more than a lead says at once.
const MaxDownload = 20 << 20

// ErrTooBig: a file to download is over MaxDownload.
var ErrTooBig = errors.New("telegram: file too big to download")

// mediaOf describes a message's media; nil for none (a text message, a
// link preview).
func (c *conn) mediaOf(m tg.MessageMediaClass) *Media {
	switch m := m.(type) {
	case nil, *tg.MessageMediaEmpty, *tg.MessageMediaWebPage:
		return nil
	case *tg.MessageMediaPhoto:
		return &Media{Kind: MediaPhoto, MIME: "image/jpeg"}
	case *tg.MessageMediaDocument:
		doc, ok := m.Document.(*tg.Document)
		if !ok {
			return &Media{Kind: MediaDocument}
		}
		return c.documentMedia(doc, m.Voice, m.Round)
	}
	return &Media{Kind: MediaOther}
}

func (c *conn) documentMedia(doc *tg.Document, voice, round bool) *Media {
	md := &Media{Kind: MediaDocument, MIME: doc.MimeType, Size: doc.Size}
	var audio, video, sticker bool
	for _, a := range doc.Attributes {
		switch a := a.(type) {
		case *tg.DocumentAttributeFilename:
			md.Name = a.FileName
		case *tg.DocumentAttributeAudio:
			audio, voice = true, voice || a.Voice
			md.Duration = a.Duration
		case *tg.DocumentAttributeVideo:
			video, round = true, round || a.RoundMessage
			md.Duration = int(a.Duration)
		case *tg.DocumentAttributeSticker:
			sticker = true
		}
	}
	switch {
	case sticker:
		md.Kind = MediaSticker
	case audio && voice:
		md.Kind = MediaVoice
	case audio:
		md.Kind = MediaAudio
	case video && round:
		md.Kind = MediaVideoNote
	case video:
		md.Kind = MediaVideo
	}
	if md.Kind == MediaVoice || md.Kind == MediaAudio {
		loc := &tg.InputDocumentFileLocation{ID: doc.ID, AccessHash: doc.AccessHash, FileReference: doc.FileReference}
		size := doc.Size
		md.Download = func(ctx context.Context) ([]byte, error) { return c.download(ctx, loc, size) }
	}
	return md
}

// download fetches a file by upload.getFile, at most MaxDownload bytes.
func (c *conn) download(ctx context.Context, loc tg.InputFileLocationClass, size int64) ([]byte, error) {
	if size > MaxDownload {
		return nil, fmt.Errorf("download a file of %d bytes: %w", size, ErrTooBig)
	}
	w := &capped{max: MaxDownload}
	if _, err := downloader.NewDownloader().Download(c.api, loc).Stream(ctx, w); err != nil {
		return nil, fmt.Errorf("download a file: %w", err)
	}
	return w.buf.Bytes(), nil
}

// capped is a buffer that refuses to grow past max.
type capped struct {
	buf bytes.Buffer
	max int
}

func (w *capped) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.max {
		return 0, ErrTooBig
	}
	return w.buf.Write(p)
}

// shortMessage turns an updateShortMessage (a private text message in
// Telegram's short form) into the full update; the updates manager does
// this itself, so this serves updates that reach Handle directly.
func shortMessage(u *tg.UpdateShortMessage, self int64) tg.UpdateClass {
	from := u.UserID
	if u.Out {
		from = self
	}
	msg := &tg.Message{ID: u.ID, Out: u.Out, PeerID: &tg.PeerUser{UserID: u.UserID}, FromID: &tg.PeerUser{UserID: from},
		Message: u.Message, Date: u.Date, Entities: u.Entities}
	msg.SetFlags()
	return &tg.UpdateNewMessage{Message: msg, Pts: u.Pts, PtsCount: u.PtsCount}
}
