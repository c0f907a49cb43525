package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/httpapi"
	wire "github.com/salesbot/salesbot/adapters/webhooks"
)

// receiver is a webhook receiver that keeps what it was sent.
type receiver struct {
	mu   sync.Mutex
	got  []delivery
	srv  *httptest.Server
	seen chan struct{}
}

type delivery struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{seen: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, delivery{req.Header.Clone(), b})
		r.mu.Unlock()
		r.seen <- struct{}{}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait waits for the n-th delivery and returns it.
func (r *receiver) wait(t *testing.T, n int) delivery {
	t.Helper()
	for {
		r.mu.Lock()
		if len(r.got) >= n {
			d := r.got[n-1]
			r.mu.Unlock()
			return d
		}
		r.mu.Unlock()
		select {
		case <-r.seen:
		case <-time.After(10 * time.Second):
			t.Fatalf("no delivery %d after 10 s", n)
		}
	}
}

// An admin subscribes a receiver through the API and gets the secret
// once; the receiver gets the events signed with it (without personal
// fields), the attempts show, a replay sends the same message again,
// and a removed subscription answers as removed. Other scopes and bad
// bodies are refused.
func TestWebhooksThroughTheAPI(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	rcv := newReceiver(t)
	go func() { _ = w.hooks.Run(t.Context()) }()
	body := `{"url":"` + rcv.srv.URL + `/hook?token=abc","events":["message.received","dialog.handoff"]}`
	w.call(t, http.MethodPost, "/api/v1/webhooks", w.manage, body, nil, true).problem(t, http.StatusForbidden)
	if p := w.call(t, http.MethodPost, "/api/v1/webhooks", w.admin, `{"url":"`+rcv.srv.URL+`","events":["dialog.nope"]}`, nil, false).
		problem(t, http.StatusBadRequest); len(p.Errors) != 1 || p.Errors[0].Field != "events" || !strings.Contains(p.Errors[0].Message, "dialog.handoff") {
		t.Errorf("an unknown event: %+v", p)
	}
	w.call(t, http.MethodPost, "/api/v1/webhooks", w.admin, `{"events":["dialog.handoff"]}`, nil, false).problem(t, http.StatusBadRequest)

	a := w.call(t, http.MethodPost, "/api/v1/webhooks", w.admin, body, nil, true)
	var c httpapi.WebhookCreated
	a.json(t, &c)
	if a.status != http.StatusCreated || !strings.HasPrefix(c.Secret, "whsec_") || c.Status != "active" || c.Personal ||
		a.header.Get("Location") != "/api/v1/webhooks/"+c.ID {
		t.Fatalf("subscribe: %d %s", a.status, a.body)
	}
	var l struct{ Items []httpapi.Webhook }
	w.call(t, http.MethodGet, "/api/v1/webhooks", w.admin, "", nil, true).json(t, &l)
	if len(l.Items) != 1 || l.Items[0].ID != c.ID || strings.Contains(string(w.get(t, "/api/v1/webhooks", w.admin).body), c.Secret) {
		t.Fatalf("list: %+v", l)
	}

	w.inbound(t, 1, 99, "call me at noon")
	d := rcv.wait(t, 1)
	secret, err := wire.ParseSecret(c.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wire.Verify(secret, d.header, d.body, time.Now(), 5*time.Minute); err != nil {
		t.Fatalf("the delivery's signature: %v", err)
	}
	var msg struct {
		Type string
		Data map[string]any
	}
	if err := json.Unmarshal(d.body, &msg); err != nil || msg.Type != "message.received" || strings.Contains(string(d.body), "noon") {
		t.Fatalf("the delivery: %s (%v)", d.body, err)
	}

	var at struct{ Items []httpapi.WebhookAttempt }
	for end := time.Now().Add(10 * time.Second); len(at.Items) == 0 && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		w.get(t, "/api/v1/webhooks/"+c.ID[:8]+"/attempts", w.admin).json(t, &at) // recorded once the answer is read
	}
	if len(at.Items) == 0 || at.Items[0].Status != http.StatusOK || at.Items[0].MessageID != d.header.Get("webhook-id") {
		t.Fatalf("attempts: %+v", at)
	}
	// Replayed from its position: the same message again (the events
	// before it, from before the subscription, are not sent).
	replayed := w.call(t, http.MethodPost, "/api/v1/webhooks/"+c.ID+"/replay", w.admin, fmt.Sprintf(`{"from":%d}`, at.Items[0].Position), nil, true)
	if replayed.status != http.StatusOK {
		t.Fatalf("replay: %d %s", replayed.status, replayed.body)
	}
	if again := rcv.wait(t, 2); again.header.Get("webhook-id") != d.header.Get("webhook-id") || string(again.body) != string(d.body) {
		t.Errorf("the replay sent %s %s, want the same message again", again.header.Get("webhook-id"), again.body)
	}
	w.call(t, http.MethodPost, "/api/v1/webhooks/"+c.ID+"/replay", w.admin, `{}`, nil, false).problem(t, http.StatusBadRequest)

	var removed httpapi.Webhook
	w.call(t, http.MethodDelete, "/api/v1/webhooks/"+c.ID, w.admin, "", nil, true).json(t, &removed)
	if removed.Status != "removed" {
		t.Errorf("removed: %+v", removed)
	}
	w.get(t, "/api/v1/webhooks/00000000-0000-0000-0000-000000000000", w.admin).problem(t, http.StatusNotFound)
}
