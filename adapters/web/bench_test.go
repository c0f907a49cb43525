package web_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/salesbot/salesbot/adapters/web"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
	"github.com/salesbot/salesbot/projections/sinktest"
)

// BenchmarkInbox renders the inbox (GET /web/, a manager signed in,
// through the real handler into an httptest.ResponseRecorder: no
// network) over benchDialogs dialogs in the PostgreSQL read models (a
// schema of its own on the test server; skipped when it is unreachable)
// and in the memory ones, unfiltered, filtered and searched. It reports
// each case's p50 and p99 in milliseconds. The target (issue 17): p99 at
// most 50 ms. docs/performance.md has the numbers:
//
//	go test -run '^$' -bench Inbox -benchtime 200x ./adapters/web/
func BenchmarkInbox(b *testing.B) {
	data := inboxData(rand.New(rand.NewPCG(17, 1)))
	b.Run("postgres", func(b *testing.B) {
		ctx := context.Background()
		dsn := sinktest.PostgresDSN()
		probe, cancel := context.WithTimeout(ctx, 3*time.Second)
		conn, err := pgx.Connect(probe, dsn)
		cancel()
		if err != nil {
			b.Skipf("PostgreSQL at %s is unreachable (set SALESBOT_TEST_POSTGRES): %v", dsn, err)
		}
		conn.Close(ctx)
		schema, scoped, err := projections.NewSchema(ctx, dsn, "salesbot_bench_inbox")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			if err := projections.DropSchema(context.Background(), dsn, schema); err != nil {
				b.Error(err)
			}
		})
		sink, err := projections.OpenPostgres(ctx, scoped)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(sink.Close)
		data.fill(b, sink)
		// What autovacuum does soon after a projector wrote this many
		// rows: the planner's statistics.
		if err := analyze(ctx, scoped); err != nil {
			b.Fatal(err)
		}
		benchInbox(b, sink, data)
	})
	b.Run("memory", func(b *testing.B) {
		sink := projections.NewMemory()
		data.fill(b, sink)
		benchInbox(b, sink, data)
	})
}

// benchDialogs is how many dialogs the inbox bench fills the read
// models with.
const benchDialogs = 10_000

// benchData is the bench's read models as the projector's batches: one
// per benchBatch dialogs, with their contacts; the first also holds the
// accounts and campaigns.
type benchData struct {
	batches   [][]projections.Change
	accounts  []uuid.UUID
	campaigns []uuid.UUID
	counts    map[string]int // dialogs by kind: waiting, taken, active, closed
}

// benchBatch is how many dialogs go into one Apply, as a projector's
// batch of events would hold.
const benchBatch = 500

// Names of the bench's leads, Latin and Cyrillic.
var (
	benchFirst = []string{"Anna", "Boris", "Clara", "Dmitri", "Elena", "Farid", "Galina", "Hugo", "Ирина", "Олег", "Мария", "Пётр", "Светлана", "Тимур", "Юлия", "Яков"}
	benchLast  = []string{"Smith", "Ivanova", "Kuznetsov", "Müller", "Петрова", "Смирнов", "Соколова", "Волков", "Garcia", "Novak", "Орлова", "Лебедев"}
)

// inboxData generates benchDialogs dialogs numbered in the order they
// opened over 90 days until now: 20 accounts, 4 campaigns one after
// another (three dialogs in four from the campaign of their time), older
// dialogs mostly closed, newer ones active at every stage or handed off
// (some waiting for a person, some taken over); one contact each, most
// with a username.
func inboxData(r *rand.Rand) *benchData {
	d := &benchData{counts: map[string]int{}}
	var first []projections.Change
	for i := range 20 {
		id := uuid.New()
		d.accounts = append(d.accounts, id)
		first = append(first, projections.PutAccount{Account: projections.Account{ID: id, Label: fmt.Sprintf("sales-%02d", i+1),
			Status: "online", DailyCap: 40, MessagesPerMinute: 6, UpdatedAt: now}})
	}
	const days = 90
	start := now.Add(-days * 24 * time.Hour)
	for i := range 4 {
		id := uuid.New()
		d.campaigns = append(d.campaigns, id)
		from := start.Add(time.Duration(i) * days / 4 * 24 * time.Hour)
		first = append(first, projections.PutCampaign{Campaign: projections.Campaign{ID: id, Name: fmt.Sprintf("Campaign %d", i+1),
			Status: projections.CampaignEnded, Scenario: "sales", Version: "1",
			Variants:  []domain.VariantWeight{{Name: "A", Weight: 50}, {Name: "B", Weight: 50}},
			Schedule:  domain.CampaignSchedule{Start: from, End: from.Add(days / 4 * 24 * time.Hour)},
			CreatedAt: from, UpdatedAt: from}})
	}
	open := []string{string(domain.StageOpening), string(domain.StageDiscovery), string(domain.StageQualification),
		string(domain.StageOffer), string(domain.StageObjections)}
	batch := first
	for i := range benchDialogs {
		n := int64(i + 1)
		created := start.Add(time.Duration(i) * days * 24 * time.Hour / benchDialogs)
		contact := projections.Contact{ID: uuid.New(), Source: "import", Basis: "consent",
			Name: benchFirst[r.IntN(len(benchFirst))] + " " + benchLast[r.IntN(len(benchLast))], CreatedAt: created}
		if r.IntN(5) > 0 {
			contact.Username = fmt.Sprintf("lead%05d", n)
		}
		dl := projections.Dialog{ID: uuid.New(), N: n, ContactID: contact.ID, AccountID: d.accounts[r.IntN(len(d.accounts))],
			Variant: "A", Stage: string(domain.StageOpening), Status: projections.StatusActive, CreatedAt: created, UpdatedAt: created}
		if c := i * 4 / benchDialogs; r.IntN(4) > 0 {
			dl.Campaign, dl.Variant = d.campaigns[c], []string{"A", "B"}[r.IntN(2)]
		}
		batch = append(batch, projections.PutContact{Contact: contact}, projections.PutDialog{Dialog: dl})
		// What happened since, as the projector's updates of the row.
		last := created.Add(time.Duration(r.IntN(48*60)) * time.Minute)
		if recent := now.Add(-time.Duration(r.IntN(7*24*60)) * time.Minute); n > benchDialogs*6/10 && last.Before(recent) {
			last = recent
		}
		u := projections.UpdateDialog{ID: dl.ID, AddOutbound: 1 + r.IntN(6), AddInbound: r.IntN(6), LastMessageAt: last, At: last,
			FirstOutboundAt: created.Add(time.Minute)}
		score := r.IntN(101)
		u.Score = &score
		kind := "active"
		switch p := r.IntN(100); {
		case n <= benchDialogs*6/10 && p < 85, n > benchDialogs*6/10 && p >= 69:
			kind = "closed"
		case n > benchDialogs*6/10 && p < 6:
			kind = "waiting"
		case n > benchDialogs*6/10 && p < 9:
			kind = "taken"
		}
		d.counts[kind]++
		switch kind {
		case "active":
			u.Stage = ptr(open[r.IntN(len(open))])
		case "waiting", "taken":
			at := now.Add(-time.Duration(1+r.IntN(6*60)) * time.Minute)
			u.Stage, u.Status, u.HandoffAt, u.HandoffReason = ptr(string(domain.StageHandoff)), ptr(projections.StatusHandoff), at, "asked for a person"
			u.LastMessageAt, u.At = at, at
			if kind == "taken" {
				u.TakenOver = ptr(true)
				u.LastMessageAt = at.Add(time.Duration(r.IntN(30)) * time.Minute)
				u.At = u.LastMessageAt
			}
		case "closed":
			u.Stage, u.Status = ptr(string(domain.StageClosed)), ptr(projections.StatusClosed)
			u.Outcome = ptr([]string{"lost", "opted-out", "stopped", "won"}[r.IntN(4)])
		}
		batch = append(batch, u)
		if (i+1)%benchBatch == 0 || i+1 == benchDialogs {
			d.batches = append(d.batches, batch)
			batch = nil
		}
	}
	return d
}

func ptr[T any](v T) *T { return &v }

// fill applies the batches to sink, one position each.
func (d *benchData) fill(b *testing.B, sink projections.Sink) {
	b.Helper()
	ctx := context.Background()
	began := time.Now()
	for i, batch := range d.batches {
		pos := uint64(i + 1)
		if err := sink.Apply(ctx, batch, pos, projections.Checkpoint{Position: pos}); err != nil {
			b.Fatalf("batch %d: %v", pos, err)
		}
	}
	b.Logf("%d dialogs (%v) applied in %d batches in %v", benchDialogs, d.counts, len(d.batches), time.Since(began).Round(time.Millisecond))
}

// analyze has PostgreSQL gather the statistics of the schema of dsn.
func analyze(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "ANALYZE")
	return err
}

// benchInbox renders each case of the inbox b.N times on a console over
// sink.
func benchInbox(b *testing.B, sink projections.Sink, d *benchData) {
	sessions := newSessions()
	console, err := web.New(web.Config{Sessions: sessions, ReadModels: sink, Dialogs: newDialogs(), Transcripts: transcripts{},
		Now: func() time.Time { return now }, CSRFKey: []byte("bench key")})
	if err != nil {
		b.Fatal(err)
	}
	cookie, _ := sessions.session(b, domain.ScopeManage)
	for _, c := range []struct{ name, query string }{
		{"all", ""},
		{"handoff", "?status=handoff"},
		{"account", "?account=" + d.accounts[3].String()},
		{"campaign", "?campaign=" + d.campaigns[2].String()},
		{"search-username", "?q=%40lead0999"},
		{"search-name", "?q=" + "смирнов"},
	} {
		b.Run(c.name, func(b *testing.B) {
			get := func() *httptest.ResponseRecorder {
				r := httptest.NewRequest(http.MethodGet, "http://console.test/web/"+c.query, nil)
				r.AddCookie(&http.Cookie{Name: "sb_session", Value: cookie})
				rec := httptest.NewRecorder()
				console.ServeHTTP(rec, r)
				return rec
			}
			// The page lists dialogs: the bench measures an inbox, not an
			// error page.
			first := get()
			if first.Code != http.StatusOK || !strings.Contains(first.Body.String(), `data-n="`) {
				b.Fatalf("GET /web/%s: %d, no dialogs listed", c.query, first.Code)
			}
			var took []time.Duration
			for b.Loop() {
				began := time.Now()
				if res := get(); res.Code != http.StatusOK {
					b.Fatalf("GET /web/%s: %d", c.query, res.Code)
				}
				took = append(took, time.Since(began))
			}
			b.StopTimer()
			slices.Sort(took)
			b.ReportMetric(quantile(took, 0.50), "p50-ms")
			b.ReportMetric(quantile(took, 0.99), "p99-ms")
			b.ReportMetric(float64(first.Body.Len())/1024, "page-KiB")
		})
	}
}

// quantile is the q-quantile of sorted durations (nearest rank), in
// milliseconds.
func quantile(sorted []time.Duration, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return float64(sorted[max(i, 0)]) / float64(time.Millisecond)
}
