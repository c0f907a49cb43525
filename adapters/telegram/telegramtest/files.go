package telegramtest

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// File is a file sent as a document, as tests see it.
type File struct {
	Name string // the document's file name
	MIME string
	Data []byte
}

func (f File) clone() File {
	f.Data = bytes.Clone(f.Data)
	return f
}

// Telegram's limits on files uploaded in small parts (upload.saveFilePart).
const (
	maxPartSize  = 512 << 10 // bytes in one part
	maxFileParts = 4000      // parts of one file
	maxSmallFile = 10 << 20  // bytes in a file uploaded in small parts
)

// upload names the parts of a file being uploaded: Telegram keeps them
// per auth key and client-chosen file id.
type upload struct {
	key  [8]byte
	file int64
}

func (s *Sandbox) uploadSaveFilePart(c *call) (any, error) {
	r, err := decode[tg.UploadSaveFilePartRequest](c)
	if err != nil {
		return nil, err
	}
	switch {
	case r.FileID == 0:
		return nil, tgerr.New(400, "FILE_ID_INVALID")
	case r.FilePart < 0 || r.FilePart >= maxFileParts:
		return nil, tgerr.New(400, "FILE_PART_INVALID")
	case len(r.Bytes) == 0:
		return nil, tgerr.New(400, "FILE_PART_EMPTY")
	case len(r.Bytes) > maxPartSize:
		return nil, tgerr.New(400, "FILE_PART_TOO_BIG")
	}
	up := upload{key: c.req.Session.AuthKey.ID, file: r.FileID}
	s.mu.Lock()
	defer s.mu.Unlock()
	parts := s.uploads[up]
	if parts == nil {
		parts = map[int][]byte{}
		s.uploads[up] = parts
	}
	parts[r.FilePart] = bytes.Clone(r.Bytes) // a part sent again replaces the first, as on Telegram
	return &tg.BoolTrue{}, nil
}

func (s *Sandbox) messagesSendMedia(c *call) (any, error) {
	r, err := decode[tg.MessagesSendMediaRequest](c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	to, err := s.peer(c, r.Peer)
	var again *tg.Updates
	if err == nil {
		// A resend is answered before the file is looked at: its parts
		// were used up by the first send.
		again = s.resent(c.user, to, r.RandomID)
	}
	s.mu.Unlock()
	if err != nil || again != nil {
		return again, err
	}
	m, err := s.uploadedDocument(c, r.Media)
	if err != nil {
		return nil, err
	}
	m.text = r.Message
	return s.send(c.user.id, to.id, m, r.RandomID, c.req.Session.ID)
}

// uploadedDocument assembles the file an InputMediaUploadedDocument names
// from the parts the caller's auth key uploaded (and forgets the parts),
// and makes it a document. Only documents are served.
func (s *Sandbox) uploadedDocument(c *call, media tg.InputMediaClass) (content, error) {
	in, ok := media.(*tg.InputMediaUploadedDocument)
	if !ok {
		return content{}, tgerr.New(400, "MEDIA_INVALID")
	}
	f, ok := in.File.(*tg.InputFile)
	if !ok { // big files (upload.saveBigFilePart) are not served
		return content{}, tgerr.New(400, "FILE_PARTS_INVALID")
	}
	if f.Parts < 1 || f.Parts > maxFileParts {
		return content{}, tgerr.New(400, "FILE_PARTS_INVALID")
	}
	up := upload{key: c.req.Session.AuthKey.ID, file: f.ID}
	s.mu.Lock()
	parts := s.uploads[up]
	delete(s.uploads, up)
	s.mu.Unlock()
	if len(parts) > f.Parts {
		return content{}, tgerr.New(400, "FILE_PARTS_INVALID")
	}
	var data []byte
	size := len(parts[0])
	for i := range f.Parts {
		p, ok := parts[i]
		switch {
		case !ok:
			return content{}, tgerr.New(400, fmt.Sprintf("FILE_PART_%d_MISSING", i))
		case i < f.Parts-1 && (len(p) != size || size%1024 != 0 || maxPartSize%size != 0):
			// Every part but the last has the one size, a divisor of 512 KiB
			// in whole KiB.
			return content{}, tgerr.New(400, "FILE_PART_SIZE_INVALID")
		case len(p) > size:
			return content{}, tgerr.New(400, "FILE_PART_SIZE_CHANGED")
		}
		data = append(data, p...)
	}
	if len(data) > maxSmallFile {
		return content{}, tgerr.New(400, "FILE_PARTS_INVALID")
	}
	if f.MD5Checksum != "" {
		if sum := md5.Sum(data); f.MD5Checksum != hex.EncodeToString(sum[:]) {
			return content{}, tgerr.New(400, "MD5_CHECKSUM_INVALID")
		}
	}
	name, attrs := f.Name, in.Attributes
	named := false
	for _, a := range attrs {
		if a, ok := a.(*tg.DocumentAttributeFilename); ok {
			name, named = a.FileName, true
		}
	}
	if !named {
		attrs = append(attrs, &tg.DocumentAttributeFilename{FileName: name})
	}
	mime := in.MimeType
	if mime == "" {
		mime = "application/octet-stream"
	}
	doc := &tg.Document{ID: randomInt63(), AccessHash: randomInt63(), FileReference: []byte{}, Date: int(s.now().Unix()),
		MimeType: mime, Size: int64(len(data)), DCID: DC, Attributes: attrs}
	return content{doc: doc, file: &File{Name: name, MIME: mime, Data: data}}, nil
}

func randomInt63() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return int64(binary.BigEndian.Uint64(b[:]) >> 1)
}
