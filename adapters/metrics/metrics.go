// Package metrics is salesbot's Prometheus metrics (/metrics) and its
// health checks (/healthz, /readyz): an edge. Every series is named
// salesbot_...; it lives on its own registry (never the global one),
// with the Go runtime's and the process's collectors.
//
// What the read models and the log hold, and in cluster mode the
// cluster's status, is read when Prometheus scrapes (a
// prometheus.Collector querying them with a short timeout);
// what happens (appends, API requests, LLM calls) is counted through
// hooks the parts offer (eventstore.PebbleStore.ObserveAppends,
// llm.Config.Observe, an HTTP middleware), so neither the domain nor
// the log imports Prometheus. No label holds personal data: labels are
// event types, statuses, stages, guard kinds, route patterns, status
// codes, model names and, on the outbound messages, the account's id
// (a UUID, never the account's phone, username or label); no other id.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/cluster"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// Config is what the metrics read when scraped.
type Config struct {
	// Head is the log's durable head (eventstore.Store.Head). Required.
	Head func() uint64
	// Failed is the log's failure (PebbleStore.Err), nil while it takes
	// appends; nil: never failed.
	Failed func() error
	// ReadModels are read for their checkpoint, accounts, dialogs and
	// handoffs. Required.
	ReadModels projections.Sink
	// Timeout bounds the read models' queries of one scrape (default 2s).
	Timeout time.Duration
	// Now is the clock of the handoffs' waits (default time.Now).
	Now func() time.Time
	// Logger hears of queries that fail during a scrape (nil: discarded).
	Logger *slog.Logger
	// Decode turns an appended event into its domain event
	// (eventlog.Log.Decode): the guards' interventions are read from
	// the TurnTaken events appended. nil: they are not counted.
	Decode func(*eventstore.RecordedEvent) (domain.Event, error)
	// Outbound is the outbound messages by account, counted from the
	// log's start (accounts.Service.Accounts), and whether they are
	// complete (the service has read the log up to its head): the
	// series show only then, so after a restart they go on from where
	// they stood instead of climbing from zero, which Prometheus would
	// take for a reset. nil: no such series.
	Outbound func() ([]AccountOutbound, bool)
	// Cluster reads the status of the nodes sharing the log, as this
	// node sees it (cluster.Reporter.Status, whose Self names this
	// node), when Prometheus scrapes, within Timeout: the live nodes,
	// the leases this node holds and its lag. nil: a single node, no
	// such series.
	Cluster func(ctx context.Context) (cluster.Report, error)
}

// AccountOutbound is one account's outbound messages over the whole
// log.
type AccountOutbound struct {
	Account               uuid.UUID
	Planned, Sent, Failed int
}

// Metrics is the registry and the hooks that feed it. Build it with New.
type Metrics struct {
	reg *prometheus.Registry

	appends      *prometheus.CounterVec // by result
	appended     *prometheus.CounterVec // events by type
	appendTime   prometheus.Histogram
	appendGroup  prometheus.Histogram
	byType       map[string]prometheus.Counter // the named counters of some event types
	httpRequests *prometheus.CounterVec
	httpTime     *prometheus.HistogramVec
	llmCalls     *prometheus.CounterVec
	llmTokens    *prometheus.CounterVec
	llmTime      *prometheus.HistogramVec
	guards       *prometheus.CounterVec // by domain.GuardKind
	decode       func(*eventstore.RecordedEvent) (domain.Event, error)
	log          *slog.Logger
}

// eventCounters are counters named for what some event types mean.
var eventCounters = []struct{ name, help, event string }{
	{"salesbot_messages_inbound_total", "Inbound messages received from leads (InboundReceived events appended).", "InboundReceived"},
	{"salesbot_opt_outs_total", "Contacts opted out (ContactOptedOut events appended).", "ContactOptedOut"},
	{"salesbot_handoffs_total", "Dialogs handed to a person (HandoffRequested events appended).", "HandoffRequested"},
	{"salesbot_flood_waits_total", "Flood waits Telegram imposed on an account (AccountFloodWaited events appended).", "AccountFloodWaited"},
	{"salesbot_turns_failed_total", "Dialog turns that failed because the model could not be reached (TurnFailed events appended).", "TurnFailed"},
}

// New builds the metrics of cfg on a registry of their own.
func New(cfg Config) (*Metrics, error) {
	if cfg.Head == nil || cfg.ReadModels == nil {
		return nil, errors.New("metrics: the log's head and the read models are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), byType: map[string]prometheus.Counter{}, decode: cfg.Decode, log: cfg.Logger}
	m.appends = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "salesbot_event_appends_total",
		Help: "Appends to the event log, by result: ok, conflict (a version conflict), error."}, []string{"result"})
	m.appended = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "salesbot_events_appended_total",
		Help: "Events appended to the event log, by event type."}, []string{"type"})
	m.appendTime = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "salesbot_event_append_duration_seconds",
		Help: "Time from an append's call to its answer, the fsync included.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})
	m.appendGroup = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "salesbot_event_append_group_events",
		Help: "Events in the group commit that carried an append.", Buckets: prometheus.ExponentialBuckets(1, 2, 13)})
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "salesbot_http_requests_total",
		Help: "HTTP API requests, by route pattern (\"unmatched\" for none) and status code."}, []string{"route", "code"})
	m.httpTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "salesbot_http_request_duration_seconds",
		Help: "HTTP API requests' time to answer, by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"})
	m.llmCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "salesbot_llm_turns_total",
		Help: "Turns asked of the LLM, by model and result (ok, invalid, unavailable, error)."}, []string{"model", "result"})
	m.llmTokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "salesbot_llm_tokens_total",
		Help: "LLM tokens used, by model and kind (prompt, cached: the prompt tokens the provider's cache served, completion)."}, []string{"model", "kind"})
	m.llmTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "salesbot_llm_turn_duration_seconds",
		Help: "Time the LLM took to answer a turn, retries included, by model.", Buckets: prometheus.ExponentialBuckets(0.25, 2, 9)}, []string{"model"})
	m.guards = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "salesbot_guard_interventions_total",
		Help: "What the guards changed in the dialog turns taken (TurnTaken events appended), by kind: a reply withheld, a disclosure added, a field dropped, ..."}, []string{"kind"})
	for _, k := range domain.GuardKinds() {
		m.guards.WithLabelValues(string(k))
	}
	// Webhook deliveries are counted here, through a hook of their
	// sender, once salesbot delivers webhooks.
	cs := []prometheus.Collector{m.appends, m.appended, m.appendTime, m.appendGroup, m.httpRequests, m.httpTime, m.llmCalls, m.llmTokens, m.llmTime, m.guards,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newState(cfg)}
	for _, c := range eventCounters {
		ctr := prometheus.NewCounter(prometheus.CounterOpts{Name: c.name, Help: c.help})
		m.byType[c.event] = ctr
		cs = append(cs, ctr)
	}
	for _, r := range []string{"ok", "conflict", "error"} {
		m.appends.WithLabelValues(r)
	}
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Registry is the metrics' registry (tests gather it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus' text format. It asks no
// token: serve it where only Prometheus reaches it.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// ObserveAppend counts an append (eventstore.PebbleStore.ObserveAppends).
func (m *Metrics) ObserveAppend(a eventstore.AppendStat) {
	switch {
	case a.Err == nil:
		m.appends.WithLabelValues("ok").Inc()
	case errors.Is(a.Err, eventstore.ErrVersionConflict):
		m.appends.WithLabelValues("conflict").Inc()
	default:
		m.appends.WithLabelValues("error").Inc()
	}
	m.appendTime.Observe(a.Latency.Seconds())
	if a.Group > 0 {
		m.appendGroup.Observe(float64(a.Group))
	}
	if a.Err != nil {
		return
	}
	for _, t := range a.Types {
		m.appended.WithLabelValues(t).Inc()
		if c, ok := m.byType[t]; ok {
			c.Inc()
		}
	}
	if m.decode == nil {
		return
	}
	for i := range a.Events {
		if a.Events[i].Type != turnTaken {
			continue
		}
		e, err := m.decode(&eventstore.RecordedEvent{Event: a.Events[i], Stream: a.Stream})
		if err != nil {
			m.log.Warn("metrics: decoding an appended turn failed", "stream", a.Stream, "err", err)
			continue
		}
		if t, ok := e.(domain.TurnTaken); ok {
			for _, g := range t.Guards {
				m.guards.WithLabelValues(string(domain.GuardKindOf(g))).Inc()
			}
		}
	}
}

// turnTaken is the type of the events the guards' interventions are
// read from.
var turnTaken = domain.TurnTaken{}.EventType()

// ObserveLLM counts a turn the LLM answered (llm.Config.Observe).
func (m *Metrics) ObserveLLM(u domain.Usage, err error) {
	result := "ok"
	switch {
	case err == nil:
	case errors.Is(err, domain.ErrModelOutputInvalid):
		result = "invalid"
	case errors.Is(err, domain.ErrModelUnavailable):
		result = "unavailable"
	default:
		result = "error"
	}
	m.llmCalls.WithLabelValues(u.Model, result).Inc()
	m.llmTokens.WithLabelValues(u.Model, "prompt").Add(float64(u.PromptTokens))
	m.llmTokens.WithLabelValues(u.Model, "cached").Add(float64(u.CachedPromptTokens))
	m.llmTokens.WithLabelValues(u.Model, "completion").Add(float64(u.CompletionTokens))
	m.llmTime.WithLabelValues(u.Model).Observe(u.Latency.Seconds())
}

// InstrumentHTTP counts next's requests by the pattern route gives
// (httpapi.API.Route: never the raw path, which holds ids) and their
// status code.
func (m *Metrics) InstrumentHTTP(next http.Handler, route func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pattern := route(r)
		if pattern == "" {
			pattern = "unmatched"
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		code := sw.status
		if code == 0 {
			code = http.StatusOK
		}
		m.httpRequests.WithLabelValues(pattern, strconv.Itoa(code)).Inc()
		m.httpTime.WithLabelValues(pattern).Observe(time.Since(start).Seconds())
	})
}

// statusWriter keeps the status code written; http.ResponseController
// reaches the writer below through Unwrap (the event feed flushes, the
// CLI through the server hijacks).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// state reads the log and the read models when Prometheus scrapes.
type state struct {
	cfg                               Config
	head, failed, position, lag, errs *prometheus.Desc
	accounts, paused, dialogs         *prometheus.Desc
	dialogsByStatus                   *prometheus.Desc
	handoffsWaiting, handoffOldest    *prometheus.Desc
	outPlanned, outSent, outFailed    *prometheus.Desc // outbound messages by account
	clusterUp, clusterNodes           *prometheus.Desc // the cluster, as this node sees it
	clusterLeases, clusterLag         *prometheus.Desc
}

func newState(cfg Config) *state {
	return &state{cfg: cfg,
		head:            prometheus.NewDesc("salesbot_log_head", "The event log's durable head: the position of its last event.", nil, nil),
		failed:          prometheus.NewDesc("salesbot_log_failed", "1 when the event log failed (a full disk, a failed write) and takes no more appends.", nil, nil),
		position:        prometheus.NewDesc("salesbot_read_model_position", "The position of the last event a read model applied (its checkpoint).", []string{"read_model"}, nil),
		lag:             prometheus.NewDesc("salesbot_read_model_lag_events", "How many events a read model is behind the log's head.", []string{"read_model"}, nil),
		errs:            prometheus.NewDesc("salesbot_read_model_up", "1 when this scrape read the read models, 0 when a query failed or timed out.", nil, nil),
		accounts:        prometheus.NewDesc("salesbot_accounts", "Accounts by status, as the read models hold them.", []string{"status"}, nil),
		paused:          prometheus.NewDesc("salesbot_accounts_paused", "Accounts an operator paused.", nil, nil),
		dialogs:         prometheus.NewDesc("salesbot_dialogs", "Dialogs by stage, as the read models hold them.", []string{"stage"}, nil),
		dialogsByStatus: prometheus.NewDesc("salesbot_dialogs_by_status", "Dialogs by status (active, handoff, closed), as the read models hold them.", []string{"status"}, nil),
		handoffsWaiting: prometheus.NewDesc("salesbot_handoffs_waiting", "Dialogs handed off to a person that no person took over yet.", nil, nil),
		handoffOldest:   prometheus.NewDesc("salesbot_handoff_oldest_wait_seconds", "How long the oldest handoff not taken over has waited (0: none waits).", nil, nil),
		outPlanned:      prometheus.NewDesc("salesbot_messages_planned_total", "Outbound messages planned (OutboundPlanned), by account id, over the whole log.", []string{"account"}, nil),
		outSent:         prometheus.NewDesc("salesbot_messages_sent_total", "Outbound messages sent (OutboundSent), by account id, over the whole log.", []string{"account"}, nil),
		outFailed:       prometheus.NewDesc("salesbot_messages_failed_total", "Outbound messages that failed (OutboundFailed), by account id, over the whole log.", []string{"account"}, nil),
		clusterUp:       prometheus.NewDesc("salesbot_cluster_up", "1 when this scrape read the cluster's status from the log's servers, 0 when it failed or timed out (cluster mode only).", nil, nil),
		clusterNodes:    prometheus.NewDesc("salesbot_cluster_nodes", "Live nodes sharing the event log (cluster mode only).", nil, nil),
		clusterLeases:   prometheus.NewDesc("salesbot_cluster_leases_held", "Leases this node holds: its accounts' and any leader's (cluster mode only).", nil, nil),
		clusterLag:      prometheus.NewDesc("salesbot_cluster_lag_events", "How many events this node's applied position is behind the log's head, as its last heartbeat says (cluster mode only, once it is live).", nil, nil),
	}
}

// maxHandoffs bounds the handoffs a scrape reads.
const maxHandoffs = 10000

func (s *state) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{s.head, s.failed, s.position, s.lag, s.errs, s.accounts, s.paused, s.dialogs, s.dialogsByStatus,
		s.handoffsWaiting, s.handoffOldest, s.outPlanned, s.outSent, s.outFailed, s.clusterUp, s.clusterNodes, s.clusterLeases, s.clusterLag} {
		ch <- d
	}
}

func (s *state) Collect(ch chan<- prometheus.Metric) {
	head := s.cfg.Head()
	ch <- prometheus.MustNewConstMetric(s.head, prometheus.GaugeValue, float64(head))
	failed := 0.0
	if s.cfg.Failed != nil && s.cfg.Failed() != nil {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(s.failed, prometheus.GaugeValue, failed)
	if s.cfg.Outbound != nil {
		if by, ok := s.cfg.Outbound(); ok {
			for _, a := range by {
				id := a.Account.String()
				ch <- prometheus.MustNewConstMetric(s.outPlanned, prometheus.CounterValue, float64(a.Planned), id)
				ch <- prometheus.MustNewConstMetric(s.outSent, prometheus.CounterValue, float64(a.Sent), id)
				ch <- prometheus.MustNewConstMetric(s.outFailed, prometheus.CounterValue, float64(a.Failed), id)
			}
		}
	}
	s.collectCluster(ch)
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	up := 1.0
	fail := func(what string, err error) {
		up = 0
		s.cfg.Logger.Warn("metrics: reading the read models failed", "query", what, "err", err)
	}
	rm := s.cfg.ReadModels
	if cp, err := rm.Checkpoint(ctx); err != nil {
		fail("checkpoint", err)
	} else {
		ch <- prometheus.MustNewConstMetric(s.position, prometheus.GaugeValue, float64(cp.Position), "read_models")
		ch <- prometheus.MustNewConstMetric(s.lag, prometheus.GaugeValue, float64(head-min(head, cp.Position)), "read_models")
	}
	if accs, err := rm.Accounts(ctx); err != nil {
		fail("accounts", err)
	} else {
		by, paused := map[string]int{}, 0
		for _, a := range accs {
			st := a.Status
			if st == "" {
				st = "unknown"
			}
			by[st]++
			if a.Paused {
				paused++
			}
		}
		for st, n := range by {
			ch <- prometheus.MustNewConstMetric(s.accounts, prometheus.GaugeValue, float64(n), st)
		}
		ch <- prometheus.MustNewConstMetric(s.paused, prometheus.GaugeValue, float64(paused))
	}
	if rows, err := rm.Funnel(ctx, projections.ByStage); err != nil {
		fail("dialogs by stage", err)
	} else {
		for _, r := range rows {
			ch <- prometheus.MustNewConstMetric(s.dialogs, prometheus.GaugeValue, float64(r.Dialogs), r.Key)
		}
	}
	if rows, err := rm.Funnel(ctx, projections.ByStatus); err != nil {
		fail("dialogs by status", err)
	} else {
		for _, r := range rows {
			ch <- prometheus.MustNewConstMetric(s.dialogsByStatus, prometheus.GaugeValue, float64(r.Dialogs), r.Key)
		}
	}
	if ds, err := rm.ListDialogs(ctx, projections.DialogFilter{Status: projections.StatusHandoff, Limit: maxHandoffs}); err != nil {
		fail("handoffs", err)
	} else {
		waiting, oldest := 0, time.Time{}
		for _, d := range ds {
			if d.TakenOver {
				continue
			}
			waiting++
			if at := d.HandoffAt; !at.IsZero() && (oldest.IsZero() || at.Before(oldest)) {
				oldest = at
			}
		}
		wait := 0.0
		if !oldest.IsZero() {
			wait = max(0, s.cfg.Now().Sub(oldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(s.handoffsWaiting, prometheus.GaugeValue, float64(waiting))
		ch <- prometheus.MustNewConstMetric(s.handoffOldest, prometheus.GaugeValue, wait)
	}
	ch <- prometheus.MustNewConstMetric(s.errs, prometheus.GaugeValue, up)
}

// collectCluster reads the cluster's status (Config.Cluster): the live
// nodes, this node's leases and lag. No per-node labels: every node
// reports its own, and Prometheus' instance label tells them apart.
func (s *state) collectCluster(ch chan<- prometheus.Metric) {
	if s.cfg.Cluster == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	defer cancel()
	r, err := s.cfg.Cluster(ctx)
	if err != nil {
		s.cfg.Logger.Warn("metrics: reading the cluster's status failed", "err", err)
		ch <- prometheus.MustNewConstMetric(s.clusterUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(s.clusterUp, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(s.clusterNodes, prometheus.GaugeValue, float64(len(r.Nodes)))
	held := 0
	for _, l := range r.Leases {
		if r.Self != "" && l.Holder == r.Self {
			held++
		}
	}
	ch <- prometheus.MustNewConstMetric(s.clusterLeases, prometheus.GaugeValue, float64(held))
	for _, n := range r.Nodes {
		if r.Self != "" && n.ID == r.Self {
			ch <- prometheus.MustNewConstMetric(s.clusterLag, prometheus.GaugeValue, float64(n.Lag))
		}
	}
}
