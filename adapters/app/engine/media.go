package engine

import (
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
