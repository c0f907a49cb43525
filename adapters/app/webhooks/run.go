package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	wire "github.com/salesbot/salesbot/adapters/webhooks"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// errStopped: a worker's subscription was disabled while it delivered.
var errStopped = errors.New("webhooks: subscription disabled")

// worker is a running delivery of one subscription.
type worker struct {
	cancel  context.CancelFunc
	done    chan struct{}
	replays int // the subscription's replays when it started
}

// Run delivers to every active subscription until ctx ends, then stops
// its workers, waits for them and returns nil. A worker that fails (the
// store failing, a secret missing) is logged and started again after
// MinBackoff. Call it once.
func (s *Service) Run(ctx context.Context) error {
	workers := map[uuid.UUID]*worker{}
	var wg sync.WaitGroup
	defer func() {
		for _, w := range workers {
			w.cancel()
		}
		wg.Wait()
	}()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for {
		var subs []domain.Webhook
		s.reg.Read(func(st domain.Webhooks) { subs = st.All() })
		restartLater := false
		for _, sub := range subs {
			w := workers[sub.ID]
			if w == nil {
				if sub.Active() {
					workers[sub.ID] = s.start(ctx, &wg, sub)
				}
				continue
			}
			ended := isDone(w)
			if !ended && sub.Active() && w.replays == sub.Replays {
				continue // delivering
			}
			w.cancel()
			<-w.done
			delete(workers, sub.ID)
			if sub.Removed {
				// Remove deleted them; the worker may have written its
				// checkpoint once more since.
				if err := s.forgetValues(ctx, sub.ID); err != nil && ctx.Err() == nil {
					s.logger.Error("webhook values left behind", "webhook", sub.ID, "error", err)
				}
			}
			switch {
			case !sub.Active():
			case ended && w.replays == sub.Replays:
				restartLater = true // it failed: start it again after a while
			default:
				workers[sub.ID] = s.start(ctx, &wg, sub) // a replay: from its new checkpoint
			}
		}
		if restartLater {
			retry.Reset(s.cfg.MinBackoff)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.changed:
		case <-retry.C:
		}
	}
}

func isDone(w *worker) bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

func (s *Service) start(ctx context.Context, wg *sync.WaitGroup, sub domain.Webhook) *worker {
	wctx, cancel := context.WithCancel(ctx)
	w := &worker{cancel: cancel, done: make(chan struct{}), replays: sub.Replays}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(w.done)
		err := s.deliver(wctx, sub)
		switch {
		case wctx.Err() != nil, errors.Is(err, errStopped):
		case err != nil:
			s.logger.Error("webhook delivery stopped", "webhook", sub.ID, "target", domain.WebhookTarget(sub.URL), "error", err)
		}
		s.poke()
	}()
	return w
}

// deliver follows the log for sub from its checkpoint until ctx ends or
// sub is disabled.
func (s *Service) deliver(ctx context.Context, sub domain.Webhook) error {
	raw, err := s.store.Secret(ctx, secretName(sub.ID))
	if err != nil {
		return fmt.Errorf("webhooks: signing secret of %s: %w", sub.ID, err)
	}
	secret, err := wire.ParseSecret(string(raw))
	if err != nil {
		return fmt.Errorf("webhooks: signing secret of %s: %w", sub.ID, err)
	}
	cp, found, err := s.loadCheckpoint(ctx, sub.ID)
	if err != nil {
		return err
	}
	dirty := false
	if !found {
		at, err := s.subscribedAt(ctx, sub.ID)
		if err != nil {
			return err
		}
		cp, dirty = checkpoint{Position: at}, true
	}
	if sub.Replays > cp.Replays {
		cp, dirty = checkpoint{Position: sub.ReplayFrom - 1, Replays: sub.Replays}, true
	}
	if dirty {
		if err := s.saveCheckpoint(ctx, sub.ID, cp); err != nil {
			return err
		}
	}
	follow := eventstore.Subscribe(s.store, cp.Position+1, s.cfg.Batch)
	for {
		recs, err := follow.Next(ctx)
		if err != nil {
			return err
		}
		for i := range recs {
			r := &recs[i]
			delivered, err := s.deliverOne(ctx, sub, secret, r)
			if err != nil {
				if dirty { // what was passed over before it
					if serr := s.saveCheckpoint(context.WithoutCancel(ctx), sub.ID, cp); serr != nil {
						s.logger.Warn("webhook checkpoint not kept: events may be delivered again", "webhook", sub.ID, "error", serr)
					}
				}
				return err
			}
			cp.Position, dirty = r.Position, true
			if delivered { // checkpoint a delivery now; events passed over once per batch
				if err := s.saveCheckpoint(context.WithoutCancel(ctx), sub.ID, cp); err != nil {
					return err
				}
				dirty = false
			}
		}
		if dirty { // events passed over: checkpoint once per batch
			if err := s.saveCheckpoint(ctx, sub.ID, cp); err != nil {
				return err
			}
			dirty = false
		}
	}
}

// deliverOne delivers r to sub if sub wants it (delivered: it did),
// retrying until it is delivered, ctx ends, or the retry window passes
// (then sub is disabled and errStopped returned).
func (s *Service) deliverOne(ctx context.Context, sub domain.Webhook, secret wire.Secret, r *eventstore.RecordedEvent) (delivered bool, err error) {
	if _, ok := wire.EventFor(r.Type); !ok {
		return false, nil
	}
	id := wire.MessageID(sub.ID, r.Position)
	var since time.Time
	for n := 0; ; n++ {
		start := s.cfg.Now()
		body, typ, ok, err := s.payloads.Build(ctx, r, sub.Wants, sub.Personal)
		if !ok && err == nil {
			return false, nil
		}
		var res wire.Result
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			res = wire.Result{Err: err}
		} else {
			res = s.sender.Send(ctx, sub.URL, secret, id, body)
		}
		a := Attempt{At: start, Position: r.Position, MessageID: id, Type: typ, Status: res.Status, Latency: res.Latency}
		if res.Err == nil { // delivered, even if ctx ended meanwhile: checkpoint it
			s.record(sub.ID, a)
			s.update(sub.ID, func(st *status) {
				st.delivered++
				st.lastSuccess, st.failingSince, st.lastError, st.nextAttempt = start, time.Time{}, "", time.Time{}
			})
			return true, nil
		}
		if ctx.Err() != nil {
			return false, ctx.Err() // stopped, not failed
		}
		a.Error = res.Err.Error()
		s.record(sub.ID, a)
		if since.IsZero() {
			since = start
		}
		now := s.cfg.Now()
		if now.Sub(since) >= s.cfg.RetryWindow {
			return false, s.disable(ctx, sub, r.Position, since, a.Error)
		}
		wait := s.backoff(n)
		if res.RetryAfter > 0 {
			wait = res.RetryAfter
		}
		wait = min(wait, since.Add(s.cfg.RetryWindow).Sub(now)) // the last attempt at the window's end
		s.update(sub.ID, func(st *status) {
			st.failingSince, st.lastError, st.nextAttempt = since, a.Error, now.Add(wait)
		})
		if n == 0 || n%10 == 0 {
			s.logger.Warn("webhook delivery failed", "webhook", sub.ID, "target", domain.WebhookTarget(sub.URL),
				"position", r.Position, "attempt", n+1, "status", res.Status, "error", a.Error, "retry_in", wait)
		}
		if err := s.cfg.Sleep(ctx, wait); err != nil {
			return false, err
		}
	}
}

// disable records that sub failed for the whole retry window and tells
// the admins.
func (s *Service) disable(ctx context.Context, sub domain.Webhook, pos uint64, since time.Time, reason string) error {
	cmd := domain.DisableWebhook{WebhookID: sub.ID, Reason: reason, Position: pos, Since: since}
	evs, err := s.reg.Execute(ctx, func() domain.WebhookCommand { return cmd })
	if err != nil {
		return fmt.Errorf("webhooks: disable %s: %w", sub.ID, err)
	}
	if len(evs) == 0 {
		return errStopped // removed or disabled meanwhile
	}
	target := domain.WebhookTarget(sub.URL)
	s.logger.Error("webhook disabled: its receiver failed for the whole retry window", "webhook", sub.ID, "target", target,
		"position", pos, "since", since, "error", reason)
	if s.cfg.Notice != nil {
		s.cfg.Notice(Notice{WebhookID: sub.ID, Target: target, Reason: reason, Since: since, Position: pos})
	}
	s.poke()
	return errStopped
}
