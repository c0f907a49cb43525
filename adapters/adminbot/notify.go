package adminbot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mymmrac/telego"
	ta "github.com/mymmrac/telego/telegoapi"
	tu "github.com/mymmrac/telego/telegoutil"

	"github.com/salesbot/salesbot/adapters/clock"
)

// maxQueued bounds the notices waiting to be sent; past it the oldest go
// (and the next batch says how many).
const maxQueued = 1000

// notices batches admin notices: a burst becomes one message per admin.
type notices struct {
	mu      sync.Mutex
	queue   []Notice
	dropped int
	wake    chan struct{}
}

// Notify queues a notice for every admin; it never blocks. Notices go out
// in batches at most once per NoticeInterval.
func (b *Bot) Notify(n Notice) {
	b.notes.mu.Lock()
	if len(b.notes.queue) >= maxQueued {
		b.notes.queue = b.notes.queue[1:]
		b.notes.dropped++
	}
	b.notes.queue = append(b.notes.queue, n)
	b.notes.mu.Unlock()
	select {
	case b.notes.wake <- struct{}{}:
	default:
	}
}

// RunNotices sends the queued notices until ctx ends, without taking
// updates: a node of several on one log whose bot does not poll (only
// the leader's does; Telegram gives updates to one poller) still tells
// the admins what its accounts did.
func (b *Bot) RunNotices(ctx context.Context) error {
	b.sendNotices(ctx)
	return nil
}

// sendNotices sends queued notices until ctx ends: it waits for the first,
// gathers what else arrives within the interval, and sends one batch.
func (b *Bot) sendNotices(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.notes.wake:
		}
		if clock.Sleep(ctx, b.cfg.NoticeInterval) != nil {
			return
		}
		b.flushNotices(ctx)
	}
}

// flushNotices sends what is queued now, as one message (split if long)
// to each admin.
func (b *Bot) flushNotices(ctx context.Context) {
	b.notes.mu.Lock()
	batch, dropped := b.notes.queue, b.notes.dropped
	b.notes.queue, b.notes.dropped = nil, 0
	b.notes.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	var (
		sb      strings.Builder
		buttons []telego.InlineKeyboardButton
		seen    = map[int64]bool{}
	)
	sb.WriteString("<b>salesbot</b>\n")
	for _, n := range batch {
		if n.Dialog != 0 && !seen[n.Dialog] && len(buttons) < 8 {
			seen[n.Dialog] = true
			buttons = append(buttons, tu.InlineKeyboardButton(fmt.Sprintf("View %d", n.Dialog)).WithCallbackData(fmt.Sprintf("view %d", n.Dialog)))
		}
		sb.WriteString("• ")
		if n.Label != "" {
			fmt.Fprintf(&sb, "[%s] ", Escape(n.Label))
		}
		sb.WriteString(Escape(n.Text))
		if n.Dialog != 0 {
			fmt.Fprintf(&sb, " — /view %d", n.Dialog)
		}
		sb.WriteString("\n")
	}
	if dropped > 0 {
		fmt.Fprintf(&sb, "(%d older notices were dropped in a burst; see the log)\n", dropped)
	}
	r := reply{text: sb.String()}
	if len(buttons) > 0 {
		r.buttons = tu.InlineKeyboard(tu.InlineKeyboardCols(4, buttons...)...)
	}
	// A handoff also brings the lead card (a few per batch, so a burst
	// stays one screen).
	var cards []reply
	for _, n := range batch {
		if n.Kind == "handoff" && n.Dialog != 0 && len(cards) < 3 {
			if card, err := b.view(ctx, n.Dialog); err == nil {
				cards = append(cards, card)
			}
		}
	}
	for id := range b.cfg.Admins {
		b.reply(ctx, id, r)
		for _, c := range cards {
			b.reply(ctx, id, c)
		}
	}
}

// retry runs a Bot API call, waiting as long as a 429 answer says (at most
// three times, at most a minute each).
func (b *Bot) retry(ctx context.Context, call func() error) error {
	for attempt := 0; ; attempt++ {
		err := call()
		var apiErr *ta.Error
		if err == nil || attempt >= 3 || !errors.As(err, &apiErr) || apiErr.ErrorCode != 429 {
			return err
		}
		wait := time.Second
		if apiErr.Parameters != nil && apiErr.Parameters.RetryAfter > 0 {
			wait = time.Duration(apiErr.Parameters.RetryAfter) * time.Second
		}
		if wait > time.Minute {
			return err // not retrying early; the caller logs it
		}
		b.log.Warn("adminbot: the Bot API asks to slow down", "retry_after", wait)
		if clock.Sleep(ctx, wait) != nil {
			return err
		}
	}
}
