package system

import (
	"context"

	"github.com/salesbot/salesbot/adapters/app/webhooks"
	"github.com/salesbot/salesbot/adapters/httpapi"
)

// The outbound webhooks' endpoints of the HTTP API: the webhooks
// service (the one writer of the subscriptions) as httpapi.Webhooks.

var _ httpapi.Webhooks = apiWebhooks{}

type apiWebhooks struct{ svc *webhooks.Service }

// APIWebhooks is the webhooks' port on svc (the running system's, and
// the API's tests').
func APIWebhooks(svc *webhooks.Service) httpapi.Webhooks { return apiWebhooks{svc} }

func (a apiWebhooks) Add(ctx context.Context, url string, events []string, personal bool, by string) (httpapi.WebhookCreated, error) {
	c, err := a.svc.Add(ctx, webhooks.AddRequest{URL: url, Events: events, Personal: personal, By: by})
	if err != nil {
		return httpapi.WebhookCreated{}, err
	}
	return httpapi.WebhookCreated{Webhook: apiWebhook(c.Webhook), Secret: c.Secret.Reveal()}, nil
}

func (a apiWebhooks) List(ctx context.Context) ([]httpapi.Webhook, error) {
	vs, err := a.svc.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]httpapi.Webhook, len(vs))
	for i, v := range vs {
		out[i] = apiWebhook(v)
	}
	return out, nil
}

func (a apiWebhooks) Get(ctx context.Context, id string) (httpapi.Webhook, error) {
	v, err := a.svc.Find(ctx, id)
	return apiWebhook(v), err
}

func (a apiWebhooks) Attempts(ctx context.Context, id string) ([]httpapi.WebhookAttempt, error) {
	v, err := a.svc.Find(ctx, id)
	if err != nil {
		return nil, err
	}
	as, err := a.svc.Attempts(v.ID)
	out := make([]httpapi.WebhookAttempt, len(as))
	for i, t := range as {
		out[i] = httpapi.WebhookAttempt{At: t.At, Position: t.Position, MessageID: t.MessageID, Type: string(t.Type), Status: t.Status,
			LatencyMs: t.Latency.Milliseconds(), Error: t.Error}
	}
	return out, err
}

func (a apiWebhooks) Remove(ctx context.Context, id, by string) error {
	v, err := a.svc.Find(ctx, id)
	if err != nil {
		return err
	}
	return a.svc.Remove(ctx, v.ID, by)
}

func (a apiWebhooks) Replay(ctx context.Context, id string, from uint64, by string) (httpapi.Webhook, error) {
	v, err := a.svc.Find(ctx, id)
	if err != nil {
		return httpapi.Webhook{}, err
	}
	if err := a.svc.Replay(ctx, v.ID, from, by); err != nil {
		return httpapi.Webhook{}, err
	}
	return a.Get(ctx, v.ID.String())
}

// apiWebhook is a subscription as the API shows it.
func apiWebhook(v webhooks.View) httpapi.Webhook {
	events := make([]string, len(v.Events))
	for i, e := range v.Events {
		events[i] = string(e)
	}
	return httpapi.Webhook{ID: v.ID.String(), URL: v.URL, Events: events, Personal: v.Personal, Status: v.Status, By: v.By, At: v.At.UTC(),
		Checkpoint: v.Checkpoint, DisabledAt: httpapi.TimeOrNil(v.DisabledAt), DisableReason: v.DisableReason, StuckAt: v.StuckAt,
		Delivered: v.Delivered, LastSuccess: httpapi.TimeOrNil(v.LastSuccess), FailingSince: httpapi.TimeOrNil(v.FailingSince), LastError: v.LastError,
		NextAttempt: httpapi.TimeOrNil(v.NextAttempt)}
}
