package httpapi

import (
	"net/http"

	"github.com/salesbot/salesbot/domain"
)

// Route is the pattern of the API's route that serves r, such as
// "GET /api/v1/dialogs/{n}", or "" when none does (a 404 or 405): a
// label for metrics that holds no id or personal value of the path.
func (a *API) Route(r *http.Request) string {
	_, pattern := a.mux.Handler(r)
	return pattern
}

// RequireScope serves h only for requests whose token has scope need
// (the API's own authentication and rate limit); others get the API's
// 401, 403 or 429 problem. The system guards pprof with it.
func (a *API) RequireScope(need domain.Scope, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := a.admit(w, r, need); ok {
			h.ServeHTTP(w, r)
		}
	})
}
