package telegram_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram/auth"
	"github.com/gotd/td/telegram/auth/qrlogin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/eventstore"
)

// One sandbox for the package: starting one costs an RSA key.
var sb *telegramtest.Sandbox

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	var err error
	sb, err = telegramtest.New(ctx, telegramtest.Options{})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = sb.Close()
	os.Exit(code)
}

var phones atomic.Int64

func newPhone() string { return fmt.Sprintf("+1666%07d", phones.Add(1)) }

func newDialer(t *testing.T) (*telegram.Dialer, *eventstore.MemoryStore) {
	t.Helper()
	st, err := eventstore.NewMemory(eventstore.Options{MasterKey: make([]byte, eventstore.MasterKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	return &telegram.Dialer{AppID: 1, AppHash: "test", Options: sb.ClientOptions(), Secrets: st, IndexKey: st.IndexKey()}, st
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func code(phone string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return sb.LoginCode(phone), nil }
}

func fixed(s string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return s, nil }
}

// connect runs account until the test ends and returns its Conn and the
// messages it receives.
func connect(t *testing.T, d *telegram.Dialer, id uuid.UUID) (telegram.Conn, <-chan telegram.Message) {
	t.Helper()
	got := make(chan telegram.Message, 100)
	ready := make(chan telegram.Conn, 1)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- d.Run(ctx, id, telegram.RunOptions{
			Handler: func(_ context.Context, m telegram.Message) error { got <- m; return nil },
			Ready:   func(c telegram.Conn) { ready <- c },
		})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case c := <-ready:
		return c, got
	case err := <-done:
		t.Fatalf("run ended before ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("not ready after 30s")
	}
	return nil, nil
}

func TestLoginByCode(t *testing.T) {
	d, st := newDialer(t)
	phone := newPhone()
	u, err := sb.AddUser(telegramtest.UserSpec{Phone: phone, Username: "acct_code", FirstName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	if _, err := d.LoginPhone(ctxT(t), id, telegram.PhoneLogin{Phone: phone, Code: fixed("00000")}); !tgerr.Is(err, "PHONE_CODE_INVALID") {
		t.Fatalf("a wrong code: %v", err)
	}
	// A failed login leaves nothing signed in (gotd may have stored the
	// auth key): the next login of the same account asks for a code.
	var asked atomic.Int32
	self, err := d.LoginPhone(ctxT(t), id, telegram.PhoneLogin{Phone: phone, Code: func(ctx context.Context) (string, error) {
		asked.Add(1)
		return code(phone)(ctx)
	}})
	if err != nil || self.UserID != u.ID || self.Username != "acct_code" {
		t.Fatalf("login: %+v %v", self, err)
	}
	if n := asked.Load(); n != 1 {
		t.Fatalf("the login after a failed one asked for the code %d times, want once", n)
	}
	// The login stored a signed-in session: signing in again needs no code.
	if ok, err := telegram.HasSession(context.Background(), st, id); err != nil || !ok {
		t.Fatalf("no session stored after the login: %v %v", ok, err)
	}
	again, err := d.LoginPhone(ctxT(t), id, telegram.PhoneLogin{Phone: phone, Code: func(context.Context) (string, error) {
		return "", errors.New("asked for a code with a signed-in session")
	}})
	if err != nil || again.UserID != u.ID {
		t.Fatalf("login with the stored session: %+v %v", again, err)
	}
	unknown := newPhone()
	if _, err := d.LoginPhone(ctxT(t), uuid.New(), telegram.PhoneLogin{Phone: unknown, Code: code(unknown)}); !errors.Is(err, telegram.ErrNotRegistered) {
		t.Fatalf("an unregistered phone: %v", err)
	}
	if _, err := d.LoginPhone(ctxT(t), uuid.New(), telegram.PhoneLogin{Phone: "call me", Code: fixed("1")}); err == nil {
		t.Fatal("a malformed phone was accepted")
	}
}

// noSessions is a store that fails every write of a session, as a store
// that does not answer would.
type noSessions struct{ *eventstore.MemoryStore }

func (s noSessions) PutSecret(ctx context.Context, name string, v []byte) error {
	if strings.Contains(name, "session") {
		return errors.New("the store did not answer")
	}
	return s.MemoryStore.PutSecret(ctx, name, v)
}

// A sign-in whose session the store does not take fails, rather than
// leaving an account that can never connect (gotd only logs the failed
// write).
func TestLoginWithoutAStoredSessionFails(t *testing.T) {
	d, st := newDialer(t)
	d.Secrets = noSessions{st}
	phone := newPhone()
	if _, err := sb.AddUser(telegramtest.UserSpec{Phone: phone}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.LoginPhone(ctxT(t), uuid.New(), telegram.PhoneLogin{Phone: phone, Code: code(phone)}); !errors.Is(err, telegram.ErrSessionNotStored) {
		t.Fatalf("sign-in with no session stored: %v, want ErrSessionNotStored", err)
	}
}

func TestLoginWithPassword(t *testing.T) {
	d, _ := newDialer(t)
	phone := newPhone()
	u, _ := sb.AddUser(telegramtest.UserSpec{Phone: phone, Password: "correct horse"})
	if _, err := d.LoginPhone(ctxT(t), uuid.New(), telegram.PhoneLogin{Phone: phone, Code: code(phone), Password: fixed("wrong")}); !errors.Is(err, auth.ErrPasswordInvalid) {
		t.Fatalf("a wrong password: %v", err)
	}
	if _, err := d.LoginPhone(ctxT(t), uuid.New(), telegram.PhoneLogin{Phone: phone, Code: code(phone)}); err == nil {
		t.Fatal("signed in without the 2FA password")
	}
	self, err := d.LoginPhone(ctxT(t), uuid.New(), telegram.PhoneLogin{Phone: phone, Code: code(phone), Password: fixed("correct horse")})
	if err != nil || self.UserID != u.ID {
		t.Fatalf("login: %+v %v", self, err)
	}
}

func TestLoginByQR(t *testing.T) {
	d, _ := newDialer(t)
	u, _ := sb.AddUser(telegramtest.UserSpec{Phone: newPhone(), FirstName: "QR"})
	self, err := d.LoginQR(ctxT(t), uuid.New(), func(_ context.Context, url string) error {
		tok, err := qrlogin.ParseTokenURL(url)
		if err != nil {
			return err
		}
		raw, err := base64.URLEncoding.DecodeString(tok.String())
		if err != nil {
			return err
		}
		go func() { // the owner scans it a moment later
			time.Sleep(100 * time.Millisecond)
			if err := sb.AcceptQR(u.ID, raw); err != nil {
				t.Errorf("accept: %v", err)
			}
		}()
		return nil
	}, nil)
	if err != nil || self.UserID != u.ID {
		t.Fatalf("QR login: %+v %v", self, err)
	}
}

// telethonString encodes a session the way Telethon's StringSession does.
func telethonString(dc int, addr string, key []byte) string {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	b := []byte{byte(dc)}
	b = append(b, net.ParseIP(host).To4()...)
	b = binary.BigEndian.AppendUint16(b, uint16(p))
	b = append(b, key...)
	return "1" + base64.URLEncoding.EncodeToString(b)
}

func TestImportTelethonSession(t *testing.T) {
	d, st := newDialer(t)
	phone := newPhone()
	u, _ := sb.AddUser(telegramtest.UserSpec{Phone: phone})
	orig := uuid.New()
	if _, err := d.LoginPhone(ctxT(t), orig, telegram.PhoneLogin{Phone: phone, Code: code(phone)}); err != nil {
		t.Fatal(err)
	}
	// Export the key as a Telethon tool would have it.
	data, err := (&session.Loader{Storage: secretStorage{st, orig}}).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dcs := sb.ClientOptions().DCList.Options
	addr := net.JoinHostPort(dcs[0].IPAddress, strconv.Itoa(dcs[0].Port))
	str := telethonString(telegramtest.DC, addr, data.AuthKey)

	d2, _ := newDialer(t)
	self, err := d2.ImportSession(ctxT(t), uuid.New(), str)
	if err != nil || self.UserID != u.ID {
		t.Fatalf("import: %+v %v", self, err)
	}
	if _, err := d2.ImportSession(ctxT(t), uuid.New(), "not a session"); err == nil {
		t.Fatal("garbage was imported")
	}
}

// secretStorage reads a stored session back (as session.Storage).
type secretStorage struct {
	st *eventstore.MemoryStore
	id uuid.UUID
}

func (s secretStorage) LoadSession(ctx context.Context) ([]byte, error) {
	return s.st.Secret(ctx, "tg/"+s.id.String()+"/session")
}
func (s secretStorage) StoreSession(context.Context, []byte) error { return nil }

func login(t *testing.T, d *telegram.Dialer, spec telegramtest.UserSpec) (uuid.UUID, telegramtest.User) {
	t.Helper()
	spec.Phone = newPhone()
	u, err := sb.AddUser(spec)
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	if _, err := d.LoginPhone(ctxT(t), id, telegram.PhoneLogin{Phone: spec.Phone, Code: code(spec.Phone)}); err != nil {
		t.Fatal(err)
	}
	return id, u
}

// A message that comes after the sign-in but before the account's first
// run is delivered when it runs (the state is kept from the sign-in).
func TestAMessageBeforeTheFirstRunIsDelivered(t *testing.T) {
	d, _ := newDialer(t)
	id, acc := login(t, d, telegramtest.UserSpec{FirstName: "Early"})
	lead, err := sb.AddUser(telegramtest.UserSpec{Username: "lead_early", FirstName: "Eva"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.SendAs(lead.ID, acc.ID, "are you there?"); err != nil {
		t.Fatal(err)
	}
	_, got := connect(t, d, id)
	select {
	case m := <-got:
		if m.Text != "are you there?" || m.Peer.UserID != lead.ID || m.Out {
			t.Fatalf("delivered %+v", m)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the message sent before the first run never came")
	}
}

func TestResolveSendReceive(t *testing.T) {
	d, st := newDialer(t)
	id, acc := login(t, d, telegramtest.UserSpec{FirstName: "Acme"})
	lead, _ := sb.AddPersona(telegramtest.UserSpec{Username: "lead_rsr", FirstName: "Rita"}, telegramtest.Persona{Reply: telegramtest.Script("hi there")})
	// An access hash stored before the names were keyed (the user id in
	// clear) moves to its keyed name when the account starts.
	const earlier = 987654321
	if err := st.PutSecret(context.Background(), "tg/"+id.String()+"/peer/"+strconv.Itoa(earlier), binary.BigEndian.AppendUint64(nil, 4242)); err != nil {
		t.Fatal(err)
	}
	c, got := connect(t, d, id)
	ctx := ctxT(t)
	if p, found, err := c.Peer(ctx, earlier); err != nil || !found || p.AccessHash != 4242 {
		t.Fatalf("the access hash stored under the old name: %+v %v %v", p, found, err)
	}

	for _, bad := range []string{"", "@ab", "a b c d", "https://t.me/", "@lead-with-dash"} {
		if _, err := c.Resolve(ctx, bad); err == nil {
			t.Errorf("resolve %q: no error", bad)
		}
	}
	if _, err := c.Resolve(ctx, "@nobody_has_this"); telegram.Classify(err).Kind != telegram.KindUnreachable {
		t.Fatalf("an unknown username: %v", err)
	}
	p, err := c.Resolve(ctx, "https://t.me/lead_rsr")
	if err != nil || p.UserID != lead.ID || p.Name != "Rita" {
		t.Fatalf("resolve: %+v %v", p, err)
	}
	if known, found, _ := c.Peer(ctx, lead.ID); !found || known.AccessHash != p.AccessHash {
		t.Fatalf("peer after resolve: %+v %v", known, found)
	}
	// The store's keys name no user.
	names, err := st.SecretNames(ctx, "tg/"+id.String()+"/peer/")
	if err != nil || len(names) < 2 {
		t.Fatalf("stored peers %q, %v", names, err)
	}
	for _, name := range names {
		if strings.Contains(name, strconv.FormatInt(lead.ID, 10)) || strings.Contains(name, strconv.Itoa(earlier)) {
			t.Fatalf("the secret %q names a user in clear", name)
		}
	}
	id1, err := c.Send(ctx, p, 1001, "hello")
	if err != nil {
		t.Fatal(err)
	}
	// The same random_id again (a resend after a crash): the same message,
	// no second copy.
	id2, err := c.Send(ctx, p, 1001, "hello")
	if err != nil || id2 != id1 {
		t.Fatalf("resend: %d %v, want %d", id2, err, id1)
	}
	if n := len(sb.Messages(lead.ID, acc.ID)); n != 2 { // ours + the persona's answer
		t.Fatalf("the lead has %d messages, want 2", n)
	}
	// The handler also sees our own message when Telegram echoes it as an
	// update (it does so when it fills a gap); the answer is the first
	// incoming one.
	answer := func() telegram.Message {
		deadline := time.After(10 * time.Second)
		for {
			select {
			case m := <-got:
				if m.Out && m.Text == "hello" && m.ID == id1 {
					continue
				}
				return m
			case <-deadline:
				t.Fatal("the answer did not arrive")
			}
		}
	}
	if m := answer(); m.Out || m.Text != "hi there" || m.Peer.UserID != lead.ID || m.Peer.AccessHash != p.AccessHash {
		t.Fatalf("received %+v", m)
	} else if err := c.MarkRead(ctx, m.Peer, m.ID); err != nil {
		t.Fatal(err)
	}
	// A wrong access hash is refused, as Telegram does.
	if _, err := c.Send(ctx, telegram.Peer{UserID: lead.ID, AccessHash: 1}, 1002, "x"); !tgerr.Is(err, "PEER_ID_INVALID") {
		t.Fatalf("a wrong access hash: %v", err)
	}
	if err := c.Typing(ctx, p); err != nil {
		t.Fatal(err)
	}
	typing, reads := sb.Activity()
	if len(typing) == 0 || len(reads) == 0 {
		t.Fatalf("typing %v reads %v", typing, reads)
	}
}

// A file goes as a document, uploaded in 512 KiB parts, with its caption;
// the same random_id delivers it once; a file SendFile does not send is
// refused before any request.
func TestSendFile(t *testing.T) {
	d, _ := newDialer(t)
	id, acc := login(t, d, telegramtest.UserSpec{FirstName: "Acme"})
	lead, err := sb.AddUser(telegramtest.UserSpec{Username: "lead_file", FirstName: "Fay"})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := connect(t, d, id)
	ctx := ctxT(t)
	p, err := c.Resolve(ctx, "lead_file")
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 512<<10*2+100) // three parts, the last short
	for i := range data {
		data[i] = byte(i * 7)
	}
	f := telegram.File{Name: "meeting.ics", MIME: "text/calendar", Data: data}
	parts := sb.Calls(tg.UploadSaveFilePartRequestTypeID)
	id1, err := c.SendFile(ctx, p, 2001, "Our meeting", f)
	if err != nil || id1 == 0 {
		t.Fatalf("send a file: %d %v", id1, err)
	}
	if n := sb.Calls(tg.UploadSaveFilePartRequestTypeID) - parts; n != 3 {
		t.Fatalf("%d parts uploaded, want 3", n)
	}
	id2, err := c.SendFile(ctx, p, 2001, "Our meeting", f)
	if err != nil || id2 != id1 {
		t.Fatalf("resend: %d %v, want %d", id2, err, id1)
	}
	msgs := sb.Messages(lead.ID, acc.ID)
	if len(msgs) != 1 {
		t.Fatalf("the lead has %d messages, want 1: %+v", len(msgs), msgs)
	}
	if m := msgs[0]; m.Text != "Our meeting" || m.File == nil || m.File.Name != "meeting.ics" || m.File.MIME != "text/calendar" || !bytes.Equal(m.File.Data, data) {
		t.Fatalf("the lead got %+v", m)
	}
	// A text message after it goes on from the file's id: the updates
	// manager saw the send's pts.
	if id3, err := c.Send(ctx, p, 2002, "see you"); err != nil || id3 != id1+1 {
		t.Fatalf("a message after the file: %d %v, want %d", id3, err, id1+1)
	}
	calls := sb.Calls(tg.UploadSaveFilePartRequestTypeID)
	for _, bad := range []telegram.File{
		{Name: "empty.ics", Data: nil},
		{Name: " ", Data: []byte("x")},
		{Name: "huge.bin", Data: make([]byte, telegram.MaxFileSize+1)},
	} {
		_, err := c.SendFile(ctx, p, 2003, "", bad)
		if !errors.Is(err, telegram.ErrBadFile) || telegram.Classify(err).Kind != telegram.KindInvalid {
			t.Errorf("file %q of %d bytes: %v", bad.Name, len(bad.Data), err)
		}
	}
	if n := sb.Calls(tg.UploadSaveFilePartRequestTypeID); n != calls {
		t.Fatalf("refused files uploaded %d parts", n-calls)
	}
}

func TestOneClientPerSession(t *testing.T) {
	d, _ := newDialer(t)
	id, _ := login(t, d, telegramtest.UserSpec{})
	connect(t, d, id)
	err := d.Run(ctxT(t), id, telegram.RunOptions{Handler: func(context.Context, telegram.Message) error { return nil }})
	if !errors.Is(err, telegram.ErrSessionInUse) {
		t.Fatalf("a second client of the same session: %v", err)
	}
	if err := d.Run(ctxT(t), uuid.New(), telegram.RunOptions{Handler: func(context.Context, telegram.Message) error { return nil }}); !errors.Is(err, telegram.ErrUnauthorized) {
		t.Fatalf("an account without a session: %v", err)
	}
	// Without the index key nothing runs (peers would be named in clear).
	unkeyed := &telegram.Dialer{AppID: d.AppID, AppHash: d.AppHash, Options: d.Options, Secrets: d.Secrets}
	if err := unkeyed.Run(ctxT(t), uuid.New(), telegram.RunOptions{Handler: func(context.Context, telegram.Message) error { return nil }}); err == nil || errors.Is(err, telegram.ErrUnauthorized) {
		t.Fatalf("a dialer without an index key: %v", err)
	}
}

// A handler failure must not lose the message: the connection ends, and
// the message comes again on the next one.
func TestHandlerFailureRedelivers(t *testing.T) {
	d, _ := newDialer(t)
	id, acc := login(t, d, telegramtest.UserSpec{})
	lead, _ := sb.AddUser(telegramtest.UserSpec{Username: "lead_redeliver"})
	ctx := ctxT(t)
	ready := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- d.Run(ctx, id, telegram.RunOptions{
			Ready:   func(telegram.Conn) { ready <- struct{}{} },
			Handler: func(context.Context, telegram.Message) error { return errors.New("disk full") },
		})
	}()
	<-ready
	if _, err := sb.SendAs(lead.ID, acc.ID, "please record me"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatal("a handler failure did not end the connection")
	}
	_, got := connect(t, d, id)
	select {
	case m := <-got:
		if m.Text != "please record me" {
			t.Fatalf("got %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the message was lost after the handler failed")
	}
}

func TestLogOut(t *testing.T) {
	d, st := newDialer(t)
	id, _ := login(t, d, telegramtest.UserSpec{})
	if err := d.LogOut(ctxT(t), id); err != nil {
		t.Fatal(err)
	}
	if ok, _ := telegram.HasSession(context.Background(), st, id); ok {
		t.Fatal("the session is still stored")
	}
	if err := d.LogOut(ctxT(t), id); err != nil {
		t.Fatalf("logging out twice: %v", err)
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err  error
		kind telegram.Kind
		wait time.Duration
	}{
		{nil, telegram.KindNone, 0},
		{tgerr.New(420, "FLOOD_WAIT_30"), telegram.KindFloodWait, 30 * time.Second},
		{tgerr.New(400, "PEER_FLOOD"), telegram.KindPeerFlood, 0},
		{tgerr.New(403, "USER_PRIVACY_RESTRICTED"), telegram.KindUnreachable, 0},
		{tgerr.New(400, "USER_IS_BLOCKED"), telegram.KindUnreachable, 0},
		{tgerr.New(400, "USERNAME_NOT_OCCUPIED"), telegram.KindUnreachable, 0},
		{tgerr.New(401, "AUTH_KEY_UNREGISTERED"), telegram.KindAccountLost, 0},
		{tgerr.New(401, "SESSION_REVOKED"), telegram.KindAccountLost, 0},
		{tgerr.New(401, "USER_DEACTIVATED_BAN"), telegram.KindAccountLost, 0},
		{tgerr.New(401, "USER_DEACTIVATED"), telegram.KindAccountLost, 0},
		{tgerr.New(406, "AUTH_KEY_DUPLICATED"), telegram.KindAccountLost, 0},
		{tgerr.New(400, "INPUT_USER_DEACTIVATED"), telegram.KindUnreachable, 0},
		{fmt.Errorf("resolve @x: %w (a bot)", telegram.ErrNotAPerson), telegram.KindUnreachable, 0},
		{tgerr.New(400, "PEER_ID_INVALID"), telegram.KindInvalid, 0},
		{tgerr.New(401, "SESSION_PASSWORD_NEEDED"), telegram.KindInvalid, 0},
		{tgerr.New(500, "INTERNAL"), telegram.KindTransient, 0},
		{tgerr.New(400, "MESSAGE_EMPTY"), telegram.KindInvalid, 0},
		{fmt.Errorf("send: %w", tgerr.New(400, "PEER_FLOOD")), telegram.KindPeerFlood, 0},
		{errors.New("connection reset"), telegram.KindTransient, 0},
		{telegram.ErrUnauthorized, telegram.KindAccountLost, 0},
	} {
		f := telegram.Classify(c.err)
		if f.Kind != c.kind || f.Wait != c.wait {
			t.Errorf("Classify(%v) = %+v, want %v wait %v", c.err, f, c.kind, c.wait)
		}
	}
}
