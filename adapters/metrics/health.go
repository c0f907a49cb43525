package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Check is one condition of readiness: Err is nil when it holds, else
// says why not (a short text for the operator, no personal data).
type Check struct {
	Name string
	Err  func(ctx context.Context) error
}

// Health answers /healthz and /readyz.
type Health struct {
	Checks  []Check       // all must hold for /readyz
	Timeout time.Duration // bounds one /readyz (default 2s)
}

// healthBody is /healthz's and /readyz's JSON.
type healthBody struct {
	Status string            `json:"status"`           // ok or unavailable
	Failed map[string]string `json:"failed,omitempty"` // check's name → why
}

// Live serves /healthz: 200 while the process serves at all.
func (h Health) Live() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeHealth(w, http.StatusOK, healthBody{Status: "ok"})
	})
}

// Ready serves /readyz: 200 when every check holds, else 503 naming
// the checks that failed and why.
func (h Health) Ready() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		failed := h.Failed(r.Context())
		if len(failed) > 0 {
			writeHealth(w, http.StatusServiceUnavailable, healthBody{Status: "unavailable", Failed: failed})
			return
		}
		writeHealth(w, http.StatusOK, healthBody{Status: "ok"})
	})
}

// Failed runs the checks and returns those that failed, by name, with
// why; none: ready.
func (h Health) Failed(ctx context.Context) map[string]string {
	t := h.Timeout
	if t <= 0 {
		t = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, t)
	defer cancel()
	var failed map[string]string
	for _, c := range h.Checks {
		if err := c.Err(ctx); err != nil {
			if failed == nil {
				failed = map[string]string{}
			}
			failed[c.Name] = err.Error()
		}
	}
	return failed
}

func writeHealth(w http.ResponseWriter, code int, b healthBody) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(b)
}
