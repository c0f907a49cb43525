package apibench

import (
	"context"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// Seeded read models: Accounts accounts, Campaigns campaigns, and the
// dialogs spread over Span, numbered in the order they were opened.
const (
	Accounts  = 20
	Campaigns = 8
	Span      = 180 * 24 * time.Hour
)

// world is what the seeding made: the values the requests filter by.
type world struct {
	schema    string
	dsn       string // with the schema as search_path
	now       time.Time
	accounts  []uuid.UUID
	campaigns []uuid.UUID
}

// seed fills the read models of w.dsn, migrated and empty, with n
// dialogs drawn from seed: accounts and campaigns through the sink,
// dialogs with COPY (one row each, every column the lists show).
func seed(ctx context.Context, sink *projections.Postgres, w *world, n int, seed uint64) error {
	r := mrand.New(mrand.NewPCG(seed, 0))
	var changes []projections.Change
	for i := range Accounts {
		id := randomUUID(r)
		w.accounts = append(w.accounts, id)
		changes = append(changes, projections.PutAccount{Account: projections.Account{ID: id, Label: fmt.Sprintf("bench-%02d", i+1),
			Status: string(domain.StatusActive), UpdatedAt: w.now, DailyCap: 40, MessagesPerMinute: 6}})
	}
	for i := range Campaigns {
		id := randomUUID(r)
		w.campaigns = append(w.campaigns, id)
		start := w.now.Add(-Span + time.Duration(i)*Span/Campaigns)
		status := projections.CampaignEnded
		if i >= Campaigns-2 {
			status = projections.CampaignActive
		}
		changes = append(changes, projections.PutCampaign{Campaign: projections.Campaign{ID: id, Name: fmt.Sprintf("Bench %d", i+1),
			Status: status, Scenario: "acme", Version: "1", Variants: []domain.VariantWeight{{Name: "A", Weight: 50}, {Name: "B", Weight: 50}},
			Schedule: domain.CampaignSchedule{Start: start, End: start.Add(2 * Span / Campaigns)}, CreatedBy: "cli", CreatedAt: start, UpdatedAt: start}})
	}
	if err := sink.Apply(ctx, changes, 1, projections.Checkpoint{Position: 1}); err != nil {
		return fmt.Errorf("seed accounts and campaigns: %w", err)
	}

	conn, err := pgx.Connect(ctx, w.dsn)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows := &dialogRows{w: w, r: r, n: n}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"dialogs"}, dialogColumns, rows); err != nil {
		return fmt.Errorf("seed dialogs: %w", err)
	}
	// As autovacuum keeps a table that has been in use for a while (hint
	// bits set, statistics fresh), and so that it does not start on the
	// new rows in the middle of the measurement.
	if _, err := conn.Exec(ctx, "VACUUM (ANALYZE) dialogs, accounts, campaigns"); err != nil {
		return fmt.Errorf("vacuum dialogs: %w", err)
	}
	return nil
}

var dialogColumns = []string{"id", "n", "contact_id", "account_id", "variant", "stage", "status", "outcome", "score", "taken_over",
	"inbound", "outbound", "last_message_at", "created_at", "updated_at", "first_outbound_at", "first_inbound_at", "handoff_at",
	"handoff_reason", "campaign", "qualified_at", "opted_out_by", "outcome_amount", "outcome_currency", "outcome_reason", "outcome_at"}

// dialogRows generates the dialogs as a pgx.CopyFromSource.
type dialogRows struct {
	w   *world
	r   *mrand.Rand
	n   int
	i   int
	row []any
}

func (d *dialogRows) Next() bool {
	if d.i >= d.n {
		return false
	}
	d.row = d.dialog(d.i)
	d.i++
	return true
}

func (d *dialogRows) Values() ([]any, error) { return d.row, nil }
func (d *dialogRows) Err() error             { return nil }

var activeStages = []domain.Stage{domain.StageOpening, domain.StageDiscovery, domain.StageQualification, domain.StageOffer, domain.StageObjections}

// dialog is the row of the i-th dialog (number i+1): opened at a time
// growing with its number over Span, older dialogs more often closed;
// accounts skewed (the first ones busier), three in four dialogs of the
// campaign running when it opened.
func (d *dialogRows) dialog(i int) []any {
	r := d.r
	slot := Span / time.Duration(d.n)
	created := d.w.now.Add(-Span + time.Duration(i)*slot + time.Duration(r.Int64N(int64(slot)+1))).Truncate(time.Millisecond)
	age := 1 - float64(i)/float64(d.n) // 1: the oldest, 0: the newest
	account := d.w.accounts[min(r.IntN(Accounts), r.IntN(Accounts))]
	var campaign *uuid.UUID
	variant := "A"
	if r.IntN(4) > 0 {
		k := min(Campaigns-1, int(float64(Campaigns)*float64(i)/float64(d.n)))
		if k > 0 && r.IntN(3) == 0 {
			k-- // campaigns overlap: the one before still opens some
		}
		campaign = &d.w.campaigns[k]
		variant = []string{"A", "B"}[r.IntN(2)]
	}
	status, stage, outcome := projections.StatusActive, activeStages[r.IntN(len(activeStages))], ""
	switch x := r.Float64(); {
	case x < 0.1+0.75*age:
		status, stage = projections.StatusClosed, domain.StageClosed
		outcome = string([]domain.Outcome{domain.OutcomeLost, domain.OutcomeLost, domain.OutcomeLost, domain.OutcomeOptedOut,
			domain.OutcomeOptedOut, domain.OutcomeStopped, domain.OutcomeStopped, domain.OutcomeUnreachable, domain.OutcomeWon, domain.OutcomeWon}[r.IntN(10)])
	case x < 0.18+0.75*age:
		status, stage = projections.StatusHandoff, domain.StageHandoff
	}
	var (
		score                                       *int32
		lastMsg, firstOut, firstIn, handoff, qualAt *time.Time
		in, out                                     int32
		handoffReason, optedOutBy                   any
	)
	at := func(after time.Time, within time.Duration) *time.Time {
		t := after.Add(time.Duration(r.Int64N(int64(within)))).Truncate(time.Millisecond)
		return &t
	}
	out = 1 + r.Int32N(6)
	firstOut = at(created, time.Minute)
	lastMsg = firstOut
	if stage != domain.StageOpening && r.IntN(5) > 0 {
		in = 1 + r.Int32N(out+1)
		firstIn = at(*firstOut, 24*time.Hour)
		lastMsg = at(*firstIn, 72*time.Hour)
		s := r.Int32N(101)
		score = &s
		if s >= 50 {
			qualAt = at(*firstIn, 48*time.Hour)
		}
	}
	updated := *lastMsg
	if status == projections.StatusHandoff || outcome == string(domain.OutcomeWon) {
		handoff = at(*lastMsg, time.Hour)
		handoffReason = "hot lead"
		updated = *handoff
	}
	var amount pgtype.Numeric
	var currency, outcomeAt any
	outcomeReason := ""
	switch outcome {
	case string(domain.OutcomeOptedOut):
		optedOutBy = "lead"
	case string(domain.OutcomeWon):
		amount = pgtype.Numeric{Int: big.NewInt(50000 + r.Int64N(2000000)), Exp: -2, Valid: true}
		currency, outcomeAt = "EUR", *at(updated, 14*24*time.Hour)
	case string(domain.OutcomeLost):
		outcomeReason = "chose another vendor"
	}
	if outcome != "" && updated.Before(created.Add(time.Hour)) {
		updated = *at(updated, 7*24*time.Hour)
	}
	return []any{randomUUID(r), int64(i + 1), randomUUID(r), account, variant, string(stage), status, outcome, score,
		status == projections.StatusHandoff && r.IntN(3) == 0, in, out, lastMsg, created, updated, firstOut, firstIn, handoff,
		orEmpty(handoffReason), campaign, qualAt, optedOutBy, amount, currency, outcomeReason, outcomeAt}
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

// randomUUID is a version 4 UUID drawn from r.
func randomUUID(r *mrand.Rand) uuid.UUID {
	var u uuid.UUID
	for i := range 2 {
		x := r.Uint64()
		for j := range 8 {
			u[i*8+j] = byte(x >> (8 * j))
		}
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}
