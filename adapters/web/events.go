package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
)

// Live updates, GET /web/events: Server-Sent Events that only say
// which dialog changed ("event: dialog", "data: <its id>"), never what
// changed, so no personal data goes this way; the page's script fetches
// the page again (static/app.js). The stream follows the log from its
// head, without personal fields, and ends when the session does (it is
// checked at each heartbeat), the client goes, or the server shuts down.

// writeWait bounds each write of the stream.
const writeWait = time.Minute

func (w *Web) events(rw http.ResponseWriter, r *http.Request) {
	if w.cfg.Events == nil {
		w.problem(rw, r, http.StatusNotFound, "NotFoundTitle", "NotFound")
		return
	}
	_, cookie, ok := w.admit(rw, r, domain.ScopeRead)
	if !ok {
		return
	}
	rc := http.NewResponseController(rw)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(httpapi.Closing(r.Context()), cancel)()

	h := rw.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	rw.WriteHeader(http.StatusOK)
	f := w.cfg.Events.Follow(w.cfg.Events.Head()+1, nil, false)
	buf := bytes.NewBufferString(": salesbot live updates\nretry: 5000\n\n")
	for {
		if err := rc.SetWriteDeadline(time.Now().Add(writeWait)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return
		}
		if _, err := rw.Write(buf.Bytes()); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		buf.Reset()
		wait, stop := context.WithTimeout(ctx, w.cfg.Heartbeat)
		evs, err := f.Next(wait)
		stop()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, context.DeadlineExceeded):
			if _, err := w.cfg.Sessions.Authenticate(ctx, cookie, domain.ScopeRead); err != nil {
				return // signed out or expired: no more updates
			}
			buf.WriteString(": keep-alive\n\n")
			continue
		case err != nil:
			w.log.Warn("web: live updates ended", "err", err)
			return
		}
		seen := map[uuid.UUID]bool{}
		for _, e := range evs {
			a, id, ok := domain.ParseStream(e.Stream)
			if !ok || a != domain.AggregateDialog || seen[id] {
				continue
			}
			seen[id] = true
			fmt.Fprintf(buf, "event: dialog\ndata: %s\n\n", id)
		}
	}
}
