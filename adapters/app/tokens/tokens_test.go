package tokens_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/tokens"
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
	logs  *bytes.Buffer // text and JSON lines
	mu    sync.Mutex    // guards logs
}

func newWorld(t *testing.T) *world {
	t.Helper()
	store, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &world{t: t, ctx: t.Context(), store: store, log: eventlog.New(store), clock: &clock{t: t0}, logs: &bytes.Buffer{}}
}

type lockedWriter struct{ w *world }

func (l lockedWriter) Write(p []byte) (int, error) {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	return l.w.logs.Write(p)
}

// service starts a service on the world's log, as a process would: it
// reads the tokens from the log. It logs to both a text and a JSON
// handler.
func (w *world) service(rand io.Reader) *tokens.Service {
	w.t.Helper()
	out := lockedWriter{w}
	logger := slog.New(fanout{slog.NewTextHandler(out, nil), slog.NewJSONHandler(out, nil)})
	s, err := tokens.New(w.ctx, tokens.Config{Log: w.log, Now: w.clock.Now, Rand: rand, Logger: logger})
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) create(s *tokens.Service, name string, scope domain.Scope) tokens.Created {
	w.t.Helper()
	c, err := s.Create(w.ctx, name, scope, "cli")
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// events are the tokens stream's events.
func (w *world) events() []domain.Event {
	w.t.Helper()
	evs, _, err := w.log.Load(w.ctx, domain.TokensStream)
	if err != nil {
		w.t.Fatal(err)
	}
	return evs
}

func bearer(c tokens.Created) string { return "Bearer " + c.Token.Reveal() }

var format = regexp.MustCompile(`^sb_[a-z2-7]{16}_[a-z2-7]{52}$`)

// A created token authenticates with its scope and every lower one; a
// higher scope is forbidden (403), with the principal; the principal
// names the token and acts as token:<prefix>.
func TestCreateAndAuthenticate(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	byScope := map[domain.Scope]tokens.Created{}
	for _, sc := range domain.Scopes() {
		c := w.create(s, "app-"+string(sc), sc)
		if !format.MatchString(c.Token.Reveal()) || !strings.HasPrefix(c.Token.Reveal(), c.Prefix+"_") {
			t.Fatalf("token %q with prefix %s is not in the format", c.Token.Reveal(), c.Prefix)
		}
		if c.Name != "app-"+string(sc) || c.Scope != sc || !c.Created.Equal(t0) || c.CreatedBy != "cli" || !c.Live() {
			t.Fatalf("created %+v", c.Info)
		}
		byScope[sc] = c
	}
	for have, c := range byScope {
		for _, need := range domain.Scopes() {
			p, err := s.Authenticate(w.ctx, bearer(c), need)
			if p.TokenID != c.ID || p.Name != c.Name || p.Scope != have || p.Actor() != "token:"+c.Prefix {
				t.Errorf("%s asking for %s: principal %+v", have, need, p)
			}
			var se *tokens.ScopeError
			switch {
			case have.Allows(need) && err != nil:
				t.Errorf("%s asking for %s: %v", have, need, err)
			case !have.Allows(need) && (!errors.Is(err, tokens.ErrForbidden) || errors.Is(err, tokens.ErrUnauthenticated) ||
				!errors.As(err, &se) || se.Have != have || se.Need != need):
				t.Errorf("%s asking for %s: %v; want a ScopeError", have, need, err)
			}
		}
	}
	// The scheme in any case, spaces around; another token's secret is
	// no token.
	read, admin := byScope[domain.ScopeRead].Token.Reveal(), byScope[domain.ScopeAdmin].Token.Reveal()
	last := "a"
	if strings.HasSuffix(read, last) {
		last = "b"
	}
	if _, err := s.Authenticate(w.ctx, "  bearer   "+read+" ", domain.ScopeRead); err != nil {
		t.Errorf("lower-case scheme: %v", err)
	}
	for _, h := range []string{"", "Bearer", "Bearer ", read, "Basic " + read, "Bearer " + read[:20] + admin[20:], "Bearer " + read + "x",
		"Bearer " + strings.ToUpper(read), "Bearer " + read[:len(read)-1] + last} {
		if _, err := s.Authenticate(w.ctx, h, domain.ScopeRead); !errors.Is(err, tokens.ErrUnauthenticated) {
			t.Errorf("%q: %v; want ErrUnauthenticated", h, err)
		}
	}
	if evs := w.events(); len(evs) != 3 {
		t.Fatalf("%d events; want 3 TokenCreated (failed authentications record nothing)", len(evs))
	}
}

// The domain's rules reach the caller as *domain.Error on their field.
func TestCreateRefuses(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	crm := w.create(s, "CRM", domain.ScopeManage)
	for _, c := range []struct {
		name  string
		scope domain.Scope
		field string
	}{
		{" crm ", domain.ScopeRead, "name"},
		{"", domain.ScopeRead, "name"},
		{strings.Repeat("x", 65), domain.ScopeRead, "name"},
		{"tab\tname", domain.ScopeRead, "name"},
		{"reports", "write", "scope"},
	} {
		_, err := s.Create(w.ctx, c.name, c.scope, "cli")
		if domain.ErrorCode(err) != domain.EINVALID || domain.ErrorField(err) != c.field {
			t.Errorf("create %q %q: %v; want EINVALID on %s", c.name, c.scope, err, c.field)
		}
	}
	if _, _, err := s.Revoke(w.ctx, "crm", "cli", ""); err != nil {
		t.Fatal(err)
	}
	again := w.create(s, "crm", domain.ScopeRead)
	if again.ID == crm.ID || again.Prefix == crm.Prefix {
		t.Fatal("a new token got the old one's id or prefix")
	}
}

// A revoked token is refused (401) and its use is recorded at most once a
// minute, the record counting the uses it stands for; another token's
// wrong secret, or an unknown token, records nothing.
func TestRevokedTokenIsRefusedAndRecorded(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	crm := w.create(s, "crm", domain.ScopeManage)
	other := w.create(s, "reports", domain.ScopeRead)
	info, revoked, err := s.Revoke(w.ctx, crm.Prefix, "admin:7", "leaked")
	if err != nil || !revoked || info.Live() || !info.Revoked.Equal(t0) || info.RevokedBy != "admin:7" || info.Reason != "leaked" {
		t.Fatalf("revoke: %+v %v %v", info, revoked, err)
	}
	refusals := func() (out []domain.TokenRefused) {
		for _, e := range w.events() {
			if r, ok := e.(domain.TokenRefused); ok {
				out = append(out, r)
			}
		}
		return out
	}
	var wg sync.WaitGroup
	for range 20 { // at once: one record
		wg.Go(func() {
			if _, err := s.Authenticate(context.Background(), bearer(crm), domain.ScopeRead); !errors.Is(err, tokens.ErrUnauthenticated) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if r := refusals(); len(r) != 1 || r[0].TokenID != crm.ID || r[0].Scope != domain.ScopeRead || r[0].Suppressed != 0 || !r[0].At.Equal(t0) {
		t.Fatalf("refusals after 20 uses at once: %+v", r)
	}
	w.clock.Add(59 * time.Second)
	for range 5 {
		if _, err := s.Authenticate(w.ctx, bearer(crm), domain.ScopeAdmin); !errors.Is(err, tokens.ErrUnauthenticated) {
			t.Fatal(err)
		}
	}
	if r := refusals(); len(r) != 1 {
		t.Fatalf("%d refusals within the minute", len(r))
	}
	w.clock.Add(time.Second)
	if _, err := s.Authenticate(w.ctx, bearer(crm), domain.ScopeAdmin); !errors.Is(err, tokens.ErrUnauthenticated) {
		t.Fatal(err)
	}
	r := refusals()
	if len(r) != 2 || r[1].Suppressed != 24 || r[1].Scope != domain.ScopeAdmin || !r[1].At.Equal(t0.Add(time.Minute)) {
		t.Fatalf("the minute's record: %+v; want 24 suppressed uses", r)
	}
	// A wrong secret for the revoked token's prefix, or an unknown token,
	// writes nothing, however often.
	w.clock.Add(time.Hour)
	forged := "Bearer " + crm.Prefix + "_" + other.Token.Reveal()[len(other.Prefix)+1:]
	for _, h := range []string{forged, "Bearer sb_aaaaaaaaaaaaaaaa_" + strings.Repeat("a", 52)} {
		if _, err := s.Authenticate(w.ctx, h, domain.ScopeRead); !errors.Is(err, tokens.ErrUnauthenticated) {
			t.Fatal(err)
		}
	}
	if r := refusals(); len(r) != 2 {
		t.Fatalf("%d refusals after forged uses", len(r))
	}
	list, err := s.List(w.ctx)
	if err != nil || len(list) != 2 || list[0].ID != crm.ID || list[0].Refused != 26 || !list[0].LastRefused.Equal(t0.Add(time.Minute)) || !list[1].Live() {
		t.Fatalf("list: %+v %v", list, err)
	}
}

// Revoke finds a token by id, prefix (with or without sb_), the token
// itself or a live token's name; revoking twice records nothing.
func TestRevoke(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	for how, ref := range map[string]func(tokens.Created) string{
		"id":          func(c tokens.Created) string { return c.ID.String() },
		"upper id":    func(c tokens.Created) string { return strings.ToUpper(c.ID.String()) },
		"prefix":      func(c tokens.Created) string { return c.Prefix },
		"bare prefix": func(c tokens.Created) string { return strings.TrimPrefix(c.Prefix, "sb_") },
		"the token":   func(c tokens.Created) string { return c.Token.Reveal() },
		"name":        func(c tokens.Created) string { return " " + strings.ToUpper(c.Name) + " " },
	} {
		t.Run(how, func(t *testing.T) {
			c := w.create(s, "app "+how, domain.ScopeRead)
			before := len(w.events())
			info, revoked, err := s.Revoke(w.ctx, ref(c), "cli", "")
			if err != nil || !revoked || info.ID != c.ID || info.Live() {
				t.Fatalf("revoke by %s: %+v %v %v", how, info, revoked, err)
			}
			if how == "name" {
				return // a revoked token has no name to find it by
			}
			info, revoked, err = s.Revoke(w.ctx, ref(c), "cli", "")
			if err != nil || revoked || info.ID != c.ID {
				t.Fatalf("revoke twice by %s: %+v %v %v", how, info, revoked, err)
			}
			if n := len(w.events()); n != before+1 {
				t.Fatalf("%d events recorded, want 1", n-before)
			}
		})
	}
	c := w.create(s, "live", domain.ScopeRead)
	var err error
	missing := "sb_zzzzzzzzzzzzzzzz_" + strings.Repeat("z", 52)
	for _, ref := range []string{"app name", "nobody", missing, "", c.Prefix[:10]} {
		_, _, err = s.Revoke(w.ctx, ref, "cli", "")
		if !errors.Is(err, tokens.ErrNotFound) || domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("revoke %q: %v; want ErrNotFound", ref, err)
		}
		if err != nil && strings.Contains(err.Error(), missing[20:]) {
			t.Errorf("the error shows the token: %v", err)
		}
	}
	// A name that is another token's prefix names two tokens.
	w.create(s, c.Prefix, domain.ScopeRead)
	if _, _, err := s.Revoke(w.ctx, c.Prefix, "cli", ""); domain.ErrorCode(err) != domain.EINVALID || errors.Is(err, tokens.ErrNotFound) {
		t.Fatalf("an ambiguous reference: %v", err)
	}
	if list, _ := s.List(w.ctx); !list[len(list)-1].Live() || !list[len(list)-2].Live() {
		t.Fatal("an ambiguous reference revoked a token")
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

// No token appears in the log's payloads, in what the service logs, in
// its errors, or where a caller prints or logs what Create returns; the
// hash is in TokenCreated's payload (it must be) and nowhere else.
func TestTokensNeverAppear(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	crm := w.create(s, "crm", domain.ScopeRead)
	admin := w.create(s, "ops", domain.ScopeAdmin)
	var errs []error
	keep := func(_ any, err error) { errs = append(errs, err) }
	keep(s.Authenticate(w.ctx, bearer(crm), domain.ScopeRead))
	keep(s.Authenticate(w.ctx, bearer(crm), domain.ScopeAdmin))
	keep(s.Authenticate(w.ctx, bearer(crm)+"x", domain.ScopeRead))
	keep(s.Authenticate(w.ctx, "Bearer "+crm.Token.Reveal()[:40], domain.ScopeRead))
	if _, _, err := s.Revoke(w.ctx, crm.Token.Reveal(), "cli", ""); err != nil {
		t.Fatal(err)
	}
	keep(s.Authenticate(w.ctx, bearer(crm), domain.ScopeRead)) // recorded and logged
	_, _, err := s.Revoke(w.ctx, crm.Token.Reveal()+"x", "cli", "")
	errs = append(errs, err)
	// What a careless caller might do with what Create returned.
	logger := slog.New(fanout{slog.NewTextHandler(lockedWriter{w}, nil), slog.NewJSONHandler(lockedWriter{w}, nil)})
	logger.Info("created", "token", admin.Token, "created", admin, "any", any(admin))
	j, err := json.Marshal(admin)
	if err != nil {
		t.Fatal(err)
	}
	printed := fmt.Sprintf("%v %+v %#v %s %q %x %d %s", admin, admin, admin, admin.Token, admin.Token, admin.Token, admin.Token, j)

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
	w.mu.Lock()
	logs := w.logs.String()
	w.mu.Unlock()
	if !strings.Contains(logs, "api token created") || !strings.Contains(logs, "a revoked api token was used") {
		t.Fatalf("the service logged nothing to check:\n%s", logs)
	}
	for _, c := range []tokens.Created{crm, admin} {
		token := c.Token.Reveal()
		secret := token[len(c.Prefix)+1:]
		hash := domain.HashTokenSecret(secret)
		for where, text := range map[string]string{"the log's payloads": payloads.String(), "the logs": logs, "printed": printed} {
			if strings.Contains(text, secret) {
				t.Errorf("%s hold the secret of %s", where, c.Name)
			}
			if where != "the log's payloads" && strings.Contains(text, hex.EncodeToString(hash[:])) {
				t.Errorf("%s hold the hash of %s", where, c.Name)
			}
		}
		if !strings.Contains(payloads.String(), hex.EncodeToString(hash[:])) {
			t.Errorf("the log lacks the hash of %s", c.Name)
		}
		for _, err := range errs {
			if err != nil && strings.Contains(err.Error(), secret[:20]) {
				t.Errorf("error %q holds the secret of %s", err, c.Name)
			}
		}
	}
}

// A service started again on the log (a restart) authenticates the same
// tokens, refuses the revoked ones and keeps to the refusal interval.
func TestRestart(t *testing.T) {
	w := newWorld(t)
	s := w.service(nil)
	crm, ops := w.create(s, "crm", domain.ScopeManage), w.create(s, "ops", domain.ScopeAdmin)
	if _, _, err := s.Revoke(w.ctx, "ops", "cli", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(w.ctx, bearer(ops), domain.ScopeRead); !errors.Is(err, tokens.ErrUnauthenticated) {
		t.Fatal(err)
	}
	before := len(w.events())
	w.clock.Add(30 * time.Second)
	again := w.service(nil)
	if p, err := again.Authenticate(w.ctx, bearer(crm), domain.ScopeManage); err != nil || p.TokenID != crm.ID {
		t.Fatalf("after a restart: %+v %v", p, err)
	}
	if _, err := again.Authenticate(w.ctx, bearer(crm), domain.ScopeAdmin); !errors.Is(err, tokens.ErrForbidden) {
		t.Fatalf("after a restart, a higher scope: %v", err)
	}
	if _, err := again.Authenticate(w.ctx, bearer(ops), domain.ScopeRead); !errors.Is(err, tokens.ErrUnauthenticated) {
		t.Fatalf("after a restart, the revoked token: %v", err)
	}
	if n := len(w.events()); n != before {
		t.Fatalf("a refused use 30 s after the last record was recorded (%d events)", n-before)
	}
	a, b := mustList(t, s), mustList(t, again)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("lists differ:\n%v\n%v", a, b)
	}
}

func mustList(t *testing.T, s *tokens.Service) []tokens.Info {
	t.Helper()
	l, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Two services on one log (what the one-writer rule avoids) still keep a
// live token's name unique: the second decides again on the first's
// events. Authenticate sees another writer's token after a Refresh.
func TestSecondWriter(t *testing.T) {
	w := newWorld(t)
	a, b := w.service(nil), w.service(nil)
	crm := w.create(a, "crm", domain.ScopeRead)
	if _, err := b.Authenticate(w.ctx, bearer(crm), domain.ScopeRead); !errors.Is(err, tokens.ErrUnauthenticated) {
		t.Fatalf("before a refresh: %v", err)
	}
	if _, err := b.Create(w.ctx, "CRM", domain.ScopeRead, "cli"); domain.ErrorField(err) != "name" {
		t.Fatalf("the same name from a second writer: %v", err)
	}
	if _, err := b.Authenticate(w.ctx, bearer(crm), domain.ScopeRead); err != nil {
		t.Fatalf("after the second writer caught up: %v", err)
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

// A prefix another token has is drawn again; a failing source of
// randomness is an error, not a weak token.
func TestPrefixCollisionDrawsAgain(t *testing.T) {
	w := newWorld(t)
	tok := func(b byte) []byte { return bytes.Repeat([]byte{b}, 42) }
	id := func(b byte) []byte { return bytes.Repeat([]byte{b}, 16) }
	q := &queue{chunks: [][]byte{tok(1), id(1), tok(1), id(2), tok(2), id(3)}}
	s := w.service(q)
	first, second := w.create(s, "one", domain.ScopeRead), w.create(s, "two", domain.ScopeRead)
	if first.Prefix == second.Prefix || first.ID == second.ID {
		t.Fatalf("%s and %s", first.Prefix, second.Prefix)
	}
	if _, err := s.Authenticate(w.ctx, bearer(second), domain.ScopeRead); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(w.ctx, "three", domain.ScopeRead, "cli"); err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("without randomness: %v", err)
	}
}

// Whatever the header, Authenticate answers with a principal or one of
// its errors, and never panics.
func FuzzAuthenticate(f *testing.F) {
	store, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer store.Close()
	s, err := tokens.New(f.Context(), tokens.Config{Log: eventlog.New(store), Now: func() time.Time { return t0 }})
	if err != nil {
		f.Fatal(err)
	}
	live, err := s.Create(f.Context(), "live", domain.ScopeManage, "cli")
	if err != nil {
		f.Fatal(err)
	}
	revoked, err := s.Create(f.Context(), "revoked", domain.ScopeRead, "cli")
	if err != nil {
		f.Fatal(err)
	}
	if _, _, err := s.Revoke(f.Context(), "revoked", "cli", ""); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{bearer(live), bearer(revoked), "", "Bearer", "Bearer sb_", "Bearer sb__", "bearer " + live.Token.Reveal()[:19] + "_",
		"Bearer " + live.Token.Reveal() + "\x00", "Bearer \xff\xfe", "Bearer " + strings.Repeat("sb_", 100), "Basic dXNlcjpwYXNz"} {
		f.Add(seed, "read")
		f.Add(seed, "admin")
	}
	secret := live.Token.Reveal()[len(live.Prefix)+1:]
	f.Fuzz(func(t *testing.T, header, need string) {
		p, err := s.Authenticate(t.Context(), header, domain.Scope(need))
		switch {
		case err == nil:
			if p.TokenID != live.ID || !strings.Contains(header, live.Token.Reveal()) {
				t.Fatalf("%q authenticates as %+v", header, p)
			}
		case errors.Is(err, tokens.ErrForbidden):
			if p.TokenID != live.ID {
				t.Fatalf("%q forbidden as %+v", header, p)
			}
		case !errors.Is(err, tokens.ErrUnauthenticated):
			t.Fatalf("%q: %v", header, err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Fatalf("the error holds the secret: %v", err)
		}
	})
}
