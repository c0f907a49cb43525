package telegram

import (
	"context"
	"log/slog"
	"testing"

	"github.com/gotd/td/tg"
)

// An updateShortMessage that reaches Handle directly (not expanded by the
// updates manager) is delivered as a full message, with the peer's
// stored access hash; an outgoing one is the account's own.
func TestHandleShortMessage(t *testing.T) {
	var got []Message
	c := &conn{log: slog.New(slog.DiscardHandler), self: Peer{UserID: 1}, known: map[int64]int64{42: 4242}, sent: map[int]bool{},
		handler: func(_ context.Context, m Message) error { got = append(got, m); return nil }}
	if err := c.Handle(context.Background(), &tg.UpdateShortMessage{ID: 7, UserID: 42, Message: "hello", Pts: 3, PtsCount: 1, Date: 1700000000}); err != nil {
		t.Fatal(err)
	}
	if err := c.Handle(context.Background(), &tg.UpdateShortMessage{Out: true, ID: 8, UserID: 42, Message: "typed in the app", Pts: 4, PtsCount: 1, Date: 1700000001}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("delivered %+v", got)
	}
	if m := got[0]; m.ID != 7 || m.Text != "hello" || m.Out || m.Peer.UserID != 42 || m.Peer.AccessHash != 4242 || m.Media != nil || m.Date.Unix() != 1700000000 {
		t.Fatalf("the lead's short message: %+v", m)
	}
	if m := got[1]; m.ID != 8 || !m.Out || m.Peer.UserID != 42 {
		t.Fatalf("the account's own short message: %+v", m)
	}
}
