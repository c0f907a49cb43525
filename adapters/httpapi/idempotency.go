package httpapi

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
)

// MaxIdempotencyKey bounds an Idempotency-Key, in bytes.
const MaxIdempotencyKey = 255

// MaxIdempotencyKeys bounds the keys kept at once (every token's): past
// it a POST with a new key is answered 503 until old keys expire, rather
// than being done without the promise a key makes.
const MaxIdempotencyKeys = 100_000

// idempotency keeps the first answer to each POST with an
// Idempotency-Key, by token, key, method and path, for ttl. It lives in
// memory: a restart forgets the keys (a repeat after it is done again;
// the domain's commands that take one, like an outcome, are idempotent
// themselves).
type idempotency struct {
	now func() time.Time
	ttl time.Duration
	max int // entries

	mu      sync.Mutex
	entries map[idemKey]*idemEntry
	swept   time.Time
}

type idemKey struct {
	token        uuid.UUID
	key          string
	method, path string
}

type idemEntry struct {
	body   [sha256.Size]byte // the request's
	done   bool              // answered: status, header and answer are set
	status int
	header http.Header // the answer's (Content-Type, Location, ETag, ...)
	answer []byte
	at     time.Time
}

func newIdempotency(now func() time.Time, ttl time.Duration) *idempotency {
	return &idempotency{now: now, ttl: ttl, max: MaxIdempotencyKeys, entries: map[idemKey]*idemEntry{}}
}

// begin looks key up: a finished entry for the same body is answered
// again (replay); another body is refused; an entry still being
// answered is refused too. Otherwise it reserves the key (fresh).
func (s *idempotency) begin(k idemKey, body [sha256.Size]byte) (e idemEntry, fresh bool, p *Problem) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.swept) > time.Minute {
		for k, e := range s.entries {
			if e.done && now.Sub(e.at) > s.ttl {
				delete(s.entries, k)
			}
		}
		s.swept = now
	}
	if old, ok := s.entries[k]; ok && (!old.done || now.Sub(old.at) <= s.ttl) {
		switch {
		case old.body != body:
			return idemEntry{}, false, &Problem{Type: TypeKeyReused, Title: "Idempotency-Key reused", Status: http.StatusUnprocessableEntity,
				Detail: "this Idempotency-Key was used with another body; use a new key for a new request"}
		case !old.done:
			return idemEntry{}, false, &Problem{Type: TypeInProgress, Title: "In progress", Status: http.StatusConflict,
				Detail: "a request with this Idempotency-Key is being answered; repeat it later"}
		}
		return *old, false, nil
	}
	if len(s.entries) >= s.max {
		return idemEntry{}, false, &Problem{Type: TypeBusy, Title: "Too many idempotency keys", Status: http.StatusServiceUnavailable,
			Detail: "the server keeps too many Idempotency-Keys now; repeat later", retryAfter: time.Minute}
	}
	s.entries[k] = &idemEntry{body: body, at: now}
	return idemEntry{}, true, nil
}

// finish records the answer to a reserved key; an answer that is not
// final (5xx: the request may be repeated) frees the key instead.
func (s *idempotency) finish(k idemKey, status int, header http.Header, answer []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[k]
	if !ok {
		return
	}
	if status >= 500 {
		delete(s.entries, k)
		return
	}
	e.done, e.status, e.header, e.answer, e.at = true, status, header, answer, s.now()
}

// idempotent runs a POST's h, reading its body (at most MaxBody, or
// bodyLimit's); with an Idempotency-Key it answers a repeat with the
// first answer, its status, headers and body (and Idempotency-Replayed:
// true).
func (a *API) idempotent(w http.ResponseWriter, r *http.Request, p domain.Principal, h handler) {
	limit := bodyLimit(r)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			Problem{Type: TypeTooLarge, Title: "Body too large", Status: http.StatusRequestEntityTooLarge,
				Detail: fmt.Sprintf("this request's body is at most %d MiB", limit>>20)}.write(w)
			return
		}
		invalid("the body could not be read").write(w)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	key, given := r.Header["Idempotency-Key"]
	if !given {
		a.answer(w, r, p, h)
		return
	}
	if len(key) != 1 || !validKey(key[0]) {
		badField("Idempotency-Key", "one key of 1 to %d printable ASCII characters", MaxIdempotencyKey).write(w)
		return
	}
	k := idemKey{token: p.TokenID, key: key[0], method: r.Method, path: r.URL.Path}
	e, fresh, prob := a.keys.begin(k, sha256.Sum256(body))
	switch {
	case prob != nil:
		prob.write(w)
		return
	case !fresh:
		for k, vs := range e.header {
			w.Header()[k] = vs
		}
		w.Header().Set("Idempotency-Replayed", "true")
		w.WriteHeader(e.status)
		_, _ = w.Write(e.answer)
		return
	}
	rec := &capture{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if v := recover(); v != nil {
			a.keys.finish(k, http.StatusInternalServerError, nil, nil)
			panic(v)
		}
		a.keys.finish(k, rec.status, rec.Header().Clone(), rec.buf.Bytes())
	}()
	a.answer(rec, r, p, h)
}

func validKey(k string) bool {
	if k == "" || len(k) > MaxIdempotencyKey {
		return false
	}
	for i := range len(k) {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// capture passes an answer on and keeps a copy.
type capture struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (c *capture) WriteHeader(code int) {
	c.status = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(b []byte) (int, error) {
	c.buf.Write(b)
	return c.ResponseWriter.Write(b)
}
