package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/contacts"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/telegram/telegramtest"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
)

// demoLimits are each demo account's limits: real caps and pacing, at any
// hour so the demo runs whenever it is started.
var demoLimits = domain.Limits{DailyNewDialogs: 15, MessagesPerMinute: 40, MinDelay: 300 * time.Millisecond,
	TimeZone: "UTC", StartMinute: 0, EndMinute: 24 * 60}

type demoOptions struct {
	eng    engineConfig
	bot    botConfig
	limit  time.Duration // the demo stops after this at the latest
	window time.Duration // the campaign's window: openings spread over it
	keep   bool
}

func demoCommand() *command {
	var o demoOptions
	return &command{
		name:    "demo",
		summary: "the whole system on this machine: sandbox Telegram, about 30 leads, a campaign with two variants",
		details: `
Starts an in-process sandbox Telegram with 3 company accounts and about 30
lead personas (hot, warm, cold, a price question, "are you a bot?",
opt-outs, prompt injection, a request for a person, silent ones, English and
Russian speakers), imports them from a CSV file with a source and a lawful
basis, runs a campaign with the scenario's two prompt variants, and lets the
personas answer: the dialog engine (offline, or the LLM when
SALESBOT_LLM_API_KEY or --llm-base-url is set) qualifies them, hands hot
leads over and honours opt-outs, within every account's caps and pacing.

It prints a progress line and, once the conversations have settled (about
a minute), a summary: dialogs per stage, handoffs with their reasons,
opt-outs honoured, limits respected, the funnel per variant, and commands
to look deeper. The data directory stays for 'salesbot replay', 'verify'
and 'projections rebuild'. It must be new (or empty): the sandbox Telegram
is new at every start. With --postgres the read models are filled in
PostgreSQL instead of memory; --keep keeps everything running (and the
admin bot with --bot-token) until Ctrl-C.`,
		flags: func(fs *flag.FlagSet, a *app) func() error {
			o.eng.register(fs, a)
			o.bot.register(fs, a)
			fs.DurationVar(&o.limit, "for", 3*time.Minute, "stop after this `duration` at the latest")
			fs.DurationVar(&o.window, "window", 30*time.Second, "the campaign's `window`: its openings are spread over it")
			fs.BoolVar(&o.keep, "keep", false, "keep the system and the sandbox running after the summary, until Ctrl-C")
			return func() error {
				if o.limit <= 0 || o.window <= 0 {
					return usagef("--for and --window must be positive")
				}
				if err := o.bot.check(); err != nil {
					return err
				}
				return o.eng.check()
			}
		},
		run: func(ctx context.Context, a *app, args []string) error {
			if len(args) > 0 {
				return usagef("takes no arguments, got %q", args)
			}
			_, err := a.demo(ctx, o)
			return err
		},
	}
}

// demoWorld is the demo's sandbox Telegram.
type demoWorld struct {
	sb        *telegramtest.Sandbox
	accounts  []telegramtest.User
	personas  []demoPersona
	users     map[string]telegramtest.User // by username
	strangers []telegramtest.User
}

func (a *app) demo(ctx context.Context, o demoOptions) (*demoReport, error) {
	started := time.Now()
	if entries, err := os.ReadDir(a.cfg.DataDir); err == nil && len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(a.cfg.DataDir, "CURRENT")); err == nil {
			return nil, usagef("--data-dir (SALESBOT_DATA_DIR): %s already holds a log, and the demo's sandbox Telegram is new at every start; use a new directory (make demo removes data/demo first)", a.cfg.DataDir)
		}
	}
	st, err := a.openStore(ctx, createLog)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	out := a.stdout
	fmt.Fprintf(out, "salesbot demo · data in %s · scenario %s %s\n", a.cfg.DataDir, o.eng.sc.Name, o.eng.sc.Version)

	w, err := a.demoSandbox(ctx, st)
	if err != nil {
		return nil, err
	}
	defer w.sb.Close()
	fmt.Fprintf(out, "Sandbox Telegram: %d company accounts, %d lead personas, %d strangers who will write in\n", len(w.accounts), len(w.personas), len(w.strangers))

	h := domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: time.Now}
	rep, err := a.demoImport(ctx, h, w)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Imported %s: %d accepted, %d merged, %d skipped (do-not-contact), %d rejected — source %q, basis consent\n",
		"demo-leads.csv", rep.Accepted, rep.Merged, rep.Skipped(), len(rep.Rejected), demoSource)

	sink, closeSink, err := a.openSink(ctx)
	if err != nil {
		return nil, err
	}
	defer closeSink()
	so := systemOptions{bot: o.bot, eng: o.eng, typing: sandboxTyping}
	if o.eng.debounceText == "15s" {
		so.debounce = 1500 * time.Millisecond // the personas answer in a second
	}
	sys, err := a.newSystem(ctx, st, sink, so)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "Engine: %s\n", sys.model)

	runCtx, stopRun := context.WithTimeout(ctx, o.limit)
	if o.keep {
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
		if !waitConnected(ctx, sys.svc, len(w.accounts)) {
			return
		}
		c, err := a.demoCampaign(ctx, sys, w, o)
		mu.Lock()
		camp, launchErr, windowEnd = c, err, time.Now().Add(o.window)
		mu.Unlock()
		if err != nil {
			stopRun()
			return
		}
		fmt.Fprintf(out, "Campaign %q: %d contacts, variants %s, openings spread over %s within every account's caps\n\n",
			c.Name, len(w.personas), domain.VariantsText(c.Variants), o.window)
		for i, s := range w.strangers {
			to := w.accounts[i%len(w.accounts)]
			if _, err := w.sb.SendAs(s.ID, to.ID, []string{"Hi, I saw your post about sales analytics. What exactly do you offer?", "Здравствуйте! Сколько стоит ваш сервис?"}[i%2]); err != nil {
				a.log.Warn("demo: a stranger could not write", "err", err)
			}
		}
	}
	var report *demoReport
	settled := func(ctx context.Context) {
		if !o.keep {
			stopRun() // the summary follows once everything has stopped
			return
		}
		c, _, _ := launched()
		r, err := buildDemoReport(ctx, st, sink, w, c, time.Since(started))
		if err != nil {
			a.log.Error("demo: summary", "err", err)
			return
		}
		report = r
		r.sink = sink
		r.print(out, a.cfg.DataDir, demoDSN(a.cfg.PostgresDSN))
		fmt.Fprintln(out, "\n--keep: salesbot and the sandbox keep running; Ctrl-C stops them.")
	}
	watch := func(ctx context.Context) {
		a.demoWatch(ctx, st, sys, sink, launched, started, settled)
	}
	if err := sys.run(runCtx, a, watch, launch); err != nil {
		return nil, err
	}
	if launchErr != nil {
		return nil, launchErr
	}
	if _, _, ok := launched(); !ok && ctx.Err() == nil {
		return nil, fmt.Errorf("demo: the sandbox accounts did not connect within %s", o.limit)
	}
	if o.keep || ctx.Err() != nil {
		return report, nil // the summary was printed while running, or interrupted before it
	}
	c, _, _ := launched()
	r, err := buildDemoReport(ctx, st, sink, w, c, time.Since(started))
	if err != nil {
		return nil, err
	}
	r.sink = sink
	r.print(out, a.cfg.DataDir, demoDSN(a.cfg.PostgresDSN))
	if a.onDemo != nil {
		a.onDemo(r)
	}
	return r, nil
}

const demoSource = "demo: the sandbox's lead personas (demo-leads.csv)"

// demoSandbox starts the sandbox Telegram with the company's accounts
// (signed in and registered) and the personas.
func (a *app) demoSandbox(ctx context.Context, st *eventstore.PebbleStore) (*demoWorld, error) {
	sb, err := telegramtest.New(ctx, telegramtest.Options{Logger: a.log})
	if err != nil {
		return nil, err
	}
	opts := sb.ClientOptions()
	a.telegram = &opts
	w := &demoWorld{sb: sb, personas: demoPersonas(), users: map[string]telegramtest.User{}}
	fail := func(err error) (*demoWorld, error) {
		sb.Close()
		return nil, err
	}
	if w.accounts, err = a.sandboxAccounts(ctx, sb, st, 3, demoLimits); err != nil {
		return fail(err)
	}
	for _, p := range w.personas {
		first, last, _ := strings.Cut(p.name, " ")
		u, err := sb.AddPersona(telegramtest.UserSpec{Username: p.username, FirstName: first, LastName: last},
			telegramtest.Persona{Reply: p.script(), Delay: 400 * time.Millisecond})
		if err != nil {
			return fail(err)
		}
		w.users[p.username] = u
	}
	for i := 1; i <= 2; i++ {
		u, err := sb.AddUser(telegramtest.UserSpec{Username: fmt.Sprintf("demo_stranger_%d", i), FirstName: fmt.Sprintf("Stranger %d", i)})
		if err != nil {
			return fail(err)
		}
		w.strangers = append(w.strangers, u)
	}
	if a.onSandbox != nil {
		a.onSandbox(sb)
	}
	return w, nil
}

// demoImport writes the personas to a CSV file in the data directory (as
// a company's export would look) and imports it.
func (a *app) demoImport(ctx context.Context, h domain.Handlers, w *demoWorld) (contacts.Report, error) {
	var b strings.Builder
	b.WriteString("\ufeffusername;name;tags;kind;language\n")
	for _, p := range w.personas {
		fmt.Fprintf(&b, "@%s;%s;demo,%s;%s;%s\n", p.username, p.name, p.lang, p.kind, p.lang)
	}
	path := filepath.Join(a.cfg.DataDir, "demo-leads.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return contacts.Report{}, fmt.Errorf("demo: write %s: %w", path, err)
	}
	f, err := contacts.Parse(strings.NewReader(b.String()))
	if err != nil {
		return contacts.Report{}, fmt.Errorf("demo: read %s: %w", path, err)
	}
	rep, err := contacts.Apply(ctx, h, f, contacts.Options{Basis: domain.BasisConsent, Note: demoSource})
	if err != nil {
		return rep, fmt.Errorf("demo: import %s: %w", path, err)
	}
	if !rep.Applied || rep.Accepted != len(w.personas) {
		return rep, fmt.Errorf("demo: the import took %d of %d personas", rep.Accepted, len(w.personas))
	}
	return rep, nil
}

// demoWatch prints the progress line every second and, unless keep, ends
// the run once the campaign's window is over, nothing waits to be sent and
// nothing has happened for a few seconds.
func (a *app) demoWatch(ctx context.Context, st *eventstore.PebbleStore, sys *system, sink projections.Sink,
	launched func() (domain.Campaign, time.Time, bool), started time.Time, settled func(context.Context)) {
	tty := isTerminal(a.stdout)
	lastHead, quietSince := uint64(0), time.Now()
	lastLine := time.Time{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(a.stdout)
			}
			return
		case <-tick.C:
		}
		ds, err := sink.ListDialogs(ctx, projections.DialogFilter{Limit: 10000})
		if err != nil {
			continue
		}
		p := demoProgressOf(ds)
		line := fmt.Sprintf("[%3.0fs] dialogs %d · replied %d · qualified %d · handoffs %d · opted out %d · closed %d · messages %d out, %d in",
			time.Since(started).Seconds(), p.dialogs, p.replied, p.qualified, p.handoffs, p.optedOut, p.closed, p.out, p.in)
		switch {
		case tty:
			fmt.Fprintf(a.stdout, "\r%s", line)
		case time.Since(lastLine) >= 5*time.Second:
			fmt.Fprintln(a.stdout, line)
			lastLine = time.Now()
		}
		if head := st.Head(); head != lastHead {
			lastHead, quietSince = head, time.Now()
		}
		queued := 0
		for _, s := range sys.svc.Accounts() {
			queued += s.Queued
		}
		// Settled: the campaign's window is over (it opens nothing more),
		// nothing waits to be sent and the log has been still for a while.
		_, windowEnd, ok := launched()
		if ok && time.Now().After(windowEnd) && queued == 0 && time.Since(quietSince) >= 5*time.Second {
			if tty {
				fmt.Fprintln(a.stdout)
			}
			fmt.Fprintln(a.stdout, line)
			settled(ctx)
			return
		}
	}
}

type demoProgress struct {
	dialogs, replied, qualified, handoffs, optedOut, closed, out, in int
}

func demoProgressOf(ds []projections.Dialog) demoProgress {
	var p demoProgress
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

// demoCampaign creates the demo's campaign: every imported persona (tag
// "demo"), the scenario's variants and weights, all three accounts, a
// window of o.window from now.
func (a *app) demoCampaign(ctx context.Context, sys *system, w *demoWorld, o demoOptions) (domain.Campaign, error) {
	var variants []domain.VariantWeight
	for _, v := range o.eng.sc.Variants {
		variants = append(variants, domain.VariantWeight{Name: v.Name, Weight: v.Weight})
	}
	id := uuid.New() // random: short ids of campaigns made at once differ
	now := time.Now()
	_, err := sys.h.Campaign(ctx, id, domain.CreateCampaign{CampaignID: id, Name: "demo outreach", Segment: domain.Segment{Tags: []string{"demo"}},
		Scenario: o.eng.sc.Name, Version: o.eng.sc.Version, Variants: variants,
		Schedule: domain.CampaignSchedule{Start: now.Add(-time.Second), End: now.Add(o.window)}, By: "demo"})
	if err != nil {
		return domain.Campaign{}, fmt.Errorf("demo: create the campaign: %w", err)
	}
	return sys.h.LoadCampaign(ctx, id)
}

// demoDSN is the DSN the summary suggests for a PostgreSQL rebuild: the
// local test database, or (never printed: it may hold a password) the one
// the demo used.
func demoDSN(dsn string) string {
	if dsn != "" {
		return "<the DSN you gave>"
	}
	return "postgres://postgres@127.0.0.1/test"
}
