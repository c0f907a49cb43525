package system

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/httpapi"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// The event feed of the HTTP API: the log followed like a projector
// follows it (eventstore.Subscribe), each event decoded through the
// event log.

var _ httpapi.Events = apiEvents{}

// feedBatch caps the events one read of the feed takes from the log.
const feedBatch = 256

// apiEvents is the log as httpapi.Events.
type apiEvents struct {
	store eventstore.Store
	log   *eventlog.Log
}

// APIEvents is the event feed's port on store (the running system's,
// and the API's tests').
func APIEvents(store eventstore.Store) httpapi.Events { return apiEvents{store, eventlog.New(store)} }

func (e apiEvents) Head() uint64 { return e.store.Head() }

func (e apiEvents) Follow(from uint64, types []string, personal bool) httpapi.Follower {
	f := &apiFollower{sub: eventstore.Subscribe(e.store, from, feedBatch), log: e.log, personal: personal}
	if len(types) > 0 {
		f.types = map[string]bool{}
		for _, t := range types {
			f.types[t] = true
		}
	}
	return f
}

// apiFollower is a subscription to the log as httpapi.Follower.
type apiFollower struct {
	sub      *eventstore.Subscription
	log      *eventlog.Log
	types    map[string]bool // nil: every type
	personal bool
}

func (f *apiFollower) Next(ctx context.Context) ([]httpapi.LogEvent, error) {
	for {
		recs, err := f.sub.Next(ctx)
		if err != nil {
			return nil, err
		}
		var out []httpapi.LogEvent
		for i := range recs {
			r := &recs[i]
			if f.types != nil && !f.types[r.Type] {
				continue
			}
			e, err := f.log.Decode(r)
			if err != nil {
				return nil, fmt.Errorf("event feed: %w", err)
			}
			le, err := logEvent(r, e, f.personal)
			if err != nil {
				return nil, err
			}
			out = append(out, le)
		}
		if len(out) > 0 {
			return out, nil
		}
	}
}

// logEvent is the recorded event r, decoded as e, as the API shows it:
// with its personal fields if personal, else without them (named in
// Withheld); a token's hash is withheld from everyone.
func logEvent(r *eventstore.RecordedEvent, e domain.Event, personal bool) (httpapi.LogEvent, error) {
	out := httpapi.LogEvent{Position: r.Position, Type: r.Type, Stream: r.Stream, Version: r.Version, At: r.RecordedAt.UTC(),
		ID: r.ID, Forgotten: r.Forgotten}
	var err error
	if personal {
		out.Data, err = json.Marshal(e)
	} else {
		out.Data, out.Withheld, err = eventlog.Public(e)
	}
	if err != nil {
		return out, fmt.Errorf("event at position %d: %w", r.Position, err)
	}
	switch e.(type) {
	case domain.TokenCreated, domain.WebLinkIssued, domain.WebSignedIn:
		// The hash of a token's, a sign-in link's or a web session's
		// secret is shown nowhere (it prints as "[token hash]"): the
		// event says the rest.
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(out.Data, &fields); err != nil {
			return out, fmt.Errorf("event at position %d: %w", r.Position, err)
		}
		delete(fields, "hash")
		if out.Data, err = json.Marshal(fields); err != nil {
			return out, fmt.Errorf("event at position %d: %w", r.Position, err)
		}
		out.Withheld = append(out.Withheld, "hash")
	}
	if _, ok := e.(domain.WebhookSubscribed); ok {
		// A webhook's URL may hold the receiver's token in its path or
		// query: the feed shows its scheme and host only.
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(out.Data, &fields); err != nil {
			return out, fmt.Errorf("event at position %d: %w", r.Position, err)
		}
		var u string
		if err := json.Unmarshal(fields["url"], &u); err != nil {
			return out, fmt.Errorf("event at position %d: %w", r.Position, err)
		}
		fields["url"], _ = json.Marshal(domain.WebhookTarget(u))
		if out.Data, err = json.Marshal(fields); err != nil {
			return out, fmt.Errorf("event at position %d: %w", r.Position, err)
		}
	}
	if out.Withheld == nil {
		out.Withheld = []string{}
	}
	return out, nil
}
