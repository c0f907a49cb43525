package domain

import (
	"context"
	"errors"
	"testing"
	"time"
)

// racingLog is a memLog where another writer appends to a stream just
// before the next Append to it.
type racingLog struct {
	*memLog
	race Event
}

func (l *racingLog) Append(ctx context.Context, stream string, expected uint64, subject string, events []Event) error {
	if l.race != nil {
		e := l.race
		l.race = nil
		if err := l.memLog.Append(ctx, stream, expected, subject, []Event{e}); err != nil {
			return err
		}
	}
	return l.memLog.Append(ctx, stream, expected, subject, events)
}

func TestDialogAt(t *testing.T) {
	for _, cache := range []*StateCache{nil, NewStateCache(10)} {
		ctx := context.Background()
		log := &racingLog{memLog: &memLog{}}
		h := Handlers{Log: log, Now: func() time.Time { return now }, Cache: cache}
		if _, err := h.Dialog(ctx, dialogID, contactID, StartDialog{DialogID: dialogID, N: 7, Contact: okContact, AccountID: accountID}); err != nil {
			t.Fatal(err)
		}
		v, err := h.DialogVersion(ctx, dialogID)
		if err != nil || v != 1 {
			t.Fatalf("version %d %v", v, err)
		}
		// At the version it is at: done.
		evs, err := h.DialogAt(ctx, dialogID, contactID, 1, TakeOver{By: "token:sb_1"})
		if err != nil || len(evs) != 1 {
			t.Fatalf("take over at 1: %v %v", evs, err)
		}
		// At the version it was at: refused, saying both.
		_, err = h.DialogAt(ctx, dialogID, contactID, 1, Release{By: "token:sb_1"})
		var stale *StaleError
		if !errors.Is(err, ErrConflict) || !errors.As(err, &stale) || stale.Expected != 1 || stale.Version != 2 {
			t.Fatalf("release at 1: %v", err)
		}
		// Nothing to do at the right version: no events, no error.
		if evs, err := h.DialogAt(ctx, dialogID, contactID, 2, TakeOver{By: "token:sb_1"}); err != nil || len(evs) != 0 {
			t.Fatalf("take over again: %v %v", evs, err)
		}
		// The state machine still decides.
		if _, err := h.DialogAt(ctx, dialogID, contactID, 2, StopDialog{By: "x"}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.DialogAt(ctx, dialogID, contactID, 4, Release{By: "x"}); ErrorCode(err) != ESTATE {
			t.Fatalf("release a closed dialog: %v", err)
		}
		// A writer between the load and the append: a conflict, not retried.
		log.race = InboundReceived{TelegramMessageID: 9, Text: "hi"}
		if _, err := h.DialogAt(ctx, dialogID, contactID, 4, RecordInbound{TelegramMessageID: 10, Text: "again"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("race: %v", err)
		}
		if v, _ := h.DialogVersion(ctx, dialogID); v != 5 {
			t.Fatalf("version after the race %d, want 5 (the other writer's event only)", v)
		}
		// Start is Dialog's.
		if _, err := h.DialogAt(ctx, dialogID, contactID, 0, StartDialog{}); ErrorCode(err) != EINVALID {
			t.Fatalf("start: %v", err)
		}
	}
}
