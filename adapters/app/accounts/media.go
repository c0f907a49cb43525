package accounts

import (
	"context"
	"errors"
	"time"

	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/domain"
)

// transcribeTimeout bounds downloading and transcribing one voice note;
// the account's later messages wait for it.
const transcribeTimeout = 2 * time.Minute

// inboundOf is the command that records m: its text, what media it
// carried, and for a voice note or audio the transcript (or why there is
// none: the message is recorded either way, nothing is lost). A message
// recorded already (linked, and at or below the dialog's last inbound
// id) is not transcribed again.
func (s *Service) inboundOf(ctx context.Context, link domain.PeerLinked, linked bool, m telegram.Message) domain.RecordInbound {
	cmd := domain.RecordInbound{TelegramMessageID: int64(m.ID), Text: m.Text, At: m.Date}
	if m.Media == nil {
		return cmd
	}
	kind := domain.MediaKind(m.Media.Kind)
	if !kind.Valid() {
		kind = domain.MediaOther
	}
	cmd.Media = &domain.Media{Kind: kind, Name: m.Media.Name, MIME: m.Media.MIME, Duration: m.Media.Duration}
	if !kind.Transcribed() || s.cfg.Transcriber == nil {
		return cmd
	}
	if linked {
		if d, err := s.h.LoadDialog(ctx, link.DialogID); err == nil && d.Exists && int64(m.ID) <= d.LastInbound {
			return cmd // recorded already: the decider drops it
		}
	}
	if m.Media.Download == nil {
		cmd.TranscriptError = "the file cannot be downloaded"
		return cmd
	}
	tctx, cancel := context.WithTimeout(ctx, transcribeTimeout)
	defer cancel()
	data, err := m.Media.Download(tctx)
	if err != nil {
		cmd.TranscriptError = "download: " + downloadReason(err)
		s.log.Warn("accounts: voice note not downloaded; recorded without a transcript", "message", m.ID, "err", err)
		return cmd
	}
	name := m.Media.Name
	if name == "" {
		name = "voice.ogg"
		if kind == domain.MediaAudio {
			name = "audio.mp3"
		}
	}
	text, err := s.cfg.Transcriber.Transcribe(tctx, domain.Audio{Name: name, MIME: m.Media.MIME, Data: data})
	switch {
	case err != nil:
		cmd.TranscriptError = "transcription failed" // the cause is logged: a provider's message is no event's
		s.log.Warn("accounts: voice note not transcribed; recorded without a transcript", "message", m.ID, "err", err)
	case text == "":
		cmd.TranscriptError = "the transcript is empty"
	default:
		cmd.Transcript = text
	}
	return cmd
}

func downloadReason(err error) string {
	switch {
	case errors.Is(err, telegram.ErrTooBig):
		return "the file is too big"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	return telegram.Classify(err).Reason
}
