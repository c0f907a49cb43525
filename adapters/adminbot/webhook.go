package adminbot

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mymmrac/telego"
)

// Webhook answers updates Telegram posts to a public URL instead of long
// polling. Every request must carry the secret token set with setWebhook
// in the X-Telegram-Bot-Api-Secret-Token header; others get 401 and are
// not looked at. ServeHTTP takes the updates; Serve, which must run for
// them to be answered, hands them to the admins' queues under the bot's
// context.
type Webhook struct {
	bot     *Bot
	secret  string
	updates chan accepted // from ServeHTTP to Serve
	done    chan struct{} // closed when Serve returns
	served  atomic.Bool   // Serve was called

	mu   sync.Mutex
	seen map[int]bool // recent update ids: Telegram retries what it thinks failed
	ids  []int
}

// accepted is an update ServeHTTP took; queued is closed once it waits in
// its admin's queue.
type accepted struct {
	u      telego.Update
	queued chan struct{}
}

// NewWebhook returns a webhook handler with a fresh secret token.
func (b *Bot) NewWebhook() (*Webhook, error) {
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		return nil, err
	}
	return &Webhook{bot: b, secret: hex.EncodeToString(s), updates: make(chan accepted), done: make(chan struct{}), seen: map[int]bool{}}, nil
}

// Serve hands the updates ServeHTTP takes to the admins' queues until ctx
// ends; each admin's worker answers them under ctx. A Webhook is served
// once: when Serve has returned, ServeHTTP answers 503 (Telegram sends
// the update again later).
func (h *Webhook) Serve(ctx context.Context) {
	if !h.served.CompareAndSwap(false, true) {
		return
	}
	defer close(h.done)
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-h.updates:
			h.bot.dispatch(ctx, a.u)
			close(a.queued)
		}
	}
}

// ServeHTTP implements http.Handler.
func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if r.Method != http.MethodPost || subtle.ConstantTimeCompare([]byte(got), []byte(h.secret)) != 1 {
		h.bot.log.Warn("adminbot: webhook request without the secret token", "remote", r.RemoteAddr)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var u telego.Update
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&u); err != nil {
		http.Error(w, "bad update", http.StatusBadRequest)
		return
	}
	if h.repeat(u.UpdateID) {
		w.WriteHeader(http.StatusOK)
		return
	}
	// Answer once the update waits in the admin's queue, and work in the
	// background (as long polling does): a slow command must not make
	// Telegram time out and send the update again, nor delay another admin.
	a := accepted{u: u, queued: make(chan struct{})}
	select {
	case h.updates <- a:
		<-a.queued // dispatch does not block
		w.WriteHeader(http.StatusOK)
	case <-h.done:
		h.forget(u.UpdateID)
		http.Error(w, "stopping", http.StatusServiceUnavailable)
	case <-r.Context().Done():
		h.forget(u.UpdateID)
	}
}

// repeat records an update id and says whether it was seen already.
func (h *Webhook) repeat(id int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen[id] {
		return true
	}
	h.seen[id] = true
	h.ids = append(h.ids, id)
	if len(h.ids) > 10000 {
		delete(h.seen, h.ids[0])
		h.ids = h.ids[1:]
	}
	return false
}

// forget takes back an update id repeat recorded: the update was not
// taken, and Telegram will send it again.
func (h *Webhook) forget(id int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.seen, id)
}

// RunWebhook registers publicURL with Telegram, serves updates on listen
// (host:port) until ctx ends, then removes the webhook. Notices are sent
// as with Run.
func (b *Bot) RunWebhook(ctx context.Context, listen, publicURL string) error {
	h, err := b.NewWebhook()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("adminbot: webhook listen on %s: %w", listen, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	var running sync.WaitGroup // the server, the dispatcher, the notices
	served := make(chan error, 1)
	running.Go(func() { served <- srv.Serve(ln) })
	running.Go(func() { h.Serve(ctx) })
	if err := b.api.SetWebhook(ctx, &telego.SetWebhookParams{URL: publicURL, SecretToken: h.secret,
		AllowedUpdates: []string{"message", "callback_query"}}); err != nil {
		cancel()
		_ = srv.Close()
		running.Wait()
		b.queue.wait()
		return fmt.Errorf("adminbot: set webhook: %w", err)
	}
	running.Go(func() { b.sendNotices(ctx) })
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	cancel()
	shut, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer stop()
	_ = b.api.DeleteWebhook(shut, &telego.DeleteWebhookParams{})
	_ = srv.Shutdown(shut)
	running.Wait()
	b.queue.wait()
	b.flows.cancelAll()
	b.work.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("adminbot: webhook: %w", err)
	}
	return nil
}
