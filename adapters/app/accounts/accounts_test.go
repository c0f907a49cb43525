package accounts_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotd/td/tg"

	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// Every test of the package runs beside the others (t.Parallel): each has
// its own sandbox Telegram and log, and they mostly wait.

// world is a salesbot with its log on Pebble, its accounts connected to a
// sandbox Telegram.
type world struct {
	t       *testing.T
	sb      *telegramtest.Sandbox
	dir     string
	store   *eventstore.PebbleStore
	dialer  *telegram.Dialer
	svc     *accounts.Service
	h       domain.Handlers
	stop    context.CancelFunc
	done    chan error
	mu      sync.Mutex
	notices []accounts.Notice
	// onNotice, if set, is called with every notice, outside w.mu.
	onNotice func(accounts.Notice)
	phones   int
	typing   time.Duration // how long "typing…" shows before each message
	// transcriber and knowledge go to the service's Config (media_test.go).
	transcriber domain.Transcriber
	knowledge   map[string][]byte
}

var masterKey = bytes.Repeat([]byte{9}, eventstore.MasterKeySize)

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sb, err := telegramtest.New(ctx, telegramtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	w := &world{t: t, sb: sb, dir: t.TempDir()}
	w.open()
	t.Cleanup(w.close)
	return w
}

// open opens the log and a service on it (not yet running).
func (w *world) open() {
	w.t.Helper()
	st, err := eventstore.Open(w.dir, eventstore.Options{MasterKey: masterKey})
	if err != nil {
		w.t.Fatal(err)
	}
	w.store = st
	w.dialer = &telegram.Dialer{AppID: 1, AppHash: "test", Options: w.sb.ClientOptions(), Secrets: st, IndexKey: st.IndexKey()}
	w.svc, err = accounts.New(accounts.Config{
		Store: st, Runner: w.dialer, LogOut: w.dialer.LogOut,
		TypingDelay: func(string) time.Duration { return w.typing },
		MinBackoff:  50 * time.Millisecond, MaxBackoff: time.Second,
		Snapshots:   &eventstore.Snapshots{Store: st, Secrets: st}, // saved when Run returns: a restart starts from it
		Transcriber: w.transcriber,
		KnowledgeFile: func(name string) ([]byte, bool) {
			b, ok := w.knowledge[name]
			return b, ok
		},
		Notify: func(n accounts.Notice) {
			w.mu.Lock()
			w.notices = append(w.notices, n)
			hook := w.onNotice
			w.mu.Unlock()
			if hook != nil {
				hook(n)
			}
		},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	w.h = w.svc.Handlers()
}

func (w *world) start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.stop, w.done = cancel, make(chan error, 1)
	go func() { w.done <- w.svc.Run(ctx) }()
}

// halt stops the service (as SIGTERM does) and closes the log.
func (w *world) halt() {
	w.t.Helper()
	if w.stop != nil {
		w.stop()
		if err := <-w.done; err != nil {
			w.t.Errorf("service: %v", err)
		}
		w.stop = nil
	}
}

func (w *world) close() {
	w.halt()
	if w.store != nil {
		rep, err := w.store.Verify(context.Background(), nil)
		if err != nil {
			w.t.Errorf("verify: %v %+v", err, rep)
		}
		_ = w.store.Close()
		w.store = nil
	}
}

// restart stops everything and opens the log again, as after a restart.
func (w *world) restart() {
	w.close()
	w.open()
}

var openLimits = domain.Limits{DailyNewDialogs: 100, TimeZone: "UTC", StartMinute: 0, EndMinute: 24 * 60}

// addAccount creates a Telegram user, signs it in by phone and registers it.
func (w *world) addAccount(label string) (uuid.UUID, telegramtest.User) {
	w.t.Helper()
	return w.addAccountWith(label, openLimits)
}

// addAccountWith is addAccount with the account's limits.
func (w *world) addAccountWith(label string, limits domain.Limits) (uuid.UUID, telegramtest.User) {
	w.t.Helper()
	w.phones++
	phone := fmt.Sprintf("+1555%07d", w.phones)
	u, err := w.sb.AddUser(telegramtest.UserSpec{Phone: phone, FirstName: label})
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := accounts.Add(ctx, w.store, w.h, accounts.AddRequest{Label: label, Limits: limits, SignIn: w.signIn(phone)})
	if err != nil {
		w.t.Fatal(err)
	}
	return a.ID, u
}

// signIn signs a sandbox user in by phone, with the code the sandbox sent.
func (w *world) signIn(phone string) func(context.Context, uuid.UUID) (telegram.Peer, error) {
	return func(ctx context.Context, id uuid.UUID) (telegram.Peer, error) {
		return w.dialer.LoginPhone(ctx, id, telegram.PhoneLogin{Phone: phone,
			Code: func(context.Context) (string, error) { return w.sb.LoginCode(phone), nil }})
	}
}

func (w *world) persona(username string, p telegramtest.Persona) telegramtest.User {
	w.t.Helper()
	u, err := w.sb.AddPersona(telegramtest.UserSpec{Username: username, FirstName: username}, p)
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

// eventually waits for cond, failing the test after 20 s.
func (w *world) eventually(what string, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (w *world) connected(id uuid.UUID) bool {
	for _, a := range w.svc.Accounts() {
		if a.ID == id {
			return a.Connected
		}
	}
	return false
}

// status is the account's as the service lists it.
func (w *world) status(id uuid.UUID) accounts.Status {
	w.t.Helper()
	for _, a := range w.svc.Accounts() {
		if a.ID == id {
			return a
		}
	}
	w.t.Fatalf("account %s not listed", id)
	return accounts.Status{}
}

func (w *world) events(stream string) []domain.Event {
	w.t.Helper()
	evs, _, err := eventlog.New(w.store).Load(context.Background(), stream)
	if err != nil {
		w.t.Fatal(err)
	}
	return evs
}

func count[T domain.Event](evs []domain.Event) (n int) {
	for _, e := range evs {
		if _, ok := e.(T); ok {
			n++
		}
	}
	return n
}

func (w *world) startDialog(username, text string) accounts.Started {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := w.svc.Start(ctx, accounts.StartRequest{Username: username, Source: domain.SourceManual, Basis: domain.BasisConsent, By: "admin:1", Text: text}, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

func (w *world) noticed(kind string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.notices {
		if n.Kind == kind {
			return true
		}
	}
	return false
}

// Outreach end to end: a dialog started by username is sent with typing
// first, the persona answers, the answer is recorded and read.
func TestOutreachAndReply(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	acc, accUser := w.addAccount("sales-1")
	lead := w.persona("lead_anna", telegramtest.Persona{Reply: telegramtest.Script("Hi! What do you offer?", "Sounds good")})
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })

	st := w.startDialog("@lead_anna", "Hello Anna, I am the AI assistant of Acme.")
	if st.AccountID != acc {
		t.Fatalf("dialog on account %v, want %v", st.AccountID, acc)
	}
	stream := domain.DialogStream(st.DialogID)
	// The lead answers at once: its reply can be recorded before the send is.
	w.eventually("the send and the reply are recorded", func() bool {
		evs := w.events(stream)
		return count[domain.InboundReceived](evs) == 1 && count[domain.OutboundSent](evs) >= 1
	})
	if evs := w.events(stream); count[domain.OutboundSent](evs) != 1 {
		t.Fatalf("events %v", evs)
	}
	msgs := w.sb.Messages(lead.ID, accUser.ID)
	if len(msgs) != 2 || msgs[0].Text != "Hello Anna, I am the AI assistant of Acme." || msgs[1].Text != "Hi! What do you offer?" {
		t.Fatalf("lead's chat: %+v", msgs)
	}
	typing, reads := w.sb.Activity()
	if len(typing) == 0 || typing[0] != (telegramtest.Typing{From: accUser.ID, To: lead.ID}) {
		t.Fatalf("no typing before the send: %+v", typing)
	}
	w.eventually("the reply is marked read", func() bool {
		_, reads = w.sb.Activity()
		return len(reads) == 1 && reads[0].MaxID == msgs[1].ID
	})
	// The contact was recorded with the manager's source and basis.
	c, err := w.h.LoadContact(context.Background(), st.ContactID)
	if err != nil || c.Source != domain.SourceManual || c.Basis != domain.BasisConsent || c.UserID != lead.ID {
		t.Fatalf("contact %+v %v", c, err)
	}
	// A second dialog with the same person is refused while this one is open.
	_, err = w.svc.Start(context.Background(), accounts.StartRequest{Username: "lead_anna", Source: domain.SourceManual, Basis: domain.BasisConsent, Text: "again"}, nil)
	if err == nil {
		t.Fatal("a second dialog with the same person was opened")
	}
	// An unknown username gets its own error.
	_, err = w.svc.Start(context.Background(), accounts.StartRequest{Username: "nobody_here", Source: domain.SourceManual, Basis: domain.BasisConsent, Text: "hi"}, nil)
	if !errors.Is(err, accounts.ErrUnknownUsername) {
		t.Fatalf("unknown username: %v", err)
	}
}

// A stranger who writes first gets an inbound dialog; a message typed in
// the Telegram app of the account takes the dialog over.
func TestInboundDialogAndManualTakeover(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	acc, accUser := w.addAccount("sales-1")
	stranger, _ := w.sb.AddUser(telegramtest.UserSpec{Username: "curious_bob", FirstName: "Bob"})
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })

	if _, err := w.sb.SendAs(stranger.ID, accUser.ID, "Hello, is this Acme?"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var link domain.PeerLinked
	w.eventually("an inbound dialog is opened", func() bool {
		l, found, err := w.h.DialogOfPeer(ctx, acc, stranger.ID)
		link = l
		return err == nil && found && count[domain.InboundReceived](w.events(domain.DialogStream(l.DialogID))) == 1
	})
	c, err := w.h.LoadContact(ctx, link.ContactID)
	if err != nil || c.Source != domain.SourceInbound || c.Basis != domain.BasisLegitimateInterest || c.Username != "curious_bob" {
		t.Fatalf("contact %+v %v", c, err)
	}
	d, _ := w.h.LoadDialog(ctx, link.DialogID)
	if d.AISilent() {
		t.Fatal("a new inbound dialog is silent")
	}
	// A manager answers from the phone.
	if _, err := w.sb.SendAs(accUser.ID, stranger.ID, "Hi Bob, Maria here"); err != nil {
		t.Fatal(err)
	}
	w.eventually("the dialog is taken over", func() bool {
		d, _ := w.h.LoadDialog(ctx, link.DialogID)
		return d.TakenOver
	})
	if evs := w.events(domain.DialogStream(link.DialogID)); count[domain.OutboundObserved](evs) != 1 {
		t.Fatalf("the manager's message is not recorded: %v", evs)
	}
	if !w.noticed("takeover") {
		t.Fatal("admins were not told about the takeover")
	}
	// The AI may not plan anything now.
	d, _ = w.h.LoadDialog(ctx, link.DialogID)
	cont, _ := w.h.LoadContact(ctx, link.ContactID)
	if _, err := w.h.Dialog(ctx, d.ID, d.ContactID, domain.PlanOutbound{RandomID: 5, Text: "AI here", By: domain.ActorAI, Contact: cont}); domain.ErrorCode(err) != domain.EFORBIDDEN {
		t.Fatalf("the AI planned in a taken-over dialog: %v", err)
	}
}

// Messages that arrive while salesbot is down are delivered on start,
// each exactly once.
func TestCatchUpAfterDowntime(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	acc, accUser := w.addAccount("sales-1")
	lead := w.persona("lead_carl", telegramtest.Persona{Reply: telegramtest.Script("hello")})
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })
	st := w.startDialog("lead_carl", "Hi Carl")
	stream := domain.DialogStream(st.DialogID)
	w.eventually("the first reply is recorded", func() bool { return count[domain.InboundReceived](w.events(stream)) == 1 })

	w.restart() // salesbot goes down
	for i := 0; i < 50; i++ {
		if _, err := w.sb.SendAs(lead.ID, accUser.ID, fmt.Sprintf("message %d while you were away", i)); err != nil {
			t.Fatal(err)
		}
	}
	w.start()
	w.eventually("all 50 are recorded", func() bool { return count[domain.InboundReceived](w.events(stream)) == 51 })
	// The outbound counts are the log's: the restart kept them.
	w.eventually("supervising", w.svc.Supervising)
	if a := w.status(acc); a.Planned != 1 || a.Sent != 1 || a.Failed != 0 {
		t.Fatalf("after a restart: planned %d, sent %d, failed %d; want 1, 1, 0", a.Planned, a.Sent, a.Failed)
	}
	// And no more: restart again and give the updates a moment to repeat.
	w.restart()
	w.start()
	w.eventually("the account is connected again", func() bool { return w.connected(acc) })
	if _, err := w.sb.SendAs(lead.ID, accUser.ID, "one more"); err != nil {
		t.Fatal(err)
	}
	w.eventually("the new message is recorded", func() bool { return count[domain.InboundReceived](w.events(stream)) == 52 })
	seen := map[int64]bool{}
	for _, e := range w.events(stream) {
		if in, ok := e.(domain.InboundReceived); ok {
			if seen[in.TelegramMessageID] {
				t.Fatalf("message %d recorded twice", in.TelegramMessageID)
			}
			seen[in.TelegramMessageID] = true
		}
	}
}

// A crash between "planned" and "sent": the message reached Telegram but
// salesbot did not record it. On start the outbox sends it again with the
// same random_id; Telegram drops the duplicate, and the lead sees one copy.
func TestResendAfterCrashReusesRandomID(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	acc, accUser := w.addAccount("sales-1")
	lead := w.persona("lead_dana", telegramtest.Persona{Reply: func(telegramtest.Incoming) []string { return nil }})
	ctx := context.Background()

	// Plan by hand, as Start does, then "send before the crash" with a raw
	// client: Telegram has the message, the log does not know it.
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })
	st := w.startDialog("lead_dana", "First message")
	stream := domain.DialogStream(st.DialogID)
	w.eventually("the opening is sent", func() bool { return count[domain.OutboundSent](w.events(stream)) == 1 })
	w.halt()

	d, _ := w.h.LoadDialog(ctx, st.DialogID)
	c, _ := w.h.LoadContact(ctx, st.ContactID)
	const rid = 777_000_111
	if _, err := w.h.Dialog(ctx, d.ID, d.ContactID, domain.PlanOutbound{RandomID: rid, Text: "Second message", By: domain.ActorAI, Contact: c}); err != nil {
		t.Fatal(err)
	}
	runCtx, stopRaw := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- w.dialer.Run(runCtx, acc, telegram.RunOptions{
			Handler: func(context.Context, telegram.Message) error { return nil },
			Ready: func(conn telegram.Conn) {
				p, _, _ := conn.Peer(ctx, lead.ID)
				_, err := conn.Send(ctx, p, rid, "Second message")
				if err != nil {
					t.Errorf("raw send: %v", err)
				}
				stopRaw()
			},
		})
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(w.sb.Messages(lead.ID, accUser.ID)); n != 2 {
		t.Fatalf("lead has %d messages before the restart, want 2", n)
	}
	w.restart()
	w.start()
	w.eventually("the resend is recorded as sent", func() bool { return count[domain.OutboundSent](w.events(stream)) == 2 })
	if msgs := w.sb.Messages(lead.ID, accUser.ID); len(msgs) != 2 {
		t.Fatalf("the lead got a duplicate: %+v", msgs)
	}
	d, _ = w.h.LoadDialog(ctx, st.DialogID)
	if d.TakenOver {
		t.Fatal("our own resent message was taken for a manager's")
	}
}

// Telegram errors become facts.
func TestErrorsBecomeFacts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	silent := telegramtest.Persona{Reply: func(telegramtest.Incoming) []string { return nil }}
	send := uint32(tg.MessagesSendMessageRequestTypeID)

	acc, accUser := w.addAccount("sales-1")
	w.persona("lead_flood", silent)
	w.persona("lead_slow", silent)
	w.persona("lead_private", silent)
	w.persona("lead_blocker", silent)
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })

	t.Run("FLOOD_WAIT waits, then sends", func(t *testing.T) {
		remove := w.sb.Inject(telegramtest.Fault{User: accUser.ID, Method: send, Code: 420, Error: "FLOOD_WAIT_1", Times: 1})
		defer remove()
		st := w.startDialog("lead_flood", "Hello")
		w.eventually("sent after the wait", func() bool { return count[domain.OutboundSent](w.events(domain.DialogStream(st.DialogID))) == 1 })
		if count[domain.AccountFloodWaited](w.events(domain.AccountStream(acc))) != 1 {
			t.Fatal("no flood wait recorded")
		}
	})
	t.Run("a slow reply and a 500 are waited out, without a duplicate", func(t *testing.T) {
		slow := w.sb.Inject(telegramtest.Fault{User: accUser.ID, Method: send, Delay: 1500 * time.Millisecond, Times: 1})
		defer slow()
		st := w.startDialog("lead_slow", "Hello")
		w.eventually("sent", func() bool { return count[domain.OutboundSent](w.events(domain.DialogStream(st.DialogID))) == 1 })
		broken := w.sb.Inject(telegramtest.Fault{User: accUser.ID, Method: send, Code: 500, Error: "INTERNAL", Times: 1})
		defer broken()
		d, _ := w.h.LoadDialog(ctx, st.DialogID)
		c, _ := w.h.LoadContact(ctx, st.ContactID)
		if _, err := w.h.Dialog(ctx, d.ID, d.ContactID, domain.PlanOutbound{RandomID: 4242, Text: "Second", By: domain.ActorAI, Contact: c}); err != nil {
			t.Fatal(err)
		}
		w.eventually("the second is sent after the error", func() bool { return count[domain.OutboundSent](w.events(domain.DialogStream(st.DialogID))) == 2 })
		lead, _ := w.sb.Lookup("lead_slow")
		if msgs := w.sb.Messages(lead.ID, accUser.ID); len(msgs) != 2 {
			t.Fatalf("the lead's chat: %+v", msgs)
		}
	})
	t.Run("USER_PRIVACY_RESTRICTED closes the dialog, the contact is unreachable", func(t *testing.T) {
		remove := w.sb.Inject(telegramtest.Fault{User: accUser.ID, Method: send, Code: 403, Error: "USER_PRIVACY_RESTRICTED", Times: 1})
		defer remove()
		st := w.startDialog("lead_private", "Hello")
		w.eventually("the dialog is closed", func() bool {
			d, _ := w.h.LoadDialog(ctx, st.DialogID)
			return d.Outcome == domain.OutcomeUnreachable
		})
		c, _ := w.h.LoadContact(ctx, st.ContactID)
		if c.Unreachable != "USER_PRIVACY_RESTRICTED" || c.Contactable() == nil {
			t.Fatalf("contact %+v", c)
		}
		if evs := w.events(domain.DialogStream(st.DialogID)); count[domain.OutboundFailed](evs) != 1 {
			t.Fatalf("events %v", evs)
		}
	})
	t.Run("USER_IS_BLOCKED closes the dialog", func(t *testing.T) {
		blocker, _ := w.sb.AddUser(telegramtest.UserSpec{Username: "lead_blocks"})
		w.sb.Block(blocker.ID, accUser.ID)
		st := w.startDialog("lead_blocks", "Hello")
		w.eventually("the dialog is closed", func() bool {
			d, _ := w.h.LoadDialog(ctx, st.DialogID)
			return d.Outcome == domain.OutcomeUnreachable
		})
	})
	t.Run("PEER_FLOOD restricts the account and no other account takes its share", func(t *testing.T) {
		remove := w.sb.Inject(telegramtest.Fault{User: accUser.ID, Method: send, Code: 400, Error: "PEER_FLOOD", Times: 1})
		defer remove()
		st := w.startDialog("lead_blocker", "Hello")
		w.eventually("the account is restricted and the message failed", func() bool {
			a, _ := w.h.AccountNow(ctx, acc, nil)
			return a.Restricted && count[domain.OutboundFailed](w.events(domain.DialogStream(st.DialogID))) == 1
		})
		if !w.noticed("account-restricted") {
			t.Fatal("admins were not alerted")
		}
		if evs := w.events(domain.DialogStream(st.DialogID)); count[domain.OutboundFailed](evs) != 1 {
			t.Fatalf("events %v", evs)
		}
		// The only account is restricted: a new dialog waits and says why.
		w.persona("lead_next", silent)
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		var why string
		_, err := w.svc.Start(wctx, accounts.StartRequest{Username: "lead_next", Source: domain.SourceManual, Basis: domain.BasisConsent, Text: "hi"},
			func(reason string, _ time.Time) { why = reason })
		if err == nil || why == "" {
			t.Fatalf("a restricted account opened a dialog: %v (%q)", err, why)
		}
	})
}

func TestLostAccounts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, reason string
		lose         func(sb *telegramtest.Sandbox, id int64)
	}{
		{"AUTH_KEY_UNREGISTERED", "AUTH_KEY_UNREGISTERED", func(sb *telegramtest.Sandbox, id int64) { sb.Revoke(id, "AUTH_KEY_UNREGISTERED") }},
		{"SESSION_REVOKED", "SESSION_REVOKED", func(sb *telegramtest.Sandbox, id int64) { sb.Revoke(id, "SESSION_REVOKED") }},
		{"USER_DEACTIVATED_BAN", "USER_DEACTIVATED_BAN", func(sb *telegramtest.Sandbox, id int64) { sb.Ban(id) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			acc, accUser := w.addAccount("sales-1")
			w.persona("lead_x", telegramtest.Persona{Reply: func(telegramtest.Incoming) []string { return nil }})
			w.start()
			w.eventually("the account is connected", func() bool { return w.connected(acc) })
			c.lose(w.sb, accUser.ID)
			w.sb.Drop(accUser.ID) // the next request meets the revoked key
			// Sending is what usually meets the loss first.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, _ = w.svc.Start(ctx, accounts.StartRequest{Username: "lead_x", Source: domain.SourceManual, Basis: domain.BasisConsent, Text: "hi"}, nil)
			w.eventually("the account is lost", func() bool {
				a, _ := w.h.AccountNow(context.Background(), acc, nil)
				return a.Lost
			})
			a, _ := w.h.AccountNow(context.Background(), acc, nil)
			if a.Reason != c.reason {
				t.Fatalf("lost for %q, want %q", a.Reason, c.reason)
			}
			if !w.noticed("account-lost") {
				t.Fatal("admins were not alerted")
			}
		})
	}
}

// A dropped connection is recorded and the client comes back by itself.
func TestReconnect(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	acc, accUser := w.addAccount("sales-1")
	lead := w.persona("lead_eve", telegramtest.Persona{Reply: func(telegramtest.Incoming) []string { return nil }})
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })
	st := w.startDialog("lead_eve", "Hi Eve")
	stream := domain.DialogStream(st.DialogID)
	w.eventually("sent", func() bool { return count[domain.OutboundSent](w.events(stream)) == 1 })
	w.sb.Drop(accUser.ID)
	if _, err := w.sb.SendAs(lead.ID, accUser.ID, "are you there?"); err != nil {
		t.Fatal(err)
	}
	w.eventually("the message sent during the drop arrives", func() bool { return count[domain.InboundReceived](w.events(stream)) == 1 })
}

// Many people writing first at once, to several accounts: each gets one
// inbound dialog, and dialog numbers stay unique and dense.
func TestManyInboundAtOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var accs []telegramtest.User
	var ids []uuid.UUID
	for i := 1; i <= 3; i++ {
		id, u := w.addAccount(fmt.Sprintf("sales-%d", i))
		accs, ids = append(accs, u), append(ids, id)
	}
	w.start()
	w.eventually("the accounts are connected", func() bool {
		return w.connected(ids[0]) && w.connected(ids[1]) && w.connected(ids[2])
	})
	const people = 60
	var wg sync.WaitGroup
	for i := 0; i < people; i++ {
		u, err := w.sb.AddUser(telegramtest.UserSpec{Username: fmt.Sprintf("writer_%02d", i)})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.sb.SendAs(u.ID, accs[i%3].ID, "hello"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	w.eventually("every writer has a dialog", func() bool { return len(w.events(domain.DialogNumberStream)) == people })
	seen := map[int64]bool{}
	for _, e := range w.events(domain.DialogNumberStream) {
		seen[e.(domain.DialogNumbered).N] = true
	}
	for n := int64(1); n <= people; n++ {
		if !seen[n] {
			t.Fatalf("dialog number %d missing: %v", n, seen)
		}
	}
}

// A message whose contact was erased can never be recorded; it must not
// hold up the account's later messages.
func TestErasedContactDoesNotBlockTheAccount(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	acc, accUser := w.addAccount("sales-1")
	lead := w.persona("lead_erased", telegramtest.Persona{Reply: telegramtest.Script("hi")})
	other, _ := w.sb.AddUser(telegramtest.UserSpec{Username: "lead_later"})
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })
	st := w.startDialog("lead_erased", "Hello")
	stream := domain.DialogStream(st.DialogID)
	w.eventually("the answer is recorded", func() bool { return count[domain.InboundReceived](w.events(stream)) == 1 })

	ctx := context.Background()
	if _, err := w.h.Contact(ctx, st.ContactID, domain.ForgetContact{By: "admin:1"}); err != nil {
		t.Fatal(err)
	}
	if err := w.store.Forget(ctx, st.ContactID.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sb.SendAs(lead.ID, accUser.ID, "me again"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sb.SendAs(other.ID, accUser.ID, "hello from someone else"); err != nil {
		t.Fatal(err)
	}
	w.eventually("the other person's message is recorded", func() bool {
		l, found, _ := w.h.DialogOfPeer(ctx, acc, other.ID)
		return found && count[domain.InboundReceived](w.events(domain.DialogStream(l.DialogID))) == 1
	})
	if n := count[domain.InboundReceived](w.events(stream)); n != 1 {
		t.Fatalf("the erased contact's dialog has %d inbound messages, want 1", n)
	}
}

// An opt-out that arrives while "typing…" shows stops the message.
func TestOptOutWhileTyping(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.typing = 700 * time.Millisecond
	acc, accUser := w.addAccount("sales-1")
	lead := w.persona("lead_typing", telegramtest.Persona{Reply: func(telegramtest.Incoming) []string { return nil }})
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })
	st := w.startDialog("lead_typing", "Hello")
	w.eventually("typing shows", func() bool {
		typing, _ := w.sb.Activity()
		return len(typing) > 0
	})
	if _, err := w.h.Contact(context.Background(), st.ContactID, domain.OptOutContact{Reason: "stop", By: "lead"}); err != nil {
		t.Fatal(err)
	}
	w.eventually("the message failed", func() bool { return count[domain.OutboundFailed](w.events(domain.DialogStream(st.DialogID))) == 1 })
	w.eventually("the failure is counted", func() bool { a := w.status(acc); return a.Failed == 1 && a.Planned == 1 && a.Sent == 0 })
	if msgs := w.sb.Messages(lead.ID, accUser.ID); len(msgs) != 0 {
		t.Fatalf("an opted-out lead got %+v", msgs)
	}
}

// A manager's opt-out ends the person's dialog at once, and a message
// still planned for them is not sent.
func TestManagerOptOut(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.typing = 500 * time.Millisecond
	acc, accUser := w.addAccount("sales-1")
	lead := w.persona("lead_optout", telegramtest.Persona{Reply: func(telegramtest.Incoming) []string { return nil }})
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })
	st := w.startDialog("lead_optout", "Hello")
	ctx := context.Background()
	id, err := w.svc.OptOut(ctx, "@lead_optout", "admin:1", "asked by phone")
	if err != nil || id != st.ContactID {
		t.Fatalf("opt out: %v %v", id, err)
	}
	d, _ := w.h.LoadDialog(ctx, st.DialogID)
	if d.Outcome != domain.OutcomeOptedOut {
		t.Fatalf("dialog after the opt-out: %+v", d)
	}
	w.eventually("the planned opening failed", func() bool { return count[domain.OutboundFailed](w.events(domain.DialogStream(st.DialogID))) == 1 })
	w.eventually("admins hear of the opt-out", func() bool { return w.noticed("opt-out") })
	if msgs := w.sb.Messages(lead.ID, accUser.ID); len(msgs) != 0 {
		t.Fatalf("the opted-out lead got %+v", msgs)
	}
	// Someone who was never a contact goes on the list too.
	w.persona("never_met", telegramtest.Persona{Reply: func(telegramtest.Incoming) []string { return nil }})
	id, err = w.svc.OptOut(ctx, "never_met", "admin:1", "")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := w.h.LoadContact(ctx, id); !c.OptedOut || c.Source != domain.SourceManual {
		t.Fatalf("new contact on the list: %+v", c)
	}
	if _, err := w.svc.OptOut(ctx, "nobody_knows", "admin:1", ""); !errors.Is(err, accounts.ErrUnknownUsername) {
		t.Fatalf("unknown username: %v", err)
	}
}

// Run returns only when the notices it handed out are delivered: a slow
// Notify (the admin bot at its rate limit) is waited for, not left behind.
func TestRunWaitsForNotices(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	acc, _ := w.addAccount("sales-1")
	w.persona("lead_slow", telegramtest.Persona{Reply: func(telegramtest.Incoming) []string { return nil }})
	entered, release := make(chan struct{}), make(chan struct{})
	w.mu.Lock()
	w.onNotice = func(n accounts.Notice) {
		if n.Kind == "opt-out" {
			close(entered)
			<-release
		}
	}
	w.mu.Unlock()
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })
	w.startDialog("lead_slow", "Hello")
	if _, err := w.svc.OptOut(context.Background(), "@lead_slow", "admin:1", ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("no opt-out notice")
	}
	w.stop()
	select {
	case err := <-w.done:
		close(release)
		w.stop = nil
		t.Fatalf("Run returned (%v) while a notice was being delivered", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-w.done:
		if err != nil {
			t.Fatal(err)
		}
		w.stop = nil
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after the notice was delivered")
	}
}

// Removing an account stops its client, logs it out and deletes its session.
func TestRemoveAccount(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	acc, _ := w.addAccount("sales-1")
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })
	calls := w.sb.Calls(tg.AuthLogOutRequestTypeID)
	if err := w.svc.Remove(context.Background(), acc, "admin:1"); err != nil {
		t.Fatal(err)
	}
	if w.sb.Calls(tg.AuthLogOutRequestTypeID) != calls+1 {
		t.Fatal("the account was not logged out at Telegram")
	}
	if ok, _ := telegram.HasSession(context.Background(), w.store, acc); ok {
		t.Fatal("the session is still stored")
	}
	a, _ := w.h.AccountNow(context.Background(), acc, nil)
	if a.Status != domain.StatusRemoved {
		t.Fatalf("status %s", a.Status)
	}
	w.eventually("the service no longer lists it", func() bool { return len(w.svc.Accounts()) == 0 })
	if err := w.svc.Remove(context.Background(), acc, "admin:1"); !errors.Is(err, accounts.ErrNoAccount) {
		t.Fatalf("removing twice: %v", err)
	}
}

// A person put on the do-not-contact list by username only (an import, or
// salesbot contacts optout, with no Telegram to ask) who later writes in
// is that contact: no dialog, no answer; an import of them is found too.
func TestOptedOutByUsernameWritesIn(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	acc, accUser := w.addAccount("sales-1")
	lead, _ := w.sb.AddUser(telegramtest.UserSpec{Username: "Listed_Lead", FirstName: "Lee"})
	ctx := context.Background()
	listed, _, err := contacts.OptOut(ctx, w.h, contacts.OptOutRequest{Person: contacts.Person{Username: "listed_lead"}, By: "cli", Reason: "asked by email"})
	if err != nil {
		t.Fatal(err)
	}
	w.start()
	w.eventually("the account is connected", func() bool { return w.connected(acc) })
	if _, err := w.sb.SendAs(lead.ID, accUser.ID, "Hello?"); err != nil {
		t.Fatal(err)
	}
	w.eventually("admins hear that a listed person wrote", func() bool { return w.noticed("opted-out-wrote") })
	if _, found, _ := w.h.DialogOfPeer(ctx, acc, lead.ID); found {
		t.Fatal("a dialog was opened with a person on the do-not-contact list")
	}
	if id, found, _ := w.h.ContactOfUser(ctx, lead.ID); !found || id != listed {
		t.Fatalf("the person is contact %s, want the listed %s", id, listed)
	}
	if c, _ := w.h.LoadContact(ctx, listed); c.UserID != lead.ID {
		t.Fatalf("the listed contact did not learn its user id: %+v", c)
	}
	// /start refuses them too.
	if _, err := w.svc.Start(ctx, accounts.StartRequest{Username: "listed_lead", Source: domain.SourceManual, Basis: domain.BasisConsent, By: "admin:1"}, nil); domain.ErrorCode(err) != domain.EFORBIDDEN {
		t.Fatalf("start of a listed person: %v", err)
	}
}
