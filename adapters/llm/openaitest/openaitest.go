// Package openaitest is a fake OpenAI chat-completions server for tests:
// an in-process httptest server that records every request and answers
// from a scripted queue of steps — completions, malformed bodies, error
// statuses with Retry-After, slow answers — and, when the queue is empty,
// from a responder function. It serves POST /v1/chat/completions and
// Azure's /openai/deployments/{deployment}/chat/completions?api-version=…,
// and POST /v1/audio/transcriptions (multipart, as OpenAI documents it)
// answering the transcript set for the audio's bytes (Transcript).
//
// A Server is safe for concurrent use.
package openaitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"
)

// Step is one scripted answer.
type Step struct {
	status  int // 0 = 200
	header  http.Header
	body    []byte // verbatim, instead of a completion
	content string
	usage   *openai.Usage
	cached  int // prompt tokens the usage says were cached (0: no details)
	delay   time.Duration
}

// Reply answers with a normal completion whose message content is
// content, and a usage block (estimated from the request unless
// WithUsage sets it).
func Reply(content string) Step { return Step{content: content} }

// Content is Reply, for contents that are not the model's JSON:
// Content("not json").
func Content(content string) Step { return Reply(content) }

// ReplyJSON answers with a completion whose content is v as JSON. A value
// that cannot be marshalled answers HTTP 500 naming the error.
func ReplyJSON(v any) Step {
	b, err := json.Marshal(v)
	if err != nil {
		return Status(http.StatusInternalServerError, "").withMessage("openaitest: ReplyJSON: " + err.Error())
	}
	return Reply(string(b))
}

// Malformed answers HTTP 200 with body verbatim as the response body.
func Malformed(body string) Step { return Step{body: []byte(body)} }

// BadBody answers HTTP 200 with a truncated completion body.
func BadBody() Step {
	return Malformed(`{"id":"chatcmpl-broken","object":"chat.completion","choices":[{"index":0,"message":{"role":"assi`)
}

// Status answers with an OpenAI error body and the HTTP status code, and
// a Retry-After header if retryAfter is not empty ("2", or an HTTP date).
func Status(code int, retryAfter string) Step {
	s := Step{status: code, header: http.Header{}}
	if retryAfter != "" {
		s.header.Set("Retry-After", retryAfter)
	}
	return s.withMessage(fmt.Sprintf("openaitest: scripted %d %s", code, http.StatusText(code)))
}

// Slow answers step after d (or when the client gives up).
func Slow(d time.Duration, step Step) Step {
	step.delay += d
	return step
}

// WithUsage sets the usage block of a completion.
func (s Step) WithUsage(promptTokens, completionTokens int) Step {
	s.usage = &openai.Usage{PromptTokens: promptTokens, CompletionTokens: completionTokens, TotalTokens: promptTokens + completionTokens}
	return s
}

// WithCachedTokens has the usage block say that n of the prompt tokens
// came from the provider's prompt cache (prompt_tokens_details).
func (s Step) WithCachedTokens(n int) Step {
	s.cached = n
	return s
}

// WithHeader adds a response header.
func (s Step) WithHeader(key, value string) Step {
	h := http.Header{}
	for k, v := range s.header {
		h[k] = append([]string(nil), v...)
	}
	h.Add(key, value)
	s.header = h
	return s
}

func (s Step) withMessage(msg string) Step {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": msg, "type": errorType(s.status), "code": nil,
	}})
	s.body = b
	return s
}

func errorType(code int) string {
	switch {
	case code == http.StatusTooManyRequests:
		return "rate_limit_exceeded"
	case code == http.StatusUnauthorized:
		return "invalid_api_key"
	case code >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

// Request is one request the server got.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	// Deployment and APIVersion are set for Azure paths.
	Deployment string
	APIVersion string
	// Body is the decoded request (zero if it did not decode: see Raw).
	Body openai.ChatCompletionRequest
	Raw  []byte
	// Transcription is set for an audio transcription request.
	Transcription *Transcription
}

// Transcription is an audio transcription request's multipart form.
type Transcription struct {
	Model    string // the form's "model"
	FileName string // the "file" part's file name
	Format   string // "response_format"
	Audio    []byte // the "file" part's bytes
}

// Server is a running fake.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	queue    []Step
	respond  func(openai.ChatCompletionRequest) Step
	requests []Request
	heard    map[string]string // audio bytes → transcript
}

// Transcript makes the server answer text for a transcription of audio
// (its exact bytes); audio without one gets HTTP 400.
func (s *Server) Transcript(audio []byte, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.heard == nil {
		s.heard = map[string]string{}
	}
	s.heard[string(audio)] = text
}

// New starts a server that answers with steps in order.
func New(steps ...Step) *Server {
	s := &Server{queue: steps}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Push appends steps to the queue.
func (s *Server) Push(steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, steps...)
}

// Func sets the responder for requests that find the queue empty.
// Without one, such a request gets HTTP 500 "no scripted step left".
func (s *Server) Func(f func(req openai.ChatCompletionRequest) Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = f
}

// URL is the OpenAI-style base URL (ending in /v1).
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Endpoint is the server's root, the Azure-style base URL.
func (s *Server) Endpoint() string { return s.srv.URL }

// Requests returns a copy of the requests so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Close stops the server, ending slow answers.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()}
	switch {
	case r.URL.Path == "/v1/audio/transcriptions":
		s.transcribe(w, r, rec)
		return
	case r.URL.Path == "/v1/chat/completions":
	case strings.HasPrefix(r.URL.Path, "/openai/deployments/") && strings.HasSuffix(r.URL.Path, "/chat/completions"):
		rec.Deployment = strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/openai/deployments/"), "/chat/completions")
		rec.APIVersion = r.URL.Query().Get("api-version")
		if rec.APIVersion == "" {
			writeError(w, http.StatusBadRequest, "openaitest: the Azure path needs ?api-version=")
			return
		}
	default:
		writeError(w, http.StatusNotFound, "openaitest: no route "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "openaitest: chat completions take POST")
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	rec.Raw = raw
	decodeErr := json.Unmarshal(raw, &rec.Body)

	s.mu.Lock()
	s.requests = append(s.requests, rec)
	if decodeErr != nil {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "openaitest: the request does not decode: "+decodeErr.Error())
		return
	}
	var step Step
	switch {
	case len(s.queue) > 0:
		step, s.queue = s.queue[0], s.queue[1:]
	case s.respond != nil:
		f := s.respond
		s.mu.Unlock()
		step = f(rec.Body) // outside the lock: f may call Requests
		s.mu.Lock()
	default:
		step = Status(http.StatusInternalServerError, "").withMessage("openaitest: no scripted step left")
	}
	s.mu.Unlock()

	if step.delay > 0 {
		t := time.NewTimer(step.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	for k, v := range step.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	status := step.status
	if status == 0 {
		status = http.StatusOK
	}
	if step.body != nil {
		w.WriteHeader(status)
		w.Write(step.body)
		return
	}
	usage := step.usage
	if usage == nil {
		usage = estimate(rec.Body, step.content)
	}
	if step.cached > 0 {
		u := *usage
		u.PromptTokensDetails = &openai.PromptTokensDetails{CachedTokens: step.cached}
		usage = &u
	}
	resp := openai.ChatCompletionResponse{
		ID: "chatcmpl-openaitest", Object: "chat.completion", Created: 1700000000, Model: rec.Body.Model,
		Choices: []openai.ChatCompletionChoice{{
			Index:        0,
			Message:      openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: step.content},
			FinishReason: openai.FinishReasonStop,
		}},
		Usage: *usage,
	}
	b, err := json.Marshal(resp)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "openaitest: "+err.Error())
		return
	}
	w.WriteHeader(status)
	w.Write(b)
}

// estimate is a usage block at 4 characters a token.
func estimate(req openai.ChatCompletionRequest, content string) *openai.Usage {
	n := 0
	for _, m := range req.Messages {
		n += utf8.RuneCountInString(m.Content)
	}
	u := &openai.Usage{PromptTokens: n/4 + 1, CompletionTokens: utf8.RuneCountInString(content)/4 + 1}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": errorType(code)}})
	w.Write(b)
}

// transcribe serves POST /v1/audio/transcriptions: a multipart form with
// "file" and "model" (required) and "response_format" (json, text or
// verbose_json; default json).
func (s *Server) transcribe(w http.ResponseWriter, r *http.Request, rec Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "openaitest: transcriptions take POST")
		return
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		writeError(w, http.StatusBadRequest, "openaitest: not a multipart form: "+err.Error())
		return
	}
	t := &Transcription{Model: r.FormValue("model"), Format: r.FormValue("response_format")}
	f, hdr, err := r.FormFile("file")
	if err == nil {
		t.FileName = hdr.Filename
		t.Audio, err = io.ReadAll(f)
		f.Close()
	}
	rec.Transcription = t
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	text, known := s.heard[string(t.Audio)]
	s.mu.Unlock()
	switch {
	case err != nil:
		writeError(w, http.StatusBadRequest, "openaitest: the form has no file")
		return
	case t.Model == "":
		writeError(w, http.StatusBadRequest, "openaitest: the form has no model")
		return
	case !known:
		writeError(w, http.StatusBadRequest, "openaitest: no transcript set for this audio")
		return
	}
	if t.Format == "text" {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, text)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(map[string]any{"text": text, "task": "transcribe"})
	w.Write(b)
}
