// Package audit answers an auditor's questions from the log itself, not
// the read models: a dialog's whole history ('salesbot replay dialog N'),
// whether the log is intact ('salesbot verify', with the master key or
// the public key alone) and whether it still holds a head written down
// earlier ('salesbot verify --expect-head').
package audit

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// ErrNoDialog: no dialog has the number (DialogError says which).
var ErrNoDialog = errors.New("audit: no such dialog")

// DialogError is the error of a dialog number the log does not hold.
type DialogError struct{ N int64 }

func (e *DialogError) Error() string        { return fmt.Sprintf("no dialog %d in the log", e.N) }
func (e *DialogError) Is(target error) bool { return target == ErrNoDialog }

// Entry is one event of a dialog's history: the stored record (position,
// version, time, type, id, whether its personal data is forgotten) and
// the event decoded through the event log (upcast, personal fields
// decrypted or read as forgotten).
type Entry struct {
	Record eventstore.RecordedEvent
	Event  domain.Event
}

// History is a dialog's every event, in order.
type History struct {
	N       int64
	Stream  string
	Entries []Entry
}

// Dialog returns the history of dialog n, found through the dialog
// number index (domain.Handlers.DialogOfNumber). It only reads the store,
// so it works on a log opened read-only. A number the log does not hold
// (or whose dialog never started) is a *DialogError matching ErrNoDialog.
func Dialog(ctx context.Context, store eventstore.Store, n int64) (History, error) {
	log := eventlog.New(store)
	id, found, err := domain.Handlers{Log: log}.DialogOfNumber(ctx, n)
	if err != nil {
		return History{}, err
	}
	if !found {
		return History{}, &DialogError{N: n}
	}
	stream := domain.DialogStream(id)
	recs, err := store.ReadStream(ctx, stream, 1)
	if err != nil {
		return History{}, err
	}
	h := History{N: n, Stream: stream, Entries: make([]Entry, 0, len(recs))}
	for i := range recs {
		e, err := log.Decode(&recs[i])
		if err != nil {
			return History{}, err
		}
		if i == 0 {
			if s, ok := e.(domain.DialogStarted); !ok || s.N != n {
				return History{}, &DialogError{N: n}
			}
		}
		h.Entries = append(h.Entries, Entry{Record: recs[i], Event: e})
	}
	if len(h.Entries) == 0 {
		return History{}, &DialogError{N: n}
	}
	return h, nil
}

// WriteText writes the history for an auditor ('salesbot replay dialog
// N'): a heading, then a line per event with its time, version,
// position, type and what it says (Describe).
func (h History) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "dialog %d (%s): %d events\n", h.N, h.Stream, len(h.Entries))
	for _, en := range h.Entries {
		r := &en.Record
		if _, err := fmt.Fprintf(w, "%s  #%-3d pos %-8d %-20s %s\n", r.RecordedAt.UTC().Format(time.DateTime), r.Version, r.Position, r.Type, Describe(en.Event)); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSON writes the history as one JSON object per event: position,
// version, time, type, event id, whether its personal data is forgotten,
// and the event.
func (h History) WriteJSON(w io.Writer) error {
	for _, en := range h.Entries {
		r := &en.Record
		b, err := json.Marshal(map[string]any{
			"position": r.Position, "version": r.Version, "at": r.RecordedAt, "type": r.Type,
			"event_id": r.ID, "forgotten": r.Forgotten, "data": en.Event,
		})
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(w, string(b)); err != nil {
			return err
		}
	}
	return nil
}

// Describe is one readable line of an event for auditors.
func Describe(e domain.Event) string {
	switch e := e.(type) {
	case domain.DialogStarted:
		return fmt.Sprintf("by %s: contact %s, account %s, variant %q", e.By, e.ContactID, e.AccountID, e.Variant)
	case domain.InboundReceived:
		if e.TranscriptError != "" {
			return fmt.Sprintf("lead: %q (telegram message %d; not transcribed: %s)", e.ModelText(), e.TelegramMessageID, e.TranscriptError)
		}
		return fmt.Sprintf("lead: %q (telegram message %d)", e.ModelText(), e.TelegramMessageID)
	case domain.OutboundPlanned:
		who := string(e.By)
		if e.Person != "" {
			who += " (" + e.Person + ")"
		}
		return fmt.Sprintf("%s plans: %q (random_id %d)", who, e.Text, e.RandomID)
	case domain.OutboundSent:
		return fmt.Sprintf("sent random_id %d as telegram message %d", e.RandomID, e.TelegramMessageID)
	case domain.OutboundFailed:
		return fmt.Sprintf("random_id %d failed: %s", e.RandomID, e.Reason)
	case domain.StageChanged:
		return fmt.Sprintf("%s → %s", e.From, e.To)
	case domain.HandoffRequested:
		return "reason: " + e.Reason
	case domain.DialogTakenOver:
		return "by " + e.By
	case domain.DialogReleased:
		return fmt.Sprintf("by %s, AI resumes at %s", e.By, e.To)
	case domain.DialogStopped:
		return "by " + e.By
	case domain.DialogOptedOut:
		return fmt.Sprintf("lead: %q", e.Reason)
	case domain.DialogClosed:
		return fmt.Sprintf("%s, by %s", e.Outcome, e.By)
	}
	b, _ := json.Marshal(e)
	return string(b)
}

// ErrExpectedHead: the log does not hold the head an auditor expected.
var ErrExpectedHead = errors.New("the log does not hold the expected head")

// Head is a position of the log with the hash of its event, as verify
// prints it and an auditor writes it down: POS:HASH.
type Head struct {
	Position uint64
	Hash     [32]byte
}

// ParseHead reads POS:HASH.
func ParseHead(s string) (Head, error) {
	var h Head
	p, x, ok := strings.Cut(strings.TrimSpace(s), ":")
	pos, err := strconv.ParseUint(p, 10, 64)
	if !ok || err != nil || pos == 0 {
		return h, fmt.Errorf("want POS:HASH such as 1234:9f86d081..., got %q", s)
	}
	b, err := hex.DecodeString(x)
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("the hash in %q is not 64 hex characters", s)
	}
	h.Position = pos
	copy(h.Hash[:], b)
	return h, nil
}

// Hasher is the part of a store ExpectHead reads (eventstore.PebbleStore).
type Hasher interface {
	HashAt(ctx context.Context, pos uint64) ([32]byte, error)
	Head() uint64
}

// ExpectHead checks that the log holds want: an event at its position
// with its hash. A log that ends before it (events removed, an older
// copy) or holds another event there (rewritten) is an error matching
// ErrExpectedHead.
func ExpectHead(ctx context.Context, s Hasher, want Head) error {
	got, err := s.HashAt(ctx, want.Position)
	if errors.Is(err, eventstore.ErrNotFound) {
		return fmt.Errorf("%w: it ends at position %d, before the expected position %d (events removed, or an older copy)", ErrExpectedHead, s.Head(), want.Position)
	}
	if err != nil {
		return err
	}
	if got != want.Hash {
		return fmt.Errorf("%w: the event at position %d hashes to %x, expected %x (rewritten)", ErrExpectedHead, want.Position, got, want.Hash)
	}
	return nil
}
