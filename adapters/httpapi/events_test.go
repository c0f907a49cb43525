package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
)

// frame is one thing a Server-Sent Events stream sent: an event (id,
// event, data) or a comment.
type frame struct {
	id, event, data string
	comment         string
}

// stream is an open event feed, read by a goroutine into frames.
type stream struct {
	header http.Header
	frames chan frame
	close  func()
}

// open opens GET /api/v1/events?query on base with token and header,
// and checks it is a stream; the stream is closed at the end of the
// test.
func open(t *testing.T, base, query, token string, header map[string]string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/events?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		t.Fatalf("events?%s: %d %s: %s", query, res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	s := &stream{header: res.Header, frames: make(chan frame, 1024)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(s.frames)
		rd := bufio.NewReader(res.Body)
		var f frame
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch k, v, _ := strings.Cut(line, ": "); {
			case line == "":
				if f != (frame{}) {
					s.frames <- f
				}
				f = frame{}
			case k == "":
				f.comment = v
			case k == "id":
				f.id = v
			case k == "event":
				f.event = v
			case k == "data":
				f.data = v
			}
		}
	}()
	s.close = func() {
		cancel()
		res.Body.Close()
		<-done
	}
	t.Cleanup(s.close)
	return s
}

// next is the next frame, at most 5 s away; ok is false when the stream
// ended.
func (s *stream) next(t *testing.T) (f frame, ok bool) {
	t.Helper()
	select {
	case f, ok = <-s.frames:
		return f, ok
	case <-time.After(5 * time.Second):
		t.Fatal("no frame for 5 s")
	}
	return f, false
}

// event is the next event (comments skipped), checked against the
// contract's LogEvent.
func (s *stream) event(t *testing.T, schema *openapi3.Schema, formats []openapi3.SchemaValidationOption) httpapi.LogEvent {
	t.Helper()
	for {
		f, ok := s.next(t)
		if !ok {
			t.Fatal("the stream ended")
		}
		if f.comment != "" {
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(f.data), &v); err != nil {
			t.Fatalf("data %q: %v", f.data, err)
		}
		if err := schema.VisitJSON(v, formats...); err != nil {
			t.Fatalf("data breaks the contract's LogEvent: %v\n%s", err, f.data)
		}
		var e httpapi.LogEvent
		if err := json.Unmarshal([]byte(f.data), &e); err != nil {
			t.Fatal(err)
		}
		if f.id != strconv.FormatUint(e.Position, 10) || f.event != e.Type {
			t.Fatalf("id %q event %q for %+v", f.id, f.event, e)
		}
		return e
	}
}

// events reads n events.
func (s *stream) events(t *testing.T, n int, schema *openapi3.Schema, formats []openapi3.SchemaValidationOption) []httpapi.LogEvent {
	t.Helper()
	out := make([]httpapi.LogEvent, n)
	for i := range out {
		out[i] = s.event(t, schema, formats)
	}
	return out
}

// logEventSchema is the contract's LogEvent.
func logEventSchema(t *testing.T) *openapi3.Schema {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	return doc.Components.Schemas["LogEvent"].Value
}

func dataOf(t *testing.T, e httpapi.LogEvent) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The feed catches up from a position, then goes on live; a read token
// gets events without their personal fields (named in withheld), a
// manage token with them; nobody gets a token's hash.
func TestEventFeed(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	schema := logEventSchema(t)
	hook := domain.WebhookSubscribed{WebhookID: uuid.New(), URL: "https://crm.example.com:8443/in/T0KEN?key=K3Y", Events: []domain.WebhookEvent{domain.WebhookDialogHandoff}, By: "cli", At: t0}
	if err := w.h.Log.Append(t.Context(), domain.WebhooksStream, 0, "", []domain.Event{hook}); err != nil {
		t.Fatal(err)
	}
	head := w.store.Head()
	read := open(t, w.serverURL, "from=0", w.read, nil)
	if read.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", read.header.Get("Cache-Control"))
	}
	manage := open(t, w.serverURL, "from=1", w.manage, nil)
	rs, ms := read.events(t, int(head), schema, w.formats), manage.events(t, int(head), schema, w.formats)
	var inbound int
	for i := range rs {
		r, m := rs[i], ms[i]
		if r.Position != uint64(i+1) || m.Position != r.Position || r.Type != m.Type || r.Stream != m.Stream || r.At != t0 {
			t.Fatalf("event %d: %+v / %+v", i+1, r, m)
		}
		switch r.Type {
		case "InboundReceived":
			inbound++
			if dataOf(t, r)["text"] != "" || !slices.Equal(r.Withheld, []string{"text"}) {
				t.Fatalf("read token: %s withheld %v", r.Data, r.Withheld)
			}
			if dataOf(t, m)["text"] != "we have 5000 EUR" || len(m.Withheld) != 0 {
				t.Fatalf("manage token: %s withheld %v", m.Data, m.Withheld)
			}
		case "ContactAdded":
			if dataOf(t, r)["username"] != nil || !slices.Contains(r.Withheld, "username") || dataOf(t, m)["username"] == nil {
				t.Fatalf("contact: read %s, manage %s", r.Data, m.Data)
			}
		case "TokenCreated":
			if dataOf(t, m)["hash"] != nil || !slices.Contains(m.Withheld, "hash") || dataOf(t, m)["prefix"] == nil {
				t.Fatalf("token: %s withheld %v", m.Data, m.Withheld)
			}
		case "WebhookSubscribed":
			if dataOf(t, m)["url"] != "https://crm.example.com:8443" {
				t.Fatalf("webhook: %s", m.Data)
			}
		}
		for _, s := range []string{"T0KEN", "K3Y"} {
			if strings.Contains(string(r.Data)+string(m.Data), s) {
				t.Fatalf("a webhook's URL: %q in %s", s, m.Data)
			}
		}
		for _, s := range []string{"we have 5000 EUR", "anna", "boris"} {
			if strings.Contains(string(r.Data), s) {
				t.Fatalf("read token: %q in %s", s, r.Data)
			}
		}
	}
	if inbound != 1 {
		t.Fatalf("%d InboundReceived", inbound)
	}
	// Live: the next event comes once it is appended.
	w.inbound(t, 1, 8, "call me at 5")
	r, m := read.event(t, schema, w.formats), manage.event(t, schema, w.formats)
	if r.Position != head+1 || r.Type != "InboundReceived" || dataOf(t, r)["text"] != "" || dataOf(t, m)["text"] != "call me at 5" {
		t.Fatalf("live: %+v %s / %s", r, r.Data, m.Data)
	}
	// Idle, it sends heartbeats.
	for f, ok := read.next(t); f.comment != "keep-alive"; f, ok = read.next(t) {
		if !ok || f.comment == "" {
			t.Fatalf("want a heartbeat, got %+v", f)
		}
	}
}

// inbound records a message of dialog n's lead.
func (w *world) inbound(t *testing.T, n, msg int64, text string) {
	t.Helper()
	id, found, err := w.h.DialogOfNumber(t.Context(), n)
	if err != nil || !found {
		t.Fatalf("dialog %d: %v %v", n, found, err)
	}
	d, err := w.h.LoadDialog(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.h.Dialog(t.Context(), id, d.ContactID, domain.RecordInbound{TelegramMessageID: msg, Text: text, At: t0}); err != nil {
		t.Fatal(err)
	}
}

// Without from the feed sends only what is appended after it opened;
// Last-Event-ID resumes after its position, whatever from says; types
// keeps the events of those types.
func TestEventFeedStartAndFilter(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	schema := logEventSchema(t)
	head := w.store.Head()
	fresh := open(t, w.serverURL, "", w.read, nil)
	if f, _ := fresh.next(t); f.comment != "salesbot events from position "+strconv.FormatUint(head+1, 10) {
		t.Fatalf("first frame %+v", f)
	}
	if _, err := w.h.Account(t.Context(), w.account, domain.PauseAccount{By: "cli"}); err != nil {
		t.Fatal(err)
	}
	if e := fresh.event(t, schema, w.formats); e.Position != head+1 || e.Type != "AccountPaused" {
		t.Fatalf("new event: %+v", e)
	}

	resumed := open(t, w.serverURL, "from=1", w.read, map[string]string{"Last-Event-ID": "3"})
	if e := resumed.event(t, schema, w.formats); e.Position != 4 {
		t.Fatalf("after Last-Event-ID 3: %+v", e)
	}

	typed := open(t, w.serverURL, "from=1&types=DialogStarted,InboundReceived&types=DialogStarted", w.read, nil)
	var got []string
	for _, e := range typed.events(t, 4, schema, w.formats) {
		got = append(got, e.Type)
	}
	if !slices.Equal(got, []string{"DialogStarted", "InboundReceived", "DialogStarted", "DialogStarted"}) {
		t.Fatalf("types: %v", got)
	}
	if _, err := w.h.Account(t.Context(), w.account, domain.ResumeAccount{By: "cli"}); err != nil {
		t.Fatal(err)
	}
	w.inbound(t, 2, 9, "hi")
	if e := typed.event(t, schema, w.formats); e.Type != "InboundReceived" || e.Position != w.store.Head() {
		t.Fatalf("live, filtered: %+v (head %d)", e, w.store.Head())
	}
}

// Bad parameters are refused with the field at fault; no token, 401.
func TestEventFeedRefusals(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	for _, c := range []struct {
		query, lastID, field string
	}{
		{"types=DialogStarted,MessageReceived", "", "types"},
		{"from=-1", "", "from"},
		{"from=first", "", "from"},
		{"", "abc", "Last-Event-ID"},
	} {
		a := w.call(t, http.MethodGet, "/api/v1/events?"+c.query, w.read, "", map[string]string{"Last-Event-ID": c.lastID}, false)
		p := a.problem(t, http.StatusBadRequest)
		if len(p.Errors) != 1 || p.Errors[0].Field != c.field {
			t.Errorf("%s %s: %+v", c.query, c.lastID, p)
		}
	}
	w.call(t, http.MethodGet, "/api/v1/events", "", "", nil, true).problem(t, http.StatusUnauthorized)
}

// An erased contact's personal data appears in no event, for no token.
func TestEventFeedErasure(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	schema := logEventSchema(t)
	var anna uuid.UUID
	for _, e := range open(t, w.serverURL, "from=1&types=ContactAdded", w.manage, nil).events(t, 3, schema, w.formats) {
		if dataOf(t, e)["username"] == "anna" {
			anna = uuid.MustParse(dataOf(t, e)["contact_id"].(string))
		}
	}
	if _, err := w.h.Contact(t.Context(), anna, domain.ForgetContact{By: "cli"}); err != nil {
		t.Fatal(err)
	}
	forgotten := 0
	for _, e := range open(t, w.serverURL, "from=1", w.admin, nil).events(t, int(w.store.Head()), schema, w.formats) {
		for _, s := range []string{"anna", "5000 EUR"} {
			if strings.Contains(string(e.Data), s) {
				t.Fatalf("%q in %s at %d", s, e.Data, e.Position)
			}
		}
		if e.Forgotten {
			forgotten++
		}
	}
	if forgotten < 3 { // added, the message, the qualification
		t.Fatalf("%d events marked forgotten", forgotten)
	}
}

// The server's request timeouts do not cut the feed: it clears its read
// deadline and moves its write deadline with each write.
func TestEventFeedOutlivesTimeouts(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	srv := httptest.NewUnstartedServer(w.api)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 100*time.Millisecond, 100*time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	s := open(t, srv.URL, "", w.read, nil)
	time.Sleep(500 * time.Millisecond)
	if _, err := w.h.Account(t.Context(), w.account, domain.PauseAccount{By: "cli"}); err != nil {
		t.Fatal(err)
	}
	if e := s.event(t, logEventSchema(t), w.formats); e.Type != "AccountPaused" {
		t.Fatalf("after the timeouts: %+v", e)
	}
}

// A server that shuts down ends its feeds, so that the shutdown does not
// wait for them.
func TestEventFeedEndsAtShutdown(t *testing.T) {
	w := newWorld(t, tokens.DefaultRate())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- httpapi.Server{Listener: ln, Handler: w.api, ShutdownTimeout: 5 * time.Second}.Serve(ctx)
	}()
	s := open(t, "http://"+ln.Addr().String(), "", w.read, nil)
	if f, _ := s.next(t); !strings.HasPrefix(f.comment, "salesbot events") {
		t.Fatalf("first frame %+v", f)
	}
	start := time.Now()
	stop()
	for {
		if _, ok := s.next(t); !ok {
			break
		}
	}
	if err := <-done; err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("serve: %v after %v", err, time.Since(start))
	}
}

// The contract's EventType lists every type of the domain.
func TestEventTypesInContract(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, e := range domain.EventTypes() {
		want = append(want, e.EventType())
	}
	for _, v := range doc.Components.Schemas["EventType"].Value.Enum {
		got = append(got, v.(string))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("EventType %v, the domain's %v", got, want)
	}
}
