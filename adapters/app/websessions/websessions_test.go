package websessions_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/websessions"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// clock is a test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// world is a log in memory, a clock and what the services log.
type world struct {
	t     *testing.T
	ctx   context.Context
	store eventstore.Store
	log   *eventlog.Log
	clock *clock
	mu    sync.Mutex // guards logs
	logs  bytes.Buffer
}

func newWorld(t *testing.T) *world {
	t.Helper()
	store, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &world{t: t, ctx: t.Context(), store: store, log: eventlog.New(store), clock: &clock{t: t0}}
}

type lockedWriter struct{ w *world }

func (l lockedWriter) Write(p []byte) (int, error) {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	return l.w.logs.Write(p)
}

// service starts a service on the world's log, as a process would. It
// logs to a text and a JSON handler.
func (w *world) service(rand io.Reader) *websessions.Service {
	w.t.Helper()
	out := lockedWriter{w}
	logger := slog.New(fanout{slog.NewTextHandler(out, nil), slog.NewJSONHandler(out, nil)})
	s, err := websessions.New(w.ctx, websessions.Config{Log: w.log, Now: w.clock.Now, Rand: rand, Logger: logger})
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) issue(s *websessions.Service, role domain.WebRole) websessions.Link {
	w.t.Helper()
	l, err := s.IssueLink(w.ctx, role, "admin:7")
	if err != nil {
		w.t.Fatal(err)
	}
	return l
}

func (w *world) redeem(s *websessions.Service, l websessions.Link) websessions.Session {
	w.t.Helper()
	sess, err := s.Redeem(w.ctx, l.Secret.Reveal())
	if err != nil {
		w.t.Fatal(err)
	}
	return sess
}

// events are the web-sessions stream's events.
func (w *world) events() []domain.Event {
	w.t.Helper()
	evs, _, err := w.log.Load(w.ctx, domain.WebSessionsStream)
	if err != nil {
		w.t.Fatal(err)
	}
	return evs
}

func (w *world) logged() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.logs.String()
}

var (
	linkFormat    = regexp.MustCompile(`^sbl_[a-z2-7]{52}$`)
	sessionFormat = regexp.MustCompile(`^sbs_[a-z2-7]{52}$`)
)

// A link opens a session with its role; the session authenticates with
// the role's scope and every lower one, and a higher one is forbidden
// with the principal. The log holds the issue and the sign-in, with the
// hashes of the secrets.
func TestIssueRedeemAuthenticate(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	l := w.issue(s, domain.WebManager)
	if !linkFormat.MatchString(l.Secret.Reveal()) || url.QueryEscape(l.Secret.Reveal()) != l.Secret.Reveal() {
		t.Fatalf("link %q", l.Secret.Reveal())
	}
	if l.Role != domain.WebManager || !l.Expires.Equal(t0.Add(domain.DefaultLinkTTL)) || l.ID == uuid.Nil {
		t.Fatalf("link %+v", l)
	}
	w.clock.Add(time.Minute)
	sess := w.redeem(s, l)
	if !sessionFormat.MatchString(sess.Secret.Reveal()) || sess.Secret.Reveal() == l.Secret.Reveal() {
		t.Fatalf("session secret %q", sess.Secret.Reveal())
	}
	want := domain.Principal{Name: "web:manager", Scope: domain.ScopeManage, Session: sess.ID}
	if sess.Principal != want || sess.Role != domain.WebManager || !sess.Expires.Equal(t0.Add(time.Minute+domain.DefaultSessionTTL)) {
		t.Fatalf("session %+v", sess)
	}
	for _, need := range []domain.Scope{domain.ScopeRead, domain.ScopeManage} {
		if p, err := s.Authenticate(w.ctx, sess.Secret.Reveal(), need); err != nil || p != want || p.Actor() != "web:"+sess.ID.String() {
			t.Fatalf("%s: %+v %v", need, p, err)
		}
	}
	p, err := s.Authenticate(w.ctx, sess.Secret.Reveal(), domain.ScopeAdmin)
	var se *domain.ScopeError
	if !errors.As(err, &se) || !errors.Is(err, websessions.ErrForbidden) || se.Have != domain.ScopeManage || se.Need != domain.ScopeAdmin || p != want {
		t.Fatalf("admin: %+v %v", p, err)
	}
	if _, err := s.Authenticate(w.ctx, sess.Secret.Reveal(), "root"); !errors.Is(err, websessions.ErrForbidden) {
		t.Fatalf("no scope: %v", err)
	}
	evs := w.events()
	if len(evs) != 2 {
		t.Fatalf("events %#v", evs)
	}
	issued, ok1 := evs[0].(domain.WebLinkIssued)
	in, ok2 := evs[1].(domain.WebSignedIn)
	if !ok1 || !ok2 || issued.LinkID != l.ID || issued.By != "admin:7" || !issued.Hash.Matches(l.Secret.Reveal()) ||
		in.LinkID != l.ID || in.SessionID != sess.ID || !in.Hash.Matches(sess.Secret.Reveal()) || in.Role != domain.WebManager {
		t.Fatalf("events %+v %+v", evs[0], evs[1])
	}
}

// Each role is its scope: owner admin, manager manage, analyst read.
func TestRolesScopes(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	for role, allowed := range map[domain.WebRole][]bool{
		domain.WebOwner: {true, true, true}, domain.WebManager: {true, true, false}, domain.WebAnalyst: {true, false, false},
	} {
		sess := w.redeem(s, w.issue(s, role))
		for i, need := range domain.Scopes() {
			_, err := s.Authenticate(w.ctx, sess.Secret.Reveal(), need)
			if (err == nil) != allowed[i] || (err != nil && !errors.Is(err, websessions.ErrForbidden)) {
				t.Errorf("%s needing %s: %v", role, need, err)
			}
		}
	}
	if _, err := s.IssueLink(w.ctx, "admin", "cli"); !errors.Is(err, domain.ErrUnknownWebRole) || domain.ErrorField(err) != "role" {
		t.Fatalf("an unknown role: %v", err)
	}
	if _, err := s.IssueLink(w.ctx, "", "cli"); !errors.Is(err, domain.ErrUnknownWebRole) {
		t.Fatalf("no role: %v", err)
	}
}

// A link works once: a second redeem is refused, also after the session
// it opened ended, and logged; nothing more is recorded.
func TestLinkWorksOnce(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	l := w.issue(s, domain.WebOwner)
	sess := w.redeem(s, l)
	if _, err := s.Redeem(w.ctx, l.Secret.Reveal()); !errors.Is(err, websessions.ErrLinkUsed) || !errors.Is(err, websessions.ErrUnauthenticated) ||
		errors.Is(err, websessions.ErrLinkExpired) || domain.ErrorCode(err) != domain.ESTATE {
		t.Fatalf("a second redeem: %v", err)
	}
	if err := s.End(w.ctx, sess.Secret.Reveal(), sess.Principal.Actor(), "signed out"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Redeem(w.ctx, l.Secret.Reveal()); !errors.Is(err, websessions.ErrLinkUsed) {
		t.Fatalf("a redeem after the sign-out: %v", err)
	}
	if n := len(w.events()); n != 3 {
		t.Fatalf("%d events", n)
	}
	if !strings.Contains(w.logged(), "the link was used already") {
		t.Fatalf("the refusal was not logged:\n%s", w.logged())
	}
}

// A link works for DefaultLinkTTL: a moment before, yes; then, no.
func TestLinkExpires(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	early, late := w.issue(s, domain.WebAnalyst), w.issue(s, domain.WebAnalyst)
	w.clock.Add(domain.DefaultLinkTTL - time.Nanosecond)
	w.redeem(s, early)
	w.clock.Add(time.Nanosecond)
	_, err := s.Redeem(w.ctx, late.Secret.Reveal())
	if !errors.Is(err, websessions.ErrLinkExpired) || !errors.Is(err, websessions.ErrUnauthenticated) || errors.Is(err, websessions.ErrLinkUsed) {
		t.Fatalf("an expired link: %v", err)
	}
	// A shorter TTL in the config.
	short, err := websessions.New(w.ctx, websessions.Config{Log: w.log, Now: w.clock.Now, LinkTTL: time.Minute, SessionTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	l := w.issue(short, domain.WebAnalyst)
	if !l.Expires.Equal(w.clock.Now().Add(time.Minute)) {
		t.Fatalf("link expires %v", l.Expires)
	}
	if sess := w.redeem(short, l); !sess.Expires.Equal(w.clock.Now().Add(time.Hour)) {
		t.Fatalf("session expires %v", sess.Expires)
	}
}

// What no link is: refused as unknown, never as used or expired.
func TestUnknownLinks(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	sess := w.redeem(s, w.issue(s, domain.WebOwner))
	l := w.issue(s, domain.WebOwner).Secret.Reveal()
	for _, bad := range []string{"", "sbl_", l[:len(l)-1], l + "a", strings.ToUpper(l), "sbl_" + strings.Repeat("a", 52), sess.Secret.Reveal(),
		"sbl_" + strings.Repeat("1", 52), "sb_" + l[3:], "sbl_" + strings.Repeat("я", 26)} {
		_, err := s.Redeem(w.ctx, bad)
		if !errors.Is(err, websessions.ErrUnknownLink) || !errors.Is(err, websessions.ErrUnauthenticated) || errors.Is(err, websessions.ErrLinkUsed) || domain.ErrorField(err) != "link" || (len(bad) > 10 && strings.Contains(err.Error(), bad[4:])) {
			t.Errorf("redeem %q: %v", bad, err)
		}
	}
	if n := len(w.events()); n != 3 {
		t.Fatalf("%d events", n)
	}
}

// A session ends when it expires, when it signs out and when an admin
// ends it; List shows the live ones.
func TestSessionsEnd(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	first := w.redeem(s, w.issue(s, domain.WebOwner))
	w.clock.Add(time.Hour)
	second, third := w.redeem(s, w.issue(s, domain.WebManager)), w.redeem(s, w.issue(s, domain.WebAnalyst))
	list, err := s.List(w.ctx)
	if err != nil || len(list) != 3 || list[0].ID != first.ID || list[1].Role != domain.WebManager || list[2].IssuedBy != "admin:7" ||
		!list[0].SignedIn.Equal(t0) || !list[0].Expires.Equal(first.Expires) {
		t.Fatalf("list %+v %v", list, err)
	}
	// Signing out: by the session itself, "signed out", unless said.
	if err := s.End(w.ctx, second.Secret.Reveal(), "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(w.ctx, second.Secret.Reveal(), domain.ScopeRead); !errors.Is(err, websessions.ErrUnauthenticated) {
		t.Fatalf("after signing out: %v", err)
	}
	if err := s.End(w.ctx, second.Secret.Reveal(), "", ""); err != nil {
		t.Fatalf("signing out twice: %v", err)
	}
	for _, bad := range []string{"", "sbs_" + strings.Repeat("a", 52), second.Secret.Reveal()[:40]} {
		if err := s.End(w.ctx, bad, "", ""); !errors.Is(err, websessions.ErrUnauthenticated) {
			t.Fatalf("signing out of %q: %v", bad, err)
		}
	}
	// An admin ends one; twice is no error and records nothing more.
	if err := s.EndSession(w.ctx, third.ID, "admin:1"); err != nil {
		t.Fatal(err)
	}
	if err := s.EndSession(w.ctx, third.ID, "admin:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(w.ctx, third.Secret.Reveal(), domain.ScopeRead); !errors.Is(err, websessions.ErrUnauthenticated) {
		t.Fatalf("after an admin ended it: %v", err)
	}
	if err := s.EndSession(w.ctx, uuid.New(), "admin:1"); !errors.Is(err, websessions.ErrUnknownSession) || domain.ErrorField(err) != "session" {
		t.Fatalf("an unknown session: %v", err)
	}
	evs := w.events()
	ended := evs[len(evs)-1].(domain.WebSessionEnded)
	signedOut := evs[len(evs)-2].(domain.WebSessionEnded)
	if len(evs) != 8 || ended.SessionID != third.ID || ended.By != "admin:1" || ended.Reason != "ended by admin" ||
		signedOut.SessionID != second.ID || signedOut.By != "web:"+second.ID.String() || signedOut.Reason != "signed out" {
		t.Fatalf("events %+v", evs)
	}
	if list, err := s.List(w.ctx); err != nil || len(list) != 1 || list[0].ID != first.ID {
		t.Fatalf("list %+v %v", list, err)
	}
	// Expiry: a moment before, in; then, out, and off the list.
	w.clock.Add(domain.DefaultSessionTTL - time.Hour - time.Nanosecond)
	if _, err := s.Authenticate(w.ctx, first.Secret.Reveal(), domain.ScopeAdmin); err != nil {
		t.Fatalf("a moment before it expires: %v", err)
	}
	w.clock.Add(time.Nanosecond)
	if _, err := s.Authenticate(w.ctx, first.Secret.Reveal(), domain.ScopeRead); !errors.Is(err, websessions.ErrUnauthenticated) {
		t.Fatalf("expired: %v", err)
	}
	if err := s.End(w.ctx, first.Secret.Reveal(), "", ""); err != nil {
		t.Fatalf("signing out of an expired session: %v", err)
	}
	if err := s.EndSession(w.ctx, first.ID, "admin:1"); err != nil {
		t.Fatalf("ending an expired session: %v", err)
	}
	if list, err := s.List(w.ctx); err != nil || len(list) != 0 {
		t.Fatalf("list %+v %v", list, err)
	}
	if n := len(w.events()); n != 8 {
		t.Fatalf("%d events after ending what was over", n)
	}
}

// Cookies that open no session are unauthenticated, never a panic.
func TestBadCookies(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	l := w.issue(s, domain.WebOwner)
	sess := w.redeem(s, w.issue(s, domain.WebOwner)).Secret.Reveal()
	for _, bad := range []string{"", "sbs_", sess[:len(sess)-1], sess + "a", " " + sess, strings.ToUpper(sess), "sbs_" + strings.Repeat("a", 52),
		l.Secret.Reveal(), "sbl_" + sess[4:], "Bearer " + sess, "\x00\xff"} {
		if _, err := s.Authenticate(w.ctx, bad, domain.ScopeRead); !errors.Is(err, websessions.ErrUnauthenticated) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// Two redeems of one link at once, in one service or in two on the same
// log (two processes), open exactly one session.
func TestConcurrentRedeem(t *testing.T) {
	w := newWorld(t)
	a, b := w.service(nil), w.service(nil)
	for round := range 5 {
		l := w.issue(a, domain.WebManager)
		var (
			wg              sync.WaitGroup
			mu              sync.Mutex
			won, used, errs int
		)
		for i := range 8 {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				_, err := s.Redeem(w.ctx, l.Secret.Reveal())
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, websessions.ErrLinkUsed):
					used++
				default:
					errs++
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if won != 1 || used != 7 || errs != 0 {
			t.Fatalf("round %d: %d won, %d refused as used, %d failed", round, won, used, errs)
		}
	}
	signIns := 0
	for _, e := range w.events() {
		if _, ok := e.(domain.WebSignedIn); ok {
			signIns++
		}
	}
	if signIns != 5 {
		t.Fatalf("%d sign-ins for 5 links", signIns)
	}
}

// A service started again on the log knows the sessions, the used links
// and the ended sessions.
func TestRestart(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	used, unused := w.issue(s, domain.WebManager), w.issue(s, domain.WebAnalyst)
	live, ended := w.redeem(s, used), w.redeem(s, w.issue(s, domain.WebOwner))
	if err := s.End(w.ctx, ended.Secret.Reveal(), ended.Principal.Actor(), "signed out"); err != nil {
		t.Fatal(err)
	}
	again := w.service(nil)
	if p, err := again.Authenticate(w.ctx, live.Secret.Reveal(), domain.ScopeManage); err != nil || p != live.Principal {
		t.Fatalf("a live session: %+v %v", p, err)
	}
	if _, err := again.Authenticate(w.ctx, ended.Secret.Reveal(), domain.ScopeRead); !errors.Is(err, websessions.ErrUnauthenticated) {
		t.Fatalf("an ended session: %v", err)
	}
	if _, err := again.Redeem(w.ctx, used.Secret.Reveal()); !errors.Is(err, websessions.ErrLinkUsed) {
		t.Fatalf("a used link: %v", err)
	}
	if sess, err := again.Redeem(w.ctx, unused.Secret.Reveal()); err != nil || sess.Role != domain.WebAnalyst {
		t.Fatalf("an unused link: %+v %v", sess, err)
	}
	if list, err := again.List(w.ctx); err != nil || len(list) != 2 {
		t.Fatalf("list %+v %v", list, err)
	}
}

// A second writer's link is redeemed here (Redeem refreshes first); a
// session it ended is seen after a refresh.
func TestSecondWriter(t *testing.T) {
	w := newWorld(t)
	a, b := w.service(nil), w.service(nil)
	sess := w.redeem(a, w.issue(b, domain.WebOwner))
	if _, err := b.Authenticate(w.ctx, sess.Secret.Reveal(), domain.ScopeRead); !errors.Is(err, websessions.ErrUnauthenticated) {
		t.Fatalf("before a refresh: %v", err)
	}
	if err := b.EndSession(w.ctx, sess.ID, "cli"); err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(w.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(w.ctx, sess.Secret.Reveal(), domain.ScopeRead); !errors.Is(err, websessions.ErrUnauthenticated) {
		t.Fatalf("ended elsewhere: %v", err)
	}
}

// queue is a Rand that hands out the given byte strings in order.
type queue struct{ chunks [][]byte }

func (q *queue) Read(p []byte) (int, error) {
	if len(q.chunks) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, q.chunks[0])
	q.chunks[0] = q.chunks[0][n:]
	if len(q.chunks[0]) == 0 {
		q.chunks = q.chunks[1:]
	}
	return n, nil
}

// A secret drawn twice is drawn again; a failing source of randomness
// is an error, not a weak secret.
func TestCollisionDrawsAgain(t *testing.T) {
	w := newWorld(t)
	secret := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	id := func(b byte) []byte { return bytes.Repeat([]byte{b}, 16) }
	q := &queue{chunks: [][]byte{
		secret(1), id(1), // a link
		secret(1), id(2), secret(2), id(3), // a link drawn again
		secret(3), id(4), // a session
		secret(3), id(5), secret(4), id(6), // a session drawn again
	}}
	s := w.service(q)
	first, second := w.issue(s, domain.WebOwner), w.issue(s, domain.WebOwner)
	if first.Secret.Reveal() == second.Secret.Reveal() || first.ID == second.ID {
		t.Fatal("the same link twice")
	}
	one, two := w.redeem(s, first), w.redeem(s, second)
	if one.Secret.Reveal() == two.Secret.Reveal() || one.ID == two.ID {
		t.Fatal("the same session twice")
	}
	if _, err := s.Authenticate(w.ctx, two.Secret.Reveal(), domain.ScopeAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IssueLink(w.ctx, domain.WebOwner, "cli"); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("without randomness: %v", err)
	}
}

// fanout is a slog handler that hands every record to each of its
// handlers.
type fanout []slog.Handler

func (f fanout) Enabled(context.Context, slog.Level) bool { return true }
func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range f {
		if err := h.Handle(ctx, r.Clone()); err != nil {
			return err
		}
	}
	return nil
}
func (f fanout) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(as)
	}
	return out
}
func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}

// No secret appears in the log's payloads, in what the service logs, in
// its errors, or where a caller prints, logs or marshals what IssueLink
// and Redeem return; the hashes are in the payloads (they must be) and
// nowhere else.
func TestSecretsNeverAppear(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	l := w.issue(s, domain.WebManager)
	sess := w.redeem(s, l)
	expired := w.issue(s, domain.WebAnalyst)
	var errs []error
	keep := func(_ any, err error) { errs = append(errs, err) }
	keep(s.Redeem(w.ctx, l.Secret.Reveal()))
	keep(s.Authenticate(w.ctx, sess.Secret.Reveal(), domain.ScopeAdmin))
	keep(s.Authenticate(w.ctx, sess.Secret.Reveal()+"x", domain.ScopeRead))
	w.clock.Add(time.Hour)
	keep(s.Redeem(w.ctx, expired.Secret.Reveal()))
	keep(s.Redeem(w.ctx, expired.Secret.Reveal()+"x"))
	errs = append(errs, s.End(w.ctx, sess.Secret.Reveal(), sess.Principal.Actor(), "signed out"))
	errs = append(errs, s.End(w.ctx, sess.Secret.Reveal(), sess.Principal.Actor(), "signed out"))
	// What a careless caller might do with what it was given.
	logger := slog.New(fanout{slog.NewTextHandler(lockedWriter{w}, nil), slog.NewJSONHandler(lockedWriter{w}, nil)})
	logger.Info("given", "link", l, "session", sess, "secret", sess.Secret, "any", any(l.Secret))
	jl, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(sess)
	if err != nil {
		t.Fatal(err)
	}
	printed := fmt.Sprintf("%v %+v %#v %s %q %x %d %v %+v %s %s", l, l, l, l.Secret, l.Secret, l.Secret, l.Secret, sess, sess, jl, js)
	if !strings.Contains(printed, "[secret]") {
		t.Fatalf("printed: %s", printed)
	}

	var payloads bytes.Buffer
	recs, err := w.store.ReadAll(w.ctx, 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		payloads.Write(r.Payload)
		for _, v := range r.Personal {
			payloads.WriteString(v)
		}
	}
	logs := w.logged()
	for _, m := range []string{"web sign-in link issued", "web sign-in", "the link was used already", "the link expired", "web session ended"} {
		if !strings.Contains(logs, m) {
			t.Fatalf("the service did not log %q:\n%s", m, logs)
		}
	}
	for _, secret := range []string{l.Secret.Reveal(), sess.Secret.Reveal(), expired.Secret.Reveal()} {
		hash := domain.HashTokenSecret(secret)
		body := secret[4:]
		for where, text := range map[string]string{"the log's payloads": payloads.String(), "the logs": logs, "printed": printed} {
			if strings.Contains(text, body) {
				t.Errorf("%s hold a secret", where)
			}
			if where != "the log's payloads" && strings.Contains(text, hex.EncodeToString(hash[:])) {
				t.Errorf("%s hold a hash", where)
			}
		}
		if !strings.Contains(payloads.String(), hex.EncodeToString(hash[:])) {
			t.Errorf("the log lacks a hash")
		}
		for _, err := range errs {
			if err != nil && strings.Contains(err.Error(), body[:20]) {
				t.Errorf("error %q holds a secret", err)
			}
		}
	}
}

// Whatever the cookie or link, the service answers with one of its
// errors and never panics.
func FuzzAuthenticate(f *testing.F) {
	for _, seed := range []string{"", "sbs_", "sbl_" + strings.Repeat("a", 52), "sbs_" + strings.Repeat("a", 52), "\xff"} {
		f.Add(seed)
	}
	store, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer store.Close()
	s, err := websessions.New(context.Background(), websessions.Config{Log: eventlog.New(store), Now: func() time.Time { return t0 }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if _, err := s.Authenticate(t.Context(), in, domain.ScopeRead); !errors.Is(err, websessions.ErrUnauthenticated) {
			t.Fatalf("%q: %v", in, err)
		}
		if _, err := s.Redeem(t.Context(), in); !errors.Is(err, websessions.ErrUnknownLink) {
			t.Fatalf("%q: %v", in, err)
		}
	})
}

// The URL to hand out redeems its link; the list, as a table and as
// JSON, shows the sessions and no secret.
func TestWrite(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	l := w.issue(s, domain.WebAnalyst)
	for _, base := range []string{"https://sales.example.com", "https://sales.example.com/"} {
		u, err := url.Parse(l.URL(base))
		if err != nil || u.Scheme != "https" || u.Host != "sales.example.com" || u.Path != websessions.SignInPath || u.Query().Get("t") != l.Secret.Reveal() {
			t.Fatalf("%s: %v %v", base, u, err)
		}
	}
	j := l.JSON("http://127.0.0.1:8080")
	if j.URL != "http://127.0.0.1:8080/web/signin?t="+l.Secret.Reveal() || j.Role != "analyst" || j.ID != l.ID.String() || !j.Expires.Equal(l.Expires) {
		t.Fatalf("%+v", j)
	}
	u, _ := url.Parse(j.URL)
	sess, err := s.Redeem(w.ctx, u.Query().Get("t"))
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.List(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := websessions.WriteList(&table, list); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(websessions.ListJSON(list))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), sess.ID.String()) || !strings.Contains(table.String(), "analyst") || !strings.Contains(table.String(), "admin:7") ||
		!strings.Contains(string(b), `"role":"analyst"`) || !strings.Contains(string(b), `"issued_by":"admin:7"`) || !strings.Contains(string(b), sess.ID.String()) {
		t.Fatalf("table:\n%s\njson: %s", &table, b)
	}
	for _, secret := range []string{l.Secret.Reveal()[4:], sess.Secret.Reveal()[4:]} {
		if strings.Contains(table.String(), secret) || strings.Contains(string(b), secret) {
			t.Fatal("a secret in the list")
		}
	}
}

// The console's view: a cookie that authenticates, refusals that match
// ErrUnauthenticated, a sign-out by the session itself.
func TestConsole(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	c := s.Console()
	l := w.issue(s, domain.WebManager)
	cookie, p, expires, err := c.Redeem(w.ctx, l.Secret.Reveal())
	if err != nil || !sessionFormat.MatchString(cookie) || p.Scope != domain.ScopeManage || !expires.Equal(t0.Add(domain.DefaultSessionTTL)) {
		t.Fatalf("%q %+v %v %v", cookie, p, expires, err)
	}
	if got, err := c.Authenticate(w.ctx, cookie, domain.ScopeManage); err != nil || got != p {
		t.Fatalf("%+v %v", got, err)
	}
	if cookie, _, _, err := c.Redeem(w.ctx, l.Secret.Reveal()); !errors.Is(err, domain.ErrUnauthenticated) || cookie != "" {
		t.Fatalf("a used link: %q %v", cookie, err)
	}
	if err := c.End(w.ctx, cookie); err != nil {
		t.Fatal(err)
	}
	if err := c.End(w.ctx, cookie); err != nil {
		t.Fatalf("twice: %v", err)
	}
	if _, err := c.Authenticate(w.ctx, cookie, domain.ScopeRead); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatal(err)
	}
	evs := w.events()
	if e, ok := evs[len(evs)-1].(domain.WebSessionEnded); !ok || e.By != p.Actor() || e.Reason != "signed out" || len(evs) != 3 {
		t.Fatalf("%+v", evs)
	}
}

// A link is issued for whoever asks with their own role, or a lower one:
// a manager cannot give out an owner's link.
func TestIssueLinkFor(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	for _, c := range []struct {
		scope domain.Scope
		role  string
		want  domain.WebRole
		err   error
	}{
		{domain.ScopeAdmin, "", domain.WebOwner, nil},
		{domain.ScopeManage, "", domain.WebManager, nil},
		{domain.ScopeRead, "", domain.WebAnalyst, nil},
		{domain.ScopeAdmin, "analyst", domain.WebAnalyst, nil},
		{domain.ScopeManage, "owner", "", domain.ErrForbidden},
		{domain.ScopeRead, "manager", "", domain.ErrForbidden},
		{domain.ScopeAdmin, "boss", "", domain.ErrUnknownWebRole},
	} {
		l, err := s.IssueLinkFor(w.ctx, domain.Principal{Scope: c.scope, Prefix: "sb_x"}, c.role, "cli")
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s asks for %q: %v, want %v", c.scope, c.role, err, c.err)
			}
			continue
		}
		if err != nil || l.Role != c.want {
			t.Errorf("%s asks for %q: %s, %v; want %s", c.scope, c.role, l.Role, err, c.want)
		}
	}
}
