package telegram_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/sandbox"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/eventstore"
)

func TestSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sb, err := sandbox.New(ctx, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	st, err := eventstore.NewMemory(eventstore.Options{MasterKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := sb.AddUser(sandbox.UserSpec{Username: "acme_sales", Phone: "+1555000001", FirstName: "Acme", Password: "hunter2"})
	lead, _ := sb.AddPersona(sandbox.UserSpec{Username: "lead_anna", FirstName: "Anna"}, sandbox.Persona{Reply: sandbox.Script("hi there", "tell me more")})
	d := &telegram.Dialer{AppID: 1, AppHash: "x", Options: sb.ClientOptions(), Secrets: st}
	id := uuid.New()
	start := time.Now()
	self, err := d.LoginPhone(ctx, id, telegram.PhoneLogin{Phone: "+1555000001",
		Code:     func(context.Context) (string, error) { return sb.LoginCode("+1555000001"), nil },
		Password: func(context.Context) (string, error) { return "hunter2", nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("login %v self=%+v", time.Since(start), self)
	if self.UserID != acc.ID {
		t.Fatalf("self %d, want %d", self.UserID, acc.ID)
	}
	got := make(chan telegram.Message, 10)
	ready := make(chan telegram.Conn, 1)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	start = time.Now()
	go func() {
		done <- d.Run(runCtx, id, telegram.RunOptions{
			Handler: func(ctx context.Context, m telegram.Message) error { got <- m; return nil },
			Ready:   func(c telegram.Conn) { ready <- c },
		})
	}()
	var c telegram.Conn
	select {
	case c = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	t.Logf("reconnect %v", time.Since(start))
	p, err := c.Resolve(ctx, "@lead_anna")
	if err != nil {
		t.Fatal(err)
	}
	mid, err := c.Send(ctx, p, 42, "hello")
	if err != nil {
		t.Fatal(err)
	}
	mid2, err := c.Send(ctx, p, 42, "hello")
	if err != nil || mid2 != mid {
		t.Fatalf("resend: %d %v, want %d", mid2, err, mid)
	}
	m := <-got
	t.Logf("got %+v", m)
	if m.Text != "hi there" || m.Out || m.Peer.UserID != lead.ID {
		t.Fatalf("got %+v", m)
	}
	if n := len(sb.Messages(lead.ID, acc.ID)); n != 2 {
		t.Fatalf("lead has %d messages, want 2", n)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
