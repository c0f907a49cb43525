package engine

import (
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"

	"github.com/salesbot/salesbot/adapters/llm"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
)

// NewTranscriber is the transcriber of the LLM of cfg (its base URL and
// key, the model cfg.TranscriptionModel or llm.DefaultTranscriptionModel),
// nil without an LLM: the offline engine records voice notes without a
// transcript. Its only error is llm.New's refusal of cfg.
func NewTranscriber(cfg *llm.Config) (domain.Transcriber, error) {
	if cfg == nil {
		return nil, nil
	}
	c, err := llm.New(*cfg)
	if err != nil {
		return nil, err
	}
	return c.Transcriber(cfg.TranscriptionModel), nil
}

// mediaHandoff is why the lead's new messages go to a person because the
// scenario hands their media over (scenario.Media), or "".
func (c *Core) mediaHandoff(fresh []domain.InboundReceived) string {
	for _, m := range fresh {
		if m.Media == nil {
			continue
		}
		if c.Scenario.MediaAction(string(m.Media.Kind)) == scenario.MediaHandoff {
			return "media: the lead sent " + m.Media.Describe() + ", which the scenario hands to a person"
		}
	}
	return ""
}

// modelTexts are the messages as the model reads them.
func modelTexts(ms []domain.InboundReceived) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ModelText()
	}
	return out
}

// saidTexts are the lead's own words in the messages (transcripts
// included), for language detection and the meeting rules.
func saidTexts(ms []domain.InboundReceived) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		if s := m.Said(); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// sendable are the knowledge base's files a reply in lang may send.
func sendable(sc *scenario.Scenario, lang string) []domain.SendableFile {
	var out []domain.SendableFile
	for _, f := range sc.Knowledge.Files {
		out = append(out, domain.SendableFile{Name: f.Name, MIME: FileMIME(f), Caption: sc.T(f.Caption, lang)})
	}
	return out
}

// FileMIME is a knowledge-base file's media type: as the scenario says,
// else from its name's extension, else application/octet-stream.
func FileMIME(f scenario.File) string {
	if m := strings.TrimSpace(f.MIME); m != "" {
		return m
	}
	if m := mime.TypeByExtension(filepath.Ext(f.Name)); m != "" {
		return m
	}
	return "application/octet-stream"
}

// MaxKnowledgeFile is the largest knowledge-base file: what Telegram
// takes in one upload of small parts (telegram.MaxFileSize).
const MaxKnowledgeFile = 10 << 20

// Files are the knowledge base's files read from disk, by name.
type Files map[string][]byte

// LoadFiles reads the files the scenario's knowledge base names, each
// relative to dir (the scenario file's folder). A file that is missing,
// empty or over MaxKnowledgeFile is an error naming it.
func LoadFiles(sc *scenario.Scenario, dir string) (Files, error) {
	out := Files{}
	for _, f := range sc.Knowledge.Files {
		path := f.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		data, err := os.ReadFile(path)
		switch {
		case err != nil:
			return nil, fmt.Errorf("knowledge file %s: %w", f.Name, err)
		case len(data) == 0:
			return nil, fmt.Errorf("knowledge file %s: %s is empty", f.Name, path)
		case len(data) > MaxKnowledgeFile:
			return nil, fmt.Errorf("knowledge file %s: %s has %d bytes, over the %d Telegram takes", f.Name, path, len(data), MaxKnowledgeFile)
		}
		out[strings.ToLower(f.Name)] = data
	}
	return out, nil
}

// Data is the file of name's bytes.
func (fs Files) Data(name string) ([]byte, bool) {
	b, ok := fs[strings.ToLower(strings.TrimSpace(name))]
	return b, ok
}
