package adminbot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/mymmrac/telego"

	"github.com/salesbot/salesbot/adapters/adminbot"
	"github.com/salesbot/salesbot/adapters/adminbot/botapitest"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/domain"
)

var _ adminbot.Accounts = (*slowStarter)(nil)

// slowStarter is an adminbot.Accounts whose Start waits until the test
// releases it, as a /start waiting for an account does.
type slowStarter struct {
	entered chan struct{} // one value per Start entered
	release chan struct{} // closed: every Start returns
	ended   chan error    // one value per Start returned: its error
}

func newSlowStarter(t *testing.T) *slowStarter {
	s := &slowStarter{entered: make(chan struct{}, 10), release: make(chan struct{}), ended: make(chan error, 10)}
	t.Cleanup(s.free)
	return s
}

func (s *slowStarter) free() {
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

func (s *slowStarter) Start(ctx context.Context, req adminbot.StartRequest, _ func(string, time.Time)) (adminbot.Started, error) {
	s.entered <- struct{}{}
	select {
	case <-s.release:
		s.ended <- nil
		return adminbot.Started{N: 9, Label: "sales-1"}, nil
	case <-ctx.Done():
		s.ended <- ctx.Err()
		return adminbot.Started{}, ctx.Err()
	}
}

func (s *slowStarter) OptOut(context.Context, string, string, string) (uuid.UUID, error) {
	return uuid.Nil, nil
}
func (s *slowStarter) Remove(context.Context, uuid.UUID, string) error { return nil }
func (s *slowStarter) Add(context.Context, string, telegram.PhoneLogin, domain.Limits) (uuid.UUID, telegram.Peer, error) {
	return uuid.Nil, telegram.Peer{}, nil
}

// withStarter replaces the world's bot with one whose /start is s.
func (w *world) withStarter(s adminbot.Accounts) {
	w.t.Helper()
	bot, err := adminbot.New(adminbot.Config{Token: token, APIURL: w.api.URL(), Sink: w.sink, Domain: w.h, Accounts: s, Import: importer{w.h},
		Admins: map[int64]adminbot.Role{ownerID: adminbot.RoleOwner, managerID: adminbot.RoleManager},
		Now:    func() time.Time { return t0.Add(2 * time.Hour) }, NoticeInterval: time.Hour})
	if err != nil {
		w.t.Fatal(err)
	}
	w.bot = bot
}

func message(id int, user int64, text string) telego.Update {
	return telego.Update{UpdateID: id, Message: &telego.Message{MessageID: id, From: &telego.User{ID: user},
		Chat: telego.Chat{ID: user, Type: telego.ChatTypePrivate}, Text: text}}
}

// inbox collects the messages the bot sent, by chat.
type inbox struct {
	api *botapitest.Server
	by  map[int64][]string
}

// poll takes the calls so far into the inbox.
func (in *inbox) poll() {
	for _, c := range in.api.Take() {
		if c.Method != "sendMessage" {
			continue
		}
		var chat int64
		fmt.Sscan(fmt.Sprint(c.Params["chat_id"]), &chat)
		in.by[chat] = append(in.by[chat], fmt.Sprint(c.Params["text"]))
	}
}

// waitFor polls until chat has n messages or d passes.
func (in *inbox) waitFor(chat int64, n int, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(10 * time.Millisecond) {
		in.poll()
		if len(in.by[chat]) >= n {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func waitEntered(t *testing.T, s *slowStarter) {
	t.Helper()
	select {
	case <-s.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow /start never began")
	}
}

// Long polling: the owner's /start, still waiting for an account, delays
// neither the manager's answer nor anything but the owner's own next
// message, which is answered after the /start, in order.
func TestLongPollingAnswersEachAdminApart(t *testing.T) {
	w := newWorld(t)
	slow := newSlowStarter(t)
	w.withStarter(slow)
	w.api.Push(message(1, ownerID, "/start @slow_lead"), message(2, ownerID, "/help"), message(3, managerID, "/view 1"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.bot.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	waitEntered(t, slow)
	in := &inbox{api: w.api, by: map[int64][]string{}}
	if !in.waitFor(managerID, 1, 5*time.Second) {
		t.Fatal("the manager's /view waited behind the owner's /start")
	}
	if !strings.HasPrefix(in.by[managerID][0], "<b>Dialog 1</b>") {
		t.Fatalf("the manager got %q", in.by[managerID])
	}
	if got := in.by[ownerID]; len(got) != 0 {
		t.Fatalf("the owner's /help was answered before the /start it followed: %q", got)
	}
	slow.free()
	if !in.waitFor(ownerID, 2, 10*time.Second) {
		t.Fatalf("the owner got %q", in.by[ownerID])
	}
	if got := in.by[ownerID]; !strings.Contains(got[0], "Dialog 9 opened with @slow_lead") || !strings.Contains(got[1], "/help") {
		t.Fatalf("the owner's answers are not in order: %q", got)
	}
}

// The webhook queues each admin's updates as long polling does: apart
// from other admins', in order for each admin.
func TestWebhookAnswersEachAdminApartInOrder(t *testing.T) {
	w := newWorld(t)
	slow := newSlowStarter(t)
	w.withStarter(slow)
	post := webhookPoster(t, w)
	post(message(1, ownerID, "/start @slow_lead"))
	waitEntered(t, slow)
	post(message(2, ownerID, "/help"))
	post(message(3, managerID, "/view 1"))
	in := &inbox{api: w.api, by: map[int64][]string{}}
	if !in.waitFor(managerID, 1, 5*time.Second) {
		t.Fatal("the manager's /view waited behind the owner's /start")
	}
	time.Sleep(100 * time.Millisecond) // time enough for a /help answered out of turn
	if in.poll(); len(in.by[ownerID]) != 0 {
		t.Fatalf("the owner's /help was answered before the /start it followed: %q", in.by[ownerID])
	}
	slow.free()
	if !in.waitFor(ownerID, 2, 10*time.Second) {
		t.Fatalf("the owner got %q", in.by[ownerID])
	}
	if got := in.by[ownerID]; !strings.Contains(got[0], "Dialog 9 opened") || !strings.Contains(got[1], "/help") {
		t.Fatalf("the owner's answers are not in order: %q", got)
	}
}

// An admin's queue is bounded: what comes past it is dropped, and the
// admin is told how many to send again.
func TestAnAdminsQueueIsBounded(t *testing.T) {
	w := newWorld(t)
	slow := newSlowStarter(t)
	w.withStarter(slow)
	post := webhookPoster(t, w)
	post(message(1, ownerID, "/start @slow_lead"))
	waitEntered(t, slow)
	const sent, room = 60, 50
	for i := range sent {
		post(message(10+i, ownerID, "hello"))
	}
	slow.free()
	in := &inbox{api: w.api, by: map[int64][]string{}}
	want := 1 + 1 + room // the /start, the note on the dropped ones, the rest
	if !in.waitFor(ownerID, want, 20*time.Second) {
		t.Fatalf("the owner got %d messages, want %d", len(in.by[ownerID]), want)
	}
	time.Sleep(100 * time.Millisecond)
	in.poll()
	got := in.by[ownerID]
	if len(got) != want || !strings.Contains(got[0], "Dialog 9 opened") {
		t.Fatalf("the owner got %d messages, want %d: %q", len(got), want, got[:min(3, len(got))])
	}
	if note := got[1]; !strings.HasPrefix(note, fmt.Sprintf("%d of your messages came while %d others were still waiting", sent-room, room)) {
		t.Fatalf("no word on the dropped messages: %q", note)
	}
}

// webhookPoster serves the bot's webhook and returns a function that posts
// one update to it, as Telegram does, and checks it was taken.
func webhookPoster(t *testing.T, w *world) func(telego.Update) {
	h := serveWebhook(t, w)
	post := webhookPost(t, h)
	return func(u telego.Update) {
		t.Helper()
		if code := post(u); code != http.StatusOK {
			t.Fatalf("update %d: status %d", u.UpdateID, code)
		}
	}
}

// serveWebhook is the bot's webhook with Serve running until the test
// ends.
func serveWebhook(t *testing.T, w *world) *adminbot.Webhook {
	t.Helper()
	h, err := w.bot.NewWebhook()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Serve(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return h
}

// webhookPost serves h and returns a function that posts one update to
// it, as Telegram does, and returns the status.
func webhookPost(t *testing.T, h *adminbot.Webhook) func(telego.Update) int {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return func(u telego.Update) int {
		t.Helper()
		body, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", adminbot.WebhookSecret(h))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
}

// The webhook's work runs under the context of Serve, not a background
// one: when Serve's context ends, a command that waits ends with it, and
// updates that come after are refused (503), so Telegram sends them again.
func TestWebhookWorkEndsWithServe(t *testing.T) {
	w := newWorld(t)
	slow := newSlowStarter(t)
	w.withStarter(slow)
	h, err := w.bot.NewWebhook()
	if err != nil {
		t.Fatal(err)
	}
	post := webhookPost(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan struct{})
	go func() {
		defer close(served)
		h.Serve(ctx)
	}()
	if code := post(message(1, ownerID, "/start @slow_lead")); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitEntered(t, slow)
	cancel()
	select {
	case err := <-slow.ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the waiting /start ended with %v, want its context cancelled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting /start did not end with Serve's context")
	}
	<-served
	for range 2 { // refused, and not remembered as seen
		if code := post(message(2, ownerID, "/help")); code != http.StatusServiceUnavailable {
			t.Fatalf("an update after Serve returned: status %d, want 503", code)
		}
	}
}
