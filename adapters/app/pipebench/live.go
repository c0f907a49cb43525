package pipebench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/engine"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// replyWait bounds the wait for the live engine's reply to one message.
const replyWait = 10 * time.Second

// liveReplier waits for the running engine's reply: a follower of the log
// hands each dialog's turn, as recorded, to the lane waiting for it.
type liveReplier struct {
	debounce time.Duration
	decode   func(*eventstore.RecordedEvent) (domain.Event, error)

	mu      sync.Mutex
	waiters map[uuid.UUID]chan turnSeen
}

// turnSeen is a turn of a dialog as the log holds it.
type turnSeen struct {
	at      time.Time // when it was recorded
	planned []int64
	ended   bool
	err     error
}

// startLive runs the engine on store and a follower of the log; stop ends
// both and waits for them.
func startLive(ctx context.Context, cfg Config, core *engine.Core, store eventstore.Store, decode func(*eventstore.RecordedEvent) (domain.Event, error)) (*liveReplier, func(), error) {
	eng, err := engine.New(engine.Config{Core: core, Store: store, Decode: decode, Log: cfg.Log, Debounce: cfg.Debounce, Tick: cfg.Tick})
	if err != nil {
		return nil, nil, err
	}
	lr := &liveReplier{debounce: cfg.Debounce, decode: decode, waiters: map[uuid.UUID]chan turnSeen{}}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	sub := eventstore.Subscribe(store, store.Head()+1, 1024)
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := eng.Run(ctx); err != nil && ctx.Err() == nil {
			cfg.Log.Error("pipebench: the engine stopped", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		lr.follow(ctx, sub, cfg)
	}()
	stop := func() { cancel(); wg.Wait() }
	for !eng.Caught() { // the log is new: a moment
		select {
		case <-ctx.Done():
			stop()
			return nil, nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return lr, stop, nil
}

// follow reads the log and hands every dialog's turn to its waiter.
func (lr *liveReplier) follow(ctx context.Context, sub *eventstore.Subscription, cfg Config) {
	for {
		recs, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				cfg.Log.Error("pipebench: follow the log", "err", err)
			}
			return
		}
		seen := map[uuid.UUID]*turnSeen{}
		for i := range recs {
			r := &recs[i]
			id, ok := domain.AggregateDialog.ID(r.Stream)
			if !ok || !turnEvent[r.Type] {
				continue
			}
			t := seen[id]
			if t == nil {
				t = &turnSeen{at: r.RecordedAt}
				seen[id] = t
			}
			ev, err := lr.decode(r)
			if err != nil {
				t.err = fmt.Errorf("decode %s: %w", r.Type, err)
				continue
			}
			p, e := outcome([]domain.Event{ev})
			t.planned = append(t.planned, p...)
			t.ended = t.ended || e
		}
		lr.mu.Lock()
		for id, t := range seen {
			if w := lr.waiters[id]; w != nil {
				delete(lr.waiters, id)
				w <- *t
			}
		}
		lr.mu.Unlock()
	}
}

// turnEvent are the events a reply turn records (in one append).
var turnEvent = map[string]bool{}

func init() {
	for _, e := range []domain.Event{domain.TurnTaken{}, domain.OutboundPlanned{}, domain.HandoffRequested{},
		domain.DialogClosed{}, domain.DialogOptedOut{}, domain.TurnFailed{}} {
		turnEvent[e.EventType()] = true
	}
}

// expect registers the lane's dialog as waiting for a turn; it must come
// before the message is recorded.
func (lr *liveReplier) expect(id uuid.UUID) chan turnSeen {
	w := make(chan turnSeen, 1)
	lr.mu.Lock()
	lr.waiters[id] = w
	lr.mu.Unlock()
	return w
}

func (lr *liveReplier) reply(ctx context.Context, l *lane, due time.Time) (time.Duration, []int64, error) {
	w := l.wait
	l.wait = nil
	if w == nil {
		return 0, nil, errors.New("pipebench: the message was not expected")
	}
	defer func() {
		lr.mu.Lock()
		if lr.waiters[l.id] == w {
			delete(lr.waiters, l.id)
		}
		lr.mu.Unlock()
	}()
	select {
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	case <-time.After(replyWait):
		return 0, nil, fmt.Errorf("dialog %d: no reply planned within %s", l.n, replyWait)
	case t := <-w:
		if t.err != nil {
			return 0, nil, fmt.Errorf("dialog %d: %w", l.n, t.err)
		}
		l.ended = t.ended
		if len(t.planned) == 0 && !t.ended {
			return 0, nil, fmt.Errorf("dialog %d: the turn planned no reply", l.n)
		}
		return t.at.Sub(due) - lr.debounce, t.planned, nil
	}
}
