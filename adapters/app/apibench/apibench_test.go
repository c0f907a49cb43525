package apibench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/salesbot/salesbot/adapters/app/apibench"
	"github.com/salesbot/salesbot/projections/sinktest"
)

// A short run against the test PostgreSQL: every kind of request is
// sent and answered 200, at about the rate asked; the kept schema holds
// the dialogs seeded, with the variety the filters need.
func TestRun(t *testing.T) {
	ctx := t.Context()
	dsn := sinktest.PostgresDSN()
	var progress bytes.Buffer
	res, err := apibench.Run(ctx, apibench.Config{DSN: dsn, Dialogs: 2000, Rate: 100, Duration: 2 * time.Second,
		Warmup: 200 * time.Millisecond, Concurrency: 8, Keep: true, Progress: &progress})
	if res.Schema != "" {
		t.Cleanup(func() { drop(t, dsn, res.Schema) })
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.String())
	if res.Requests != 200 || res.Errors != 0 || res.FirstError != "" {
		t.Fatalf("%d requests, %d errors (%s); want 200 answered", res.Requests, res.Errors, res.FirstError)
	}
	// No request is sent before its time: never above the rate offered
	// (below it on a busy machine, or under -race).
	if res.Achieved <= 0 || res.Achieved > 105 || res.Seconds < 1.9 {
		t.Errorf("achieved %.1f requests/s in %.2fs, offered 100/s for 2s", res.Achieved, res.Seconds)
	}
	if !(0 < res.P50ms && res.P50ms <= res.P90ms && res.P90ms <= res.P99ms && res.P99ms <= res.MaxMs) {
		t.Errorf("percentiles out of order: %+v", res)
	}
	seen, total := map[string]bool{}, 0
	for _, k := range res.Kinds {
		seen[k.Kind] = true
		total += k.Requests
		if k.Errors != 0 || k.Requests == 0 || k.P99ms > res.MaxMs {
			t.Errorf("kind %+v", k)
		}
	}
	for _, k := range []string{apibench.KindFirst, apibench.KindStatus, apibench.KindStage, apibench.KindAccount, apibench.KindCampaign,
		apibench.KindSince, apibench.KindCursor} {
		if !seen[k] {
			t.Errorf("no %s requests", k)
		}
	}
	if total != res.Requests {
		t.Errorf("the kinds count %d requests, the result %d", total, res.Requests)
	}
	if !strings.Contains(progress.String(), "seeded in") {
		t.Errorf("progress: %q", progress.String())
	}
	b, err := json.Marshal(res)
	if err != nil || !strings.Contains(string(b), `"p99_ms":`) || !strings.Contains(string(b), `"kinds":[{"kind":"first"`) {
		t.Errorf("JSON: %s %v", b, err)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n, maxN, statuses, stages, accounts, campaigns, won int
	err = conn.QueryRow(ctx, `SELECT count(*), max(n), count(DISTINCT status), count(DISTINCT stage), count(DISTINCT account_id),
		count(DISTINCT campaign), count(*) FILTER (WHERE outcome = 'won' AND outcome_amount IS NOT NULL) FROM `+res.Schema+`.dialogs`).
		Scan(&n, &maxN, &statuses, &stages, &accounts, &campaigns, &won)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2000 || maxN != 2000 || statuses != 3 || stages != 7 || accounts != apibench.Accounts || campaigns != apibench.Campaigns || won == 0 {
		t.Errorf("seeded %d dialogs (max n %d), %d statuses, %d stages, %d accounts, %d campaigns, %d won with an amount",
			n, maxN, statuses, stages, accounts, campaigns, won)
	}
}

// Without Keep the schema is gone after the run.
func TestRunDropsItsSchema(t *testing.T) {
	ctx := t.Context()
	dsn := sinktest.PostgresDSN()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	count := func() int {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'salesbot_apibench_%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	res, err := apibench.Run(ctx, apibench.Config{DSN: dsn, Dialogs: 50, Rate: 100, Duration: 200 * time.Millisecond, Warmup: -1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Schema != "" || res.Requests != 20 || res.Errors != 0 {
		t.Errorf("%+v", res)
	}
	if after := count(); after > before { // another test's run may be under way: never more than before
		t.Errorf("%d bench schemas before the run, %d after", before, after)
	}
}

func TestRunRefuses(t *testing.T) {
	for _, cfg := range []apibench.Config{{}, {DSN: "not a dsn"}, {DSN: sinktest.PostgresDSN(), Rate: -1}} {
		if _, err := apibench.Run(t.Context(), cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

func TestMeets(t *testing.T) {
	r := apibench.Result{Requests: 10, P99ms: 19.5}
	if !r.Meets(20*time.Millisecond) || r.Meets(19*time.Millisecond) {
		t.Errorf("p99 19.5ms: meets 20ms %v, 19ms %v", r.Meets(20*time.Millisecond), r.Meets(19*time.Millisecond))
	}
	r.Errors = 1
	if r.Meets(time.Second) {
		t.Error("a run with errors meets")
	}
	if (apibench.Result{}).Meets(time.Second) {
		t.Error("a run of no requests meets")
	}
}

func drop(t *testing.T, dsn, schema string) {
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		t.Error(err)
	}
}
