package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/demo"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	wire "github.com/salesbot/salesbot/adapters/webhooks"
)

// A receiver subscribed with 'webhooks add' while run --sandbox runs
// gets a sandbox person's handoff and message signed per Standard
// Webhooks with the secret add printed; it is down at first (503 with
// Retry-After) and then gets what it missed, each event answered 200
// once by its webhook-id. 'webhooks list' shows the subscription at
// work; 'remove' ends it.
func TestWebhooksOnTheSandbox(t *testing.T) {
	t.Parallel() // mostly waiting for the sandbox: beside the others
	type hit struct {
		id, typ string
		ok      bool
	}
	var mu sync.Mutex
	var hits []hit
	var secret wire.Secret
	down := 3 // the first attempts are refused
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := wire.Verify(secret, r.Header, body, time.Now(), time.Minute); err != nil {
			t.Errorf("a delivery that does not verify: %v", err)
		}
		var m struct{ Type string }
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("a delivery that is no JSON: %s", body)
		}
		h := hit{id: r.Header.Get("webhook-id"), typ: m.Type, ok: down <= 0}
		hits = append(hits, h)
		if !h.ok {
			down--
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer rcv.Close()

	dir, _, sb := startRun(t, "--webhooks-allow-private")
	mu.Lock()
	r := run(t, nil, "webhooks", "add", "--data-dir", dir, "--url", rcv.URL+"/in?key=k1", "--events", "dialog.handoff,message.received", "--json")
	var added struct{ ID, Secret string }
	err := json.Unmarshal([]byte(r.stdout), &added)
	if err == nil {
		secret, err = wire.ParseSecret(added.Secret)
	}
	mu.Unlock()
	if r.code != 0 || err != nil {
		t.Fatalf("webhooks add: %+v (%v)", r, err)
	}

	acct, err := sb.Lookup(demo.AccountUsername(2))
	if err != nil {
		t.Fatal(err)
	}
	person, err := sb.AddUser(telegramtest.UserSpec{Username: "hook_person", FirstName: "Hook"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sb.SendAs(person.ID, acct.ID, "Can I talk to a manager, please?"); err != nil {
		t.Fatal(err)
	}
	delivered := func() map[string]int { // 200s by webhook-id, of each type
		mu.Lock()
		defer mu.Unlock()
		by := map[string]int{}
		for _, h := range hits {
			if h.ok {
				by[h.typ+" "+h.id]++
			}
		}
		return by
	}
	waitFor(t, 60*time.Second, "handoff delivered", func() bool {
		for k := range delivered() {
			if strings.HasPrefix(k, "dialog.handoff ") {
				return true
			}
		}
		return false
	})
	time.Sleep(time.Second) // anything sent twice would come by now
	got := delivered()
	types := map[string]bool{}
	for k, n := range got {
		if n != 1 {
			t.Errorf("%s answered 200 %d times", k, n)
		}
		types[strings.Fields(k)[0]] = true
	}
	if !types["dialog.handoff"] || !types["message.received"] {
		t.Errorf("delivered: %v, want the handoff and the person's message", got)
	}
	mu.Lock()
	if down > 0 || len(hits) <= len(got) {
		t.Errorf("the receiver refused %d attempts of %d: it was never down", 3-down, len(hits))
	}
	mu.Unlock()

	if l := run(t, nil, "webhooks", "list", "--data-dir", dir); l.code != 0 || !strings.Contains(l.stdout, added.ID) ||
		!strings.Contains(l.stdout, "active") || strings.Contains(l.stdout, "key=k1") {
		t.Errorf("webhooks list: %+v", l)
	}
	if rm := run(t, nil, "webhooks", "remove", "--data-dir", dir, added.ID[:8]); rm.code != 0 || !strings.Contains(rm.stdout, "removed webhook "+added.ID) {
		t.Errorf("webhooks remove: %+v", rm)
	}
	if bad := run(t, nil, "webhooks", "add", "--data-dir", dir, "--url", rcv.URL, "--events", "dialog.nope"); bad.code != exitUsage ||
		!strings.Contains(bad.stderr, "dialog.handoff") {
		t.Errorf("an unknown event: %+v", bad)
	}
}
