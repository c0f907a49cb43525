package accounts_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
)

const ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:uid-1\r\nSUMMARY:Acme demo\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

// book proposes a slot in dialog st and books it, planning the
// confirmation with its .ics under randomID; the proposal must be sent
// first when the service runs.
func (w *world) book(st accounts.Started, randomID int64, run bool) domain.Attachment {
	w.t.Helper()
	ctx := context.Background()
	stream := domain.DialogStream(st.DialogID)
	slot := domain.Interval{Start: time.Date(2031, 3, 3, 10, 0, 0, 0, time.UTC), End: time.Date(2031, 3, 3, 10, 30, 0, 0, time.UTC)}
	if _, err := w.h.Dialog(ctx, st.DialogID, st.ContactID, domain.ProposeMeeting{Slots: []domain.Interval{slot}, Zone: "UTC", Text: "Monday 10:00?", RandomID: randomID - 1}); err != nil {
		w.t.Fatal(err)
	}
	if run {
		w.eventually("the proposal is sent", func() bool { return count[domain.OutboundSent](w.events(stream)) == 2 })
	}
	file := domain.Attachment{Name: "meeting.ics", MIME: "text/calendar", Data: ics}
	if _, err := w.h.Dialog(ctx, st.DialogID, st.ContactID, domain.BookMeeting{Slot: slot, Zone: "UTC", UID: "uid-1", Manager: "m@acme.test",
		Text: "Booked: Monday 10:00 UTC", File: file, RandomID: randomID}); err != nil {
		w.t.Fatal(err)
	}
	return file
}

// sentAs is the Telegram message id an OutboundSent records for randomID.
func sentAs(evs []domain.Event, randomID int64) (int64, bool) {
	for _, e := range evs {
		if s, ok := e.(domain.OutboundSent); ok && s.RandomID == randomID {
			return s.TelegramMessageID, true
		}
	}
	return 0, false
}

// A planned message with a file (a booking's .ics) reaches the lead as a
// document with its bytes, name and type, the text its caption, and is
// recorded sent; sent again after a crash with the same random_id, the
// lead still has one copy.
func TestSendsAFile(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	acc, accUser := w.addAccount("sales-1")
	silent := telegramtest.Persona{Reply: func(telegramtest.Incoming) []string { return nil }}
	lead := w.persona("lead_fred", silent)
	other := w.persona("lead_gina", silent)
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })

	st := w.startDialog("lead_fred", "Hello Fred")
	stream := domain.DialogStream(st.DialogID)
	w.eventually("the opening is sent", func() bool { return count[domain.OutboundSent](w.events(stream)) == 1 })
	file := w.book(st, 502, true)
	w.eventually("the confirmation is sent", func() bool { return count[domain.OutboundSent](w.events(stream)) == 3 })
	msgs := w.sb.Messages(lead.ID, accUser.ID)
	if len(msgs) != 3 {
		t.Fatalf("lead's chat: %+v", msgs)
	}
	m := msgs[2]
	if m.Text != "Booked: Monday 10:00 UTC" || m.File == nil || m.File.Name != file.Name || m.File.MIME != file.MIME || !bytes.Equal(m.File.Data, []byte(ics)) {
		t.Fatalf("the lead got %+v", m)
	}
	if msgs[1].File != nil || msgs[1].Text != "Monday 10:00?" {
		t.Fatalf("the proposal went as %+v", msgs[1])
	}
	// Telegram's message id is recorded, and the file is no longer pending.
	own := w.sb.Messages(accUser.ID, lead.ID)
	if id, ok := sentAs(w.events(stream), 502); len(own) != 3 || !ok || id != int64(own[2].ID) {
		t.Fatalf("recorded as message %d (%v); the account's box %+v", id, ok, own)
	}
	d, err := w.h.LoadDialog(context.Background(), st.DialogID)
	if err != nil || len(d.Files) != 0 || len(d.Pending) != 0 {
		t.Fatalf("dialog after the send: files %v pending %v, %v", d.Files, d.Pending, err)
	}

	// A crash between sending and recording: the confirmation reached
	// Telegram, the log does not know it. After the restart the outbox
	// sends it again with the same random_id; the lead sees one copy.
	st2 := w.startDialog("lead_gina", "Hello Gina")
	stream2 := domain.DialogStream(st2.DialogID)
	w.eventually("the second opening is sent", func() bool { return count[domain.OutboundSent](w.events(stream2)) == 1 })
	w.halt()
	w.book(st2, 602, false)
	rawSendFile(t, w, acc, other.ID, 601, "Monday 10:00?", nil)
	rawSendFile(t, w, acc, other.ID, 602, "Booked: Monday 10:00 UTC", &telegram.File{Name: file.Name, MIME: file.MIME, Data: []byte(ics)})
	if n := len(w.sb.Messages(other.ID, accUser.ID)); n != 3 {
		t.Fatalf("the lead has %d messages before the restart, want 3", n)
	}
	w.restart()
	w.start()
	w.eventually("the resends are recorded as sent", func() bool { return count[domain.OutboundSent](w.events(stream2)) == 3 })
	msgs = w.sb.Messages(other.ID, accUser.ID)
	if len(msgs) != 3 || msgs[2].File == nil || !bytes.Equal(msgs[2].File.Data, []byte(ics)) {
		t.Fatalf("the lead's chat after the resend: %+v", msgs)
	}
}

// rawSendFile sends as the account would have before a crash: a file if
// f is set, else text.
func rawSendFile(t *testing.T, w *world, acc uuid.UUID, to, randomID int64, text string, f *telegram.File) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	err := w.dialer.Run(ctx, acc, telegram.RunOptions{
		Handler: func(context.Context, telegram.Message) error { return nil },
		Ready: func(conn telegram.Conn) {
			defer stop()
			p, found, err := conn.Peer(ctx, to)
			if err != nil || !found {
				t.Errorf("peer %d: %v %v", to, found, err)
				return
			}
			if f != nil {
				_, err = conn.SendFile(ctx, p, randomID, text, *f)
			} else {
				_, err = conn.Send(ctx, p, randomID, text)
			}
			if err != nil {
				t.Errorf("raw send: %v", err)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}
