package telegramtest_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotd/td/tg"

	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/eventstore"
)

// A sandbox with a state file lets clients reconnect with their stored
// sessions after a restart: same users, same access hashes, the auth key
// still known (this also guards the tgtest layout addServerKey relies on).
func TestStateFileKeepsSessions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	state := filepath.Join(t.TempDir(), "sandbox.json")
	st, err := eventstore.NewMemory(eventstore.Options{MasterKey: make([]byte, eventstore.MasterKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := telegramtest.New(ctx, telegramtest.Options{StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := sb.AddUser(telegramtest.UserSpec{Phone: "+15550000001"})
	lead, _ := sb.AddUser(telegramtest.UserSpec{Username: "kept_lead"})
	d := &telegram.Dialer{AppID: 1, AppHash: "x", Options: sb.ClientOptions(), Secrets: st, IndexKey: st.IndexKey()}
	id := uuid.New()
	if _, err := d.LoginPhone(ctx, id, telegram.PhoneLogin{Phone: "+15550000001",
		Code: func(context.Context) (string, error) { return sb.LoginCode("+15550000001"), nil }}); err != nil {
		t.Fatal(err)
	}
	var hash int64
	run(t, d, id, func(c telegram.Conn) error {
		p, err := c.Resolve(ctx, "kept_lead")
		if err != nil {
			return err
		}
		hash = p.AccessHash
		_, err = c.Send(ctx, p, 1, "before the restart")
		return err
	})
	if err := sb.Close(); err != nil {
		t.Fatal(err)
	}

	sb2, err := telegramtest.New(ctx, telegramtest.Options{StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	defer sb2.Close()
	d2 := &telegram.Dialer{AppID: 1, AppHash: "x", Options: sb2.ClientOptions(), Secrets: st, IndexKey: st.IndexKey()}
	run(t, d2, id, func(c telegram.Conn) error {
		if c.Self().UserID != acc.ID {
			return fmt.Errorf("reconnected as %d, want %d", c.Self().UserID, acc.ID)
		}
		p, found, err := c.Peer(ctx, lead.ID)
		if err != nil || !found || p.AccessHash != hash {
			return fmt.Errorf("stored peer %+v %v %v", p, found, err)
		}
		// The access hash is still valid, and message ids go on.
		mid, err := c.Send(ctx, p, 2, "after the restart")
		if err != nil || mid != 2 {
			return fmt.Errorf("send after the restart: id %d, %v", mid, err)
		}
		return nil
	})
	if n := sb2.Calls(tg.AuthSendCodeRequestTypeID); n != 0 { // no new sign-in was needed
		t.Fatalf("sendCode called %d times", n)
	}
}

// run connects account id, calls f once it is ready, and disconnects.
func run(t *testing.T, d *telegram.Dialer, id uuid.UUID, f func(telegram.Conn) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ferr error
	ran := false
	err := d.Run(ctx, id, telegram.RunOptions{
		Handler: func(context.Context, telegram.Message) error { return nil },
		Ready: func(c telegram.Conn) {
			ferr, ran = f(c), true
			cancel()
		},
	})
	if err != nil || ferr != nil || !ran {
		t.Fatalf("run: %v; f: %v; ready: %v", err, ferr, ran)
	}
}

// A username or phone another user has is ErrTaken, whatever the case of
// the username; a new one is not.
func TestAddUserTaken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := telegramtest.New(ctx, telegramtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if _, err := sb.AddUser(telegramtest.UserSpec{Username: "first_lead", Phone: "+15550000001"}); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []telegramtest.UserSpec{{Username: "First_Lead"}, {Phone: "+1 555 000 0001"}} {
		if _, err := sb.AddUser(spec); !errors.Is(err, telegramtest.ErrTaken) {
			t.Errorf("AddUser(%+v): %v, want ErrTaken", spec, err)
		}
	}
	if _, err := sb.AddUser(telegramtest.UserSpec{Username: "second_lead", Phone: "+15550000002"}); err != nil {
		t.Fatalf("a new user: %v", err)
	}
}
