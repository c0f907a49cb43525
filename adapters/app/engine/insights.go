package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/salesbot/salesbot/adapters/offline"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
)

// Insights records the insight of every dialog that closes, is handed
// off or enters a nurture exit (domain.RecordInsights): the Analyst's (the LLM's) summary, loss
// reason and objections, or the offline rules' when there is no LLM, it
// fails, or its answer does not read. It follows the log on its own, apart
// from the turns, so a slow model never delays a reply; and since it reads
// the log from the start, a dialog whose insight a stop interrupted gets
// one after the restart (recording is idempotent: once per close or
// handoff). A log written before insights existed gets the insights of
// its ended dialogs, one at a time, at the first start.
type Insights struct {
	cfg   InsightsConfig
	rules *offline.Engine

	mu      sync.Mutex
	pending map[uuid.UUID]due // dialogs due an insight
	wake    chan struct{}
	gen     uint64
}

// due is when to try a dialog's insight, and the generation of the end
// that made it due (an end noted during a try keeps the dialog due).
type due struct {
	at  time.Time
	gen uint64
}

// InsightsConfig configures Insights.
type InsightsConfig struct {
	H        domain.Handlers
	Scenario *scenario.Scenario
	Store    eventstore.Store
	Decode   func(*eventstore.RecordedEvent) (domain.Event, error)
	// Analyst writes the insights; nil = the offline rules only.
	Analyst domain.Analyst
	Log     *slog.Logger
	Now     func() time.Time // default time.Now
	// Timeout bounds one Analyst call with its retries (default 2 min).
	Timeout time.Duration
	// Retry is the wait before a dialog whose insight could not be
	// recorded (the log failed) is tried again (default 30 s).
	Retry time.Duration
}

// NewInsights returns the insights' follower; Run starts it.
func NewInsights(cfg InsightsConfig) (*Insights, error) {
	if cfg.Store == nil || cfg.Decode == nil || cfg.Scenario == nil || cfg.H.Log == nil {
		return nil, errors.New("engine: InsightsConfig.H, Scenario, Store and Decode are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Retry <= 0 {
		cfg.Retry = 30 * time.Second
	}
	return &Insights{cfg: cfg, rules: offline.New(), pending: map[uuid.UUID]due{}, wake: make(chan struct{}, 1)}, nil
}

// Analyst is the model of core when it writes insights too (an LLM
// does; so does the offline engine), else nil.
func Analyst(core *Core) domain.Analyst {
	a, _ := core.Model.(domain.Analyst)
	return a
}

// insightEvents are the events that make or settle a dialog's due insight.
var insightEvents = map[string]bool{
	domain.DialogClosed{}.EventType(): true, domain.StageChanged{}.EventType(): true, domain.InsightsRecorded{}.EventType(): true,
}

// Run follows the log from its start and records the due insights, one
// at a time, until ctx ends.
func (s *Insights) Run(ctx context.Context) error {
	sub := eventstore.Subscribe(s.cfg.Store, 1, 1024)
	// Following the log and recording run until ctx ends or following
	// fails; that stops the recording too.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		for {
			if err := s.follow(gctx, sub); err != nil {
				if gctx.Err() != nil && ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	})
	g.Go(func() error {
		s.work(gctx)
		return nil
	})
	return g.Wait()
}

// follow notes the next batch of events.
func (s *Insights) follow(ctx context.Context, sub *eventstore.Subscription) error {
	recs, err := sub.Next(ctx)
	if err != nil {
		return fmt.Errorf("engine: insights: follow the log: %w", err)
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range recs {
		r := &recs[i]
		if !insightEvents[r.Type] {
			continue
		}
		id, ok := domain.AggregateDialog.ID(r.Stream)
		if !ok {
			continue
		}
		switch r.Type {
		case domain.InsightsRecorded{}.EventType():
			delete(s.pending, id)
			continue
		case domain.StageChanged{}.EventType():
			ev, err := s.cfg.Decode(r)
			if err != nil {
				return fmt.Errorf("engine: insights: %w", err)
			}
			sc, ok := ev.(domain.StageChanged)
			if !ok || (sc.To != domain.StageHandoff && !s.nurture(sc.To)) {
				continue
			}
		}
		s.gen++
		at := now
		if p, ok := s.pending[id]; ok {
			at = p.at
		}
		s.pending[id] = due{at: at, gen: s.gen}
	}
	if len(s.pending) > 0 {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// nurture says whether stage is a nurture exit of the scenario.
func (s *Insights) nurture(stage domain.Stage) bool {
	st, ok := domain.GraphOf(s.cfg.Scenario).Spec(stage)
	return ok && st.Exit == scenario.ExitNurture
}

// work records the due insights until ctx ends.
func (s *Insights) work(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
		for ctx.Err() == nil {
			id, gen, ok := s.next()
			if !ok {
				break
			}
			if _, err := s.Record(ctx, id); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.cfg.Log.Error("engine: record a dialog's insight", "dialog", id, "err", err)
				s.mu.Lock()
				if p, ok := s.pending[id]; ok {
					s.pending[id] = due{at: s.cfg.Now().Add(s.cfg.Retry), gen: p.gen}
				}
				s.mu.Unlock()
				continue
			}
			s.mu.Lock()
			if p, ok := s.pending[id]; ok && p.gen == gen {
				delete(s.pending, id) // recorded, or none is due
			}
			s.mu.Unlock()
		}
	}
}

// next is a due dialog (the oldest first) with its generation, false
// when none is due now.
func (s *Insights) next() (uuid.UUID, uint64, bool) {
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var best uuid.UUID
	var b due
	for id, p := range s.pending {
		if p.at.After(now) {
			continue
		}
		if best == uuid.Nil || p.at.Before(b.at) || (p.at.Equal(b.at) && id.String() < best.String()) {
			best, b = id, p
		}
	}
	return best, b.gen, best != uuid.Nil
}

// Record writes and records the insight of dialog id if one is due (it
// closed or was handed off since its last one), and returns it; nothing
// (nil) when none is due or the contact was erased. The Analyst's failure
// or an answer that does not read falls back to the rules; err is the
// log's or ctx's.
func (s *Insights) Record(ctx context.Context, id uuid.UUID) (*domain.InsightsRecorded, error) {
	h := s.cfg.H
	d, err := h.LoadDialog(ctx, id)
	if err != nil {
		return nil, err
	}
	graph := domain.GraphOf(s.cfg.Scenario)
	if !d.Exists || !d.InsightDue(graph) {
		return nil, nil
	}
	c, err := h.LoadContact(ctx, d.ContactID)
	if err != nil {
		return nil, err
	}
	if c.Forgotten {
		return nil, nil // nothing of an erased person is written again
	}
	in, err := s.input(ctx, d)
	if err != nil {
		return nil, err
	}
	out, usage, by := s.write(ctx, d, in)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	evs, err := h.Dialog(ctx, d.ID, d.ContactID, domain.RecordInsights{Summary: out.Summary, LossReason: out.LossReason,
		Objections: out.Objections, Known: s.cfg.Scenario.ObjectionIDs(), By: by, Usage: usage, Graph: graph})
	if err != nil {
		return nil, fmt.Errorf("engine: record the insight of dialog %d: %w", d.N, err)
	}
	for _, e := range evs {
		if r, ok := e.(domain.InsightsRecorded); ok {
			s.cfg.Log.Info("engine: insight recorded", "dialog", d.N, "by", r.By, "objections", len(r.Objections))
			return &r, nil
		}
	}
	return nil, nil
}

// write asks the Analyst, and the rules when it fails.
func (s *Insights) write(ctx context.Context, d domain.Dialog, in domain.InsightInput) (domain.InsightOutput, domain.Usage, string) {
	if a := s.cfg.Analyst; a != nil {
		if _, offline := a.(*offline.Engine); !offline {
			actx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
			out, usage, err := a.Insight(actx, in)
			cancel()
			if err == nil {
				return out, usage, domain.InsightByLLM
			}
			if ctx.Err() != nil {
				return domain.InsightOutput{}, usage, ""
			}
			// The reason may quote the model's answer: only its kind is logged.
			kind := "unavailable"
			if errors.Is(err, domain.ErrModelOutputInvalid) {
				kind = "invalid answer"
			}
			s.cfg.Log.Warn("engine: the model wrote no insight; the rules write it", "dialog", d.N, "why", kind)
		}
	}
	out, usage, _ := s.rules.Insight(ctx, in)
	return out, usage, domain.InsightByRules
}

// input is the dialog as it ended: its transcript, the stage it reached,
// how and why it ended.
func (s *Insights) input(ctx context.Context, d domain.Dialog) (domain.InsightInput, error) {
	evs, _, err := s.cfg.H.Log.Load(ctx, domain.DialogStream(d.ID))
	if err != nil {
		return domain.InsightInput{}, fmt.Errorf("engine: load dialog %d: %w", d.N, err)
	}
	in := domain.InsightInput{Scenario: s.cfg.Scenario, Reached: domain.StageOpening, Qual: d.Qual}
	switch {
	case d.Stage == domain.StageClosed:
		in.Outcome = d.Outcome
	case d.Nurturing(domain.GraphOf(s.cfg.Scenario)):
		in.Nurture = true
	default:
		in.Handoff = true
	}
	var lead []string
	for _, e := range evs {
		switch e := e.(type) {
		case domain.InboundReceived:
			in.Transcript = append(in.Transcript, domain.Line{Role: domain.RoleLead, Text: e.Text})
			lead = append(lead, e.Text)
		case domain.OutboundPlanned:
			role := domain.RoleAssistant
			if e.By == domain.ActorManager {
				role = domain.RoleManager
			}
			in.Transcript = append(in.Transcript, domain.Line{Role: role, Text: e.Text})
		case domain.OutboundObserved:
			in.Transcript = append(in.Transcript, domain.Line{Role: domain.RoleManager, Text: e.Text})
		case domain.StageChanged:
			if !slices.Contains([]domain.Stage{domain.StageHandoff, domain.StageClosed}, e.To) {
				in.Reached = e.To
			}
		case domain.DialogReleased:
			in.Reached = e.To
		case domain.HandoffRequested:
			in.Reason = e.Reason
		case domain.DialogClosed:
			in.Reason = e.Reason
		}
	}
	in.Language = domain.DetectLanguage(s.cfg.Scenario.Language, lead...)
	return in, nil
}
