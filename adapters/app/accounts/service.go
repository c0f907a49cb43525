// Package accounts runs the company's Telegram accounts: a supervisor with
// one client per account (reconnecting with backoff, recording connection
// facts), the inbound router (private messages become dialog events; a
// stranger's first message opens an inbound dialog; a message typed in a
// Telegram app takes the dialog over), the outbox sender (planned messages
// go out with their random_id, within the account's pacing, after a typing
// action; Telegram's answer becomes "sent" or "failed" and errors become
// account and contact facts), and the start of new dialogs by rotation.
//
// Everything it knows comes from the event log, which it follows from the
// beginning at start: accounts, open dialogs, and outbound messages still
// to send. Nothing is kept elsewhere, so a crash loses nothing.
package accounts

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/clock"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/adapters/telegram"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

// Runner connects one account and keeps it connected (telegram.Dialer).
type Runner interface {
	Run(ctx context.Context, account uuid.UUID, opts telegram.RunOptions) error
}

// Store is the event log with its secrets.
type Store interface {
	eventstore.Store
	eventstore.Secrets
}

// Notice is something admins should hear about.
type Notice struct {
	Kind    string // account-connected, account-disconnected, account-flood-wait, account-restricted, account-lost, takeover, unreachable, opted-out-wrote, handoff, opt-out; from the engine: llm-failing, llm-recovered
	Account uuid.UUID
	Label   string // the account's label
	Dialog  int64  // dialog number, 0 if none
	Text    string
	// Personal says that Text quotes a lead's personal data (a handoff's
	// reason): admins get it, the process log does not (a log cannot be
	// erased with the contact).
	Personal bool
	At       time.Time
}

// Config configures a Service.
type Config struct {
	Store  Store
	Runner Runner
	Now    func() time.Time // default time.Now
	Log    *slog.Logger
	// Notify gets admin notices; it must not block for long.
	Notify func(Notice)
	// OnInbound is called once a lead's message is recorded durably (the
	// dialog engine's cue); it must not block for long.
	OnInbound func(dialog uuid.UUID, m telegram.Message)
	// TypingDelay is how long "typing…" shows before a message (default:
	// 50 ms a character, 1 to 8 s). Pacing limits apply on top.
	TypingDelay func(text string) time.Duration
	// Backoff bounds the wait between reconnects (default 1 s to 5 min).
	MinBackoff, MaxBackoff time.Duration
	// Login signs an account in by phone (telegram.Dialer.LoginPhone), for
	// Add; nil = accounts are added with the CLI only.
	Login func(ctx context.Context, account uuid.UUID, l telegram.PhoneLogin) (telegram.Peer, error)
	// LogOut ends an account's session at Telegram (telegram.Dialer.LogOut)
	// when the account is removed; nil = only the stored session is deleted.
	LogOut func(ctx context.Context, account uuid.UUID) error
	// Snapshots, if set, keep what the service folded from the log, so a
	// restart follows only the events after the last snapshot; nil =
	// the whole log is followed at every start.
	Snapshots *eventstore.Snapshots
	// InboundBasis is the lawful basis recorded for people who write first
	// (default legitimate-interest: answering their own inquiry).
	InboundBasis domain.Basis
	// Transcriber, if set, turns leads' voice notes and audio into text
	// before they are recorded (media.go); nil = they are recorded as
	// voice without a transcript.
	Transcriber domain.Transcriber
	// Leased runs an account only while this node holds its lease
	// (several nodes on one log, adapters/cluster): SetLease gives and
	// takes it, and what the account does (its connection's facts,
	// messages reserved, sent, failed and received) is appended under
	// the lease's fence, so a node that lost the lease records nothing
	// more for it. false = every account runs here.
	Leased bool
	// KnowledgeFile returns the bytes of the knowledge base's file of name
	// (a planned message's Attachment.Knowledge); nil = none: such a
	// message fails.
	KnowledgeFile func(name string) ([]byte, bool)
}

// Service runs the accounts. Create it with New and start it with Run.
type Service struct {
	cfg Config
	log *slog.Logger
	ev  *eventlog.Log
	h   domain.Handlers

	numbers sync.Mutex // dialog numbers come from one stream: one allocation at a time

	mu       sync.Mutex
	accounts map[uuid.UUID]*account
	dialogs  map[uuid.UUID]dialogRef
	links    map[string]peerLink            // peer index stream → current dialog
	starting map[uuid.UUID]bool             // contacts a Start is working on
	openBy   map[uuid.UUID]int64            // contact → number of its open dialog
	caught   bool                           // the log was read up to its head once
	runCtx   context.Context                // Run's, once caught up: SetLease starts accounts in it
	leases   map[uuid.UUID]eventstore.Fence // Leased: the accounts this node holds
	wake     chan struct{}                  // closed and replaced when accounts change
	wg       sync.WaitGroup                 // what Run started: clients, senders, notices; Run waits for it
}

type peerLink struct {
	domain.PeerLinked
	version uint64 // of the index stream
}

type dialogRef struct {
	account, contact uuid.UUID
	n                int64
	open             bool
}

// account is one company account as the service runs it.
type account struct {
	id      uuid.UUID
	label   string
	loc     *time.Location
	lost    bool
	removed bool
	open    int // open dialogs
	running bool
	stop    context.CancelFunc
	conn    telegram.Conn
	queue   []outItem // outbound messages to send, in plan order
	kick    chan struct{}
	fence   *eventstore.Fence // Leased: the last lease this node held on the account; nil = never
	held    bool              // Leased: this node holds the lease now
	again   bool              // Leased: start it again once it stopped
	done    chan struct{}     // closed when the current run's client and sender have stopped
	// Outbound messages of the account's dialogs planned, sent and
	// failed over the whole log (read from its start, or kept in its
	// snapshot).
	planned, sent, failed int
}

type outItem struct {
	dialog   uuid.UUID
	randomID int64
}

// New returns a service; Run starts it.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Runner == nil {
		return nil, errors.New("accounts: Config.Store and Config.Runner are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.TypingDelay == nil {
		cfg.TypingDelay = func(text string) time.Duration {
			d := time.Duration(len([]rune(text))) * 50 * time.Millisecond
			return min(max(d, time.Second), 8*time.Second)
		}
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.InboundBasis == "" {
		cfg.InboundBasis = domain.BasisLegitimateInterest
	}
	ev := eventlog.New(cfg.Store)
	s := &Service{cfg: cfg, log: cfg.Log, ev: ev, h: domain.Handlers{Log: ev, Index: domain.NewIndexKey(cfg.Store.IndexKey()), Now: cfg.Now, Cache: domain.NewStateCache(0)},
		accounts: map[uuid.UUID]*account{}, dialogs: map[uuid.UUID]dialogRef{}, openBy: map[uuid.UUID]int64{}, leases: map[uuid.UUID]eventstore.Fence{}, links: map[string]peerLink{}, starting: map[uuid.UUID]bool{}, wake: make(chan struct{})}
	return s, nil
}

// dialogOfPeer is the current dialog between an account and a Telegram
// user: from memory when the log was followed that far, else from the
// index stream.
func (s *Service) dialogOfPeer(ctx context.Context, account uuid.UUID, userID int64) (domain.PeerLinked, bool, error) {
	s.mu.Lock()
	l, ok := s.links[s.h.Index.PeerStream(account, userID)]
	s.mu.Unlock()
	if ok {
		return l.PeerLinked, true, nil
	}
	return s.h.DialogOfPeer(ctx, account, userID)
}

// linkPeer makes a dialog the current one for an account and user.
func (s *Service) linkPeer(ctx context.Context, userID int64, expected uint64, link domain.PeerLinked) error {
	if err := s.h.LinkPeer(ctx, userID, expected, link); err != nil {
		return err
	}
	s.mu.Lock()
	stream := s.h.Index.PeerStream(link.AccountID, userID)
	if old, ok := s.links[stream]; !ok || old.version < expected+1 {
		s.links[stream] = peerLink{link, expected + 1}
	}
	s.mu.Unlock()
	return nil
}

// nextNumber allocates a dialog number. Every opener in the process goes
// through the one numbering stream, so they take turns instead of
// retrying on conflicts (a thousand accounts opening dialogs at once would
// exhaust any retry budget).
func (s *Service) nextNumber(ctx context.Context, dialog uuid.UUID) (int64, error) {
	s.numbers.Lock()
	defer s.numbers.Unlock()
	return s.h.NextDialogNumber(ctx, dialog)
}

// Handlers are the command handlers the service uses.
func (s *Service) Handlers() domain.Handlers { return s.h }

// Run follows the log and runs every account until ctx ends; then it stops
// the clients and senders and returns. Outbound messages not yet sent stay
// planned in the log and go out on the next start with their random_id.
func (s *Service) Run(ctx context.Context) error {
	defer s.wg.Wait()
	sub, snaps, err := s.catchUp(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	s.mu.Lock()
	s.caught, s.runCtx = true, ctx
	for _, a := range s.accounts {
		s.startLocked(ctx, a)
	}
	s.mu.Unlock()
	defer s.snapshot(context.WithoutCancel(ctx), snaps, sub, true)
	for {
		if err := s.follow(ctx, sub); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		s.snapshot(ctx, snaps, sub, false)
	}
}

// catchUp folds the log up to its head, from the service's snapshot if
// it has one, and returns the subscription to follow it on with.
func (s *Service) catchUp(ctx context.Context) (*eventstore.Subscription, *eventstore.Snapshotter, error) {
	snaps := s.cfg.Snapshots.For(snapshotName, snapshotVersion, s.cfg.Now, s.log)
	from := snaps.Start(ctx, func(state []byte) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.unfold(state)
	})
	head := s.cfg.Store.Head()
	sub := eventstore.Subscribe(s.cfg.Store, from, 1024)
	for sub.Position() <= head {
		if err := ctx.Err(); err != nil { // stopped while catching up: keep the way made
			s.snapshot(context.WithoutCancel(ctx), snaps, sub, true)
			return nil, nil, err
		}
		if err := s.follow(ctx, sub); err != nil {
			return nil, nil, err
		}
		s.snapshot(ctx, snaps, sub, false)
	}
	return sub, snaps, nil
}

// follow applies the next batch of events to what the service knows.
func (s *Service) follow(ctx context.Context, sub *eventstore.Subscription) error {
	recs, err := sub.Next(ctx)
	if err != nil {
		return fmt.Errorf("accounts: follow the log: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for i := range recs {
		r := &recs[i]
		if !relevant[r.Type] {
			continue
		}
		e, err := s.ev.Decode(r)
		if err != nil {
			return fmt.Errorf("accounts: %w", err)
		}
		changed = s.apply(ctx, r, e) || changed
	}
	if changed {
		close(s.wake)
		s.wake = make(chan struct{})
	}
	return nil
}

// relevant are the event types the service follows; others are not even
// decoded.
var relevant = map[string]bool{}

func init() {
	for _, e := range []domain.Event{
		domain.AccountRegistered{}, domain.AccountLimitsChanged{}, domain.AccountLost{}, domain.AccountRemoved{},
		domain.AccountPaused{}, domain.AccountResumed{}, domain.AccountFloodWaited{}, domain.AccountRestricted{},
		domain.AccountConnected{}, domain.NewDialogReserved{},
		domain.DialogStarted{}, domain.DialogClosed{}, domain.OutboundPlanned{}, domain.OutboundSent{}, domain.OutboundFailed{},
		domain.PeerLinked{}, domain.HandoffRequested{}, domain.DialogOptedOut{},
	} {
		relevant[e.EventType()] = true
	}
}

// apply folds one event in; the caller holds s.mu. It reports whether
// waiters should look again (accounts changed).
func (s *Service) apply(ctx context.Context, r *eventstore.RecordedEvent, e domain.Event) bool {
	accountOf := func() *account {
		id, ok := domain.AggregateAccount.ID(r.Stream)
		if !ok {
			return nil
		}
		return s.accounts[id]
	}
	switch e := e.(type) {
	case domain.AccountRegistered:
		a := &account{id: e.AccountID, label: e.Label, loc: location(e.Limits.TimeZone), kick: make(chan struct{}, 1)}
		s.accounts[a.id] = a
		if f, ok := s.leases[a.id]; ok {
			a.fence, a.held = &f, true
		}
		if s.caught {
			s.startLocked(ctx, a)
		}
	case domain.AccountLimitsChanged:
		if a := accountOf(); a != nil {
			a.loc = location(e.Limits.TimeZone)
		}
	case domain.AccountLost:
		if a := accountOf(); a != nil {
			a.lost = true
		}
	case domain.AccountRemoved:
		if a := accountOf(); a != nil {
			a.removed = true
			if a.stop != nil {
				a.stop()
			}
		}
	case domain.AccountPaused, domain.AccountResumed, domain.AccountFloodWaited, domain.AccountRestricted, domain.AccountConnected, domain.NewDialogReserved:
		for _, a := range s.accounts {
			a.poke()
		}
	case domain.DialogStarted:
		s.dialogs[e.DialogID] = dialogRef{account: e.AccountID, contact: e.ContactID, n: e.N, open: true}
		s.openBy[e.ContactID] = e.N
		if a := s.accounts[e.AccountID]; a != nil {
			a.open++
		}
	case domain.DialogClosed:
		if id, ref, ok := s.dialogOfStream(r.Stream); ok && ref.open {
			ref.open = false
			s.dialogs[id] = ref
			if s.openBy[ref.contact] == ref.n {
				delete(s.openBy, ref.contact)
			}
			if a := s.accounts[ref.account]; a != nil {
				a.open--
			}
		}
	case domain.OutboundPlanned:
		if id, ref, ok := s.dialogOfStream(r.Stream); ok {
			if a := s.accounts[ref.account]; a != nil {
				a.planned++
				a.queue = append(a.queue, outItem{dialog: id, randomID: e.RandomID})
				a.poke()
			}
		}
		return false
	case domain.HandoffRequested:
		s.dialogNotice(r, "handoff", true, func(n int64) string { // the reason may quote the lead
			return fmt.Sprintf("dialog %d is handed to a manager: %s", n, e.Reason)
		})
		return false
	case domain.DialogOptedOut:
		s.dialogNotice(r, "opt-out", false, func(n int64) string {
			return fmt.Sprintf("dialog %d: the lead opted out; nobody writes to them again", n)
		})
		return false
	case domain.PeerLinked:
		if old, ok := s.links[r.Stream]; !ok || old.version < r.Version {
			s.links[r.Stream] = peerLink{e, r.Version}
		}
		return false
	case domain.OutboundSent:
		if a := s.settleLocked(r, e.RandomID); a != nil {
			a.sent++
		}
		return false
	case domain.OutboundFailed:
		if a := s.settleLocked(r, e.RandomID); a != nil {
			a.failed++
		}
		return false
	}
	return true
}

// dialogNotice tells admins about a dialog event seen live (not while
// catching up with the log at start); the caller holds s.mu.
func (s *Service) dialogNotice(r *eventstore.RecordedEvent, kind string, personal bool, text func(n int64) string) {
	if !s.caught {
		return
	}
	_, ref, ok := s.dialogOfStream(r.Stream)
	if !ok {
		return
	}
	n := Notice{Kind: kind, Account: ref.account, Dialog: ref.n, Text: text(ref.n), Personal: personal}
	if a := s.accounts[ref.account]; a != nil {
		n.Label = a.label
	}
	// notify may log and call out: not under s.mu. Run waits for it (this
	// runs inside Run, so the Add comes before Run's Wait).
	s.wg.Go(func() { s.notify(n) })
}

// dialogOfStream is the dialog a stream is, if the service knows it; the
// caller holds s.mu.
func (s *Service) dialogOfStream(stream string) (uuid.UUID, dialogRef, bool) {
	id, ok := domain.AggregateDialog.ID(stream)
	if !ok {
		return uuid.Nil, dialogRef{}, false
	}
	ref, ok := s.dialogs[id]
	return id, ref, ok
}

// settleLocked takes a sent or failed message off its account's queue
// and returns the account (nil: unknown).
func (s *Service) settleLocked(r *eventstore.RecordedEvent, randomID int64) *account {
	id, ref, ok := s.dialogOfStream(r.Stream)
	if !ok {
		return nil
	}
	a := s.accounts[ref.account]
	if a != nil {
		a.remove(outItem{dialog: id, randomID: randomID})
	}
	return a
}

func (a *account) remove(it outItem) {
	for i, x := range a.queue {
		if x == it {
			a.queue = append(a.queue[:i], a.queue[i+1:]...)
			return
		}
	}
}

func (a *account) poke() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

func location(tz string) *time.Location {
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}

// startLocked starts the client and sender of an account that should run;
// the caller holds s.mu.
func (s *Service) startLocked(ctx context.Context, a *account) {
	if a.running || a.lost || a.removed || (s.cfg.Leased && !a.held) {
		return
	}
	actx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	a.running, a.stop, a.done = true, stop, done
	var run sync.WaitGroup // this run's client and sender
	run.Add(2)
	s.wg.Add(1)
	go func() { // once both have stopped: the account is not running
		defer s.wg.Done()
		run.Wait()
		stop()
		s.mu.Lock()
		a.running, a.conn = false, nil
		close(done)
		if a.again && ctx.Err() == nil { // its lease came back while it stopped
			a.again = false
			s.startLocked(ctx, a)
		}
		s.mu.Unlock()
	}()
	go func() {
		defer run.Done()
		s.supervise(actx, a)
		stop() // the sender too
	}()
	go func() {
		defer run.Done()
		s.send(actx, a)
	}()
}

func (s *Service) notify(n Notice) {
	n.At = s.cfg.Now()
	// A notice's text may carry a lead's words (a handoff reason the
	// model wrote): at INFO only ids and the kind; the text at DEBUG,
	// unless it is personal (then it goes to the admins only).
	s.log.Info("accounts: notice", "kind", n.Kind, "account", n.Account, "label", n.Label, "dialog", n.Dialog)
	if !n.Personal {
		s.log.Debug("accounts: notice text", "kind", n.Kind, "dialog", n.Dialog, "text", n.Text)
	}
	if s.cfg.Notify != nil {
		s.cfg.Notify(n)
	}
}

// SetLease gives this node the lease on account (fence non-nil), which
// starts it, or takes it away (nil), which stops its client and sender
// (Config.Leased). Leases given before Run or before the account is in
// the log take effect when it is. The channel it returns is closed once
// the account runs nowhere in this process: a lease taken away is to be
// released only then, so the next holder never connects while this node
// still is.
func (s *Service) SetLease(account uuid.UUID, fence *eventstore.Fence) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fence == nil {
		delete(s.leases, account)
	} else {
		s.leases[account] = *fence
	}
	a := s.accounts[account]
	if a == nil {
		return closedCh
	}
	if fence != nil {
		a.fence = fence // kept when the lease goes: what still runs is fenced off by it
	}
	a.held = fence != nil
	switch {
	case fence == nil && a.running:
		a.again = false
		a.stop()
		return a.done
	case fence != nil && s.caught:
		a.again = a.running // still stopping after losing it: starts once stopped
		s.startLocked(s.runCtx, a)
	}
	return closedCh
}

// Holds says whether this node runs account: it holds its lease, or the
// service is not Leased (then it runs every account).
func (s *Service) Holds(account uuid.UUID) bool {
	if !s.cfg.Leased {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[account]
	return a != nil && a.held
}

var closedCh = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// handlersOf are the handlers of what account a does: when leased, under
// the last lease this node held on it (refused by the log once another
// node took it), or none (refused always).
func (s *Service) handlersOf(a *account) domain.Handlers {
	if !s.cfg.Leased {
		return s.h
	}
	s.mu.Lock()
	f := eventstore.Fence{Key: a.id.String()} // epoch 0: never granted
	if a.fence != nil {
		f = *a.fence
	}
	s.mu.Unlock()
	h := s.h
	h.Log = s.ev.Fenced(f)
	return h
}

// record runs an account command, logging failures (facts about the
// connection are best effort: the connection itself is what matters).
func (s *Service) record(ctx context.Context, a *account, cmd domain.AccountCommand) []domain.Event {
	evs, err := s.handlersOf(a).Account(context.WithoutCancel(ctx), a.id, cmd)
	if err != nil {
		s.log.Error("accounts: record account fact", "account", a.id, "command", fmt.Sprintf("%T", cmd), "err", err)
	}
	return evs
}

// supervise keeps one account connected: it reconnects with exponential
// backoff and records each change as an account event; a lost session
// ends it.
func (s *Service) supervise(ctx context.Context, a *account) {
	// No session, or it cannot be read now: look again from time to
	// time (on a log shared by several nodes a read can fail for a
	// moment while the servers elect a leader), telling it once.
	for wait, told := s.cfg.MinBackoff, false; ; wait = min(wait*2, s.cfg.MaxBackoff, 10*time.Second) {
		ok, err := telegram.HasSession(ctx, s.cfg.Store, a.id)
		if err == nil && ok {
			break
		}
		if !told {
			s.log.Warn("accounts: account has no session; add it again to connect it (looking again meanwhile)", "account", a.id, "label", a.label, "err", err)
			told = true
		}
		if clock.Sleep(ctx, jitter(wait)) != nil {
			return
		}
	}
	backoff := s.cfg.MinBackoff
	for ctx.Err() == nil {
		s.record(ctx, a, domain.MarkConnecting{})
		started := s.cfg.Now()
		err := s.connect(ctx, a)
		if ctx.Err() != nil {
			s.record(ctx, a, domain.MarkDisconnected{Reason: "salesbot stopped"})
			return
		}
		f := telegram.Classify(err)
		if f.Kind == telegram.KindAccountLost {
			s.record(ctx, a, domain.MarkLost{Reason: f.Reason})
			s.notify(Notice{Kind: "account-lost", Account: a.id, Label: a.label, Text: "Telegram ended the session (" + f.Reason + "); add the account again"})
			return
		}
		s.record(ctx, a, domain.MarkDisconnected{Reason: errText(err)})
		if s.cfg.Now().Sub(started) > 2*s.cfg.MaxBackoff {
			backoff = s.cfg.MinBackoff // it ran well for a while
		}
		s.log.Warn("accounts: connection ended; reconnecting", "account", a.id, "in", backoff, "err", err)
		if clock.Sleep(ctx, jitter(backoff)) != nil {
			return
		}
		backoff = min(backoff*2, s.cfg.MaxBackoff)
	}
}

// connect runs one connection of account a until it ends. Connection
// state changes are recorded in order by one goroutine, which is done
// before connect returns (so a late "connected" never follows the
// supervisor's "disconnected").
func (s *Service) connect(ctx context.Context, a *account) error {
	states := make(chan telegram.State, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for st := range states {
			switch st {
			case telegram.StateConnected:
				if len(s.record(ctx, a, domain.MarkConnected{})) > 0 {
					s.notify(Notice{Kind: "account-connected", Account: a.id, Label: a.label, Text: "connected"})
				}
			case telegram.StateDisconnected:
				if len(s.record(ctx, a, domain.MarkDisconnected{Reason: "connection lost"})) > 0 {
					s.notify(Notice{Kind: "account-disconnected", Account: a.id, Label: a.label, Text: "connection lost; reconnecting"})
				}
			}
		}
	}()
	var (
		mu     sync.Mutex
		closed bool
	)
	err := s.cfg.Runner.Run(ctx, a.id, telegram.RunOptions{
		Handler: func(ctx context.Context, m telegram.Message) error { return s.inbound(ctx, a, m) },
		Ready: func(c telegram.Conn) {
			s.mu.Lock()
			a.conn = c
			s.mu.Unlock()
			a.poke()
		},
		State: func(st telegram.State) {
			mu.Lock()
			defer mu.Unlock()
			if closed {
				return
			}
			select {
			case states <- st:
			default: // a burst of changes: the latest ones matter
			}
		},
	})
	s.mu.Lock()
	a.conn = nil
	s.mu.Unlock()
	mu.Lock()
	closed = true
	close(states)
	mu.Unlock()
	<-done
	return err
}

func errText(err error) string {
	if err == nil {
		return "connection closed"
	}
	return err.Error()
}

// jitter spreads reconnects of many accounts: d ± 20%.
func jitter(d time.Duration) time.Duration {
	n := randomInt63()
	return d - d/5 + time.Duration(n%int64(max(d*2/5, 1)))
}

func randomInt63() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:]) >> 1)
}

// RandomID returns a random_id for a new outbound message: non-zero, as
// Telegram requires (telegram.RandomID).
func RandomID() int64 { return telegram.RandomID() }

// Status is what the service knows about an account right now.
type Status struct {
	ID        uuid.UUID
	Label     string
	Connected bool
	Open      int // open dialogs
	Queued    int // outbound messages waiting to be sent
	Lost      bool
	// Outbound messages of the account's dialogs planned, sent and
	// failed over the whole log (the metrics' counters): they count
	// from the log's start once Supervising, so a restart does not
	// reset them.
	Planned, Sent, Failed int
}

// Supervising says whether Run has read the log up to its head and
// started the accounts it found: from then on it supervises them.
func (s *Service) Supervising() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.caught
}

// Accounts lists the accounts the service runs.
func (s *Service) Accounts() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, 0, len(s.accounts))
	for _, a := range s.accounts {
		if a.removed {
			continue
		}
		out = append(out, Status{ID: a.id, Label: a.label, Connected: a.conn != nil, Open: a.open, Queued: len(a.queue), Lost: a.lost,
			Planned: a.planned, Sent: a.sent, Failed: a.failed})
	}
	return out
}
