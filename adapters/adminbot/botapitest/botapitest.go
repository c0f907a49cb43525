// Package botapitest is an in-process HTTP server speaking the Telegram
// Bot API, for tests: it records every call, serves queued updates to
// getUpdates, and can answer 429 on demand.
package botapitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mymmrac/telego"
)

// Call is one Bot API call.
type Call struct {
	Method string // "429" for a call answered with Too Many Requests
	Params map[string]any
	File   string // a sent document's name
	Data   []byte // and content
}

// Server is a fake Bot API server for one bot token.
type Server struct {
	srv     *httptest.Server
	token   string
	mu      sync.Mutex
	calls   []Call
	updates []telego.Update
	nextID  int
	limited int
}

// New starts a server, closed when the test ends.
func New(t testing.TB, token string) *Server {
	s := &Server{token: token}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the server's address, for telego.WithAPIServer.
func (s *Server) URL() string { return s.srv.URL }

// Push queues updates for the next getUpdates.
func (s *Server) Push(u ...telego.Update) {
	s.mu.Lock()
	s.updates = append(s.updates, u...)
	s.mu.Unlock()
}

// Limit answers the next n sendMessage calls with 429, retry after 1 s.
func (s *Server) Limit(n int) {
	s.mu.Lock()
	s.limited = n
	s.mu.Unlock()
}

// Take returns the calls so far (getUpdates left out) and forgets them.
func (s *Server) Take() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls
	s.calls = nil
	return c
}

// Len is how many calls are recorded.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	prefix := "/bot" + s.token + "/"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
		return
	}
	c := Call{Method: strings.TrimPrefix(r.URL.Path, prefix), Params: map[string]any{}}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if err := r.ParseMultipartForm(32 << 20); err == nil {
			for k, v := range r.MultipartForm.Value {
				c.Params[k] = v[0]
			}
			for _, fhs := range r.MultipartForm.File {
				if file, err := fhs[0].Open(); err == nil {
					c.File = fhs[0].Filename
					c.Data, _ = io.ReadAll(file)
					file.Close()
				}
			}
		}
	} else {
		_ = json.NewDecoder(r.Body).Decode(&c.Params)
	}
	s.mu.Lock()
	if c.Method == "sendMessage" && s.limited > 0 {
		s.limited--
		s.calls = append(s.calls, Call{Method: "429"})
		s.mu.Unlock()
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`)
		return
	}
	var result any = true
	switch c.Method {
	case "getMe":
		result = map[string]any{"id": 1, "is_bot": true, "first_name": "Acme", "username": "acme_bot"}
	case "getUpdates":
		result, s.updates = s.updates, nil
		if result == nil {
			result = []telego.Update{}
		}
	case "sendMessage", "sendDocument":
		s.nextID++
		result = map[string]any{"message_id": s.nextID, "date": 1, "chat": map[string]any{"id": c.Params["chat_id"], "type": "private"}}
	}
	if c.Method != "getUpdates" {
		s.calls = append(s.calls, c)
	}
	s.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}
