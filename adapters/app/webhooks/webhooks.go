// Package webhooks is the outbound webhooks' service (issue 18): the
// use cases `salesbot webhooks add|list|remove|replay` and the API call
// (Add, List, Get, Remove, Replay, Attempts), and the delivery that
// follows the log (Run).
//
// # Subscriptions
//
// The subscriptions are the domain's (domain/webhook.go): one stream,
// folded once by New, with this service its one writer (as the tokens
// service is for the tokens). Add checks the URL (absolute http(s); its
// host resolving to no private address unless Config.AllowPrivate),
// draws the signing secret (whsec_ and 32 random bytes), stores it
// sealed in the store (PutSecret, synced) before the WebhookSubscribed
// event is appended, and returns it once: the log never holds it.
//
// # Delivery
//
// Run keeps one worker per active subscription. A worker follows the
// log from its checkpoint (eventstore.Subscribe: what the log holds,
// then new events as they become durable), builds each event its
// subscription wants (adapters/webhooks.Payloads) and POSTs it signed,
// one at a time: in log order, hence in order per dialog. A failed
// attempt is retried with exponential backoff and jitter, or after what
// a 429 or 503 answer's Retry-After asks; the worker does not go past an
// event until it is delivered, so nothing is skipped. Past
// Config.RetryWindow (24 h) of failures the subscription is disabled
// (WebhookDisabled) and Config.Notice is called; a replay enables it
// again.
//
// # Checkpoints
//
// Each subscription's checkpoint (the last position delivered or passed
// over, and the replays applied) is a small sealed value in the store
// ("webhook/<id>/checkpoint"), written after each delivery with
// PutSecretNoSync: a power loss may lose the last few, and the worker
// then delivers those events again with the same webhook-id, which the
// receiver drops (at least once, idempotent). A fsync per delivery would
// buy nothing the receiver's dedupe does not already give. A new
// subscription starts after its own WebhookSubscribed event; a replay
// (WebhookReplayRequested, counted in the subscription) sets the
// checkpoint to From-1 when the worker next starts, also if the replay
// was asked while no service ran.
//
// # Attempts
//
// The delivery attempts' read model is in memory: the last
// Config.AttemptsKept attempts of each subscription (Attempts) and its
// state (View: checkpoint, failing since, last error). It starts empty
// on every start: the log does not record attempts (a receiver down for
// a day would write thousands of events), and the checkpoint and the
// WebhookDisabled event are what must survive.
package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/clock"
	"github.com/salesbot/salesbot/adapters/eventlog"
	wire "github.com/salesbot/salesbot/adapters/webhooks"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// Errors of the service; match them with errors.Is.
var (
	// ErrUnknownWebhook: no subscription has that id.
	ErrUnknownWebhook = domain.ErrUnknownWebhook
	// ErrPrivate: the URL's host is (or resolves to) a private address.
	ErrPrivate = domain.ErrWebhookTargetPrivate
	// ErrUnknownEvent: an event name is not one of domain.WebhookEvents.
	ErrUnknownEvent = domain.ErrUnknownWebhookEvent
	// ErrURL: the URL is not an absolute http(s) URL.
	ErrURL = domain.ErrWebhookURL
)

// Defaults of Config.
const (
	DefaultRetryWindow  = 24 * time.Hour
	DefaultMinBackoff   = 5 * time.Second
	DefaultMaxBackoff   = time.Hour
	DefaultAttemptsKept = 100
)

// Store is what the service needs of the event store: the log and its
// sealed secrets.
type Store interface {
	eventstore.Store
	eventstore.Secrets
}

// Notice tells admins that a subscription was disabled. It holds no
// URL path or query and no secret.
type Notice struct {
	WebhookID uuid.UUID
	Target    string    // scheme and host
	Reason    string    // the last failure
	Since     time.Time // failing since
	Position  uint64    // the event it could not deliver
}

// Config is what a Service needs.
type Config struct {
	Store Store
	Now   func() time.Time
	// Rand is where secrets and ids come from; nil: crypto/rand.
	Rand io.Reader
	// Logger hears of subscriptions, failures and disables, with targets
	// as scheme and host only; nil: nothing is logged.
	Logger *slog.Logger
	// AllowPrivate lets subscriptions target private addresses
	// (--webhooks-allow-private).
	AllowPrivate bool
	// Resolver checks a URL's host on Add; nil: net.DefaultResolver.
	Resolver wire.Resolver
	// Sender delivers; nil: wire.NewSender with AllowPrivate, Timeout
	// and Now.
	Sender *wire.Sender
	// Timeout bounds each attempt; 0: wire.DefaultTimeout.
	Timeout time.Duration
	// RetryWindow is how long a subscription may fail before it is
	// disabled; 0: DefaultRetryWindow.
	RetryWindow time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts (before
	// jitter); 0: the defaults. Retry-After wins over them.
	MinBackoff, MaxBackoff time.Duration
	// Sleep waits d or until ctx ends (returning ctx.Err()); nil: a
	// timer. Tests pass one that moves their clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Notice is called when a subscription is disabled (the admin bot's
	// notice); nil: only logged.
	Notice func(Notice)
	// AttemptsKept is how many attempts per subscription Attempts keeps;
	// 0: DefaultAttemptsKept.
	AttemptsKept int
	// Batch caps the events a worker reads from the log at once; 0: 256.
	Batch   int
	Retries int // extra attempts after a conflict with another writer (default 3)
}

// Service runs the webhook use cases and the delivery. Its methods may
// be called concurrently.
type Service struct {
	cfg      Config
	store    Store
	reg      *domain.Registry[domain.Webhooks, domain.WebhookCommand]
	log      *eventlog.Log
	payloads *wire.Payloads
	sender   *wire.Sender
	logger   *slog.Logger
	rand     io.Reader

	changed chan struct{} // a subscription changed: Run reconciles its workers

	mu     sync.Mutex
	status map[uuid.UUID]*status
}

// New returns a Service with the subscriptions of cfg.Store's log.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Now == nil {
		return nil, errors.New("webhooks: a Service needs a Store and a clock")
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.RetryWindow <= 0 {
		cfg.RetryWindow = DefaultRetryWindow
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.MinBackoff)
	if cfg.Sleep == nil {
		cfg.Sleep = clock.Sleep
	}
	if cfg.AttemptsKept <= 0 {
		cfg.AttemptsKept = DefaultAttemptsKept
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 256
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 3
	}
	if cfg.Sender == nil {
		cfg.Sender = wire.NewSender(wire.SenderConfig{AllowPrivate: cfg.AllowPrivate, Timeout: cfg.Timeout, Now: cfg.Now})
	}
	s := &Service{cfg: cfg, store: cfg.Store, log: eventlog.New(cfg.Store), payloads: wire.NewPayloads(cfg.Store),
		sender: cfg.Sender, logger: cfg.Logger, rand: cfg.Rand, changed: make(chan struct{}, 1), status: map[uuid.UUID]*status{}}
	var err error
	if s.reg, err = domain.NewRegistry(ctx, domain.WebhooksStream, domain.EventLog(s.log), domain.DecideWebhooks, domain.EvolveWebhooks, cfg.Now, cfg.Retries); err != nil {
		return nil, err
	}
	return s, nil
}

// secretName and checkpointName name a subscription's sealed values.
func secretName(id uuid.UUID) string     { return "webhook/" + id.String() + "/secret" }
func checkpointName(id uuid.UUID) string { return "webhook/" + id.String() + "/checkpoint" }

// AddRequest is a new subscription.
type AddRequest struct {
	URL      string
	Events   []string // public event names (domain.WebhookEvents)
	Personal bool     // its payloads carry personal fields
	By       string   // who asks: cli, admin:<id>, a Principal's Actor
}

// Added is a subscription as Add made it: show Secret once; it cannot
// be shown again.
type Added struct {
	Webhook View
	Secret  wire.Secret
}

// Add subscribes req.URL to req.Events. Its refusals are *domain.Error
// values: an unknown event (field "events", ErrUnknownEvent, the message
// lists the valid ones), a URL that is not absolute http(s) (field
// "url", ErrURL) or whose host is or resolves to a private address
// unless AllowPrivate (field "url", ErrPrivate). No error holds the
// URL's path or query.
func (s *Service) Add(ctx context.Context, req AddRequest) (Added, error) {
	events, err := domain.ParseWebhookEvents(req.Events)
	if err != nil {
		return Added{}, err
	}
	if _, err := wire.CheckTarget(ctx, s.cfg.Resolver, req.URL, s.cfg.AllowPrivate); err != nil {
		return Added{}, err
	}
	secret, err := wire.NewSecret(s.rand)
	if err != nil {
		return Added{}, err
	}
	id, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		return Added{}, fmt.Errorf("webhooks: draw an id: %w", err)
	}
	// The secret first, synced: the event never exists without it.
	if err := s.store.PutSecret(ctx, secretName(id), []byte(secret.Reveal())); err != nil {
		return Added{}, fmt.Errorf("webhooks: store the signing secret of %s: %w", id, err)
	}
	cmd := domain.SubscribeWebhook{WebhookID: id, URL: req.URL, Events: events, Personal: req.Personal, By: req.By}
	if _, err := s.reg.Execute(ctx, func() domain.WebhookCommand { return cmd }); err != nil {
		if derr := s.store.DeleteSecret(ctx, secretName(id)); derr != nil {
			s.logger.Error("webhook secret left behind", "webhook", id, "error", derr)
		}
		if domain.ErrorCode(err) != "" {
			return Added{}, err
		}
		return Added{}, fmt.Errorf("webhooks: subscribe %s: %w", id, err)
	}
	s.logger.Info("webhook subscribed", "webhook", id, "target", domain.WebhookTarget(req.URL), "events", len(events), "personal", req.Personal, "by", req.By)
	s.poke()
	v, err := s.Get(ctx, id)
	return Added{Webhook: v, Secret: secret}, err
}

// Remove ends subscription id for good: its deliveries stop, its secret
// and checkpoint are deleted. Removing a removed one does nothing. An
// unknown id is a *domain.Error (EINVALID, field "webhook") matching
// ErrUnknownWebhook.
func (s *Service) Remove(ctx context.Context, id uuid.UUID, by string) error {
	evs, err := s.reg.Execute(ctx, func() domain.WebhookCommand { return domain.RemoveWebhook{WebhookID: id, By: by} })
	if err != nil {
		if domain.ErrorCode(err) != "" {
			return err
		}
		return fmt.Errorf("webhooks: remove %s: %w", id, err)
	}
	if len(evs) > 0 {
		s.logger.Info("webhook removed", "webhook", id, "by", by)
	}
	s.poke()
	// The worker stops on the poke; it may write its checkpoint once
	// more, so Run deletes the values again when it has stopped.
	return s.forgetValues(ctx, id)
}

func (s *Service) forgetValues(ctx context.Context, id uuid.UUID) error {
	for _, name := range []string{secretName(id), checkpointName(id)} {
		if err := s.store.DeleteSecret(ctx, name); err != nil {
			return fmt.Errorf("webhooks: remove %s: %w", id, err)
		}
	}
	return nil
}

// Replay delivers subscription id's events again from log position from
// on (its checkpoint goes back to from-1), with their first webhook-ids;
// a disabled subscription is enabled again. A removed one is a
// *domain.Error (ESTATE); from 0 one on the field "from".
func (s *Service) Replay(ctx context.Context, id uuid.UUID, from uint64, by string) error {
	if _, err := s.reg.Execute(ctx, func() domain.WebhookCommand { return domain.ReplayWebhook{WebhookID: id, From: from, By: by} }); err != nil {
		if domain.ErrorCode(err) != "" {
			return err
		}
		return fmt.Errorf("webhooks: replay %s: %w", id, err)
	}
	s.logger.Info("webhook replay", "webhook", id, "from", from, "by", by)
	s.poke()
	return nil
}

// poke tells Run that a subscription changed.
func (s *Service) poke() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// Refresh reads what another writer appended to the subscriptions (a
// CLI that wrote the log while no service ran does not need it: New
// reads them) and lets Run act on it.
func (s *Service) Refresh(ctx context.Context) error {
	if err := s.reg.Refresh(ctx); err != nil {
		return err
	}
	s.poke()
	return nil
}

// View is a subscription as List and Get show it.
type View struct {
	ID uuid.UUID
	// URL is the whole URL, for admins' lists; it may hold a token:
	// never log it (Target is what may be logged).
	URL      string
	Target   string // scheme and host
	Events   []domain.WebhookEvent
	Personal bool
	By       string
	At       time.Time

	Status        string // "active", "disabled" or "removed"
	DisabledAt    time.Time
	DisableReason string
	StuckAt       uint64 // a disabled one: the position it could not deliver (replay from it)

	// Checkpoint is the last position delivered or passed over (0 until
	// its delivery first started).
	Checkpoint uint64

	// What this process's Run saw (zero in another process):
	Delivered    int       // deliveries that succeeded
	LastSuccess  time.Time // the last delivery that succeeded
	FailingSince time.Time // the first failure of the event being retried; zero when none
	LastError    string    // the last attempt's failure, if it failed
	NextAttempt  time.Time // when the event being retried is tried again
}

// Status values.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
	StatusRemoved  = "removed"
)

// List shows every subscription, removed ones too, as subscribed.
func (s *Service) List(ctx context.Context) ([]View, error) {
	var all []domain.Webhook
	s.reg.Read(func(st domain.Webhooks) { all = st.All() })
	out := make([]View, len(all))
	for i, w := range all {
		var err error
		if out[i], err = s.view(ctx, w); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Get shows subscription id; an unknown id is a *domain.Error (EINVALID,
// field "webhook") matching ErrUnknownWebhook.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (View, error) {
	w, ok := s.webhook(id)
	if !ok {
		return View{}, unknown(id)
	}
	return s.view(ctx, w)
}

func (s *Service) webhook(id uuid.UUID) (w domain.Webhook, ok bool) {
	s.reg.Read(func(st domain.Webhooks) { w, ok = st.Get(id) })
	return w, ok
}

// Find is the subscription ref names: its id, or the beginning of it
// (at least 4 characters) when one subscription's id alone begins so,
// as people type it from a list. None, or several, is a *domain.Error
// (EINVALID, field "webhook") matching ErrUnknownWebhook.
func (s *Service) Find(ctx context.Context, ref string) (View, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if id, err := uuid.Parse(ref); err == nil {
		return s.Get(ctx, id)
	}
	var found []domain.Webhook
	if len(ref) >= 4 {
		s.reg.Read(func(st domain.Webhooks) {
			for _, w := range st.All() {
				if strings.HasPrefix(w.ID.String(), ref) {
					found = append(found, w)
				}
			}
		})
	}
	switch len(found) {
	case 1:
		return s.view(ctx, found[0])
	case 0:
		return View{}, &domain.Error{Code: domain.EINVALID, Field: "webhook", Err: ErrUnknownWebhook, Message: fmt.Sprintf("no webhook %q", ref)}
	}
	return View{}, &domain.Error{Code: domain.EINVALID, Field: "webhook", Err: ErrUnknownWebhook,
		Message: fmt.Sprintf("%d webhooks begin with %q: give more of the id", len(found), ref)}
}

func unknown(id uuid.UUID) error {
	return &domain.Error{Code: domain.EINVALID, Field: "webhook", Err: ErrUnknownWebhook, Message: fmt.Sprintf("no webhook %s", id)}
}

func (s *Service) view(ctx context.Context, w domain.Webhook) (View, error) {
	v := View{ID: w.ID, URL: w.URL, Target: domain.WebhookTarget(w.URL), Events: w.Events, Personal: w.Personal, By: w.By, At: w.At,
		Status: StatusActive, DisabledAt: w.DisabledAt, DisableReason: w.DisableReason, StuckAt: w.StuckAt}
	switch {
	case w.Removed:
		v.Status = StatusRemoved
		return v, nil
	case w.Disabled:
		v.Status = StatusDisabled
	}
	cp, found, err := s.loadCheckpoint(ctx, w.ID)
	if err != nil {
		return View{}, err
	}
	if found {
		v.Checkpoint = cp.Position
		if w.Replays > cp.Replays { // asked, not applied yet
			v.Checkpoint = w.ReplayFrom - 1
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.status[w.ID]; st != nil {
		v.Delivered, v.LastSuccess = st.delivered, st.lastSuccess
		v.FailingSince, v.LastError, v.NextAttempt = st.failingSince, st.lastError, st.nextAttempt
	}
	return v, nil
}

// Attempt is one delivery attempt.
type Attempt struct {
	At        time.Time
	Position  uint64
	MessageID string // webhook-id
	Type      domain.WebhookEvent
	Status    int // the answer's status; 0 when none came
	Latency   time.Duration
	Error     string // "" when delivered
}

// OK says whether the attempt delivered.
func (a Attempt) OK() bool { return a.Error == "" }

// Attempts lists subscription id's latest attempts, oldest first (at
// most Config.AttemptsKept, since this process started).
func (s *Service) Attempts(id uuid.UUID) ([]Attempt, error) {
	if _, ok := s.webhook(id); !ok {
		return nil, unknown(id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status[id]
	if st == nil {
		return []Attempt{}, nil
	}
	out := make([]Attempt, 0, len(st.attempts))
	for i := range st.attempts {
		out = append(out, st.attempts[(st.next+i)%len(st.attempts)])
	}
	return out, nil
}

// status is what this process saw of a subscription's deliveries.
type status struct {
	delivered    int
	lastSuccess  time.Time
	failingSince time.Time
	lastError    string
	nextAttempt  time.Time
	attempts     []Attempt // a ring once full
	next         int       // the oldest, once full
}

func (s *Service) update(id uuid.UUID, f func(*status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status[id]
	if st == nil {
		st = &status{}
		s.status[id] = st
	}
	f(st)
}

func (s *Service) record(id uuid.UUID, a Attempt) {
	s.update(id, func(st *status) {
		if len(st.attempts) < s.cfg.AttemptsKept {
			st.attempts = append(st.attempts, a)
			return
		}
		st.attempts[st.next] = a
		st.next = (st.next + 1) % len(st.attempts)
	})
}

// checkpoint is a subscription's sealed delivery state.
type checkpoint struct {
	Position uint64 `json:"position"` // delivered or passed over up to here
	Replays  int    `json:"replays"`  // the replays applied
}

func (s *Service) loadCheckpoint(ctx context.Context, id uuid.UUID) (checkpoint, bool, error) {
	b, err := s.store.Secret(ctx, checkpointName(id))
	if errors.Is(err, eventstore.ErrNotFound) {
		return checkpoint{}, false, nil
	}
	if err != nil {
		return checkpoint{}, false, fmt.Errorf("webhooks: checkpoint of %s: %w", id, err)
	}
	var c checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return checkpoint{}, false, fmt.Errorf("webhooks: checkpoint of %s: %w", id, err)
	}
	return c, true, nil
}

func (s *Service) saveCheckpoint(ctx context.Context, id uuid.UUID, c checkpoint) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := s.store.PutSecretNoSync(ctx, checkpointName(id), b); err != nil {
		return fmt.Errorf("webhooks: checkpoint of %s: %w", id, err)
	}
	return nil
}

// subscribedAt is the log position of subscription id's
// WebhookSubscribed event: a new subscription starts after it.
func (s *Service) subscribedAt(ctx context.Context, id uuid.UUID) (uint64, error) {
	recs, err := s.store.ReadStream(ctx, domain.WebhooksStream, 1)
	if err != nil {
		return 0, fmt.Errorf("webhooks: read %s: %w", domain.WebhooksStream, err)
	}
	for i := range recs {
		if recs[i].Type != "WebhookSubscribed" {
			continue
		}
		e, err := s.log.Decode(&recs[i])
		if err != nil {
			return 0, err
		}
		if e.(domain.WebhookSubscribed).WebhookID == id {
			return recs[i].Position, nil
		}
	}
	return 0, unknown(id)
}

// backoff is the wait before attempt n+1 (n failures so far):
// MinBackoff doubled per failure up to MaxBackoff, half of it fixed and
// half random (jitter: receivers that come back are not hit by every
// sender at once).
func (s *Service) backoff(n int) time.Duration {
	d := s.cfg.MinBackoff
	for i := 0; i < n && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxBackoff)
	return d/2 + mrand.N(d/2+1)
}
