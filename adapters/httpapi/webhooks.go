package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/salesbot/salesbot/domain"
)

// An admin's outbound webhooks (adapters/app/webhooks): POST and GET
// /api/v1/webhooks, GET and DELETE /api/v1/webhooks/{id}, GET
// /api/v1/webhooks/{id}/attempts, POST /api/v1/webhooks/{id}/replay.
// Admins only: a subscription's URL may hold the receiver's token, and
// one may carry personal fields.

// Webhooks are the subscriptions' use cases.
type Webhooks interface {
	// Add subscribes url to events (public names, e.g. dialog.handoff),
	// with personal fields in their payloads if personal, and returns
	// the subscription with its signing secret (whsec_...), shown once.
	// Refusals: *domain.Error values (EINVALID, fields "url", "events").
	Add(ctx context.Context, url string, events []string, personal bool, by string) (WebhookCreated, error)
	// List returns every subscription, removed ones too.
	List(ctx context.Context) ([]Webhook, error)
	// Get returns subscription id (or its unique beginning); errors
	// matching domain.ErrUnknownWebhook when there is none.
	Get(ctx context.Context, id string) (Webhook, error)
	// Attempts returns subscription id's latest delivery attempts,
	// oldest first (since the server started).
	Attempts(ctx context.Context, id string) ([]WebhookAttempt, error)
	// Remove ends subscription id for good.
	Remove(ctx context.Context, id, by string) error
	// Replay delivers again from position from of the log (and enables a
	// disabled subscription).
	Replay(ctx context.Context, id string, from uint64, by string) (Webhook, error)
}

// Webhook is a subscription.
type Webhook struct {
	ID       string    `json:"id"`
	URL      string    `json:"url"`
	Events   []string  `json:"events"`
	Personal bool      `json:"personal"`
	Status   string    `json:"status"` // active, disabled, removed
	By       string    `json:"created_by"`
	At       time.Time `json:"created_at"`
	// Checkpoint is the last position delivered or passed over.
	Checkpoint    uint64     `json:"checkpoint"`
	DisabledAt    *time.Time `json:"disabled_at"`
	DisableReason string     `json:"disable_reason,omitempty"`
	StuckAt       uint64     `json:"stuck_at,omitempty"` // a disabled one: where to replay from
	// What this server's delivery saw since it started:
	Delivered    int        `json:"delivered"`
	LastSuccess  *time.Time `json:"last_success"`
	FailingSince *time.Time `json:"failing_since"`
	LastError    string     `json:"last_error,omitempty"`
	NextAttempt  *time.Time `json:"next_attempt"`
}

// WebhookCreated is a new subscription and its signing secret.
type WebhookCreated struct {
	Webhook
	Secret string `json:"secret"`
}

// WebhookAttempt is one delivery attempt.
type WebhookAttempt struct {
	At        time.Time `json:"at"`
	Position  uint64    `json:"position"`
	MessageID string    `json:"webhook_id"`
	Type      string    `json:"type"`
	Status    int       `json:"status"` // the receiver's answer; 0: none came
	LatencyMs int64     `json:"latency_ms"`
	Error     string    `json:"error,omitempty"`
}

// WebhookRequest is the body of POST /api/v1/webhooks.
type WebhookRequest struct {
	URL      string   `json:"url"`
	Events   []string `json:"events"`
	Personal bool     `json:"personal"`
}

// ReplayRequest is the body of POST /api/v1/webhooks/{id}/replay.
type ReplayRequest struct {
	From uint64 `json:"from"`
}

func (a *API) webhookRoutes() {
	if a.cfg.Webhooks == nil {
		return
	}
	a.route("POST /api/v1/webhooks", domain.ScopeAdmin, a.addWebhook)
	a.route("GET /api/v1/webhooks", domain.ScopeAdmin, func(r *http.Request, _ domain.Principal) (any, error) {
		hs, err := a.cfg.Webhooks.List(r.Context())
		if hs == nil {
			hs = []Webhook{}
		}
		return list[Webhook]{Items: hs}, err
	})
	a.route("GET /api/v1/webhooks/{id}", domain.ScopeAdmin, func(r *http.Request, _ domain.Principal) (any, error) {
		return webhookAnswer(a.cfg.Webhooks.Get(r.Context(), r.PathValue("id")))
	})
	a.route("GET /api/v1/webhooks/{id}/attempts", domain.ScopeAdmin, func(r *http.Request, _ domain.Principal) (any, error) {
		as, err := a.cfg.Webhooks.Attempts(r.Context(), r.PathValue("id"))
		if as == nil {
			as = []WebhookAttempt{}
		}
		return webhookAnswer(list[WebhookAttempt]{Items: as}, err)
	})
	a.route("DELETE /api/v1/webhooks/{id}", domain.ScopeAdmin, func(r *http.Request, p domain.Principal) (any, error) {
		if err := a.cfg.Webhooks.Remove(r.Context(), r.PathValue("id"), p.Actor()); err != nil {
			return webhookAnswer[any](nil, err)
		}
		return webhookAnswer(a.cfg.Webhooks.Get(r.Context(), r.PathValue("id")))
	})
	a.route("POST /api/v1/webhooks/{id}/replay", domain.ScopeAdmin, func(r *http.Request, p domain.Principal) (any, error) {
		var req ReplayRequest
		if err := decode(r, &req, "from"); err != nil {
			return nil, err
		}
		if req.From == 0 {
			return nil, problemError{badField("from", "required: the log position to deliver again from, 1 or more")}
		}
		return webhookAnswer(a.cfg.Webhooks.Replay(r.Context(), r.PathValue("id"), req.From, p.Actor()))
	})
}

// addWebhook: POST /api/v1/webhooks, answered 201 with the secret.
func (a *API) addWebhook(r *http.Request, p domain.Principal) (any, error) {
	var req WebhookRequest
	if err := decode(r, &req, "url", "events", "personal"); err != nil {
		return nil, err
	}
	var bad []FieldError
	if req.URL == "" {
		bad = append(bad, FieldError{"url", "required: where to POST the events, https://..."})
	}
	if len(req.Events) == 0 {
		bad = append(bad, FieldError{"events", "required: the event types to send, e.g. [\"dialog.handoff\"]"})
	}
	if len(bad) > 0 {
		return nil, problemError{invalid("required fields are missing", bad...)}
	}
	c, err := a.cfg.Webhooks.Add(r.Context(), req.URL, req.Events, req.Personal, p.Actor())
	if err != nil {
		return nil, err
	}
	return response{status: http.StatusCreated, header: http.Header{"Location": {"/api/v1/webhooks/" + c.ID}}, value: c}, nil
}

// webhookAnswer answers v, or an unknown id's 404.
func webhookAnswer[T any](v T, err error) (any, error) {
	if errors.Is(err, domain.ErrUnknownWebhook) {
		return nil, problemError{Problem{Type: TypeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: "no webhook has that id"}}
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}
