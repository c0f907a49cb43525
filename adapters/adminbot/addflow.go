package adminbot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/mymmrac/telego"
	tu "github.com/mymmrac/telego/telegoutil"

	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/domain"
)

// flowTimeout bounds each step of a guided flow.
const flowTimeout = 10 * time.Minute

// addFlow is one owner's /account_add in progress: the phone, then the
// login code, then the 2FA password if the account has one. Answers the
// owner types arrive on in; the code and password messages are deleted
// once read.
type addFlow struct {
	in     chan string
	cancel context.CancelFunc
}

type flows struct {
	mu sync.Mutex
	by map[int64]*addFlow // owner's user id → flow
}

func (f *flows) get(user int64) *addFlow {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.by[user]
}

func (f *flows) cancelAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fl := range f.by {
		fl.cancel()
	}
}

func (f *flows) set(user int64, fl *addFlow) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.by == nil {
		f.by = map[int64]*addFlow{}
	}
	if old := f.by[user]; old != nil && fl != nil {
		old.cancel()
	}
	if fl == nil {
		delete(f.by, user)
		return
	}
	f.by[user] = fl
}

// feed hands a non-command message to the user's flow; it reports whether
// there was one.
func (b *Bot) feed(ctx context.Context, chat, user int64, msg *telego.Message, secret bool) bool {
	fl := b.flows.get(user)
	if fl == nil {
		return false
	}
	if msg.Text == "" {
		b.reply(ctx, chat, reply{text: "Please answer with text, or /cancel."})
		return true
	}
	if secret {
		// A login code or password must not stay in the chat.
		_ = b.retry(ctx, func() error {
			return b.api.DeleteMessage(ctx, &telego.DeleteMessageParams{ChatID: tu.ID(chat), MessageID: msg.MessageID})
		})
	}
	select {
	case fl.in <- strings.TrimSpace(msg.Text):
	default:
		b.reply(ctx, chat, reply{text: "One moment: the previous answer is still being checked."})
	}
	return true
}

// startAddFlow runs /account_add for an owner in the background.
func (b *Bot) startAddFlow(ctx context.Context, chat, user int64) reply {
	if b.cfg.Accounts == nil {
		return reply{text: "No Telegram accounts run in this process; use salesbot accounts add."}
	}
	fctx, cancel := context.WithCancel(ctx) // ends with the bot
	fl := &addFlow{in: make(chan string, 1), cancel: cancel}
	b.flows.set(user, fl)
	b.work.Add(1)
	go func() {
		defer b.work.Done()
		defer func() {
			cancel()
			b.flows.mu.Lock()
			if b.flows.by[user] == fl {
				delete(b.flows.by, user)
			}
			b.flows.mu.Unlock()
		}()
		msg := b.addAccount(fctx, chat, fl)
		// The closing word goes out even when the flow was cancelled.
		sctx, stop := context.WithTimeout(context.WithoutCancel(fctx), 30*time.Second)
		defer stop()
		b.reply(sctx, chat, reply{text: msg})
	}()
	return reply{text: "Send the account's phone number in international format and a label for it, like <code>+4915112345678 sales-4</code>. /cancel stops."}
}

var phonePattern = regexp.MustCompile(`^\+?[0-9]{7,15}$`)

// waitFirst waits for an answer without dropping one already sent.
func (fl *addFlow) waitFirst(ctx context.Context) (string, error) {
	t := time.NewTimer(flowTimeout)
	defer t.Stop()
	select {
	case s := <-fl.in:
		return s, nil
	case <-t.C:
		return "", errors.New("no answer for 10 minutes")
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// ask waits for the owner's next answer; anything sent before the
// question is dropped.
func (fl *addFlow) ask(ctx context.Context) (string, error) {
	select {
	case <-fl.in:
	default:
	}
	return fl.waitFirst(ctx)
}

// addAccount runs the steps and returns the closing message.
func (b *Bot) addAccount(ctx context.Context, chat int64, fl *addFlow) string {
	var phone, label string
	for {
		first, err := fl.waitFirst(ctx)
		if errors.Is(err, context.Canceled) {
			return "Account not added: cancelled."
		}
		if err != nil {
			return "Account not added: " + Escape(err.Error()) + "."
		}
		fields := strings.Fields(first)
		if len(fields) > 0 && phonePattern.MatchString(fields[0]) {
			phone, label = fields[0], strings.Join(fields[1:], " ")
			break
		}
		b.reply(ctx, chat, reply{text: "That is not a phone number: send it as +4915112345678 (no spaces), then the label. /cancel stops."})
	}
	if label == "" {
		label = "account-" + phone[len(phone)-4:]
	}
	_, self, err := b.cfg.Accounts.Add(ctx, label, telegram.PhoneLogin{
		Phone: phone,
		Code: func(ctx context.Context) (string, error) {
			b.reply(ctx, chat, reply{text: "Telegram sent a login code to the account's app. Send it here; the message is deleted once read. " +
				"(Type it with spaces, like 1 2 3 4 5: Telegram voids codes sent as they are.)"})
			code, err := fl.ask(ctx)
			return strings.ReplaceAll(code, " ", ""), err
		},
		Password: func(ctx context.Context) (string, error) {
			b.reply(ctx, chat, reply{text: "The account has a 2FA password. Send it here; the message is deleted once read."})
			return fl.ask(ctx)
		},
	}, domain.DefaultLimits())
	if err != nil {
		b.log.Warn("adminbot: account_add failed", "err", err)
		switch {
		case errors.Is(err, telegram.ErrNotRegistered):
			return "Account not added: that phone number has no Telegram account."
		case errors.Is(err, context.Canceled):
			return "Account not added: cancelled."
		}
		return "Account not added: " + Escape(answer(err))
	}
	who := strings.TrimSpace(self.Name)
	if self.Username != "" {
		who += " @" + self.Username
	}
	return fmt.Sprintf("Account %s added, signed in as %s, with the default limits (see /accounts). It connects now.", Escape(label), Escape(who))
}
