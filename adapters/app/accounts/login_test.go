package accounts_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/telegram"
)

// dialer records which way an account signed in.
type dialer struct{ way, session string }

func (d *dialer) LoginPhone(ctx context.Context, _ uuid.UUID, l telegram.PhoneLogin) (telegram.Peer, error) {
	code, err := l.Code(ctx)
	d.way = "phone " + l.Phone + " " + code
	return telegram.Peer{Name: "Acme"}, err
}

func (d *dialer) LoginQR(ctx context.Context, _ uuid.UUID, show func(context.Context, string) error, _ func(context.Context) (string, error)) (telegram.Peer, error) {
	d.way = "qr"
	return telegram.Peer{Name: "Acme"}, show(ctx, "tg://login?token=x")
}

func (d *dialer) ImportSession(_ context.Context, _ uuid.UUID, s string) (telegram.Peer, error) {
	d.way, d.session = "session", s
	return telegram.Peer{Name: "Acme"}, nil
}

var _ accounts.Dialer = (*dialer)(nil)

// A Login signs in by phone if it has one, else by QR code if it shows
// one, else with the session it reads.
func TestLoginSignIn(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	shown := ""
	code := func(context.Context) (string, error) { return "12345", nil }
	qr := func(_ context.Context, url string) error { shown = url; return nil }
	session := func() (string, error) { return "1BQANOTE", nil }
	for _, c := range []struct {
		login accounts.Login
		way   string
	}{
		{accounts.Login{Phone: "+15550001111", Code: code, QR: qr, Session: session}, "phone +15550001111 12345"},
		{accounts.Login{QR: qr, Session: session}, "qr"},
		{accounts.Login{Session: session}, "session"},
	} {
		d := &dialer{}
		if _, err := c.login.SignIn(d)(ctx, uuid.New()); err != nil || d.way != c.way {
			t.Errorf("%+v signed in by %q, %v; want %q", c.login, d.way, err, c.way)
		}
	}
	if shown != "tg://login?token=x" {
		t.Errorf("the QR link shown: %q", shown)
	}
	missing := errors.New("no such file")
	d := &dialer{}
	if _, err := (accounts.Login{Session: func() (string, error) { return "", missing }}).SignIn(d)(ctx, uuid.New()); !errors.Is(err, missing) || d.way != "" {
		t.Fatalf("a session that cannot be read: %v, signed in by %q", err, d.way)
	}
}

// WriteList is the table of accounts: a header, then one row each, with
// the session and a note.
func TestWriteList(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	id := uuid.MustParse("0193a0c0-0000-7000-8000-000000000001")
	err := accounts.WriteList(&b, []accounts.Listed{
		{ID: id, Label: "sales-1", Status: "restricted", Paused: true, Reason: "PEER_FLOOD", Session: true},
		{ID: id, Label: "sales-2", Status: "registered"},
	})
	lines := strings.Split(b.String(), "\n")
	if err != nil || len(lines) != 4 || !strings.HasPrefix(lines[0], "ID   ") || !strings.HasSuffix(lines[0], "SESSION  NOTE") ||
		lines[1] != id.String()+"  sales-1           restricted  yes      paused PEER_FLOOD" ||
		lines[2] != id.String()+"  sales-2           registered  no       " {
		t.Fatalf("WriteList: %v\n%s", err, b.String())
	}
}
