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
	"time"

	"github.com/mymmrac/telego"
)

// Webhook answers updates Telegram posts to a public URL instead of long
// polling. Every request must carry the secret token set with setWebhook
// in the X-Telegram-Bot-Api-Secret-Token header; others get 401 and are
// not looked at.
type Webhook struct {
	bot    *Bot
	secret string
	ctx    context.Context // the bot's; updates are handled under it

	mu   sync.Mutex
	seen map[int]bool // recent update ids: Telegram retries what it thinks failed
	ids  []int
}

// NewWebhook returns a webhook handler with a fresh secret token.
func (b *Bot) NewWebhook() (*Webhook, error) {
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		return nil, err
	}
	return &Webhook{bot: b, secret: hex.EncodeToString(s), ctx: context.Background(), seen: map[int]bool{}}, nil
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
	// Answer at once and work in the background, in the admin's queue
	// (as long polling does): a slow command must not make Telegram time
	// out and send the update again, nor delay another admin.
	w.WriteHeader(http.StatusOK)
	if h.repeat(u.UpdateID) {
		return
	}
	h.bot.dispatch(h.ctx, u)
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
	h.ctx = ctx
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("adminbot: webhook listen on %s: %w", listen, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if err := b.api.SetWebhook(ctx, &telego.SetWebhookParams{URL: publicURL, SecretToken: h.secret,
		AllowedUpdates: []string{"message", "callback_query"}}); err != nil {
		_ = srv.Close()
		return fmt.Errorf("adminbot: set webhook: %w", err)
	}
	notices := make(chan struct{})
	go func() {
		defer close(notices)
		b.sendNotices(ctx)
	}()
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	cancel()
	<-notices
	shut, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer stop()
	_ = b.api.DeleteWebhook(shut, &telego.DeleteWebhookParams{})
	_ = srv.Shutdown(shut)
	b.queue.wait()
	b.flows.cancelAll()
	b.work.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("adminbot: webhook: %w", err)
	}
	return nil
}
