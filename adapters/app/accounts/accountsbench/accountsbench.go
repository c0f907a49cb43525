// Package accountsbench measures the accounts service on this machine
// ('salesbot bench accounts'): it runs a sandbox Telegram in the process
// and connects N company accounts to it through the real MTProto client,
// as 'salesbot run' does; leads write to the accounts (inbound message →
// stored event latency), then every dialog gets one reply through the
// outbox (planned → sent). A new auth key costs about 0.6 s of CPU, so the
// first run signs the accounts in once and keeps their sessions (and the
// sandbox's users and keys, in sandbox.json) in the data directory; later
// runs reconnect with them. Resident memory per account is measured
// across connecting them, the sandbox server's share included.
package accountsbench

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/storebench"
)

// Result is what a run measured ('bench accounts' prints it).
type Result struct {
	Accounts        int     `json:"accounts"`
	NewSessions     int     `json:"new_sessions"` // signed in this run (first run: all)
	SignInSeconds   float64 `json:"sign_in_seconds"`
	ConnectSeconds  float64 `json:"connect_seconds"`
	RSSBeforeMiB    float64 `json:"rss_before_mib"`
	RSSConnectedMiB float64 `json:"rss_connected_mib"`
	RSSPerAccountKi float64 `json:"rss_per_account_kib"`
	Rate            float64 `json:"rate"` // offered inbound messages/s (0 = unthrottled)
	Messages        int     `json:"messages"`
	MessagesPerSec  float64 `json:"messages_per_sec"`
	InboundP50ms    float64 `json:"inbound_p50_ms"`
	InboundP99ms    float64 `json:"inbound_p99_ms"`
	// Delivery is the part from the sandbox to salesbot's handler (MTProto,
	// the updates manager); the rest of inbound is recording the event.
	DeliveryP50ms float64 `json:"delivery_p50_ms"`
	DeliveryP99ms float64 `json:"delivery_p99_ms"`
	Replies       int     `json:"replies"`
	RepliesPerSec float64 `json:"replies_per_sec"`
	ReplyP99ms    float64 `json:"reply_p99_ms"`
}

// String is the result on four lines (no newline after the last), as
// 'salesbot bench accounts' prints it.
func (r Result) String() string {
	return fmt.Sprintf("accounts %d (new sessions %d, sign-in %.1fs), connected in %.2fs\n", r.Accounts, r.NewSessions, r.SignInSeconds, r.ConnectSeconds) +
		fmt.Sprintf("memory   %.0f MiB → %.0f MiB: %.0f KiB per connected account\n", r.RSSBeforeMiB, r.RSSConnectedMiB, r.RSSPerAccountKi) +
		fmt.Sprintf("inbound  %d messages offered at %.0f/s (0 = unthrottled): %.0f/s stored, p50 %.2fms p99 %.2fms\n", r.Messages, r.Rate, r.MessagesPerSec, r.InboundP50ms, r.InboundP99ms) +
		fmt.Sprintf("replies  %d sent, %.0f/s, planned→sent p99 %.2fms", r.Replies, r.RepliesPerSec, r.ReplyP99ms)
}

// Config configures a run.
type Config struct {
	Store *eventstore.PebbleStore // the log, its sessions kept from run to run
	Dir   string                  // the sandbox keeps its users and keys in Dir/sandbox.json
	Log   *slog.Logger
	// Accounts connected; Messages inbound messages exchanged (0: 5 per
	// account); Parallel sign-ins and senders at once; Rate inbound
	// messages a second across all accounts (0: as fast as possible).
	Accounts, Messages, Parallel int
	Rate                         float64
	// Profile, if set, starts a CPU profile of the message exchange and
	// returns its stop.
	Profile func() (stop func(), err error)
}

// Run measures cfg.Accounts sandbox accounts at work; see the package
// doc.
func Run(ctx context.Context, cfg Config) (Result, error) {
	n, messages, parallel, rate := cfg.Accounts, cfg.Messages, cfg.Parallel, cfg.Rate
	if messages == 0 {
		messages = 5 * n
	}
	res := Result{Accounts: n, Rate: rate}
	st := cfg.Store
	sb, err := telegramtest.New(ctx, telegramtest.Options{StateFile: filepath.Join(cfg.Dir, "sandbox.json")})
	if err != nil {
		return res, err
	}
	defer sb.Close()
	d := &telegram.Dialer{AppID: 1, AppHash: "sandbox", Options: sb.ClientOptions(), Secrets: st, IndexKey: st.IndexKey(), Log: cfg.Log}
	h := domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: time.Now}

	// Accounts: reuse those of an earlier run, sign in the rest.
	rows, err := accounts.List(ctx, st, time.Now())
	if err != nil {
		return res, err
	}
	have := map[string]bool{}
	for _, r := range rows {
		if r.Session && r.Status != string(domain.StatusLost) {
			have[r.Label] = true
		}
	}
	var todo []int
	for i := 1; i <= n; i++ {
		if !have[fmt.Sprintf("bench-%d", i)] {
			todo = append(todo, i)
		}
	}
	res.NewSessions = len(todo)
	limits := domain.Limits{TimeZone: "UTC", StartMinute: 0, EndMinute: 24 * 60}
	took, _, err := storebench.Workers(parallel, func(w int) ([]time.Duration, error) {
		for k := w; k < len(todo); k += parallel {
			i := todo[k]
			phone := fmt.Sprintf("+1999%07d", i)
			if _, err := sb.LookupPhone(phone); err != nil { // a user of an earlier run is kept in sandbox.json
				if _, err := sb.AddUser(telegramtest.UserSpec{Phone: phone, FirstName: fmt.Sprintf("Bench %d", i)}); err != nil {
					return nil, err
				}
			}
			signIn := func(ctx context.Context, id uuid.UUID) (telegram.Peer, error) {
				return d.LoginPhone(ctx, id, telegram.PhoneLogin{Phone: phone,
					Code: func(context.Context) (string, error) { return sb.LoginCode(phone), nil }})
			}
			if _, err := accounts.Add(ctx, st, h, accounts.AddRequest{Label: fmt.Sprintf("bench-%d", i), Phone: phone, Limits: limits, SignIn: signIn}); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	if err != nil {
		return res, fmt.Errorf("sign in: %w", err)
	}
	res.SignInSeconds = took.Seconds()

	// Leads: one per account, each writing to its account.
	leads := make([]telegramtest.User, n)
	accUsers := make([]int64, n)
	for i := range n {
		u, err := sb.AddPersona(telegramtest.UserSpec{Username: fmt.Sprintf("bench_lead_%d", i+1)}, telegramtest.Persona{Reply: func(telegramtest.Incoming) []string { return nil }})
		if err != nil {
			u, err = sb.Lookup(fmt.Sprintf("bench_lead_%d", i+1))
			if err != nil {
				return res, err
			}
		}
		leads[i] = u
		acc, err := sb.LookupPhone(fmt.Sprintf("+1999%07d", i+1))
		if err != nil {
			return res, err
		}
		accUsers[i] = acc.ID
	}

	runtime.GC()
	debug.FreeOSMemory()
	res.RSSBeforeMiB = rssMiB()
	// Inbound latency: from SendAs until the message is recorded durably
	// (the service's OnInbound); replies: planned → sent, recorded times.
	var (
		mu      sync.Mutex
		sentAt  = map[string]time.Time{}
		inLat   []time.Duration
		planned = map[int64]time.Time{}
		outLat  []time.Duration
	)
	seen := make(chan struct{}, 1024)
	onInbound := func(_ uuid.UUID, m telegram.Message) {
		now := time.Now()
		mu.Lock()
		if t0, ok := sentAt[m.Text]; ok {
			inLat = append(inLat, now.Sub(t0))
			delete(sentAt, m.Text)
		}
		mu.Unlock()
		select {
		case seen <- struct{}{}:
		default:
		}
	}
	var delivered []time.Duration
	runner := runnerFunc(func(ctx context.Context, id uuid.UUID, o telegram.RunOptions) error {
		h := o.Handler
		o.Handler = func(ctx context.Context, m telegram.Message) error {
			now := time.Now()
			mu.Lock()
			if t0, ok := sentAt[m.Text]; ok {
				delivered = append(delivered, now.Sub(t0))
			}
			mu.Unlock()
			return h(ctx, m)
		}
		return d.Run(ctx, id, o)
	})
	svc, err := accounts.New(accounts.Config{Store: st, Runner: runner, OnInbound: onInbound, TypingDelay: func(string) time.Duration { return 0 }})
	if err != nil {
		return res, err
	}
	ctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- svc.Run(ctx) }()
	defer func() {
		stop()
		<-done
	}()
	if !svc.WaitConnected(ctx, n) {
		return res, ctx.Err()
	}
	res.ConnectSeconds = time.Since(start).Seconds()
	runtime.GC()
	debug.FreeOSMemory()
	res.RSSConnectedMiB = rssMiB()
	res.RSSPerAccountKi = (res.RSSConnectedMiB - res.RSSBeforeMiB) * 1024 / float64(n)

	dec := eventlog.New(st)
	sub := eventstore.Subscribe(st, st.Head()+1, 1024)
	go func() {
		for {
			recs, err := sub.Next(ctx)
			if err != nil {
				return
			}
			for i := range recs {
				r := &recs[i]
				switch r.Type {
				case "OutboundPlanned", "OutboundSent":
				default:
					continue
				}
				e, err := dec.Decode(r)
				if err != nil {
					continue
				}
				mu.Lock()
				switch e := e.(type) {
				case domain.OutboundPlanned:
					planned[e.RandomID] = r.RecordedAt
				case domain.OutboundSent:
					if t0, ok := planned[e.RandomID]; ok {
						outLat = append(outLat, r.RecordedAt.Sub(t0))
					}
				}
				mu.Unlock()
				select {
				case seen <- struct{}{}:
				default:
				}
			}
		}
	}()
	waitFor := func(what string, cond func() bool) error {
		deadline := time.Now().Add(5 * time.Minute)
		for !cond() {
			if time.Now().After(deadline) {
				return fmt.Errorf("bench accounts: timed out waiting for %s", what)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-seen:
			case <-time.After(50 * time.Millisecond):
			}
		}
		return nil
	}
	send := func(seq int) error {
		i := seq % n
		text := "bench " + strconv.Itoa(seq) + " " + uuid.NewString()[:8]
		mu.Lock()
		sentAt[text] = time.Now()
		mu.Unlock()
		_, err := sb.SendAs(leads[i].ID, accUsers[i], text)
		return err
	}
	// Warm-up: the first message from each lead opens its dialog.
	for i := range n {
		if err := send(i); err != nil {
			return res, err
		}
	}
	if err := waitFor("the first messages", func() bool { mu.Lock(); defer mu.Unlock(); return len(inLat) >= n }); err != nil {
		return res, err
	}
	mu.Lock()
	inLat, delivered = inLat[:0], delivered[:0]
	mu.Unlock()

	if cfg.Profile != nil {
		stop, err := cfg.Profile()
		if err != nil {
			return res, err
		}
		defer stop()
	}
	start = time.Now()
	_, _, err = storebench.Workers(parallel, func(w int) ([]time.Duration, error) {
		for seq := n + w; seq < n+messages; seq += parallel {
			if rate > 0 { // an open-loop schedule: message k goes out at k/rate
				if d := time.Until(start.Add(time.Duration(float64(seq-n) / rate * float64(time.Second)))); d > 0 {
					time.Sleep(d)
				}
			}
			if err := send(seq); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	if err != nil {
		return res, err
	}
	if err := waitFor("inbound messages", func() bool { mu.Lock(); defer mu.Unlock(); return len(inLat) >= messages }); err != nil {
		return res, err
	}
	res.Messages = messages
	res.MessagesPerSec = float64(messages) / time.Since(start).Seconds()
	mu.Lock()
	p50, p99 := storebench.Percentiles(inLat)
	mu.Unlock()
	res.InboundP50ms, res.InboundP99ms = p50/1e3, p99/1e3
	mu.Lock()
	p50, p99 = storebench.Percentiles(delivered)
	mu.Unlock()
	res.DeliveryP50ms, res.DeliveryP99ms = p50/1e3, p99/1e3

	// Replies: one per dialog through the outbox.
	byLabel := map[string]uuid.UUID{}
	if rows, err = accounts.List(ctx, st, time.Now()); err != nil {
		return res, err
	}
	for _, r := range rows {
		byLabel[r.Label] = r.ID
	}
	start = time.Now()
	for i := range n {
		link, found, err := h.DialogOfPeer(ctx, byLabel[fmt.Sprintf("bench-%d", i+1)], leads[i].ID)
		if err != nil || !found {
			return res, fmt.Errorf("bench accounts: dialog of lead %d: %v", i+1, err)
		}
		c, err := h.LoadContact(ctx, link.ContactID)
		if err != nil {
			return res, err
		}
		if _, err := h.Dialog(ctx, link.DialogID, link.ContactID, domain.PlanOutbound{RandomID: accounts.RandomID(), Text: "Thanks for writing!", By: domain.ActorManager, Contact: c}); err != nil {
			return res, err
		}
	}
	if err := waitFor("replies", func() bool { mu.Lock(); defer mu.Unlock(); return len(outLat) >= n }); err != nil {
		return res, err
	}
	res.Replies = n
	res.RepliesPerSec = float64(n) / time.Since(start).Seconds()
	mu.Lock()
	_, p99 = storebench.Percentiles(outLat)
	mu.Unlock()
	res.ReplyP99ms = p99 / 1e3
	return res, nil
}

// rssMiB is this process's resident memory.
func rssMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// runnerFunc adapts a function to accounts.Runner.
type runnerFunc func(ctx context.Context, id uuid.UUID, o telegram.RunOptions) error

func (f runnerFunc) Run(ctx context.Context, id uuid.UUID, o telegram.RunOptions) error {
	return f(ctx, id, o)
}
