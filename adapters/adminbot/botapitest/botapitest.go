// Package botapitest is an in-process HTTP server speaking the Telegram
// Bot API, for tests: it records every call, serves queued updates to
// getUpdates, serves files users sent (getFile and the file download),
// and can answer 429 on demand.
package botapitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
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
	files   map[string]file    // by file id
	refused map[string]refusal // by method
}

type refusal struct {
	code        int
	description string
}

type file struct {
	path string
	data []byte
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

// AddFile makes a file that a user sent available to getFile and the
// download URL (/file/bot<token>/documents/<name>), and returns the
// document to put in the user's message.
func (s *Server) AddFile(name string, data []byte) *telego.Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		s.files = map[string]file{}
	}
	id := "file-" + strconv.Itoa(len(s.files)+1)
	s.files[id] = file{path: "documents/" + id + "-" + name, data: data}
	return &telego.Document{FileID: id, FileUniqueID: "u" + id, FileName: name, MimeType: "text/csv", FileSize: int64(len(data))}
}

// Limit answers the next n sendMessage calls with 429, retry after 1 s.
func (s *Server) Limit(n int) {
	s.mu.Lock()
	s.limited = n
	s.mu.Unlock()
}

// Refuse answers every later call of method (such as "sendDocument") with
// a Bot API error: code (400, 413, ...) and description, as Telegram
// refuses a file that is too big. The call is recorded all the same.
func (s *Server) Refuse(method string, code int, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused == nil {
		s.refused = map[string]refusal{}
	}
	s.refused[method] = refusal{code, description}
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
	if p, ok := strings.CutPrefix(r.URL.Path, "/file/bot"+s.token+"/"); ok {
		s.download(w, p)
		return
	}
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
	if r, ok := s.refused[c.Method]; ok {
		s.calls = append(s.calls, c)
		s.mu.Unlock()
		w.WriteHeader(r.code)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": r.code, "description": r.description})
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
	case "getFile":
		id, _ := c.Params["file_id"].(string)
		f, ok := s.files[id]
		if !ok {
			s.calls = append(s.calls, c)
			s.mu.Unlock()
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"ok":false,"error_code":400,"description":"Bad Request: invalid file_id"}`)
			return
		}
		result = map[string]any{"file_id": id, "file_unique_id": "u" + id, "file_size": len(f.data), "file_path": f.path}
	case "sendMessage", "sendDocument":
		s.nextID++
		chat := c.Params["chat_id"]
		if v, ok := chat.(string); ok { // a multipart form's fields are text
			chat, _ = strconv.ParseInt(v, 10, 64)
		}
		result = map[string]any{"message_id": s.nextID, "date": 1, "chat": map[string]any{"id": chat, "type": "private"}}
	}
	if c.Method != "getUpdates" {
		s.calls = append(s.calls, c)
	}
	s.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

// download serves a file by its path; it is recorded as a call "file".
func (s *Server) download(w http.ResponseWriter, p string) {
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: "file", Params: map[string]any{"path": p}})
	var data []byte
	found := false
	for _, f := range s.files {
		if f.path == p {
			data, found = f.data, true
		}
	}
	s.mu.Unlock()
	if !found {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(data)
}
