package system

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/salesbot/salesbot/adapters/app/tokens"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
)

// TestMetricsAndHealth: a running system serves /healthz, /readyz (503
// until the read models caught up and the accounts are supervised) and
// /metrics without a token, pprof to admin tokens only; the metrics
// follow appends and API requests, name no person or id in a label,
// and pass `promtool check metrics`.
func TestMetricsAndHealth(t *testing.T) {
	cfg := testConfig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg.HTTP = &HTTP{Listen: addr}
	ctx := t.Context()
	st := cfg.Store
	h := domain.Handlers{Log: eventlog.New(st), Index: domain.NewIndexKey(st.IndexKey()), Now: time.Now}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	addContact := func(name, phone string) uuid.UUID {
		t.Helper()
		id := uuid.New()
		must(h.Contact(ctx, id, domain.AddContact{ContactID: id, Source: domain.SourceImport, Basis: domain.BasisConsent, Username: name, Phone: phone}))
		return id
	}
	anna := addContact("anna_secret", "+79991234567")
	// An account (lost, so the service does not dial Telegram for it).
	acc := uuid.New()
	must(h.Account(ctx, acc, domain.RegisterAccount{AccountID: acc, Label: "sales-of-anna", Phone: "+79990000000", Limits: domain.DefaultLimits()}))
	must(h.Account(ctx, acc, domain.MarkLost{Reason: "test"}))
	tk, err := tokens.New(ctx, tokens.Config{Log: eventlog.New(st), Now: time.Now})
	must(nil, err)
	admin, err := tk.Create(ctx, "ops", domain.ScopeAdmin, "cli")
	must(nil, err)
	reader, err := tk.Create(ctx, "dash", domain.ScopeRead, "cli")
	must(nil, err)

	s, err := New(ctx, cfg)
	must(nil, err)
	// Before Run: the read models have applied nothing, the accounts
	// are not supervised.
	rec := httptest.NewRecorder()
	s.obs.health.Ready().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var body struct {
		Status string
		Failed map[string]string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); rec.Code != http.StatusServiceUnavailable || err != nil ||
		body.Failed["read_models"] == "" || body.Failed["accounts"] == "" || body.Failed["event_log"] != "" {
		t.Fatalf("readyz before run: %d %s", rec.Code, rec.Body)
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	get := func(path, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		must(nil, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, b := get("/readyz", "")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz: %d %s", code, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, b := get("/healthz", ""); code != http.StatusOK || !strings.Contains(b, `"ok"`) {
		t.Fatalf("healthz: %d %s", code, b)
	}
	for _, c := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {reader.Token.Reveal(), http.StatusForbidden}, {admin.Token.Reveal(), http.StatusOK}} {
		if code, b := get("/debug/pprof/", c.token); code != c.want {
			t.Errorf("pprof: %d, want %d: %.200s", code, c.want, b)
		}
	}

	scrape := func() (string, map[string]*dto.MetricFamily) {
		t.Helper()
		code, b := get("/metrics", "")
		if code != http.StatusOK {
			t.Fatalf("metrics: %d %.300s", code, b)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(strings.NewReader(b))
		if err != nil {
			t.Fatalf("metrics do not parse: %v", err)
		}
		return b, fams
	}
	value := func(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
		t.Helper()
		f := fams[name]
		if f == nil {
			return 0 // not yet (a vector without a series); a test of growth fails
		}
	metrics:
		for _, m := range f.Metric {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.Label {
					if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
		return 0
	}

	// Once ready, the read models stand at the head.
	_, before := scrape()
	head := float64(st.Head())
	if v := value(before, "salesbot_log_head"); v != head {
		t.Errorf("salesbot_log_head = %v, want %v", v, head)
	}
	if v := value(before, "salesbot_read_model_position", "read_model", "read_models"); v < head-maxReadyLag {
		t.Errorf("read model position %v, head %v", v, head)
	}
	// An append and an API request show.
	addContact("boris_secret", "+79997654321")
	if code, b := get("/api/v1/dialogs/"+uuid.NewString(), reader.Token.Reveal()); code == 0 {
		t.Fatalf("api: %s", b)
	}
	text, after := scrape()
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"salesbot_events_appended_total", []string{"type", "ContactAdded"}},
		{"salesbot_event_appends_total", []string{"result", "ok"}},
		{"salesbot_event_append_duration_seconds", nil},
		{"salesbot_event_append_group_events", nil},
		{"salesbot_log_head", nil},
		{"salesbot_http_requests_total", []string{"route", "GET /api/v1/dialogs/{n}"}},
	} {
		if b, a := value(before, c.name, c.labels...), value(after, c.name, c.labels...); a <= b {
			t.Errorf("%s%v: %v then %v, want it to grow", c.name, c.labels, b, a)
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "salesbot_accounts_paused", "salesbot_handoffs_waiting", "salesbot_read_model_lag_events"} {
		if after[name] == nil {
			t.Errorf("no series %s", name)
		}
	}
	// A dialog of the account: a message planned and failed, a turn a
	// guard changed; then it closes (the engine leaves it alone).
	dialog := uuid.New()
	if err := h.Log.Append(ctx, domain.DialogStream(dialog), 0, anna.String(), []domain.Event{
		domain.DialogStarted{DialogID: dialog, N: 1, ContactID: anna, AccountID: acc, By: "test"},
		domain.TurnTaken{Kind: domain.TurnOpening, Engine: "offline", Guards: []string{"the reply claimed to be human: withheld"}},
		domain.OutboundPlanned{RandomID: 1, Text: "Hello Anna", By: domain.ActorAI},
		domain.OutboundFailed{RandomID: 1, Reason: "test"},
		domain.DialogClosed{Outcome: domain.OutcomeLost},
	}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; {
		text, after = scrape()
		if value(after, "salesbot_messages_failed_total", "account", acc.String()) == 1 && value(after, "salesbot_dialogs_by_status", "status", "closed") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dialog's message and status do not show:\n%s", text)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"salesbot_messages_planned_total", []string{"account", acc.String()}, 1},
		{"salesbot_messages_sent_total", []string{"account", acc.String()}, 0},
		{"salesbot_guard_interventions_total", []string{"kind", string(domain.GuardClaimedHuman)}, 1},
		{"salesbot_guard_interventions_total", []string{"kind", string(domain.GuardOther)}, 0},
	} {
		if v := value(after, c.name, c.labels...); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	if f := after["salesbot_messages_sent_total"]; f == nil || len(f.Metric) != 1 {
		t.Errorf("salesbot_messages_sent_total: %v, want the account's series", f)
	}

	// No person and no id in a label but the account's id in account.
	personal := regexp.MustCompile(`(?i)anna|boris|\+?7999|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	for name, f := range after {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "account" && l.GetValue() == acc.String() {
					continue
				}
				if personal.MatchString(l.GetValue()) {
					t.Errorf("%s has label %s=%q", name, l.GetName(), l.GetValue())
				}
			}
		}
	}

	if testing.Verbose() {
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, "salesbot_") && !strings.Contains(l, "_bucket") {
				t.Log(l)
			}
		}
	}
	t.Run("promtool", func(t *testing.T) {
		promtool, err := exec.LookPath("promtool")
		if err != nil {
			t.Skip("no promtool (Debian's prometheus package has it)")
		}
		cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(text)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
		}
	})
}
