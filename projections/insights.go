package projections

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/salesbot/salesbot/domain"
)

// Insights (domain.InsightsRecorded): a row per dialog that closed or was
// handed off, with its latest insight, the dialog_insights table of
// migrations/0016; and "top objections by variant" over them (the
// campaign_objections view).

// Insight is a dialog_insights row.
type Insight struct {
	DialogID uuid.UUID
	// The dialog's number, account, campaign (uuid.Nil: none) and
	// variant, as on its dialogs row.
	DialogN   int64
	AccountID uuid.UUID
	Campaign  uuid.UUID
	Variant   string
	// Ended is how the dialog had ended: InsightHandoff, InsightNurture,
	// or the close's outcome (lost, won, opted-out, stopped, unreachable).
	Ended string
	// Summary and LossReason are personal: Forgotten after an erasure.
	Summary    string
	LossReason string
	Objections []string // ids of the scenario's objections; nil when none
	By         string   // domain.InsightByLLM or InsightByRules
	// Insights counts the insights recorded (one per close or handoff);
	// the tokens are the LLM's for all of them.
	Insights         int
	PromptTokens     int64
	CompletionTokens int64
	RecordedAt       time.Time // the latest
}

// Insight.Ended for a handoff and a nurture exit.
const (
	InsightHandoff = "handoff"
	InsightNurture = "nurture"
)

// ObjectionCount is one row of "top objections by variant": the dialogs
// of a campaign's variant whose insight names an objection, out of those
// with an insight (WithInsight), and their share (0..1, 4 decimals).
type ObjectionCount struct {
	Campaign    uuid.UUID // uuid.Nil: dialogs no campaign opened
	Variant     string
	Objection   string
	Dialogs     int
	WithInsight int
	Share       float64
}

// PutInsight records the insight of dialog DialogID at At: a new row
// (copying the dialog's number, account, campaign and variant) or the
// latest of one.
type PutInsight struct {
	DialogID uuid.UUID
	At       time.Time
	Insight  domain.InsightsRecorded
}

func (PutInsight) change() {}

// ended is the Ended of an insight.
func ended(e domain.InsightsRecorded) string {
	switch {
	case e.Nurture:
		return InsightNurture
	case e.Handoff || e.Outcome == "":
		return InsightHandoff
	}
	return string(e.Outcome)
}

// applyInsight applies PutInsight to the memory sink (m.mu held).
func (m *Memory) applyInsight(c PutInsight) {
	d, ok := m.dialogs[c.DialogID]
	if !ok {
		return // as the INSERT ... SELECT FROM dialogs: no dialog, no row
	}
	row, ok := m.insights[c.DialogID]
	if !ok {
		row = &Insight{DialogID: d.ID, DialogN: d.N, AccountID: d.AccountID, Campaign: d.Campaign, Variant: d.Variant}
		m.insights[c.DialogID] = row
	}
	e := c.Insight
	row.Insights++
	row.Ended, row.Summary, row.LossReason = ended(e), e.Summary, e.LossReason
	row.Objections, row.By, row.RecordedAt = texts(e.Objections), e.By, c.At
	row.PromptTokens += int64(e.PromptTokens)
	row.CompletionTokens += int64(e.CompletionTokens)
	if m.forgottenDialog(c.DialogID) {
		row.Summary, row.LossReason = Forgotten, forgottenText(row.LossReason)
	}
}

// forgetInsights blanks the insights of contact's dialogs (m.mu held).
func (m *Memory) forgetInsights(contact uuid.UUID) {
	for id, r := range m.insights {
		if d, ok := m.dialogs[id]; ok && d.ContactID == contact {
			r.Summary, r.LossReason = Forgotten, forgottenText(r.LossReason)
		}
	}
}

func copyInsight(r Insight) Insight {
	r.Objections = texts(r.Objections)
	return r
}

// Insight implements Sink.
func (m *Memory) Insight(_ context.Context, dialog uuid.UUID) (Insight, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.insights[dialog]
	if !ok {
		return Insight{}, fmt.Errorf("insight of dialog %s: %w", dialog, ErrNotFound)
	}
	return copyInsight(*r), nil
}

// TopObjections implements Sink.
func (m *Memory) TopObjections(_ context.Context, campaign uuid.UUID) ([]ObjectionCount, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	with := map[string]int{}
	counts := map[[2]string]int{}
	for _, r := range m.insights {
		if r.Campaign != campaign {
			continue
		}
		with[r.Variant]++
		for _, o := range r.Objections {
			counts[[2]string{r.Variant, o}]++
		}
	}
	var out []ObjectionCount
	for k, n := range counts {
		out = append(out, ObjectionCount{Campaign: campaign, Variant: k[0], Objection: k[1], Dialogs: n, WithInsight: with[k[0]],
			Share: math.Round(float64(n)/float64(with[k[0]])*10000) / 10000})
	}
	sortObjections(out)
	return out, nil
}

// sortObjections orders by variant, then the most dialogs, then the
// objection's id.
func sortObjections(l []ObjectionCount) {
	slices.SortFunc(l, func(a, b ObjectionCount) int {
		return cmp.Or(cmp.Compare(a.Variant, b.Variant), cmp.Compare(b.Dialogs, a.Dialogs), cmp.Compare(a.Objection, b.Objection))
	})
}

// queueInsight queues a PutInsight for PostgreSQL.
func queueInsight(b *pgx.Batch, c PutInsight) {
	e := c.Insight
	b.Queue(`INSERT INTO dialog_insights (dialog_id, dialog_n, account_id, campaign, variant, ended, summary, loss_reason, objections,
			written_by, insights, prompt_tokens, completion_tokens, recorded_at)
		SELECT d.id, d.n, d.account_id, d.campaign, d.variant, $2,
			CASE WHEN `+forgottenDialog+` THEN '`+Forgotten+`' ELSE $3 END,
			CASE WHEN $4 <> '' AND `+forgottenDialog+` THEN '`+Forgotten+`' ELSE $4 END,
			$5, $6, 1, $7, $8, $9 FROM dialogs d WHERE d.id = $1
		ON CONFLICT (dialog_id) DO UPDATE SET ended = EXCLUDED.ended, summary = EXCLUDED.summary, loss_reason = EXCLUDED.loss_reason,
			objections = EXCLUDED.objections, written_by = EXCLUDED.written_by, insights = dialog_insights.insights + 1,
			prompt_tokens = dialog_insights.prompt_tokens + EXCLUDED.prompt_tokens,
			completion_tokens = dialog_insights.completion_tokens + EXCLUDED.completion_tokens, recorded_at = EXCLUDED.recorded_at`,
		c.DialogID, ended(e), e.Summary, e.LossReason, array(e.Objections), e.By, int64(e.PromptTokens), int64(e.CompletionTokens), c.At)
}

// queueForgetInsights blanks the insights of an erased contact's dialogs.
func queueForgetInsights(b *pgx.Batch, contact uuid.UUID) {
	b.Queue(`UPDATE dialog_insights SET summary = $2, loss_reason = CASE WHEN loss_reason <> '' THEN $2 ELSE '' END
		WHERE dialog_id IN (SELECT id FROM dialogs WHERE contact_id = $1)`, contact, Forgotten)
}

// Insight implements Sink.
func (p *Postgres) Insight(ctx context.Context, dialog uuid.UUID) (Insight, error) {
	var (
		r        Insight
		campaign *uuid.UUID
	)
	err := p.pool.QueryRow(ctx, `SELECT dialog_id, dialog_n, account_id, campaign, variant, ended, summary, loss_reason, objections,
		written_by, insights, prompt_tokens, completion_tokens, recorded_at FROM dialog_insights WHERE dialog_id = $1`, dialog).Scan(
		&r.DialogID, &r.DialogN, &r.AccountID, &campaign, &r.Variant, &r.Ended, &r.Summary, &r.LossReason, &r.Objections,
		&r.By, &r.Insights, &r.PromptTokens, &r.CompletionTokens, &r.RecordedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Insight{}, fmt.Errorf("insight of dialog %s: %w", dialog, ErrNotFound)
	}
	if err != nil {
		return Insight{}, fmt.Errorf("insight of dialog %s: %w", dialog, err)
	}
	if campaign != nil {
		r.Campaign = *campaign
	}
	r.Objections, r.RecordedAt = texts(r.Objections), r.RecordedAt.UTC()
	return r, nil
}

// TopObjections implements Sink.
func (p *Postgres) TopObjections(ctx context.Context, campaign uuid.UUID) ([]ObjectionCount, error) {
	rows, err := p.pool.Query(ctx, `SELECT variant, objection, dialogs, with_insight, share::float8 FROM campaign_objections
		WHERE campaign IS NOT DISTINCT FROM $1`, nullUUID(campaign))
	if err != nil {
		return nil, fmt.Errorf("top objections of campaign %s: %w", campaign, err)
	}
	defer rows.Close()
	var out []ObjectionCount
	for rows.Next() {
		o := ObjectionCount{Campaign: campaign}
		if err := rows.Scan(&o.Variant, &o.Objection, &o.Dialogs, &o.WithInsight, &o.Share); err != nil {
			return nil, fmt.Errorf("top objections of campaign %s: %w", campaign, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("top objections of campaign %s: %w", campaign, err)
	}
	sortObjections(out)
	return out, nil
}
