package httpapi

import (
	"crypto/sha256"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestIdempotencyKeys: a key is kept for its time, then free again; a
// key in flight is refused; past the bound new keys are refused (503).
func TestIdempotencyKeys(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := newIdempotency(func() time.Time { return now }, 24*time.Hour)
	s.max = 2
	tok := uuid.New()
	k1 := idemKey{token: tok, key: "a", method: http.MethodPost, path: "/x"}
	b1, b2 := sha256.Sum256([]byte("1")), sha256.Sum256([]byte("2"))
	if _, fresh, p := s.begin(k1, b1); !fresh || p != nil {
		t.Fatalf("first: %v %v", fresh, p)
	}
	if _, _, p := s.begin(k1, b1); p == nil || p.Status != http.StatusConflict {
		t.Fatalf("in flight: %+v", p)
	}
	s.finish(k1, http.StatusOK, http.Header{"Content-Type": {"application/json"}}, []byte("{}"))
	if e, fresh, p := s.begin(k1, b1); fresh || p != nil || e.status != http.StatusOK || string(e.answer) != "{}" {
		t.Fatalf("replay: %+v %v %v", e, fresh, p)
	}
	if _, _, p := s.begin(k1, b2); p == nil || p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("another body: %+v", p)
	}
	// Another token's same key is another key.
	k2 := k1
	k2.token = uuid.New()
	if _, fresh, p := s.begin(k2, b2); !fresh || p != nil {
		t.Fatalf("another token: %v %v", fresh, p)
	}
	s.finish(k2, http.StatusOK, http.Header{"Content-Type": {"application/json"}}, nil)
	k3 := k1
	k3.key = "b"
	if _, _, p := s.begin(k3, b1); p == nil || p.Status != http.StatusServiceUnavailable || p.retryAfter <= 0 {
		t.Fatalf("past the bound: %+v", p)
	}
	now = now.Add(24*time.Hour + 2*time.Minute) // both expire; the sweep frees them
	if _, fresh, p := s.begin(k3, b1); !fresh || p != nil {
		t.Fatalf("after expiry: %v %+v", fresh, p)
	}
	if _, fresh, p := s.begin(k1, b2); !fresh || p != nil {
		t.Fatalf("an expired key with another body: %v %+v", fresh, p)
	}
}
