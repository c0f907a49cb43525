package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// The event feed, GET /api/v1/events: the log as Server-Sent Events,
// from a position on, then live.

// DefaultHeartbeat is how often an idle event feed sends a comment, so
// that proxies and clients keep its connection open.
const DefaultHeartbeat = 15 * time.Second

// feedWriteWait bounds each write of the feed: a client that takes no
// event (or heartbeat) for this long is dropped.
const feedWriteWait = time.Minute

// Events is the log as the event feed follows it (adapters/app/system:
// eventstore.Subscribe, decoded through the event log).
type Events interface {
	// Head is the position of the last durable event (0: none yet).
	Head() uint64
	// Follow follows the log from position from on (1: its first
	// event), delivering the events of the types named (none: every
	// type), with their personal fields only if personal; without, the
	// fields are left out and LogEvent.Withheld names them.
	Follow(from uint64, types []string, personal bool) Follower
}

// Follower delivers the log's events in order, each once. It is not
// safe for concurrent use.
type Follower interface {
	// Next blocks until there are events to deliver and returns them
	// (one or more). When ctx ends first it returns an error matching
	// ctx.Err(); when the log closes, one matching eventstore.ErrClosed.
	Next(ctx context.Context) ([]LogEvent, error)
}

// LogEvent is an event of the log as the feed and a dialog's replay
// show it.
type LogEvent struct {
	Position uint64    `json:"position"`
	Type     string    `json:"type"`
	Stream   string    `json:"stream"`
	Version  uint64    `json:"version"` // in its stream
	At       time.Time `json:"at"`      // when the log recorded it
	ID       uuid.UUID `json:"event_id"`
	// Forgotten: its contact was erased, so its personal fields read
	// "[forgotten]" (numbers 0), whatever the token.
	Forgotten bool `json:"forgotten"`
	// Withheld names the personal fields left out for a token that may
	// not read them (and secrets, such as a token's hash, for every
	// token); empty, never null.
	Withheld []string `json:"withheld"`
	// Data is the event's fields, by the domain's JSON names.
	Data json.RawMessage `json:"data"`
}

// mayReadPersonal says whether p gets events with their personal fields
// (names, phones, message texts, notes): manage and admin tokens, which
// act on dialogs and contacts, do; read tokens (dashboards, analytics)
// get the events without them.
func mayReadPersonal(p domain.Principal) bool { return p.Scope.Allows(domain.ScopeManage) }

func (a *API) eventRoutes() {
	if a.cfg.Events == nil {
		return
	}
	a.mux.Handle("GET /api/v1/events", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := a.admit(w, r, domain.ScopeRead); ok {
			a.feed(w, r, p)
		}
	}))
}

// feedQuery reads where the feed starts and which types it carries. It
// starts after the position of the Last-Event-ID header when there is
// one (a client resuming: it wins over from), else at from (0 and 1:
// the log's first event), else after the head (only new events). types
// are event type names, comma-separated or repeated.
func feedQuery(r *http.Request, head uint64) (from uint64, types []string, err error) {
	q := r.URL.Query()
	var bad []FieldError
	from = head + 1
	if v := q.Get("from"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == ^uint64(0) {
			bad = append(bad, FieldError{"from", "a position of the log: 0 or 1 for its beginning"})
		}
		from = max(n, 1)
	}
	if v := strings.TrimSpace(r.Header.Get("Last-Event-ID")); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == ^uint64(0) {
			bad = append(bad, FieldError{"Last-Event-ID", "the id of the last event received (its position)"})
		}
		from = n + 1
	}
	known := map[string]bool{}
	for _, e := range domain.EventTypes() {
		known[e.EventType()] = true
	}
	var unknown []string
	for _, v := range q["types"] {
		for t := range strings.SplitSeq(v, ",") {
			switch t = strings.TrimSpace(t); {
			case t == "" || slices.Contains(types, t):
			case known[t]:
				types = append(types, t)
			case len(unknown) < 3:
				unknown = append(unknown, strconv.Quote(truncate(t, 64)))
			}
		}
	}
	if len(unknown) > 0 {
		bad = append(bad, FieldError{"types", "unknown event types " + strings.Join(unknown, ", ") + " (the types are listed in openapi.json, EventType)"})
	}
	if len(bad) > 0 {
		return 0, nil, problemError{invalid("bad query parameters", bad...)}
	}
	return from, types, nil
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// feed answers GET /api/v1/events: a stream of the log's events as
// Server-Sent Events, each as "id: <position>", "event: <type>" and
// "data: <LogEvent as JSON>"; a comment when idle for a heartbeat. It
// ends when the client goes away, the server shuts down or the log
// closes.
func (a *API) feed(w http.ResponseWriter, r *http.Request, p domain.Principal) {
	from, types, err := feedQuery(r, a.cfg.Events.Head())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// The server's write timeout is for an answer, not for a stream: a
	// deadline for each write instead (send). Its read timeout ends with
	// the request's header (net/http clears it while the handler runs).
	rc := http.NewResponseController(w)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(closing(r.Context()), cancel)()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	w.WriteHeader(http.StatusOK)
	beat := a.cfg.Heartbeat
	if beat <= 0 {
		beat = DefaultHeartbeat
	}
	f := a.cfg.Events.Follow(from, types, mayReadPersonal(p))
	var buf bytes.Buffer
	fmt.Fprintf(&buf, ": salesbot events from position %d\n\n", from)
	for {
		if err := send(w, rc, buf.Bytes()); err != nil {
			return // the client went away
		}
		buf.Reset()
		wait, stop := context.WithTimeout(ctx, beat)
		evs, err := f.Next(wait)
		stop()
		switch {
		case ctx.Err() != nil:
			return // the client went away, or the server is shutting down
		case errors.Is(err, context.DeadlineExceeded):
			buf.WriteString(": keep-alive\n\n")
			continue
		case err != nil:
			a.log.Error("http: event feed ended", "position", from, "err", err)
			return
		}
		for _, e := range evs {
			data, err := json.Marshal(e)
			if err != nil {
				a.log.Error("http: event feed ended", "position", e.Position, "err", err)
				return
			}
			fmt.Fprintf(&buf, "id: %d\nevent: %s\ndata: %s\n\n", e.Position, e.Type, data)
			from = e.Position + 1
		}
	}
}

// send writes b and flushes it, within feedWriteWait.
func send(w http.ResponseWriter, rc *http.ResponseController, b []byte) error {
	if err := rc.SetWriteDeadline(time.Now().Add(feedWriteWait)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	return rc.Flush()
}

// closingKey keys the context that ends when the Server begins to shut
// down (Server.Serve puts it in every request's context).
type closingKey struct{}

// Closing is closing for other edges on the same Server (the web
// console's live updates): a stream handler ends when it ends.
func Closing(ctx context.Context) context.Context { return closing(ctx) }

// closing is a context that ends when the Server serving ctx's request
// begins to shut down: a stream ends then, as a graceful shutdown waits
// only for requests that end by themselves. Outside a Server it never
// ends.
func closing(ctx context.Context) context.Context {
	if c, ok := ctx.Value(closingKey{}).(context.Context); ok {
		return c
	}
	return context.Background()
}
