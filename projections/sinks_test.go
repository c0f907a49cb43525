package projections_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/salesbot/salesbot/projections"
	"github.com/salesbot/salesbot/projections/sinktest"
)

func TestMemorySink(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) projections.Sink { return projections.NewMemory() })
}

func TestPostgresSink(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) projections.Sink {
		sink, err := projections.OpenPostgres(context.Background(), sinktest.NewSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sink.Close)
		return sink
	})
}

// TestUsageView: llm_usage_daily over the rows the PostgreSQL sink writes.
func TestUsageView(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := sinktest.NewSchema(t)
	sink, err := projections.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	day := time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC)
	d := uuid.New()
	ok := func(pos uint64, at time.Time, variant string, prompt, completion int, latency int64) projections.Change {
		return projections.PutTurn{Turn: projections.Turn{DialogID: d, Position: pos, At: at, Status: projections.TurnOK, Kind: "reply",
			Engine: "llm", Model: "gpt-4o-mini", Variant: variant, PromptTokens: prompt, CompletionTokens: completion, LatencyMs: latency}}
	}
	changes := []projections.Change{
		projections.PutDialog{Dialog: projections.Dialog{ID: d, N: 1, ContactID: uuid.New(), AccountID: uuid.New(), Variant: "B",
			Stage: "opening", Status: "active", CreatedAt: day, UpdatedAt: day}},
		ok(1, day, "B", 1000, 100, 1000),
		ok(2, day, "B", 2000, 200, 2000),
		ok(3, day, "B", 3000, 300, 3000),
		// Failed: no variant in the event (the dialog's counts), its
		// latency is of the retries and not averaged in.
		projections.PutTurn{Turn: projections.Turn{DialogID: d, Position: 4, At: day, Status: projections.TurnFailed, Engine: "llm",
			Model: "gpt-4o-mini", LatencyMs: 60000, Attempts: 4, Reason: "timeout"}},
		// The next UTC day, even if in Moscow it is the same one.
		ok(5, day.Add(time.Hour), "B", 10, 1, 10),
	}
	if err := sink.Apply(ctx, changes, 1, 5); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), engine, model, variant, turns, failed, prompt_tokens, completion_tokens,
		avg_latency_ms, p95_latency_ms FROM llm_usage_daily ORDER BY day`)
	if err != nil {
		t.Fatal(err)
	}
	type usage struct {
		Day, Engine, Model, Variant       string
		Turns, Failed, Prompt, Completion int64
		AvgLatency, P95Latency            float64
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (usage, error) {
		var u usage
		err := r.Scan(&u.Day, &u.Engine, &u.Model, &u.Variant, &u.Turns, &u.Failed, &u.Prompt, &u.Completion, &u.AvgLatency, &u.P95Latency)
		return u, err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []usage{
		{"2026-11-25", "llm", "gpt-4o-mini", "B", 4, 1, 6000, 600, 2000, 2900}, // p95 of 1000, 2000, 3000 interpolated
		{"2026-11-26", "llm", "gpt-4o-mini", "B", 1, 0, 10, 1, 10, 10},
	}
	if len(got) != len(want) {
		t.Fatalf("llm_usage_daily:\n got %+v\nwant %+v", got, want)
	}
	for i := range want {
		// Compared to the microsecond: percentile_cont interpolates in
		// floating point.
		got[i].AvgLatency, got[i].P95Latency = math.Round(got[i].AvgLatency*1000)/1000, math.Round(got[i].P95Latency*1000)/1000
		if got[i] != want[i] {
			t.Errorf("llm_usage_daily row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}
