// Package demo is `salesbot demo`: the whole system on one machine against
// a sandbox Telegram (telegramtest) with three company accounts and about
// thirty lead personas, a contacts import, a campaign with the scenario's
// variants, a progress line and a summary read back from the read models,
// the log and what the personas received. It is also the sandbox world of
// 'salesbot run --sandbox' (Sandbox). The caller (cmd/salesbot) opens the
// log and builds the running system (System, adapters/app/system); this
// package plays it.
package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	gotd "github.com/gotd/td/telegram"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/accounts"
	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/domain/scenario"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// Limits are each demo account's limits: real caps and pacing, at any
// hour so the demo runs whenever it is started.
var Limits = domain.Limits{DailyNewDialogs: 15, MessagesPerMinute: 40, MinDelay: 300 * time.Millisecond,
	TimeZone: "UTC", StartMinute: 0, EndMinute: 24 * 60}

// Source is the source recorded on the demo's contacts.
const Source = "demo: the sandbox's lead personas (demo-leads.csv)"

// Typing is a short "typing…" for sandbox conversations, so they show
// within seconds.
func Typing(text string) time.Duration {
	return min(max(time.Duration(len([]rune(text)))*10*time.Millisecond, 300*time.Millisecond), 1500*time.Millisecond)
}

// System is salesbot at work on the demo's log, as the caller built it:
// the accounts, the engine, the scheduler and the read models.
type System interface {
	Accounts() *accounts.Service
	Handlers() domain.Handlers
	ReadModels() projections.Sink
	// Model says which model answers, for the output.
	Model() string
	// Run runs every part until ctx ends or one fails, with extra next to
	// them, and returns what failed.
	Run(ctx context.Context, extra ...func(context.Context)) error
}

// Config configures a demo run.
type Config struct {
	Store    *eventstore.PebbleStore // a new log
	DataDir  string                  // the log's directory: demo-leads.csv goes there; the summary names it
	Out      io.Writer
	Terminal bool // Out is a terminal: the progress line is redrawn in place
	Log      *slog.Logger
	Scenario *scenario.Scenario
	Window   time.Duration // the campaign's openings are spread over it
	Limit    time.Duration // the demo stops after this at the latest
	Keep     bool          // keep everything running after the summary, until ctx ends
	DSNGiven bool          // the read models are in a PostgreSQL the caller named (the summary does not repeat its DSN)
	// OnSandbox, if set, is handed the sandbox once it runs (tests).
	OnSandbox func(*telegramtest.Sandbox)
	// Start builds the system, its Telegram clients on the sandbox (tg).
	Start func(ctx context.Context, tg gotd.Options) (System, error)
}

// World is the demo's sandbox Telegram: the company's accounts, the
// personas and strangers who write in.
type World struct {
	sb        *telegramtest.Sandbox
	accounts  []telegramtest.User
	personas  []Persona
	users     map[string]telegramtest.User // by username
	strangers []telegramtest.User
}

// Run runs the demo: it prints what it does to cfg.Out, then (unless
// Keep) the summary once the conversations have settled, and returns the
// report; with Keep the summary is printed while everything runs on
// until ctx ends.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	started := time.Now()
	st, out := cfg.Store, cfg.Out
	fmt.Fprintf(out, "salesbot demo · data in %s · scenario %s %s\n", cfg.DataDir, cfg.Scenario.Name, cfg.Scenario.Version)
	h := domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: time.Now}
	w, err := newWorld(ctx, cfg, h)
	if err != nil {
		return nil, err
	}
	defer w.sb.Close()
	fmt.Fprintf(out, "Sandbox Telegram: %d company accounts, %d lead personas, %d strangers who will write in\n", len(w.accounts), len(w.personas), len(w.strangers))

	rep, err := importPersonas(ctx, h, w, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Imported %s: %d accepted, %d merged, %d skipped (do-not-contact), %d rejected — source %q, basis consent\n",
		"demo-leads.csv", rep.Accepted, rep.Merged, rep.Skipped(), len(rep.Rejected), Source)

	sys, err := cfg.Start(ctx, w.sb.ClientOptions())
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Engine: %s\n", sys.Model())
	sink := sys.ReadModels()

	runCtx, stopRun := context.WithTimeout(ctx, cfg.Limit)
	if cfg.Keep {
		runCtx, stopRun = context.WithCancel(ctx) // until Ctrl-C
	}
	defer stopRun()
	// The campaign starts once the accounts are connected, so its window
	// is spent opening dialogs, not waiting for logins.
	var (
		mu        sync.Mutex
		camp      domain.Campaign
		windowEnd time.Time
		launchErr error
	)
	launched := func() (domain.Campaign, time.Time, bool) {
		mu.Lock()
		defer mu.Unlock()
		return camp, windowEnd, !windowEnd.IsZero()
	}
	launch := func(ctx context.Context) {
		if !sys.Accounts().WaitConnected(ctx, len(w.accounts)) {
			return
		}
		c, err := createCampaign(ctx, sys.Handlers(), cfg)
		mu.Lock()
		camp, launchErr, windowEnd = c, err, time.Now().Add(cfg.Window)
		mu.Unlock()
		if err != nil {
			stopRun()
			return
		}
		fmt.Fprintf(out, "Campaign %q: %d contacts, variants %s, openings spread over %s within every account's caps\n\n",
			c.Name, len(w.personas), domain.VariantsText(c.Variants), cfg.Window)
		for i, s := range w.strangers {
			to := w.accounts[i%len(w.accounts)]
			if _, err := w.sb.SendAs(s.ID, to.ID, []string{"Hi, I saw your post about sales analytics. What exactly do you offer?", "Здравствуйте! Сколько стоит ваш сервис?"}[i%2]); err != nil {
				cfg.Log.Warn("demo: a stranger could not write", "err", err)
			}
		}
	}
	var report *Report
	settled := func(ctx context.Context) {
		if !cfg.Keep {
			stopRun() // the summary follows once everything has stopped
			return
		}
		c, _, _ := launched()
		r, err := buildReport(ctx, st, sink, w, c, time.Since(started))
		if err != nil {
			cfg.Log.Error("demo: summary", "err", err)
			return
		}
		report = r
		r.WriteSummary(out, cfg.DataDir, cfg.rebuildDSN())
		fmt.Fprintln(out, "\n--keep: salesbot and the sandbox keep running; Ctrl-C stops them.")
	}
	watch := func(ctx context.Context) {
		progress(ctx, cfg, sys, launched, started, settled)
	}
	if err := sys.Run(runCtx, watch, launch); err != nil {
		return nil, err
	}
	if launchErr != nil {
		return nil, launchErr
	}
	if _, _, ok := launched(); !ok && ctx.Err() == nil {
		return nil, fmt.Errorf("demo: the sandbox accounts did not connect within %s", cfg.Limit)
	}
	if cfg.Keep || ctx.Err() != nil {
		return report, nil // the summary was printed while running, or interrupted before it
	}
	c, _, _ := launched()
	r, err := buildReport(ctx, st, sink, w, c, time.Since(started))
	if err != nil {
		return nil, err
	}
	r.WriteSummary(out, cfg.DataDir, cfg.rebuildDSN())
	return r, nil
}

// rebuildDSN is the DSN the summary suggests for a PostgreSQL rebuild:
// the local test database, or (never printed: it may hold a password) the
// one the demo used.
func (cfg Config) rebuildDSN() string {
	if cfg.DSNGiven {
		return "<the DSN you gave>"
	}
	return "postgres://postgres@127.0.0.1/test"
}

// newWorld starts the sandbox Telegram with the company's accounts
// (signed in and registered) and the personas.
func newWorld(ctx context.Context, cfg Config, h domain.Handlers) (*World, error) {
	sb, err := telegramtest.New(ctx, telegramtest.Options{Logger: cfg.Log})
	if err != nil {
		return nil, err
	}
	w := &World{sb: sb, personas: Personas(), users: map[string]telegramtest.User{}}
	fail := func(err error) (*World, error) {
		sb.Close()
		return nil, err
	}
	if w.accounts, err = AddAccounts(ctx, sb, cfg.Store, h, cfg.Log, 3, Limits); err != nil {
		return fail(err)
	}
	for _, p := range w.personas {
		first, last, _ := strings.Cut(p.Name, " ")
		u, err := sb.AddPersona(telegramtest.UserSpec{Username: p.Username, FirstName: first, LastName: last},
			telegramtest.Persona{Reply: p.Script(), Delay: 400 * time.Millisecond})
		if err != nil {
			return fail(err)
		}
		w.users[p.Username] = u
	}
	for i := 1; i <= 2; i++ {
		u, err := sb.AddUser(telegramtest.UserSpec{Username: fmt.Sprintf("demo_stranger_%d", i), FirstName: fmt.Sprintf("Stranger %d", i)})
		if err != nil {
			return fail(err)
		}
		w.strangers = append(w.strangers, u)
	}
	if cfg.OnSandbox != nil {
		cfg.OnSandbox(sb)
	}
	return w, nil
}

// Secrets is the log with its secrets, where sessions are kept.
type Secrets interface {
	eventstore.Secrets
	IndexKey() []byte
}

// AddAccounts creates n company accounts in the sandbox (sales-1 …, as
// acme_sales_1 …), signs each in by phone with the code the sandbox sends
// and adds it (accounts.Add) with limits.
func AddAccounts(ctx context.Context, sb *telegramtest.Sandbox, store Secrets, h domain.Handlers, log *slog.Logger, n int, limits domain.Limits) ([]telegramtest.User, error) {
	d := &telegram.Dialer{AppID: 1, AppHash: "sandbox", Options: sb.ClientOptions(), Secrets: store, IndexKey: store.IndexKey(), Log: log}
	var users []telegramtest.User
	for i := 1; i <= n; i++ {
		phone := fmt.Sprintf("+1555000%04d", i)
		u, err := sb.AddUser(telegramtest.UserSpec{Phone: phone, Username: AccountUsername(i), FirstName: "Acme", LastName: fmt.Sprintf("Sales %d", i)})
		if err != nil {
			return nil, err
		}
		if _, err := accounts.Add(ctx, store, h, accounts.AddRequest{Label: fmt.Sprintf("sales-%d", i), Phone: phone, Limits: limits,
			SignIn: SignIn(sb, d, phone)}); err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

// SignIn signs a sandbox user in by phone with d, reading the login code
// from the sandbox: an AddRequest's SignIn.
func SignIn(sb *telegramtest.Sandbox, d *telegram.Dialer, phone string) func(context.Context, uuid.UUID) (telegram.Peer, error) {
	return func(ctx context.Context, id uuid.UUID) (telegram.Peer, error) {
		return d.LoginPhone(ctx, id, telegram.PhoneLogin{Phone: phone,
			Code: func(context.Context) (string, error) { return sb.LoginCode(phone), nil }})
	}
}

// importPersonas writes the personas to a CSV file in the data directory
// (as a company's export would look) and imports it.
func importPersonas(ctx context.Context, h domain.Handlers, w *World, dataDir string) (contacts.Report, error) {
	var b strings.Builder
	b.WriteString("\ufeffusername;name;tags;kind;language\n")
	for _, p := range w.personas {
		fmt.Fprintf(&b, "@%s;%s;demo,%s;%s;%s\n", p.Username, p.Name, p.Lang, p.Kind, p.Lang)
	}
	path := filepath.Join(dataDir, "demo-leads.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return contacts.Report{}, fmt.Errorf("demo: write %s: %w", path, err)
	}
	f, err := contacts.Parse(strings.NewReader(b.String()))
	if err != nil {
		return contacts.Report{}, fmt.Errorf("demo: read %s: %w", path, err)
	}
	rep, err := contacts.Apply(ctx, h, f, contacts.Options{Basis: domain.BasisConsent, Note: Source})
	if err != nil {
		return rep, fmt.Errorf("demo: import %s: %w", path, err)
	}
	if !rep.Applied || rep.Accepted != len(w.personas) {
		return rep, fmt.Errorf("demo: the import took %d of %d personas", rep.Accepted, len(w.personas))
	}
	return rep, nil
}

// progress prints the progress line every second and, unless Keep, ends
// the run once the campaign's window is over, nothing waits to be sent and
// nothing has happened for a few seconds.
func progress(ctx context.Context, cfg Config, sys System, launched func() (domain.Campaign, time.Time, bool), started time.Time, settled func(context.Context)) {
	out, tty := cfg.Out, cfg.Terminal
	lastHead, quietSince := uint64(0), time.Now()
	lastLine := time.Time{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(out)
			}
			return
		case <-tick.C:
		}
		ds, err := sys.ReadModels().ListDialogs(ctx, projections.DialogFilter{Limit: 10000})
		if err != nil {
			continue
		}
		p := progressOf(ds)
		line := fmt.Sprintf("[%3.0fs] dialogs %d · replied %d · qualified %d · handoffs %d · opted out %d · closed %d · messages %d out, %d in",
			time.Since(started).Seconds(), p.dialogs, p.replied, p.qualified, p.handoffs, p.optedOut, p.closed, p.out, p.in)
		switch {
		case tty:
			fmt.Fprintf(out, "\r%s", line)
		case time.Since(lastLine) >= 5*time.Second:
			fmt.Fprintln(out, line)
			lastLine = time.Now()
		}
		if head := cfg.Store.Head(); head != lastHead {
			lastHead, quietSince = head, time.Now()
		}
		queued := 0
		for _, s := range sys.Accounts().Accounts() {
			queued += s.Queued
		}
		// Settled: the campaign's window is over (it opens nothing more),
		// nothing waits to be sent and the log has been still for a while.
		_, windowEnd, ok := launched()
		if ok && time.Now().After(windowEnd) && queued == 0 && time.Since(quietSince) >= 5*time.Second {
			if tty {
				fmt.Fprintln(out)
			}
			fmt.Fprintln(out, line)
			settled(ctx)
			return
		}
	}
}

type counts struct {
	dialogs, replied, qualified, handoffs, optedOut, closed, out, in int
}

func progressOf(ds []projections.Dialog) counts {
	var p counts
	for _, d := range ds {
		p.dialogs++
		if d.Inbound > 0 {
			p.replied++
		}
		if !d.QualifiedAt.IsZero() {
			p.qualified++
		}
		if !d.HandoffAt.IsZero() {
			p.handoffs++
		}
		if d.Outcome == string(domain.OutcomeOptedOut) {
			p.optedOut++
		}
		if d.Status == projections.StatusClosed {
			p.closed++
		}
		p.out += d.Outbound
		p.in += d.Inbound
	}
	return p
}

// createCampaign creates the demo's campaign: every imported persona (tag
// "demo"), the scenario's variants and weights, every account, a window
// of cfg.Window from now.
func createCampaign(ctx context.Context, h domain.Handlers, cfg Config) (domain.Campaign, error) {
	var variants []domain.VariantWeight
	for _, v := range cfg.Scenario.Variants {
		variants = append(variants, domain.VariantWeight{Name: v.Name, Weight: v.Weight})
	}
	id := uuid.New() // random: short ids of campaigns made at once differ
	now := time.Now()
	_, err := h.Campaign(ctx, id, domain.CreateCampaign{CampaignID: id, Name: "demo outreach", Segment: domain.Segment{Tags: []string{"demo"}},
		Scenario: cfg.Scenario.Name, Version: cfg.Scenario.Version, Variants: variants,
		Schedule: domain.CampaignSchedule{Start: now.Add(-time.Second), End: now.Add(cfg.Window)}, By: "demo"})
	if err != nil {
		return domain.Campaign{}, fmt.Errorf("demo: create the campaign: %w", err)
	}
	return h.LoadCampaign(ctx, id)
}
