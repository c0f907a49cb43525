package campaigns

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// Self-optimizing campaigns (domain.Goal): the scheduler folds the
// outcomes of each such campaign's dialogs from the log and, every
// ReweightEvery new outcomes or every ReweightInterval when any came,
// asks the campaign's decider to reweight (domain.ReweightCampaign); the
// CampaignWeightsChanged it records is folded back like any event, and
// new claims draw their variant by the campaign's current weights
// (domain.Campaign.CurrentWeights).
//
// A dialog counts for its variant's goal once its observation window has
// passed (Maturity: 1 day for replied, 3 for qualified, 14 for won), and
// it counts as a success if it reached the goal at any time (a deal won
// later turns it into one). A dialog opened a minute ago has not failed
// to reply, it has not had the time; and counting early successes
// before the failures of the same dialogs would favour whichever variant
// opened more lately. Opt-outs (the lead's own) are counted at once,
// over every opened dialog, for the stop rule.

const (
	// ReweightEvery is how many new outcomes prompt a reweighting.
	ReweightEvery = 20
	// ReweightInterval: with fewer new outcomes, a reweighting at most
	// this often.
	ReweightInterval = 5 * time.Minute
	// countEvery is how often the outcomes are counted (a step comes
	// every second).
	countEvery = time.Minute
)

// Maturity is how long a dialog that has not reached the goal waits
// before it counts as a failure for it.
func Maturity(g domain.Goal) time.Duration {
	switch g {
	case domain.GoalReplied:
		return 24 * time.Hour
	case domain.GoalQualified:
		return 3 * 24 * time.Hour
	}
	return 14 * 24 * time.Hour
}

// armDialog is a dialog of a self-optimizing campaign, as its outcomes
// stand.
type armDialog struct {
	Variant                 string
	Started                 time.Time
	Replied, Qualified, Won bool
	OptedOut                bool // by the lead
	Ended                   bool
	Outcome                 bool // an OutcomeRecorded was folded: Won is the deal's
}

// bandit is what a campaign's optimizer keeps besides its dialogs.
type bandit struct {
	dialogs map[uuid.UUID]*armDialog
	// The outcomes (counted dialogs + successes + opt-outs) at the last
	// reweighting, and when it was; when they were last counted.
	seen    int
	at      time.Time
	counted time.Time
}

// outcomeTypes are the dialog events that change an outcome.
var outcomeTypes = map[string]bool{}

func init() {
	for _, e := range []domain.Event{domain.InboundReceived{}, domain.QualificationUpdated{}, domain.OutcomeRecorded{},
		domain.DialogOptedOut{}, domain.DialogClosed{}} {
		outcomeTypes[e.EventType()] = true
	}
}

// started adds a dialog a self-optimizing campaign opened.
func (s *Scheduler) started(c *campaign, e domain.DialogStarted, at time.Time) {
	if c.c.Optimize == domain.GoalNone {
		return
	}
	if c.bandit.dialogs == nil {
		c.bandit.dialogs = map[uuid.UUID]*armDialog{}
	}
	d := &armDialog{Variant: e.Variant, Started: at}
	c.bandit.dialogs[e.DialogID] = d
	s.armDialogs[e.DialogID] = d
}

// outcome folds an event of outcomeTypes into its dialog, if a
// self-optimizing campaign opened it; other dialogs' events are not even
// decoded (an inbound message's type says all).
func (s *Scheduler) outcome(r *eventstore.RecordedEvent) error {
	id, ok := domain.AggregateDialog.ID(r.Stream)
	if !ok {
		return nil
	}
	d := s.armDialogs[id]
	if d == nil {
		return nil
	}
	if r.Type == (domain.InboundReceived{}).EventType() {
		d.Replied = true
		return nil
	}
	e, err := s.cfg.Decode(r)
	if err != nil {
		return fmt.Errorf("campaigns: %w", err)
	}
	switch e := e.(type) {
	case domain.QualificationUpdated:
		if e.Qual.Score != nil && *e.Qual.Score >= projections.QualifiedScore {
			d.Qualified = true
		}
	case domain.OutcomeRecorded: // the deal's outcome wins over how the dialog closed
		d.Outcome, d.Won, d.OptedOut = true, e.Outcome == domain.OutcomeWon, false
	case domain.DialogOptedOut:
		if !d.Outcome && e.ByLead() {
			d.OptedOut = true
		}
	case domain.DialogClosed:
		if !d.Outcome {
			d.Won = e.Outcome == domain.OutcomeWon
		}
	}
	return nil
}

// Outcomes are a self-optimizing campaign's outcomes per variant at now,
// in the campaign's variant order, and their total (counted dialogs,
// successes and opt-outs: what a reweighting compares).
func (c *campaign) outcomes(now time.Time) ([]domain.ArmOutcomes, int) {
	arms := make([]domain.ArmOutcomes, len(c.c.Variants))
	at := map[string]int{}
	for i, v := range c.c.Variants {
		arms[i].Variant, at[v.Name] = v.Name, i
	}
	mature := Maturity(c.c.Optimize)
	total := 0
	for _, d := range c.bandit.dialogs {
		i, ok := at[d.Variant]
		if !ok {
			continue
		}
		a := &arms[i]
		a.Opened++
		if !now.Before(d.Started.Add(mature)) {
			a.Dialogs++
			total++
			if goalReached(c.c.Optimize, d) {
				a.Successes++
				total++
			}
		}
		if d.OptedOut {
			a.OptedOut++
			total++
		}
	}
	return arms, total
}

func goalReached(g domain.Goal, d *armDialog) bool {
	switch g {
	case domain.GoalReplied:
		return d.Replied
	case domain.GoalQualified:
		return d.Qualified
	case domain.GoalWon:
		return d.Won
	}
	return false
}

// reweight asks an active self-optimizing campaign's decider for new
// weights when ReweightEvery outcomes came since the last time, or any
// did and ReweightInterval passed. What it records is folded at once.
func (s *Scheduler) reweight(ctx context.Context, c *campaign, now time.Time) {
	if c.c.Optimize == domain.GoalNone || c.c.Status != domain.StatusCampaignActive || now.Sub(c.bandit.counted) < countEvery {
		return
	}
	c.bandit.counted = now
	arms, total := c.outcomes(now)
	news := total - c.bandit.seen
	if news <= 0 || (news < ReweightEvery && now.Sub(c.bandit.at) < ReweightInterval) {
		return
	}
	cmd := domain.ReweightCampaign{Outcomes: arms, Seed: seedOf(c.id, total), At: now,
		Reason: fmt.Sprintf("%s (%s)", plural(news, "new outcome"), c.c.Optimize)}
	evs, err := s.cfg.H.Campaign(ctx, c.id, cmd)
	if err != nil {
		s.log.Error("campaigns: reweight a campaign", "campaign", c.id, "err", fmt.Errorf("reweight campaign %s: %w", c.id, err))
		c.bandit.at = now // try again after the interval
		return
	}
	c.bandit.seen, c.bandit.at = total, now
	paused := len(c.c.Paused)
	for _, e := range evs {
		c.c = domain.EvolveCampaign(c.c, e)
		if w, ok := e.(domain.CampaignWeightsChanged); ok {
			s.log.Info("campaigns: weights changed", "campaign", c.id, "weights", domain.VariantsText(w.Weights), "paused", w.Paused)
			if len(w.Paused) > paused {
				s.notify("campaign-variant-paused", fmt.Sprintf("Campaign %q: %s", c.c.Name, w.Reason))
			}
		}
	}
}

// seedOf is a reweighting's random seed: the same campaign and outcomes
// give the same draw, so a replay decides alike.
func seedOf(id uuid.UUID, total int) uint64 {
	h := fnv.New64a()
	h.Write(id[:])
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(total)))
	return h.Sum64()
}
