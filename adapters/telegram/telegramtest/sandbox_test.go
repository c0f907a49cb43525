package telegramtest_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	gotd "github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

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

// sessionOf reads the session the Dialer stored for an account, so a raw
// gotd client can call the sandbox's methods directly.
type sessionOf struct {
	st *eventstore.MemoryStore
	id uuid.UUID
}

func (s sessionOf) LoadSession(ctx context.Context) ([]byte, error) {
	return s.st.Secret(ctx, "tg/"+s.id.String()+"/session")
}
func (s sessionOf) StoreSession(context.Context, []byte) error { return nil }

// rawClient signs a new account in and calls f with a raw API client on
// its session.
func rawClient(t *testing.T, sb *telegramtest.Sandbox, phone string, f func(ctx context.Context, api *tg.Client) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := eventstore.NewMemory(eventstore.Options{MasterKey: make([]byte, eventstore.MasterKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	d := &telegram.Dialer{AppID: 1, AppHash: "x", Options: sb.ClientOptions(), Secrets: st, IndexKey: st.IndexKey()}
	id := uuid.New()
	if _, err := d.LoginPhone(ctx, id, telegram.PhoneLogin{Phone: phone,
		Code: func(context.Context) (string, error) { return sb.LoginCode(phone), nil }}); err != nil {
		t.Fatal(err)
	}
	opts := sb.ClientOptions()
	opts.SessionStorage = sessionOf{st: st, id: id}
	opts.NoUpdates = true
	c := gotd.NewClient(1, "x", opts)
	if err := c.Run(ctx, func(ctx context.Context) error { return f(ctx, c.API()) }); err != nil {
		t.Fatal(err)
	}
}

// Files sent as documents: parts are checked as Telegram checks them, a
// document arrives with its bytes, name, type and caption in both boxes,
// the same random_id sends it once, the parts are used up by the send,
// and a persona that gets a file may answer.
func TestSendMedia(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := telegramtest.New(ctx, telegramtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	acc, err := sb.AddUser(telegramtest.UserSpec{Phone: "+15550000009"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var gotFile *telegramtest.File
	lead, err := sb.AddPersona(telegramtest.UserSpec{Username: "file_lead"}, telegramtest.Persona{Reply: func(in telegramtest.Incoming) []string {
		mu.Lock()
		defer mu.Unlock()
		gotFile = in.File
		return []string{"thanks for " + in.Text}
	}})
	if err != nil {
		t.Fatal(err)
	}
	part0 := bytes.Repeat([]byte("a"), 2048)
	part1 := []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
	whole := append(append([]byte(nil), part0...), part1...)

	rawClient(t, sb, "+15550000009", func(ctx context.Context, api *tg.Client) error {
		res, err := api.ContactsResolveUsername(ctx, &tg.ContactsResolveUsernameRequest{Username: "file_lead"})
		if err != nil {
			return err
		}
		u := res.Users[0].(*tg.User)
		peer := &tg.InputPeerUser{UserID: u.ID, AccessHash: u.AccessHash}
		save := func(file int64, part int, b []byte) error {
			_, err := api.UploadSaveFilePart(ctx, &tg.UploadSaveFilePartRequest{FileID: file, FilePart: part, Bytes: b})
			return err
		}
		sendDoc := func(file int64, parts int, sum string, randomID int64) (tg.UpdatesClass, error) {
			return api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: peer, RandomID: randomID, Message: "the invite",
				Media: &tg.InputMediaUploadedDocument{MimeType: "text/calendar",
					File:       &tg.InputFile{ID: file, Parts: parts, Name: "upload.bin", MD5Checksum: sum},
					Attributes: []tg.DocumentAttributeClass{&tg.DocumentAttributeFilename{FileName: "meeting.ics"}}}})
		}
		// Parts Telegram refuses at once.
		for _, c := range []struct {
			part int
			b    []byte
			want string
		}{
			{-1, part1, "FILE_PART_INVALID"},
			{4000, part1, "FILE_PART_INVALID"},
			{0, nil, "FILE_PART_EMPTY"},
			{0, make([]byte, 512<<10+1), "FILE_PART_TOO_BIG"},
		} {
			if err := save(1, c.part, c.b); !tgerr.Is(err, c.want) {
				return fmt.Errorf("part %d of %d bytes: %v, want %s", c.part, len(c.b), err, c.want)
			}
		}
		// Files whose parts do not add up.
		for _, c := range []struct {
			file  int64
			parts [][]byte
			count int
			sum   string
			want  string
		}{
			{10, [][]byte{part0, nil, part1}, 3, "", "FILE_PART_MISSING"}, // part 1 never sent
			{11, [][]byte{part0, part1}, 1, "", "FILE_PARTS_INVALID"},     // more parts than the file has
			{12, [][]byte{part0, part1}, 0, "", "FILE_PARTS_INVALID"},
			{13, [][]byte{part1, part1}, 2, "", "FILE_PART_SIZE_INVALID"}, // not whole KiB
			{14, [][]byte{part0, make([]byte, 4096)}, 2, "", "FILE_PART_SIZE_CHANGED"},
			{15, [][]byte{part0, part1}, 2, "00", "MD5_CHECKSUM_INVALID"},
			{16, nil, 1, "", "FILE_PART_MISSING"}, // nothing uploaded
		} {
			for i, b := range c.parts {
				if b != nil {
					if err := save(c.file, i, b); err != nil {
						return fmt.Errorf("file %d part %d: %w", c.file, i, err)
					}
				}
			}
			if _, err := sendDoc(c.file, c.count, c.sum, c.file); !tgerr.Is(err, c.want) {
				return fmt.Errorf("file %d: %v, want %s", c.file, err, c.want)
			}
		}
		if n := len(sb.Messages(lead.ID, acc.ID)); n != 0 {
			return fmt.Errorf("refused files left %d messages", n)
		}
		// A good one; part 1 sent twice (a retried part) counts once.
		for i, b := range [][]byte{part0, part1, part1} {
			if err := save(20, min(i, 1), b); err != nil {
				return err
			}
		}
		sum := md5.Sum(whole)
		first, err := sendDoc(20, 2, hex.EncodeToString(sum[:]), 777)
		if err != nil {
			return err
		}
		// The same random_id again: the first message, no second copy.
		again, err := sendDoc(20, 2, "", 777)
		if err != nil {
			return fmt.Errorf("a resend: %w", err)
		}
		if id, id2 := sentID(first), sentID(again); id == 0 || id != id2 {
			return fmt.Errorf("a resend got message %d, the send %d", id2, id)
		}
		// The send used the parts up.
		if _, err := sendDoc(20, 2, "", 778); !tgerr.Is(err, "FILE_PART_MISSING") {
			return fmt.Errorf("parts used twice: %v", err)
		}
		// Neither text nor media is empty; media without a caption is not.
		if _, err := api.MessagesSendMessage(ctx, &tg.MessagesSendMessageRequest{Peer: peer, Message: " ", RandomID: 779}); !tgerr.Is(err, "MESSAGE_EMPTY") {
			return fmt.Errorf("an empty message: %v", err)
		}
		if err := save(21, 0, part1); err != nil {
			return err
		}
		if _, err := api.MessagesSendMedia(ctx, &tg.MessagesSendMediaRequest{Peer: peer, RandomID: 780,
			Media: &tg.InputMediaUploadedDocument{MimeType: "text/plain", File: &tg.InputFile{ID: 21, Parts: 1, Name: "notes.txt"}}}); err != nil {
			return fmt.Errorf("a file without a caption: %w", err)
		}
		return nil
	})

	var msgs []telegramtest.Message // what the lead got (the persona's answers are Out)
	for _, m := range sb.Messages(lead.ID, acc.ID) {
		if !m.Out {
			msgs = append(msgs, m)
		}
	}
	if len(msgs) != 2 {
		t.Fatalf("the lead's chat: %+v", sb.Messages(lead.ID, acc.ID))
	}
	m := msgs[0]
	if m.Text != "the invite" || m.File == nil || m.File.Name != "meeting.ics" || m.File.MIME != "text/calendar" || !bytes.Equal(m.File.Data, whole) {
		t.Fatalf("the lead got %+v", m)
	}
	if f := msgs[1].File; f == nil || msgs[1].Text != "" || f.Name != "notes.txt" || !bytes.Equal(f.Data, part1) { // named by the InputFile
		t.Fatalf("the file without a caption: %+v", msgs[1])
	}
	if own := sb.Messages(acc.ID, lead.ID); len(own) < 1 || !own[0].Out || own[0].File == nil || !bytes.Equal(own[0].File.Data, whole) {
		t.Fatalf("the sender's box: %+v", own)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sb.Messages(lead.ID, acc.ID)) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("the persona did not answer both files: %+v", sb.Messages(lead.ID, acc.ID))
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if gotFile == nil || gotFile.Name != "notes.txt" {
		t.Fatalf("the persona saw the file %+v", gotFile)
	}
}

// sentID is the message id in a send's answer.
func sentID(res tg.UpdatesClass) int {
	if u, ok := res.(*tg.Updates); ok {
		for _, x := range u.Updates {
			if m, ok := x.(*tg.UpdateMessageID); ok {
				return m.ID
			}
		}
	}
	return 0
}
