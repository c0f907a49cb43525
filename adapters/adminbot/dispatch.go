package adminbot

import (
	"context"
	"fmt"
	"sync"

	"github.com/mymmrac/telego"
)

// maxPending bounds the updates waiting for one admin; past it new ones
// are dropped, and the admin is told to send them again.
const maxPending = 50

// queues hands each admin's updates to a worker of that admin's own, so
// one admin's slow command (an /export_all of many dialogs, a /start
// waiting for an account) never delays another admin's answer, while each
// admin's updates are handled one after the other in the order they came.
// A worker runs while its admin has updates waiting and ends when none are
// left; wg counts the running workers. There is at most one queue per
// admin id, so the map stays as small as the admin list.
type queues struct {
	mu sync.Mutex
	by map[int64]*queue
	wg sync.WaitGroup
}

// queue is one admin's waiting updates.
type queue struct {
	pending []telego.Update
	running bool // a worker is draining it
	dropped int  // updates refused since the admin was last told
}

// dispatch queues an update for its sender's worker and returns at once.
// Updates from anyone who is not an admin are not queued: Handle ignores
// them (and logs that) right here.
func (b *Bot) dispatch(ctx context.Context, u telego.Update) {
	user, ok := sender(u)
	if _, admin := b.cfg.Admins[user]; !ok || !admin {
		b.Handle(ctx, u)
		return
	}
	qs := &b.queue
	qs.mu.Lock()
	defer qs.mu.Unlock()
	if qs.by == nil {
		qs.by = map[int64]*queue{}
	}
	q := qs.by[user]
	if q == nil {
		q = &queue{}
		qs.by[user] = q
	}
	if len(q.pending) >= maxPending {
		q.dropped++
		b.log.Warn("adminbot: an admin's queue is full; update dropped", "user", user, "update", u.UpdateID, "waiting", len(q.pending))
		return
	}
	q.pending = append(q.pending, u)
	if !q.running {
		q.running = true
		qs.wg.Add(1)
		go b.drain(ctx, user, q)
	}
}

// drain handles the admin's updates in order until none are left or ctx
// ends (what is still waiting then is dropped: the bot is stopping).
func (b *Bot) drain(ctx context.Context, user int64, q *queue) {
	qs := &b.queue
	defer qs.wg.Done()
	for {
		qs.mu.Lock()
		if len(q.pending) == 0 || ctx.Err() != nil {
			if n := len(q.pending); n > 0 {
				b.log.Info("adminbot: stopping; updates not handled", "user", user, "updates", n)
			}
			q.pending, q.running = nil, false
			qs.mu.Unlock()
			return
		}
		u := q.pending[0]
		q.pending = q.pending[1:]
		dropped := q.dropped
		q.dropped = 0
		qs.mu.Unlock()
		if dropped > 0 {
			b.reply(ctx, user, reply{text: fmt.Sprintf("%d of your messages came while %d others were still waiting and were not handled; send them again once these are answered.", dropped, maxPending)})
		}
		b.Handle(ctx, u)
	}
}

// wait waits for every worker to end; the caller has made sure no more
// updates are dispatched (and usually ended their context).
func (qs *queues) wait() { qs.wg.Wait() }

// sender is the Telegram user an update comes from.
func sender(u telego.Update) (int64, bool) {
	switch {
	case u.Message != nil && u.Message.From != nil:
		return u.Message.From.ID, true
	case u.CallbackQuery != nil:
		return u.CallbackQuery.From.ID, true
	}
	return 0, false
}
