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
		deal      *projections.Deal
	}{
		{camp, "A", true, true, true, "", "", nil},
		{camp, "A", true, false, false, "lost", "", nil},
		{camp, "A", false, false, false, "", "", nil},
		{camp, "B", true, true, false, "won", "", &projections.Deal{Outcome: "won", Value: domain.Money{Minor: 120050, Currency: "USD"}, At: day}},
		{camp, "B", true, false, false, "opted-out", "", nil}, // before DialogOptedOut said who
		{camp, "B", false, false, false, "opted-out", "lead", nil},
		{camp, "B", true, false, false, "opted-out", "admin:7", nil}, // a manager's: not the lead's answer
		{camp, "B", false, false, false, "opted-out", "erasure", nil},
		{camp, "A", false, false, false, "", "", &projections.Deal{Outcome: "won", Value: domain.Money{Minor: 30000, Currency: "USD"}, At: day}},
		{camp, "A", false, false, false, "stopped", "", &projections.Deal{Outcome: "won", Value: domain.Money{Minor: 20025, Currency: "USD"}, At: day}}, // a stopped dialog won later
		{camp, "B", false, false, false, "", "", &projections.Deal{Outcome: "won", Value: domain.Money{Minor: 100000, Currency: "EUR"}, At: day}},
		{uuid.Nil, "A", true, false, false, "", "", nil},
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
		u.Deal = d.deal
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
		{camp.String(), "Q1 Berlin", "A", 5, 2, 1, 1, 0, 1, 2},
		{camp.String(), "Q1 Berlin", "B", 6, 3, 1, 0, 2, 0, 2},
		{"", "", "A", 1, 1, 0, 0, 0, 0, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("campaign_funnel:\n got %+v\nwant %+v", got, want)
	}
	// The sink's query agrees with the view.
	vf, err := sink.VariantFunnel(ctx, camp, time.Time{})
	wantVF := []projections.VariantCounts{
		{Variant: "A", Dialogs: 5, Replied: 2, Qualified: 1, Handoffs: 1, Lost: 1, Won: 2, Revenue: []domain.Money{{Minor: 50025, Currency: "USD"}}},
		{Variant: "B", Dialogs: 6, Replied: 3, Qualified: 1, OptedOut: 2, Won: 2, Revenue: []domain.Money{{Minor: 100000, Currency: "EUR"}, {Minor: 120050, Currency: "USD"}}},
	}
	if err != nil || !reflect.DeepEqual(vf, wantVF) {
		t.Fatalf("VariantFunnel:\n got %+v, %v\nwant %+v", vf, err, wantVF)
	}
	// Revenue: one sum when the row's wins are in one currency; by
	// currency in campaign_revenue.
	type revenue struct {
		Variant, Revenue, Currency string
	}
	rows, err = conn.Query(ctx, `SELECT variant, coalesce(revenue::text, ''), coalesce(revenue_currency, '') FROM campaign_funnel
		WHERE campaign IS NOT NULL ORDER BY variant`)
	if err != nil {
		t.Fatal(err)
	}
	revs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[revenue])
	if want := []revenue{{"A", "500.25", "USD"}, {"B", "", ""}}; err != nil || !reflect.DeepEqual(revs, want) {
		t.Fatalf("campaign_funnel revenue: %+v, %v; want %+v", revs, err, want)
	}
	type byCurrency struct {
		Variant, Currency string
		Won               int64
		Revenue           string
	}
	rows, err = conn.Query(ctx, `SELECT variant, currency, won, revenue::text FROM campaign_revenue ORDER BY variant, currency`)
	if err != nil {
		t.Fatal(err)
	}
	perCurrency, err := pgx.CollectRows(rows, pgx.RowToStructByPos[byCurrency])
	if want := []byCurrency{{"A", "USD", 2, "500.25"}, {"B", "EUR", 1, "1000.00"}, {"B", "USD", 1, "1200.50"}}; err != nil || !reflect.DeepEqual(perCurrency, want) {
		t.Fatalf("campaign_revenue: %+v, %v; want %+v", perCurrency, err, want)
	}
	var qualified, inCampaign, optedOut int
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE qualified), count(*) FILTER (WHERE campaign IS NOT NULL), count(*) FILTER (WHERE opted_out)
		FROM dialog_funnel`).Scan(&qualified, &inCampaign, &optedOut); err != nil || qualified != 2 || inCampaign != 11 || optedOut != 2 {
		t.Fatalf("dialog_funnel: %d qualified, %d in a campaign, %d opted out, %v", qualified, inCampaign, optedOut, err)
	}
}
