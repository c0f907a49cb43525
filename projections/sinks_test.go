package projections_test

import (
	"context"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/salesbot/salesbot/domain"
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
	if err := sink.Apply(ctx, changes, 1, projections.Checkpoint{Position: 5}); err != nil {
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

// TestCampaignFunnelView: campaign_funnel counts what VariantFunnel
// counts, per campaign and variant, with the campaign's name; dialogs no
// campaign opened are the row with campaign NULL; dialog_funnel has the
// campaign and the qualified flag.
func TestCampaignFunnelView(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := sinktest.NewSchema(t)
	sink, err := projections.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	day := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	camp := uuid.MustParse("0193a0c0-0000-7000-8000-0000000ca001")
	changes := []projections.Change{projections.PutCampaign{Campaign: projections.Campaign{ID: camp, Name: "Q1 Berlin", Status: "active",
		Scenario: "acme", Variants: []domain.VariantWeight{{Name: "A", Weight: 1}, {Name: "B", Weight: 1}},
		Schedule: domain.CampaignSchedule{Start: day, End: day.Add(time.Hour)}, CreatedAt: day, UpdatedAt: day}}}
	s := func(v string) *string { return &v }
	for i, d := range []struct {
		campaign  uuid.UUID
		variant   string
		replied   bool
		qualified bool
		handoff   bool
		outcome   string
		by        string // who opted the lead out
	}{
		{camp, "A", true, true, true, "", ""},
		{camp, "A", true, false, false, "lost", ""},
		{camp, "A", false, false, false, "", ""},
		{camp, "B", true, true, false, "won", ""},
		{camp, "B", true, false, false, "opted-out", ""}, // before DialogOptedOut said who
		{camp, "B", false, false, false, "opted-out", "lead"},
		{camp, "B", true, false, false, "opted-out", "admin:7"}, // a manager's: not the lead's answer
		{camp, "B", false, false, false, "opted-out", "erasure"},
		{uuid.Nil, "A", true, false, false, "", ""},
	} {
		id := uuid.New()
		changes = append(changes, projections.PutDialog{Dialog: projections.Dialog{ID: id, N: int64(i + 1), ContactID: uuid.New(), AccountID: uuid.New(),
			Variant: d.variant, Stage: "opening", Status: "active", CreatedAt: day, UpdatedAt: day, Campaign: d.campaign}})
		u := projections.UpdateDialog{ID: id, At: day}
		if d.replied {
			u.AddInbound, u.FirstInboundAt = 1, day
		}
		if d.qualified {
			u.QualifiedAt = day
		}
		if d.handoff {
			u.HandoffAt, u.HandoffReason = day, "score"
		}
		if d.outcome != "" {
			u.Outcome, u.Status = s(d.outcome), s("closed")
		}
		if d.by != "" {
			u.OptedOutBy = s(d.by)
		}
		changes = append(changes, u)
	}
	if err := sink.Apply(ctx, changes, 1, projections.Checkpoint{Position: 1}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT coalesce(campaign::text, ''), coalesce(campaign_name, ''), variant, dialogs, replied, qualified, handoff, opted_out, lost, won
		FROM campaign_funnel ORDER BY campaign NULLS LAST, variant`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Campaign, Name, Variant                                   string
		Dialogs, Replied, Qualified, Handoff, OptedOut, Lost, Won int64
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatal(err)
	}
	want := []row{
		{camp.String(), "Q1 Berlin", "A", 3, 2, 1, 1, 0, 1, 0},
		{camp.String(), "Q1 Berlin", "B", 5, 3, 1, 0, 2, 0, 1},
		{"", "", "A", 1, 1, 0, 0, 0, 0, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("campaign_funnel:\n got %+v\nwant %+v", got, want)
	}
	// The sink's query agrees with the view.
	vf, err := sink.VariantFunnel(ctx, camp, time.Time{})
	if err != nil || len(vf) != 2 || vf[0] != (projections.VariantCounts{Variant: "A", Dialogs: 3, Replied: 2, Qualified: 1, Handoffs: 1, Lost: 1}) ||
		vf[1] != (projections.VariantCounts{Variant: "B", Dialogs: 5, Replied: 3, Qualified: 1, OptedOut: 2, Won: 1}) {
		t.Fatalf("VariantFunnel: %+v, %v", vf, err)
	}
	var qualified, inCampaign, optedOut int
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE qualified), count(*) FILTER (WHERE campaign IS NOT NULL), count(*) FILTER (WHERE opted_out)
		FROM dialog_funnel`).Scan(&qualified, &inCampaign, &optedOut); err != nil || qualified != 2 || inCampaign != 8 || optedOut != 2 {
		t.Fatalf("dialog_funnel: %d qualified, %d in a campaign, %d opted out, %v", qualified, inCampaign, optedOut, err)
	}
}
