package system

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/llm"
	"github.com/salesbot/salesbot/adapters/metrics"
	"github.com/salesbot/salesbot/domain"
)

// Metrics and health (adapters/metrics), served with the API on its
// HTTP server: /metrics and /healthz, /readyz without a token (keep
// them from the public: the reverse proxy forwards /api/ only),
// /debug/pprof/ for admin tokens.

// Readiness: the read models are ready once they have caught up with
// the log's head, and stay ready while they are at most maxReadyLag
// events behind it or were caught up within readyGrace.
const (
	maxReadyLag = 100
	readyGrace  = 10 * time.Second
)

// observability is the metrics and the health checks of a System.
type observability struct {
	metrics *metrics.Metrics // nil without HTTP
	health  metrics.Health
	mu      sync.Mutex
	caught  time.Time // when the read models were last seen caught up
}

// observe builds s's health checks and, when it serves HTTP, its
// metrics: the log tells them of its appends from now on.
func (s *System) observe() error {
	s.obs = &observability{}
	s.obs.health = metrics.Health{Checks: []metrics.Check{
		{Name: "event_log", Err: func(context.Context) error { return s.cfg.Store.Err() }},
		{Name: "read_models", Err: s.readModelsReady},
		{Name: "accounts", Err: func(context.Context) error {
			if s.svc == nil || !s.svc.Supervising() {
				return errors.New("not supervised yet: the accounts service is reading the log")
			}
			return nil
		}},
		{Name: "dialog_engine", Err: func(context.Context) error {
			if s.dialogs == nil || !s.dialogs.Caught() {
				return errors.New("reading the log: it takes turns once it has")
			}
			return nil
		}},
		{Name: "campaign_scheduler", Err: func(context.Context) error {
			if s.sched == nil || !s.sched.Caught() {
				return errors.New("reading the log: it opens campaigns' dialogs once it has")
			}
			return nil
		}},
	}}
	if s.cfg.HTTP == nil {
		return nil
	}
	st := s.cfg.Store
	m, err := metrics.New(metrics.Config{Head: st.Head, Failed: st.Err, ReadModels: s.cfg.ReadModels, Logger: s.log,
		Decode: eventlog.New(st).Decode, Outbound: s.outbound, Cluster: s.clusterStatus()})
	if err != nil {
		return err
	}
	s.obs.metrics = m
	st.ObserveAppends(m.ObserveAppend)
	return nil
}

// outbound is the outbound messages by account the accounts service
// counted from the log's start, complete once it supervises the
// accounts (metrics.Config.Outbound).
func (s *System) outbound() ([]metrics.AccountOutbound, bool) {
	if s.svc == nil || !s.svc.Supervising() {
		return nil, false
	}
	accs := s.svc.Accounts()
	out := make([]metrics.AccountOutbound, len(accs))
	for i, a := range accs {
		out[i] = metrics.AccountOutbound{Account: a.ID, Planned: a.Planned, Sent: a.Sent, Failed: a.Failed}
	}
	return out, true
}

// observedLLM is cfg with its turns counted by the metrics, if any.
func (s *System) observedLLM(cfg *llm.Config) *llm.Config {
	if cfg == nil || s.obs.metrics == nil {
		return cfg
	}
	c := *cfg
	next := c.Observe
	c.Observe = func(u domain.Usage, err error) {
		s.obs.metrics.ObserveLLM(u, err)
		if next != nil {
			next(u, err)
		}
	}
	return &c
}

// readModelsReady: nil once the read models caught up with the log, and
// while they stay close to its head.
func (s *System) readModelsReady(ctx context.Context) error {
	head := s.cfg.Store.Head()
	cp, err := s.cfg.ReadModels.Checkpoint(ctx)
	if err != nil {
		return fmt.Errorf("reading their checkpoint: %w", err)
	}
	now := time.Now()
	o := s.obs
	o.mu.Lock()
	defer o.mu.Unlock()
	if cp.Position >= head {
		o.caught = now
		return nil
	}
	lag := head - cp.Position
	switch {
	case o.caught.IsZero():
		return fmt.Errorf("catching up: at %d of %d", cp.Position, head)
	case lag > maxReadyLag && now.Sub(o.caught) > readyGrace:
		return fmt.Errorf("%d events behind the log's head for more than %s", lag, readyGrace)
	}
	return nil
}

// httpHandler is what the HTTP server serves: the API, the metrics, the
// health checks and pprof.
func (s *System) httpHandler() http.Handler {
	mux := http.NewServeMux()
	var api http.Handler = s.api
	if m := s.obs.metrics; m != nil {
		api = m.InstrumentHTTP(s.api, s.api.Route)
		mux.Handle("GET /metrics", m.Handler())
	}
	mux.Handle("/", api) // /api/v1, and the API's 404 problem for any other path
	if s.console != nil {
		var console http.Handler = s.console
		if m := s.obs.metrics; m != nil {
			console = m.InstrumentHTTP(console, func(*http.Request) string { return "/web/" }) // never the path: it holds dialog numbers
		}
		mux.Handle("/web/", console)
		mux.Handle("GET /{$}", http.RedirectHandler("/web/", http.StatusSeeOther))
	}
	s.mountCRMs(mux)
	mux.Handle("GET /healthz", s.obs.health.Live())
	mux.Handle("GET /readyz", s.obs.health.Ready())
	prof := http.NewServeMux()
	prof.HandleFunc("/debug/pprof/", pprof.Index)
	prof.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	prof.HandleFunc("/debug/pprof/profile", pprof.Profile)
	prof.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	prof.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/pprof/", s.api.RequireScope(domain.ScopeAdmin, prof))
	return mux
}

// logReady logs "salesbot: ready" once every readiness check holds.
func (s *System) logReady(ctx context.Context) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if len(s.obs.health.Failed(ctx)) == 0 {
			s.log.Info("salesbot: ready", "head", s.cfg.Store.Head())
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
