package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Outbound webhooks (issue 18): a program outside subscribes a URL to
// some of the public event types (WebhookEvents); the delivery service
// follows the log and POSTs each matching event to it, signed per the
// Standard Webhooks spec. Every subscription lives in one stream,
// WebhooksStream, with the API tokens' reasoning: they are few and
// written rarely, and one stream makes the service its one writer.
//
// The domain never sees a subscription's signing secret: the service
// draws it, stores it sealed outside the log and gives it out once. The
// events say who subscribed what to which URL; the URL may hold a
// receiver's token in its query, so whoever logs one logs its scheme
// and host only (WebhookTarget).
//
// Where delivery stands (the last position delivered to each
// subscription) is not in the log either: it changes with every
// delivery. The log records what people decide (subscribe, remove,
// replay from a position) and what the service decides once (disable a
// subscription whose receiver failed for the whole retry window).

// WebhooksStream is the stream of every webhook subscription.
const WebhooksStream = "webhooks"

// MaxWebhookURL is the longest URL a subscription may have.
const MaxWebhookURL = 2048

// WebhookEvent is a public event type a subscription can ask for. The
// names are the public contract (the OpenAPI document's webhooks); the
// log events each stands for are the delivery service's mapping.
type WebhookEvent string

const (
	WebhookDialogStarted    WebhookEvent = "dialog.started"
	WebhookMessageReceived  WebhookEvent = "message.received"
	WebhookMessageSent      WebhookEvent = "message.sent"
	WebhookLeadQualified    WebhookEvent = "lead.qualified"
	WebhookDialogHandoff    WebhookEvent = "dialog.handoff"
	WebhookDialogTakenOver  WebhookEvent = "dialog.taken_over"
	WebhookDialogClosed     WebhookEvent = "dialog.closed"
	WebhookDialogOutcome    WebhookEvent = "dialog.outcome"
	WebhookMeetingBooked    WebhookEvent = "meeting.booked"
	WebhookContactOptedOut  WebhookEvent = "contact.opted_out"
	WebhookContactForgotten WebhookEvent = "contact.forgotten"
	WebhookAccountStatus    WebhookEvent = "account.status"
)

// WebhookEvents lists every public event type, in the documented order.
func WebhookEvents() []WebhookEvent {
	return []WebhookEvent{WebhookDialogStarted, WebhookMessageReceived, WebhookMessageSent, WebhookLeadQualified,
		WebhookDialogHandoff, WebhookDialogTakenOver, WebhookDialogClosed, WebhookDialogOutcome, WebhookMeetingBooked,
		WebhookContactOptedOut, WebhookContactForgotten, WebhookAccountStatus}
}

// Valid says whether e is one of WebhookEvents.
func (e WebhookEvent) Valid() bool { return slices.Contains(WebhookEvents(), e) }

// ErrUnknownWebhookEvent: a subscription named an event type that is
// not one of WebhookEvents.
var ErrUnknownWebhookEvent = errors.New("domain: unknown webhook event")

// ErrWebhookURL: a subscription's URL is not an absolute http(s) URL
// (the service also refuses, with ErrWebhookTargetPrivate, one whose host
// is a private address).
var ErrWebhookURL = errors.New("domain: invalid webhook URL")

// ParseWebhookEvents reads event names as people write them
// ("dialog.handoff, message.received" split by the caller, each trimmed
// and lower-cased); duplicates count once, the order is kept. None, or
// an unknown one, is a *Error (EINVALID, field "events"); an unknown one
// matches ErrUnknownWebhookEvent and its message lists the valid names.
func ParseWebhookEvents(names []string) ([]WebhookEvent, error) {
	var out []WebhookEvent
	for _, n := range names {
		e := WebhookEvent(strings.ToLower(strings.TrimSpace(n)))
		if e == "" {
			continue
		}
		if !e.Valid() {
			return nil, unknownWebhookEvent(n)
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, fieldErrorf(EINVALID, "events", "a webhook needs at least one event: %s", webhookEventList())
	}
	return out, nil
}

func unknownWebhookEvent(name string) error {
	return &Error{Code: EINVALID, Field: "events", Err: ErrUnknownWebhookEvent,
		Message: fmt.Sprintf("unknown webhook event %q: one of %s", name, webhookEventList())}
}

func webhookEventList() string {
	names := make([]string, 0, len(WebhookEvents()))
	for _, e := range WebhookEvents() {
		names = append(names, string(e))
	}
	return strings.Join(names, ", ")
}

// CheckWebhookURL checks that raw is an absolute http or https URL with
// a host, no longer than MaxWebhookURL, without spaces, control
// characters or a #fragment. A bad one is a *Error (EINVALID, field
// "url") matching ErrWebhookURL; its message never repeats the URL (its
// query may hold a token). The domain imports no net package, so this is
// the shape only: the service parses the URL fully and checks where its
// host resolves.
func CheckWebhookURL(raw string) error {
	bad := func(why string) error {
		return &Error{Code: EINVALID, Field: "url", Err: ErrWebhookURL, Message: "a webhook's URL " + why}
	}
	if raw == "" {
		return bad("is missing")
	}
	if len(raw) > MaxWebhookURL {
		return bad(fmt.Sprintf("has at most %d characters", MaxWebhookURL))
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f {
			return bad("holds a space or a control character")
		}
	}
	lower := strings.ToLower(raw)
	rest, ok := strings.CutPrefix(lower, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(lower, "http://"); !ok {
			return bad("is an absolute http:// or https:// URL")
		}
	}
	if strings.Contains(rest, "#") {
		return bad("has no #fragment")
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority = rest[:i]
	}
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		authority = authority[i+1:]
	}
	host := authority
	if strings.HasPrefix(host, "[") { // an IPv6 literal
		if i := strings.Index(host, "]"); i > 1 {
			host = host[1:i]
		} else {
			host = ""
		}
	} else if i := strings.LastIndex(host, ":"); i >= 0 {
		host = host[:i]
	}
	if host == "" {
		return bad("names a host")
	}
	return nil
}

// WebhookTarget is what may be logged or shown of a webhook's URL: its
// scheme and host ("https://crm.example.com:8443"), never its user, path
// or query, which may hold a token. Anything else is "[webhook url]".
func WebhookTarget(raw string) string {
	if CheckWebhookURL(raw) != nil {
		return "[webhook url]"
	}
	scheme, rest, _ := strings.Cut(raw, "://")
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	return strings.ToLower(scheme) + "://" + rest
}

// Webhook is a subscription as its events leave it.
type Webhook struct {
	ID       uuid.UUID
	URL      string
	Events   []WebhookEvent
	Personal bool // its payloads carry personal fields
	By       string
	At       time.Time

	Removed   bool
	RemovedAt time.Time
	RemovedBy string

	Disabled      bool // its receiver failed for the whole retry window
	DisabledAt    time.Time
	DisableReason string
	StuckAt       uint64 // the position it could not deliver when disabled

	// Replays counts the replays asked for; ReplayFrom is the last one's
	// first position. The delivery service keeps the count it applied
	// with its checkpoint, so a replay asked while it was down is
	// applied when it starts.
	Replays    int
	ReplayFrom uint64
}

// Active says whether events are delivered to the subscription: neither
// removed nor disabled.
func (w Webhook) Active() bool { return !w.Removed && !w.Disabled }

// Wants says whether the subscription asked for e.
func (w Webhook) Wants(e WebhookEvent) bool { return slices.Contains(w.Events, e) }

// Webhooks is every subscription ever made.
type Webhooks struct {
	byID  map[uuid.UUID]Webhook
	order []uuid.UUID // as subscribed
}

// Get returns the subscription with id.
func (s Webhooks) Get(id uuid.UUID) (Webhook, bool) {
	w, ok := s.byID[id]
	return w, ok
}

// All lists every subscription, removed ones too, as subscribed.
func (s Webhooks) All() []Webhook {
	out := make([]Webhook, len(s.order))
	for i, id := range s.order {
		out[i] = s.byID[id]
	}
	return out
}

// Webhook commands.
type (
	// SubscribeWebhook records a new subscription. The caller draws its
	// id and stores its signing secret before.
	SubscribeWebhook struct {
		WebhookID uuid.UUID
		URL       string
		Events    []WebhookEvent
		Personal  bool
		By        string
	}
	// RemoveWebhook ends a subscription for good; removing a removed one
	// records nothing.
	RemoveWebhook struct {
		WebhookID uuid.UUID
		By        string
	}
	// DisableWebhook stops deliveries to a subscription whose receiver
	// failed for the whole retry window (the delivery service asks);
	// disabling a disabled or removed one records nothing.
	DisableWebhook struct {
		WebhookID uuid.UUID
		Reason    string
		Position  uint64    // the event it could not deliver
		Since     time.Time // the first failure
	}
	// ReplayWebhook delivers again from log position From on (the
	// checkpoint goes back to From-1). A disabled subscription is
	// enabled again by it: that is how an operator resumes one after
	// mending its receiver.
	ReplayWebhook struct {
		WebhookID uuid.UUID
		From      uint64 // 1 = the whole log
		By        string
	}
)

// WebhookCommand is a command on the webhook subscriptions.
type WebhookCommand interface{ webhookCommand() }

func (SubscribeWebhook) webhookCommand() {}
func (RemoveWebhook) webhookCommand()    {}
func (DisableWebhook) webhookCommand()   {}
func (ReplayWebhook) webhookCommand()    {}

// Webhook events. None holds a secret.
type (
	WebhookSubscribed struct {
		WebhookID uuid.UUID      `json:"webhook_id"`
		URL       string         `json:"url"`
		Events    []WebhookEvent `json:"events"`
		Personal  bool           `json:"personal,omitempty"`
		By        string         `json:"by"`
		At        time.Time      `json:"at"`
	}
	WebhookRemoved struct {
		WebhookID uuid.UUID `json:"webhook_id"`
		By        string    `json:"by"`
		At        time.Time `json:"at"`
	}
	WebhookDisabled struct {
		WebhookID uuid.UUID `json:"webhook_id"`
		Reason    string    `json:"reason"`
		Position  uint64    `json:"position"` // the event it could not deliver
		Since     time.Time `json:"since"`    // failing since
		At        time.Time `json:"at"`
	}
	WebhookReplayRequested struct {
		WebhookID uuid.UUID `json:"webhook_id"`
		From      uint64    `json:"from"`
		By        string    `json:"by"`
		At        time.Time `json:"at"`
	}
)

func (WebhookSubscribed) EventType() string      { return "WebhookSubscribed" }
func (WebhookRemoved) EventType() string         { return "WebhookRemoved" }
func (WebhookDisabled) EventType() string        { return "WebhookDisabled" }
func (WebhookReplayRequested) EventType() string { return "WebhookReplayRequested" }

// DecideWebhooks decides what a command does to the subscriptions at
// now. An unknown subscription is a *Error (EINVALID, field "webhook")
// matching ErrUnknownWebhook; a removed one cannot be replayed (ESTATE).
func DecideWebhooks(s Webhooks, cmd WebhookCommand, now time.Time) ([]Event, error) {
	switch cmd := cmd.(type) {
	case SubscribeWebhook:
		if err := CheckWebhookURL(cmd.URL); err != nil {
			return nil, err
		}
		if len(cmd.Events) == 0 {
			return nil, fieldErrorf(EINVALID, "events", "a webhook needs at least one event: %s", webhookEventList())
		}
		events := make([]WebhookEvent, 0, len(cmd.Events))
		for _, e := range cmd.Events {
			if !e.Valid() {
				return nil, unknownWebhookEvent(string(e))
			}
			if !slices.Contains(events, e) {
				events = append(events, e)
			}
		}
		if cmd.WebhookID == uuid.Nil {
			return nil, errorf(EINVALID, "a webhook needs an id")
		}
		if _, ok := s.byID[cmd.WebhookID]; ok {
			return nil, errorf(ESTATE, "webhook %s exists already", cmd.WebhookID)
		}
		return []Event{WebhookSubscribed{WebhookID: cmd.WebhookID, URL: cmd.URL, Events: events, Personal: cmd.Personal, By: cmd.By, At: now}}, nil
	case RemoveWebhook:
		w, err := s.known(cmd.WebhookID)
		if err != nil || w.Removed {
			return nil, err
		}
		return []Event{WebhookRemoved{WebhookID: w.ID, By: cmd.By, At: now}}, nil
	case DisableWebhook:
		w, err := s.known(cmd.WebhookID)
		if err != nil || !w.Active() {
			return nil, err
		}
		return []Event{WebhookDisabled{WebhookID: w.ID, Reason: strings.TrimSpace(cmd.Reason), Position: cmd.Position, Since: cmd.Since, At: now}}, nil
	case ReplayWebhook:
		w, err := s.known(cmd.WebhookID)
		if err != nil {
			return nil, err
		}
		if w.Removed {
			return nil, errorf(ESTATE, "webhook %s was removed: subscribe again", w.ID)
		}
		if cmd.From == 0 {
			return nil, fieldErrorf(EINVALID, "from", "a replay starts at a log position, 1 or more")
		}
		return []Event{WebhookReplayRequested{WebhookID: w.ID, From: cmd.From, By: cmd.By, At: now}}, nil
	}
	return nil, errorf(EINVALID, "unknown webhook command %T", cmd)
}

func (s Webhooks) known(id uuid.UUID) (Webhook, error) {
	w, ok := s.byID[id]
	if !ok {
		return Webhook{}, &Error{Code: EINVALID, Field: "webhook", Err: ErrUnknownWebhook, Message: fmt.Sprintf("no webhook %s", id)}
	}
	return w, nil
}

// EvolveWebhooks applies one event. Like EvolveTokens it updates the map
// in place and returns s: fold from the zero value and keep the result
// in one place. A second WebhookSubscribed of an id keeps the first.
func EvolveWebhooks(s Webhooks, e Event) Webhooks {
	if s.byID == nil {
		s.byID = map[uuid.UUID]Webhook{}
	}
	switch e := e.(type) {
	case WebhookSubscribed:
		if _, ok := s.byID[e.WebhookID]; ok {
			break
		}
		s.byID[e.WebhookID] = Webhook{ID: e.WebhookID, URL: e.URL, Events: slices.Clone(e.Events), Personal: e.Personal, By: e.By, At: e.At}
		s.order = append(s.order, e.WebhookID)
	case WebhookRemoved:
		if w, ok := s.byID[e.WebhookID]; ok && !w.Removed {
			w.Removed, w.RemovedAt, w.RemovedBy = true, e.At, e.By
			s.byID[e.WebhookID] = w
		}
	case WebhookDisabled:
		if w, ok := s.byID[e.WebhookID]; ok {
			w.Disabled, w.DisabledAt, w.DisableReason, w.StuckAt = true, e.At, e.Reason, e.Position
			s.byID[e.WebhookID] = w
		}
	case WebhookReplayRequested:
		if w, ok := s.byID[e.WebhookID]; ok {
			w.Replays, w.ReplayFrom = w.Replays+1, e.From
			w.Disabled, w.DisabledAt, w.DisableReason, w.StuckAt = false, time.Time{}, "", 0
			s.byID[e.WebhookID] = w
		}
	}
	return s
}
