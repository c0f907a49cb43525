package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/webhooks"
	"github.com/salesbot/salesbot/adapters/eventlog"
	wire "github.com/salesbot/salesbot/adapters/webhooks"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

var (
	t0        = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	masterKey = bytes.Repeat([]byte{7}, eventstore.MasterKeySize)
)

// clock is a test clock; sleeping moves it and records the waits.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

// world is a Pebble log in a directory, the domain's handlers on it, a
// clock and what the service logs.
type world struct {
	t     *testing.T
	dir   string
	store *eventstore.PebbleStore
	h     domain.Handlers
	clock *clock
	logs  *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, dir: t.TempDir(), clock: &clock{t: t0}, logs: &lockedBuffer{}}
	w.open()
	t.Cleanup(func() { w.store.Close() })
	return w
}

// open opens (or reopens) the log in the world's directory.
func (w *world) open() {
	w.t.Helper()
	st, err := eventstore.Open(w.dir, eventstore.Options{MasterKey: masterKey})
	if err != nil {
		w.t.Fatal(err)
	}
	w.store = st
	w.h = domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: w.clock.Now}
}

// service is a webhooks service on the world's log; cfg's zero fields
// are filled in.
func (w *world) service(cfg webhooks.Config) *webhooks.Service {
	w.t.Helper()
	cfg.Store, cfg.Now, cfg.Sleep = w.store, w.clock.Now, w.clock.Sleep
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(w.logs, nil))
	}
	s, err := webhooks.New(w.t.Context(), cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

// run runs s until the returned stop is called (or the test ends).
func run(t *testing.T, s *webhooks.Service) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// lead adds a contact and opens a dialog with it; it returns the
// dialog's id.
func (w *world) lead(username, name string) (contact, dialog uuid.UUID) {
	w.t.Helper()
	ctx := w.t.Context()
	contact, dialog = uuid.New(), uuid.New()
	if _, err := w.h.Contact(ctx, contact, domain.AddContact{ContactID: contact, Source: domain.SourceAPI, Basis: domain.BasisConsent, Username: username, Name: name}); err != nil {
		w.t.Fatal(err)
	}
	c, err := w.h.LoadContact(ctx, contact)
	if err != nil {
		w.t.Fatal(err)
	}
	n, err := w.h.NextDialogNumber(ctx, dialog)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.h.Dialog(ctx, dialog, contact, domain.StartDialog{DialogID: dialog, N: n, Contact: c, AccountID: uuid.New(), By: "inbound"}); err != nil {
		w.t.Fatal(err)
	}
	return contact, dialog
}

func (w *world) dialog(contact, dialog uuid.UUID, cmds ...domain.DialogCommand) {
	w.t.Helper()
	for _, cmd := range cmds {
		if _, err := w.h.Dialog(w.t.Context(), dialog, contact, cmd); err != nil {
			w.t.Fatalf("%T: %v", cmd, err)
		}
	}
}

// delivery is one request a receiver got.
type delivery struct {
	ID   string
	Path string
	Body wire.Payload
	Raw  string
	Err  error // Verify's
}

// receiver is an HTTP receiver whose answers a test scripts: answer
// gets the request's number (from 1) and writes the answer; nil
// answers 204.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []delivery
	secret wire.Secret
	now    func() time.Time
	answer func(n int, w http.ResponseWriter, r *http.Request) bool // false: answered already
}

func newReceiver(t *testing.T, now func() time.Time, answer func(n int, w http.ResponseWriter, r *http.Request) bool) *receiver {
	rc := &receiver{now: now, answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.got) + 1
		d := delivery{ID: r.Header.Get("webhook-id"), Path: r.URL.Path, Raw: string(body)}
		d.Err = json.Unmarshal(body, &d.Body)
		if d.Err == nil && !rc.secret.IsZero() {
			d.Err = wire.Verify(rc.secret, r.Header, body, rc.now(), 0)
		}
		rc.got = append(rc.got, d)
		answer := rc.answer
		rc.mu.Unlock()
		if answer != nil && !answer(n, w, r) {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) setSecret(s wire.Secret) { rc.mu.Lock(); rc.secret = s; rc.mu.Unlock() }

func (rc *receiver) all() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// unique is what a receiver that drops seen webhook-ids keeps, in the
// order it first saw them, of the requests it answered with 2xx.
func unique(ds []delivery, ok func(n int) bool) []delivery {
	seen := map[string]bool{}
	var out []delivery
	for i, d := range ds {
		if !ok(i+1) || seen[d.ID] {
			continue
		}
		seen[d.ID] = true
		out = append(out, d)
	}
	return out
}

// waitFor polls cond until it holds; it fails the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func types(ds []delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, string(d.Body.Type))
	}
	return out
}

// A receiver that is down (503 with Retry-After, connections cut, a
// redirect) for a while, then up, gets every event the subscription
// wants exactly once by webhook-id, in log order, signed, without
// personal fields; Retry-After is honoured; events appended while it
// runs follow.
func TestOutageLosesNothing(t *testing.T) {
	w := newWorld(t)
	down := func(n int) bool { return n > 8 } // which requests succeed
	rc := newReceiver(t, w.clock.Now, func(n int, rw http.ResponseWriter, r *http.Request) bool {
		switch {
		case n <= 4:
			rw.Header().Set("Retry-After", "7")
			rw.WriteHeader(http.StatusServiceUnavailable)
		case n == 5:
			rw.Header().Set("Retry-After", w.clock.Now().Add(90*time.Second).Format(http.TimeFormat))
			rw.WriteHeader(http.StatusTooManyRequests)
		case n <= 7:
			conn, _, err := rw.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case n == 8:
			http.Redirect(rw, r, "/elsewhere", http.StatusFound)
		default:
			return true
		}
		return false
	})
	s := w.service(webhooks.Config{AllowPrivate: true, MinBackoff: time.Second, MaxBackoff: time.Minute})
	added, err := s.Add(t.Context(), webhooks.AddRequest{URL: rc.URL + "/hook?token=s3cr3t",
		Events: []string{"dialog.started", "message.received", "dialog.handoff", "dialog.closed"}, By: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	rc.setSecret(added.Secret)
	if added.Webhook.Target != rc.URL || added.Webhook.Status != webhooks.StatusActive {
		t.Fatalf("added %+v", added.Webhook)
	}

	contact, dialog := w.lead("anna_k", "Anna K")
	w.dialog(contact, dialog,
		domain.RecordInbound{TelegramMessageID: 11, Text: "сколько стоит?", At: t0},
		domain.PlanOutbound{RandomID: 5, Text: "Добрый день", By: domain.ActorAI, Contact: mustContact(t, w, contact)},
		domain.MarkSent{RandomID: 5, TelegramMessageID: 12},
		domain.RecordInbound{TelegramMessageID: 13, Text: "хочу с человеком", At: t0},
	)
	stop := run(t, s)
	want := []string{"dialog.started", "message.received", "message.received"}
	waitFor(t, "the first events", func() bool { return len(unique(rc.all(), down)) == len(want) })

	// Live: appended while the service runs.
	w.dialog(contact, dialog, domain.RequestHandoff{Reason: "the lead asks for a person"}, domain.StopDialog{By: "admin:1"})
	want = append(want, "dialog.handoff", "dialog.closed")
	waitFor(t, "the live events", func() bool { return len(unique(rc.all(), down)) == len(want) })
	stop()

	all := rc.all()
	got := unique(all, down)
	if !slices.Equal(types(got), want) {
		t.Fatalf("delivered %v, want %v", types(got), want)
	}
	// In log order: the positions the ids stand for rise.
	atts, err := s.Attempts(added.Webhook.ID)
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]uint64{}
	for _, a := range atts {
		pos[a.MessageID] = a.Position
	}
	for i := 1; i < len(got); i++ {
		if pos[got[i].ID] <= pos[got[i-1].ID] {
			t.Fatalf("delivery %d (position %d) after one at position %d", i, pos[got[i].ID], pos[got[i-1].ID])
		}
	}
	for i, d := range all {
		if d.Err != nil {
			t.Errorf("request %d: %v", i+1, d.Err)
		}
		if d.Path != "/hook" {
			t.Errorf("request %d went to %s: a redirect was followed", i+1, d.Path)
		}
		if i < 8 && d.ID != all[0].ID {
			t.Errorf("request %d, a retry of the first event, has id %s, not %s", i+1, d.ID, all[0].ID)
		}
		if strings.Contains(d.Raw, "anna") || strings.Contains(d.Raw, "стоит") || strings.Contains(d.Raw, "person") {
			t.Errorf("a personal field reached a subscription without them: %s", d.Raw)
		}
	}
	if len(all) != 8+len(want) {
		t.Errorf("%d requests, want 8 failures and %d deliveries", len(all), len(want))
	}
	d := got[1].Body.Data
	if d["dialog_id"] != dialog.String() || d["contact_id"] != contact.String() || d["tg_message_id"] != float64(11) || d["dialog_n"] != float64(1) {
		t.Errorf("message.received data %v", d)
	}
	if _, ok := d["text"]; ok {
		t.Errorf("text without personal: %v", d)
	}
	if got[4].Body.Data["outcome"] != "stopped" {
		t.Errorf("dialog.closed data %v", got[4].Body.Data)
	}
	// Retry-After honoured: 7 s four times, then 90 s.
	sleeps := w.clock.Sleeps()
	if len(sleeps) < 5 || !slices.Equal(sleeps[:5], []time.Duration{7 * time.Second, 7 * time.Second, 7 * time.Second, 7 * time.Second, 90 * time.Second}) {
		t.Errorf("waits %v", sleeps)
	}
	for _, d := range sleeps[5:] { // backoff: 1 s doubled, half of it jitter
		if d < 500*time.Millisecond || d > time.Minute {
			t.Errorf("backoff %v out of [0.5 s, 1 min]", d)
		}
	}
	if strings.Contains(w.logs.String(), "s3cr3t") || strings.Contains(w.logs.String(), added.Secret.Reveal()) {
		t.Errorf("the logs hold the URL's token or the secret:\n%s", w.logs.String())
	}
	if v, _ := s.Get(t.Context(), added.Webhook.ID); v.Delivered != len(want) || v.LastError != "" || !v.FailingSince.IsZero() {
		t.Errorf("view %+v", v)
	}
}

func mustContact(t *testing.T, w *world, id uuid.UUID) domain.Contact {
	t.Helper()
	c, err := w.h.LoadContact(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The checkpoint survives a restart (the store reopened from its
// directory): a new service delivers what came after, nothing twice; a
// replay delivers again with the first webhook-ids.
func TestCheckpointSurvivesRestart(t *testing.T) {
	w := newWorld(t)
	rc := newReceiver(t, w.clock.Now, nil)
	s := w.service(webhooks.Config{AllowPrivate: true})
	added, err := s.Add(t.Context(), webhooks.AddRequest{URL: rc.URL, Events: []string{"message.received", "dialog.started"}})
	if err != nil {
		t.Fatal(err)
	}
	rc.setSecret(added.Secret)
	contact, dialog := w.lead("bob", "Bob")
	w.dialog(contact, dialog, domain.RecordInbound{TelegramMessageID: 1, Text: "one", At: t0})
	stop := run(t, s)
	waitFor(t, "two deliveries checkpointed", func() bool {
		v, err := s.Get(t.Context(), added.Webhook.ID)
		return err == nil && v.Checkpoint == w.store.Head()
	})
	stop()
	if n := len(rc.all()); n != 2 {
		t.Fatalf("%d requests before the restart, want 2", n)
	}
	if err := w.store.Close(); err != nil {
		t.Fatal(err)
	}

	w.open()
	w.dialog(contact, dialog, domain.RecordInbound{TelegramMessageID: 2, Text: "two", At: t0})
	s = w.service(webhooks.Config{AllowPrivate: true})
	stop = run(t, s)
	waitFor(t, "the third delivery", func() bool { return len(rc.all()) >= 3 })
	first := rc.all()
	if len(first) != 3 {
		t.Fatalf("%d requests after the restart, want 3: %v", len(first), types(first))
	}
	if types(first)[2] != "message.received" || first[2].Body.Data["tg_message_id"] != float64(2) {
		t.Fatalf("after the restart: %v", first[2].Body)
	}
	// A replay from the dialog's start delivers the three again.
	recs, err := w.store.ReadStream(t.Context(), domain.DialogStream(dialog), 1)
	if err != nil {
		t.Fatal(err)
	}
	startPos := recs[0].Position
	if err := s.Replay(t.Context(), added.Webhook.ID, startPos, "cli"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replay", func() bool { return len(rc.all()) >= 6 })
	stop()
	all := rc.all()
	for i := range 3 {
		if all[3+i].ID != first[i].ID || all[3+i].Raw != first[i].Raw {
			t.Errorf("replayed %d: %s %s, first %s %s", i, all[3+i].ID, all[3+i].Raw, first[i].ID, first[i].Raw)
		}
	}
	for _, d := range all {
		if d.Err != nil {
			t.Errorf("%s: %v", d.ID, d.Err)
		}
	}
	if len(all) != 6 {
		t.Fatalf("%d requests", len(all))
	}
}

// A receiver failing past the retry window: the subscription is
// disabled (WebhookDisabled in the log), the notice hook hears of it
// without the URL's path or query; a replay enables it again.
func TestDisabledAfterRetryWindow(t *testing.T) {
	w := newWorld(t)
	var mu sync.Mutex
	up := false
	rc := newReceiver(t, w.clock.Now, func(n int, rw http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if up {
			return true
		}
		rw.WriteHeader(http.StatusInternalServerError)
		return false
	})
	notices := make(chan webhooks.Notice, 4)
	s := w.service(webhooks.Config{AllowPrivate: true, RetryWindow: time.Hour, MinBackoff: time.Minute, MaxBackoff: 10 * time.Minute,
		Notice: func(n webhooks.Notice) { notices <- n }})
	added, err := s.Add(t.Context(), webhooks.AddRequest{URL: rc.URL + "/in?key=topsecret", Events: []string{"dialog.started"}})
	if err != nil {
		t.Fatal(err)
	}
	contact, dialog := w.lead("carl", "Carl")
	_ = contact
	stop := run(t, s)
	var n webhooks.Notice
	select {
	case n = <-notices:
	case <-time.After(time.Minute):
		t.Fatal("no notice in a minute")
	}
	if n.WebhookID != added.Webhook.ID || n.Target != rc.URL || !strings.Contains(n.Reason, "500") || !n.Since.Equal(t0) {
		t.Fatalf("notice %+v", n)
	}
	if strings.Contains(n.Reason+n.Target, "topsecret") || strings.Contains(w.logs.String(), "topsecret") {
		t.Fatalf("the URL's query leaked: %+v\n%s", n, w.logs.String())
	}
	elapsed := w.clock.Now().Sub(t0)
	if elapsed < time.Hour || elapsed > time.Hour+time.Minute {
		t.Errorf("disabled after %v of failures, the window is 1 h", elapsed)
	}
	evs, _, err := w.h.Log.Load(t.Context(), domain.WebhooksStream)
	if err != nil {
		t.Fatal(err)
	}
	dis, ok := evs[len(evs)-1].(domain.WebhookDisabled)
	if !ok || dis.WebhookID != added.Webhook.ID || dis.Since != t0 || dis.Position == 0 {
		t.Fatalf("last webhook event %#v", evs[len(evs)-1])
	}
	v, err := s.Get(t.Context(), added.Webhook.ID)
	if err != nil || v.Status != webhooks.StatusDisabled {
		t.Fatalf("view %+v %v", v, err)
	}
	atts, _ := s.Attempts(added.Webhook.ID)
	if len(atts) < 3 || atts[0].Status != 500 || atts[0].OK() {
		t.Fatalf("attempts %+v", atts)
	}
	tried := len(rc.all())

	// Mended and replayed from the event it could not deliver.
	mu.Lock()
	up = true
	mu.Unlock()
	if err := s.Replay(t.Context(), added.Webhook.ID, dis.Position, "cli"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replayed delivery", func() bool { return len(rc.all()) >= tried+1 })
	stop()
	last := rc.all()[tried]
	if last.Body.Type != domain.WebhookDialogStarted || last.Body.Data["dialog_id"] != dialog.String() {
		t.Fatalf("replayed %+v", last.Body)
	}
	if v, _ := s.Get(t.Context(), added.Webhook.ID); v.Status != webhooks.StatusActive {
		t.Fatalf("after the replay: %+v", v)
	}
}

// resolver answers every name with addrs.
type resolver []netip.Addr

func (r resolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) { return r, nil }

// SSRF: private targets are refused when subscribing unless allowed; a
// name that resolved to a public address when subscribing but to a
// loopback one when dialling is refused at dial time.
func TestPrivateTargets(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	public := resolver{netip.MustParseAddr("203.0.113.7")}
	s := w.service(webhooks.Config{Resolver: public, RetryWindow: time.Minute, MinBackoff: time.Second})
	for _, u := range []string{"http://127.0.0.1:9/x", "http://[::1]/", "http://10.1.2.3/", "http://169.254.169.254/latest", "http://0.0.0.0/", "http://[fd00::1]/", "http://192.168.1.1/"} {
		_, err := s.Add(ctx, webhooks.AddRequest{URL: u, Events: []string{"dialog.handoff"}})
		if !errors.Is(err, webhooks.ErrPrivate) || domain.ErrorField(err) != "url" {
			t.Errorf("%s: %v", u, err)
		}
	}
	private := w.service(webhooks.Config{Resolver: resolver{netip.MustParseAddr("10.0.0.5")}})
	if _, err := private.Add(ctx, webhooks.AddRequest{URL: "https://crm.internal/hook", Events: []string{"dialog.handoff"}}); !errors.Is(err, webhooks.ErrPrivate) {
		t.Errorf("a name resolving to 10.0.0.5: %v", err)
	}
	allowed := w.service(webhooks.Config{AllowPrivate: true})
	if _, err := allowed.Add(ctx, webhooks.AddRequest{URL: "http://127.0.0.1:9/x", Events: []string{"dialog.handoff"}}); err != nil {
		t.Errorf("allowed: %v", err)
	}
	_, err := s.Add(ctx, webhooks.AddRequest{URL: "https://x.example", Events: []string{"dialog.handoff", "dialog.hot"}})
	if !errors.Is(err, webhooks.ErrUnknownEvent) || !strings.Contains(err.Error(), "account.status") {
		t.Errorf("an unknown event: %v", err)
	}
	for _, u := range []string{"ftp://x.example", "/hook", "https://x.example/#f"} {
		if _, err := s.Add(ctx, webhooks.AddRequest{URL: u, Events: []string{"dialog.handoff"}}); !errors.Is(err, webhooks.ErrURL) {
			t.Errorf("%s: %v", u, err)
		}
	}

	// localhost resolves to a public address for Add (the resolver),
	// to 127.0.0.1 for the dialer: refused there.
	rc := newReceiver(t, w.clock.Now, nil)
	port := rc.URL[strings.LastIndex(rc.URL, ":"):]
	notices := make(chan webhooks.Notice, 1)
	s = w.service(webhooks.Config{Resolver: public, RetryWindow: time.Minute, MinBackoff: time.Second, Notice: func(n webhooks.Notice) { notices <- n }})
	added, err := s.Add(ctx, webhooks.AddRequest{URL: "http://localhost" + port + "/hook", Events: []string{"dialog.started"}})
	if err != nil {
		t.Fatal(err)
	}
	w.lead("dora", "Dora")
	run(t, s)
	waitFor(t, "an attempt", func() bool {
		atts, err := s.Attempts(added.Webhook.ID)
		return err == nil && len(atts) > 0 || len(rc.all()) > 0
	})
	if got := rc.all(); len(got) != 0 {
		t.Fatalf("the receiver on loopback got %d requests", len(got))
	}
	select {
	case n := <-notices:
		if !strings.Contains(n.Reason, "private") {
			t.Errorf("notice %+v", n)
		}
	case <-time.After(time.Minute):
		t.Fatal("no notice in a minute")
	}
	if got := rc.all(); len(got) != 0 {
		t.Fatalf("the receiver on loopback got %d requests", len(got))
	}
	atts, _ := s.Attempts(added.Webhook.ID)
	if len(atts) == 0 || atts[0].Status != 0 || !strings.Contains(atts[0].Error, "private") {
		t.Fatalf("attempts %+v", atts)
	}
}

// Personal fields (texts, the contact's username and name, the reason
// of a handoff) reach a subscription that may carry them, and no other.
func TestPersonalFields(t *testing.T) {
	w := newWorld(t)
	rc := newReceiver(t, w.clock.Now, nil)
	s := w.service(webhooks.Config{AllowPrivate: true})
	events := []string{"message.received", "message.sent", "dialog.handoff", "contact.opted_out"}
	if _, err := s.Add(t.Context(), webhooks.AddRequest{URL: rc.URL + "/personal", Events: events, Personal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(t.Context(), webhooks.AddRequest{URL: rc.URL + "/public", Events: events}); err != nil {
		t.Fatal(err)
	}
	contact, dialog := w.lead("erin_w", "Erin W")
	w.dialog(contact, dialog,
		domain.RecordInbound{TelegramMessageID: 1, Text: "привет", At: t0},
		domain.PlanOutbound{RandomID: 9, Text: "Здравствуйте", By: domain.ActorAI, Contact: mustContact(t, w, contact)},
		domain.MarkSent{RandomID: 9, TelegramMessageID: 2},
		domain.RequestHandoff{Reason: "wants a discount"},
	)
	if _, err := w.h.Contact(t.Context(), contact, domain.OptOutContact{Reason: "не пишите", By: "lead"}); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	waitFor(t, "eight deliveries", func() bool { return len(rc.all()) >= 8 })
	if n := len(rc.all()); n != 8 {
		t.Fatalf("%d requests, want 8", n)
	}
	by := map[string]map[domain.WebhookEvent]map[string]any{"/personal": {}, "/public": {}}
	for _, d := range rc.all() {
		by[d.Path][d.Body.Type] = d.Body.Data
	}
	p, q := by["/personal"], by["/public"]
	if p["message.received"]["text"] != "привет" || p["message.sent"]["text"] != "Здравствуйте" || p["dialog.handoff"]["reason"] != "wants a discount" || p["contact.opted_out"]["reason"] != "не пишите" {
		t.Errorf("personal: %v", p)
	}
	if c, _ := p["message.received"]["contact"].(map[string]any); c["username"] != "erin_w" || c["name"] != "Erin W" {
		t.Errorf("personal contact: %v", p["message.received"]["contact"])
	}
	for typ, d := range q {
		for _, k := range []string{"text", "reason", "contact", "qualification"} {
			if _, ok := d[k]; ok {
				t.Errorf("public %s has %s: %v", typ, k, d)
			}
		}
	}
	if q["message.sent"]["by"] != "ai" || q["message.sent"]["tg_message_id"] != float64(2) || q["contact.opted_out"]["contact_id"] != contact.String() {
		t.Errorf("public: %v", q)
	}
}

// Remove stops deliveries and deletes the secret and checkpoint; list
// shows it removed; an unknown id is refused.
func TestRemove(t *testing.T) {
	w := newWorld(t)
	rc := newReceiver(t, w.clock.Now, nil)
	s := w.service(webhooks.Config{AllowPrivate: true})
	added, err := s.Add(t.Context(), webhooks.AddRequest{URL: rc.URL, Events: []string{"dialog.started"}, By: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	run(t, s)
	w.lead("fay", "Fay")
	waitFor(t, "a delivery", func() bool { return len(rc.all()) >= 1 })
	if err := s.Remove(t.Context(), added.Webhook.ID, "cli"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(t.Context(), added.Webhook.ID, "cli"); err != nil {
		t.Fatalf("removing twice: %v", err)
	}
	waitFor(t, "the secret gone", func() bool {
		names, err := w.store.SecretNames(t.Context(), "webhook/"+added.Webhook.ID.String())
		return err == nil && len(names) == 0
	})
	before := len(rc.all())
	w.lead("gil", "Gil")
	time.Sleep(300 * time.Millisecond) // a delivery to a live subscription takes milliseconds here
	if n := len(rc.all()); n != before {
		t.Fatalf("%d deliveries after the removal", n-before)
	}
	if l, err := s.List(t.Context()); err != nil || len(l) != 1 || l[0].Status != webhooks.StatusRemoved || l[0].By != "cli" {
		t.Fatalf("list %+v", l)
	}
	if err := s.Remove(t.Context(), uuid.New(), "cli"); !errors.Is(err, webhooks.ErrUnknownWebhook) {
		t.Fatalf("unknown: %v", err)
	}
	if err := s.Replay(t.Context(), added.Webhook.ID, 1, "cli"); domain.ErrorCode(err) != domain.ESTATE {
		t.Fatalf("replaying a removed one: %v", err)
	}
}

// Find takes an id or its unique beginning; a disabled subscription's
// view says where it stuck; the checkpoint shows in another process.
func TestFindAndView(t *testing.T) {
	w := newWorld(t)
	s := w.service(webhooks.Config{AllowPrivate: true})
	a, err := s.Add(t.Context(), webhooks.AddRequest{URL: "http://127.0.0.1:9/a", Events: []string{"dialog.started"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{a.Webhook.ID.String(), a.Webhook.ID.String()[:8], " " + strings.ToUpper(a.Webhook.ID.String()[:6])} {
		if v, err := s.Find(t.Context(), ref); err != nil || v.ID != a.Webhook.ID {
			t.Errorf("Find(%q): %+v %v", ref, v, err)
		}
	}
	for _, ref := range []string{"", "abc", uuid.NewString(), "zzzzzzzz"} {
		if _, err := s.Find(t.Context(), ref); !errors.Is(err, webhooks.ErrUnknownWebhook) {
			t.Errorf("Find(%q): %v", ref, err)
		}
	}
	if err := w.h.Log.Append(t.Context(), domain.WebhooksStream, 1, "", []domain.Event{
		domain.WebhookDisabled{WebhookID: a.Webhook.ID, Reason: "HTTP 500", Position: 17, Since: t0, At: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	v, err := s.Get(t.Context(), a.Webhook.ID)
	if err != nil || v.Status != webhooks.StatusDisabled || v.StuckAt != 17 || v.DisableReason != "HTTP 500" || v.Checkpoint != 0 {
		t.Fatalf("disabled view %+v %v", v, err)
	}
	// Its checkpoint as a worker left it, then a replay from 17: not yet
	// started here, the view shows the checkpoint it will start from.
	if err := w.store.PutSecret(t.Context(), "webhook/"+a.Webhook.ID.String()+"/checkpoint", []byte(`{"position":5,"replays":0}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Replay(t.Context(), a.Webhook.ID, 17, "cli"); err != nil {
		t.Fatal(err)
	}
	other := w.service(webhooks.Config{AllowPrivate: true})
	if v, err := other.Get(t.Context(), a.Webhook.ID); err != nil || v.Status != webhooks.StatusActive || v.StuckAt != 0 || v.Checkpoint != 16 {
		t.Fatalf("view in another service %+v %v", v, err)
	}
}
