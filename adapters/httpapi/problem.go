package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// Problem is an error as the API answers it: application/problem+json
// (RFC 9457).
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
	// retryAfter, when set, is sent as Retry-After (whole seconds, at
	// least 1).
	retryAfter time.Duration
}

// FieldError is bad input in one field: a JSON name of the body, a query
// parameter or a header.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// The problem types (docs/api.md lists them).
const (
	problemPrefix    = "urn:salesbot:problem:"
	TypeInvalid      = problemPrefix + "invalid"      // 400: bad input, see errors
	TypeUnauthorized = problemPrefix + "unauthorized" // 401
	TypeForbidden    = problemPrefix + "forbidden"    // 403: the token's scope
	TypeNotFound     = problemPrefix + "not-found"    // 404
	TypeNotAllowed   = problemPrefix + "method"       // 405
	TypeConflict     = problemPrefix + "conflict"     // 409: the resource's state
	TypeRefused      = problemPrefix + "refused"      // 409: a product rule (do-not-contact, ...)
	TypeInProgress   = problemPrefix + "in-progress"  // 409: the same Idempotency-Key is being answered
	TypeTooLarge     = problemPrefix + "too-large"    // 413
	TypeUpgrade      = problemPrefix + "upgrade"      // 426: /api/v1/cli without the upgrade
	TypeMediaType    = problemPrefix + "media-type"   // 415
	TypeKeyReused    = problemPrefix + "key-reused"   // 422: an Idempotency-Key with another body
	TypeRateLimited  = problemPrefix + "rate-limited" // 429: the token's rate limit
	TypeLimited      = problemPrefix + "limited"      // 429: a limit of the domain (caps, hours)
	TypeInternal     = problemPrefix + "internal"     // 500
	TypeBusy         = problemPrefix + "busy"         // 503: too many Idempotency-Keys kept
)

// write sends the problem.
func (p Problem) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if p.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="salesbot"`)
	}
	if p.retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64(math.Ceil(p.retryAfter.Seconds())), 10))
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func invalid(detail string, fields ...FieldError) Problem {
	return Problem{Type: TypeInvalid, Title: "Bad request", Status: http.StatusBadRequest, Detail: detail, Errors: fields}
}

func badField(field, format string, args ...any) Problem {
	msg := fmt.Sprintf(format, args...)
	return invalid(field+": "+msg, FieldError{Field: field, Message: msg})
}

// problemOf maps an error of a port or a read model to its problem, in
// one place: 401 and 403 for the tokens' errors, 404 for an unknown
// dialog or row, and by a *domain.Error's code 400 (EINVALID, with its
// field), 409 (ESTATE, EFORBIDDEN), 429 (ELIMIT with a time it is
// allowed again, as Retry-After) or 409 (ELIMIT without); the dialog
// actions' own errors first (actionProblem). ok is false for any other
// error: a 500, which the caller logs.
func problemOf(err error, now time.Time) (p Problem, ok bool) {
	if p, ok := actionProblem(err, now); ok {
		return p, true
	}
	var de *domain.Error
	switch {
	case errors.Is(err, domain.ErrUnauthenticated):
		return Problem{Type: TypeUnauthorized, Title: "Unauthorized", Status: http.StatusUnauthorized,
			Detail: "a valid API token is required: Authorization: Bearer sb_..."}, true
	case errors.Is(err, domain.ErrForbidden):
		detail := "the token's scope does not allow this"
		var se *domain.ScopeError
		if errors.As(err, &se) {
			detail = fmt.Sprintf("this needs scope %s; the token has %s", se.Need, se.Have)
		}
		return Problem{Type: TypeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: detail}, true
	case errors.Is(err, domain.ErrUnknownDialog):
		return Problem{Type: TypeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: "no dialog has that number"}, true
	case errors.Is(err, projections.ErrNotFound):
		return Problem{Type: TypeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: "not found"}, true
	case errors.As(err, &de):
		switch de.Code {
		case domain.EINVALID:
			p := invalid(de.Error())
			if de.Field != "" {
				p.Errors = []FieldError{{Field: de.Field, Message: de.Message}}
			}
			return p, true
		case domain.ESTATE:
			return Problem{Type: TypeConflict, Title: "Conflict", Status: http.StatusConflict, Detail: de.Error()}, true
		case domain.EFORBIDDEN:
			return Problem{Type: TypeRefused, Title: "Refused", Status: http.StatusConflict, Detail: de.Error()}, true
		case domain.ELIMIT:
			if !de.RetryAt.IsZero() {
				return Problem{Type: TypeLimited, Title: "Limited", Status: http.StatusTooManyRequests, Detail: de.Error(),
					retryAfter: max(de.RetryAt.Sub(now), time.Second)}, true
			}
			return Problem{Type: TypeLimited, Title: "Limited", Status: http.StatusConflict, Detail: de.Error()}, true
		}
	}
	return internal(), false
}

func internal() Problem {
	return Problem{Type: TypeInternal, Title: "Internal server error", Status: http.StatusInternalServerError,
		Detail: "the server failed; try again later"}
}
