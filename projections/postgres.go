package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/migrations"
)

// Postgres is the PostgreSQL sink. Its tables (migrations/) are what
// analysts query.
type Postgres struct {
	pool *pgxpool.Pool
}

var _ Sink = (*Postgres)(nil)

const checkpointName = "read_models"

// OpenPostgres connects with dsn and applies pending migrations.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("projections: postgres DSN: %w", err)
	}
	// PostgreSQL's default random_page_cost (4, for spinning disks) makes
	// the planner walk dialogs_n_key backwards rather than take a list's
	// (filter, n) index (migrations/0009) whenever the filter's heap rows
	// are scattered, as those of an old campaign are: it assumes they are
	// spread evenly over the numbers, and reads most of the table. 1.1 is
	// the usual value for SSDs. A DSN that sets random_page_cost keeps it.
	if _, set := cfg.ConnConfig.RuntimeParams["random_page_cost"]; !set {
		cfg.ConnConfig.RuntimeParams["random_page_cost"] = "1.1"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("projections: connect to postgres: %w", err)
	}
	if _, err := migrations.Up(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Postgres{pool: pool}, nil
}

// Close closes the connection pool.
func (p *Postgres) Close() { p.pool.Close() }

// Apply implements Sink: one transaction for the changes and the
// checkpoint, sent as one pipelined batch.
func (p *Postgres) Apply(ctx context.Context, changes []Change, from uint64, to Checkpoint) error {
	tx, cur, err := p.beginLocked(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if from != cur.Position+1 || to.Position < from {
		return fmt.Errorf("%w: batch %d..%d does not follow checkpoint %d", ErrCheckpoint, from, to.Position, cur.Position)
	}
	if err := follows(cur, to.LogID); err != nil {
		return err
	}
	b := &pgx.Batch{}
	for _, c := range Coalesce(changes) {
		queue(b, c)
	}
	queueCheckpoint(b, to)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// checkpointOf scans a projection_checkpoint row (position, log_id,
// hash); no row is the zero Checkpoint.
func checkpointOf(row pgx.Row) (Checkpoint, error) {
	var (
		cp   Checkpoint
		pos  int64
		log  *uuid.UUID
		hash []byte
	)
	err := row.Scan(&pos, &log, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return Checkpoint{}, nil
	}
	if err != nil {
		return cp, fmt.Errorf("read checkpoint: %w", err)
	}
	cp.Position = uint64(pos)
	if log != nil {
		cp.LogID = *log
	}
	if len(hash) != 0 && len(hash) != len(cp.Hash) {
		return cp, fmt.Errorf("read checkpoint: a hash of %d bytes", len(hash))
	}
	copy(cp.Hash[:], hash)
	return cp, nil
}

// queueCheckpoint queues the upsert of the checkpoint; an unbound one
// keeps log_id and hash NULL.
func queueCheckpoint(b *pgx.Batch, cp Checkpoint) {
	var log *uuid.UUID
	var hash []byte
	if cp.Bound() {
		log, hash = &cp.LogID, cp.Hash[:]
	}
	b.Queue(`INSERT INTO projection_checkpoint (name, position, log_id, hash) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, log_id = EXCLUDED.log_id, hash = EXCLUDED.hash`,
		checkpointName, int64(cp.Position), log, hash)
}

// forgottenDialog is true when dialog $1's contact was erased: personal
// data arriving after the erasure event is blanked, as a rebuild shows it.
const forgottenDialog = `EXISTS (SELECT 1 FROM dialogs d JOIN contacts c ON c.id = d.contact_id WHERE d.id = $1 AND c.forgotten)`

// array is a text[] that is never NULL: the columns are NOT NULL, '{}'
// when empty.
func array(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// money reads an amount and a currency the sinks wrote (zero when NULL).
func money(amount, currency *string) domain.Money {
	if amount == nil || currency == nil {
		return domain.Money{}
	}
	m, _ := domain.ParseMoney(*amount, *currency)
	return m
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func queue(b *pgx.Batch, c Change) {
	switch c := c.(type) {
	case PutContact:
		ct := c.Contact
		b.Queue(`INSERT INTO contacts (id, source, basis, username, name, phone, opted_out, forgotten, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			ct.ID, ct.Source, ct.Basis, ct.Username, ct.Name, ct.Phone, ct.OptedOut, ct.Forgotten, ct.CreatedAt)
	case OptOutContact:
		b.Queue(`UPDATE contacts SET opted_out = true WHERE id = $1`, c.ID)
	case ForgetContact:
		b.Queue(`UPDATE contacts SET forgotten = true, opted_out = true, username = $2, name = $2, phone = $2 WHERE id = $1`, c.ID, Forgotten)
		b.Queue(`UPDATE dialogs SET handoff_reason = $2 WHERE contact_id = $1 AND handoff_reason <> ''`, c.ID, Forgotten)
		b.Queue(`UPDATE dialogs SET outcome_reason = $2 WHERE contact_id = $1 AND outcome_reason <> ''`, c.ID, Forgotten)
		b.Queue(`UPDATE messages SET text = $2 WHERE dialog_id IN (SELECT id FROM dialogs WHERE contact_id = $1)`, c.ID, Forgotten)
		b.Queue(`UPDATE qualification SET value = $2, quote = $2, amount = NULL, currency = NULL WHERE dialog_id IN (SELECT id FROM dialogs WHERE contact_id = $1)`, c.ID, Forgotten)
		queueForgetInsights(b, c.ID)
	case PutDialog:
		d := c.Dialog
		b.Queue(`INSERT INTO dialogs (id, n, contact_id, account_id, variant, stage, status, outcome, score, taken_over,
			inbound, outbound, last_message_at, created_at, updated_at, campaign, qualified_at, prompt_tokens, completion_tokens,
			cached_prompt_tokens)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
			d.ID, d.N, d.ContactID, d.AccountID, d.Variant, d.Stage, d.Status, d.Outcome, d.Score, d.TakenOver,
			d.Inbound, d.Outbound, nullTime(d.LastMessageAt), d.CreatedAt, d.UpdatedAt, nullUUID(d.Campaign), nullTime(d.QualifiedAt),
			d.PromptTokens, d.CompletionTokens, d.CachedPromptTokens)
	case PutMessage:
		m := c.Message
		b.Queue(`INSERT INTO messages (dialog_id, position, direction, author, text, at, telegram_id, random_id, status, file_name, media, transcribed)
			VALUES ($1, $2, $3, $4, CASE WHEN `+forgottenDialog+` THEN '`+Forgotten+`' ELSE $5 END, $6, $7, $8, $9, $10, $11, $12)`,
			m.DialogID, int64(m.Position), m.Direction, m.Author, m.Text, m.At, m.TelegramID, m.RandomID, m.Status, m.File, m.Media, m.Transcribed)
	case SetMessageSent:
		b.Queue(`UPDATE messages SET status = $3, telegram_id = CASE WHEN $4::bigint <> 0 THEN $4::bigint ELSE telegram_id END
			WHERE dialog_id = $1 AND random_id = $2 AND direction = 'out'`, c.DialogID, c.RandomID, c.Status, c.TelegramID)
	case UpdateDialog:
		// Every expression reads the row as it was: a deal in this update
		// sets the outcome; a closing outcome changes it only while none
		// was recorded.
		var deal Deal
		var dealOutcome *string
		if c.Deal != nil {
			deal, dealOutcome = *c.Deal, &c.Deal.Outcome
		}
		b.Queue(`UPDATE dialogs SET
			stage = COALESCE($2, stage), status = COALESCE($3, status),
			outcome = CASE WHEN $17::text IS NOT NULL THEN $17 WHEN outcome_at IS NULL THEN COALESCE($4, outcome) ELSE outcome END,
			outcome_amount = CASE WHEN $17::text IS NOT NULL THEN $18::numeric ELSE outcome_amount END,
			outcome_currency = CASE WHEN $17::text IS NOT NULL THEN $19 ELSE outcome_currency END,
			outcome_reason = CASE WHEN $17::text IS NULL THEN outcome_reason
				WHEN $20 <> '' AND EXISTS (SELECT 1 FROM contacts c WHERE c.id = dialogs.contact_id AND c.forgotten) THEN '`+Forgotten+`'
				ELSE $20 END,
			outcome_at = CASE WHEN $17::text IS NOT NULL THEN $21 ELSE outcome_at END,
			score = COALESCE($5, score), taken_over = COALESCE($6, taken_over),
			inbound = inbound + $7, outbound = outbound + $8,
			last_message_at = COALESCE($9, last_message_at), updated_at = COALESCE($10, updated_at),
			first_outbound_at = COALESCE(first_outbound_at, $11), first_inbound_at = COALESCE(first_inbound_at, $12),
			handoff_reason = CASE WHEN handoff_at IS NOT NULL OR $13::timestamptz IS NULL THEN handoff_reason
				WHEN $14 <> '' AND EXISTS (SELECT 1 FROM contacts c WHERE c.id = dialogs.contact_id AND c.forgotten) THEN '`+Forgotten+`'
				ELSE $14 END,
			handoff_at = COALESCE(handoff_at, $13), qualified_at = COALESCE(qualified_at, $15),
			opted_out_by = COALESCE($16, opted_out_by),
			prompt_tokens = prompt_tokens + $22, completion_tokens = completion_tokens + $23,
			cached_prompt_tokens = cached_prompt_tokens + $24
			WHERE id = $1`,
			c.ID, c.Stage, c.Status, c.Outcome, c.Score, c.TakenOver, c.AddInbound, c.AddOutbound, nullTime(c.LastMessageAt), nullTime(c.At),
			nullTime(c.FirstOutboundAt), nullTime(c.FirstInboundAt), nullTime(c.HandoffAt), c.HandoffReason, nullTime(c.QualifiedAt), c.OptedOutBy,
			dealOutcome, nullText(deal.Value.Decimal()), nullText(deal.Value.Currency), deal.Reason, nullTime(deal.At),
			c.AddPromptTokens, c.AddCompletionTokens, c.AddCachedPromptTokens)
	case PutQualification:
		q := c.Q
		b.Queue(`INSERT INTO qualification (dialog_id, field, value, quote, confidence, updated_at, amount, currency) VALUES ($1, $2,
			CASE WHEN `+forgottenDialog+` THEN '`+Forgotten+`' ELSE $3 END, CASE WHEN `+forgottenDialog+` THEN '`+Forgotten+`' ELSE $4 END, $5, $6,
			CASE WHEN `+forgottenDialog+` THEN NULL ELSE $7::numeric END, CASE WHEN `+forgottenDialog+` THEN NULL ELSE $8 END)
			ON CONFLICT (dialog_id, field) DO UPDATE SET value = EXCLUDED.value, quote = EXCLUDED.quote,
			confidence = EXCLUDED.confidence, updated_at = EXCLUDED.updated_at, amount = EXCLUDED.amount, currency = EXCLUDED.currency`,
			q.DialogID, q.Field, q.Value, q.Quote, q.Confidence, q.UpdatedAt, nullText(q.Money.Decimal()), nullText(q.Money.Currency))
	case PutTurn:
		t := c.Turn
		b.Queue(`INSERT INTO turns (dialog_id, position, at, status, kind, engine, model, scenario, scenario_version, variant, variant_version,
			language, prompt_tokens, completion_tokens, latency_ms, attempts, score, flags, guards, reason, retry_at, cached_prompt_tokens)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
			t.DialogID, int64(t.Position), t.At, t.Status, t.Kind, t.Engine, t.Model, t.Scenario, t.ScenarioVersion, t.Variant, t.VariantVersion,
			t.Language, t.PromptTokens, t.CompletionTokens, t.LatencyMs, t.Attempts, t.Score, array(t.Flags), array(t.Guards), t.Reason, nullTime(t.RetryAt),
			t.CachedPromptTokens)
	case PutAccount:
		a := c.Account
		b.Queue(`INSERT INTO accounts (id, label, status, paused, reason, flood_until, day, dialogs_today, messages_total, updated_at,
			daily_cap, messages_per_minute) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			a.ID, a.Label, a.Status, a.Paused, a.Reason, nullTime(a.FloodUntil), a.Day, a.DialogsToday, a.MessagesTotal, a.UpdatedAt,
			a.DailyCap, a.MessagesPerMinute)
	case UpdateAccount:
		b.Queue(`UPDATE accounts SET status = COALESCE($2, status), paused = COALESCE($3, paused), reason = COALESCE($4, reason),
			flood_until = COALESCE($5, flood_until),
			dialogs_today = CASE WHEN $6 = '' THEN dialogs_today WHEN day = $6 THEN dialogs_today + 1 ELSE 1 END,
			day = CASE WHEN $6 = '' THEN day ELSE $6 END,
			messages_total = messages_total + $7, updated_at = COALESCE($8, updated_at),
			daily_cap = COALESCE($9, daily_cap), messages_per_minute = COALESCE($10, messages_per_minute)
			WHERE id = $1`,
			c.ID, c.Status, c.Paused, c.Reason, nullTime(c.FloodUntil), c.DialogDay, c.AddMessage, nullTime(c.At), capOf(c.Limits), perMinuteOf(c.Limits))
	case PutCampaign:
		cp := c.Campaign
		b.Queue(`INSERT INTO campaigns (id, name, status, scenario, version, variants, segment, accounts, starts_at, ends_at, schedule,
			daily_cap, total_cap, targeted, created_by, end_reason, created_at, updated_at, optimize)
			VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10, $11::jsonb, $12, $13, $14, $15, $16, $17, $18, $19)`,
			cp.ID, cp.Name, cp.Status, cp.Scenario, cp.Version, jsonText(orEmpty(cp.Variants)), jsonText(cp.Segment), jsonText(orEmpty(cp.Accounts)),
			cp.Schedule.Start, cp.Schedule.End, jsonText(cp.Schedule), cp.Caps.DailyNewDialogs, cp.Caps.TotalDialogs, cp.Targeted,
			cp.CreatedBy, cp.EndReason, cp.CreatedAt, cp.UpdatedAt, cp.Optimize)
	case UpdateCampaign:
		var bandit *string
		if c.Bandit != nil {
			j := jsonText(c.Bandit)
			bandit = &j
		}
		b.Queue(`UPDATE campaigns SET status = COALESCE($2, status), end_reason = COALESCE($3, end_reason),
			targeted = targeted + $4, updated_at = COALESCE($5, updated_at), bandit = COALESCE($6::jsonb, bandit) WHERE id = $1`,
			c.ID, c.Status, c.EndReason, c.AddTargeted, nullTime(c.At), bandit)
	case liftRestriction:
		b.Queue(`UPDATE accounts SET status = 'offline', reason = '' WHERE id = $1 AND status = 'restricted'`, c.ID)
	case PutInsight:
		queueInsight(b, c)
	default:
		queueMeeting(b, c)
	}
}

// beginLocked begins a transaction and reads the checkpoint, its row
// locked until the transaction ends.
func (p *Postgres) beginLocked(ctx context.Context) (pgx.Tx, Checkpoint, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, Checkpoint{}, fmt.Errorf("projections: begin: %w", err)
	}
	cp, err := checkpointOf(tx.QueryRow(ctx, `SELECT position, log_id, hash FROM projection_checkpoint WHERE name = $1 FOR UPDATE`, checkpointName))
	if err != nil {
		tx.Rollback(ctx)
		return nil, Checkpoint{}, fmt.Errorf("projections: lock the checkpoint: %w", err)
	}
	return tx, cp, nil
}

// Checkpoint implements Sink.
func (p *Postgres) Checkpoint(ctx context.Context) (Checkpoint, error) {
	return checkpointOf(p.pool.QueryRow(ctx, `SELECT position, log_id, hash FROM projection_checkpoint WHERE name = $1`, checkpointName))
}

// Bind implements Sink.
func (p *Postgres) Bind(ctx context.Context, cp Checkpoint) error {
	tx, cur, err := p.beginLocked(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	next, err := bind(cur, cp)
	if err != nil {
		return err
	}
	// The row, if there is one, is locked; with none, a first batch may
	// insert one meanwhile, and then this bind is late.
	tag, err := tx.Exec(ctx, `UPDATE projection_checkpoint SET log_id = $2, hash = $3 WHERE name = $1 AND position = $4`,
		checkpointName, next.LogID, next.Hash[:], int64(next.Position))
	if err != nil {
		return fmt.Errorf("bind checkpoint: %w", err)
	}
	if tag.RowsAffected() == 0 {
		tag, err = tx.Exec(ctx, `INSERT INTO projection_checkpoint (name, position, log_id, hash) VALUES ($1, $4, $2, $3) ON CONFLICT (name) DO NOTHING`,
			checkpointName, next.LogID, next.Hash[:], int64(next.Position))
		if err != nil {
			return fmt.Errorf("bind checkpoint: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: a batch was applied while binding", ErrCheckpoint)
		}
	}
	return tx.Commit(ctx)
}

// Reset implements Sink.
func (p *Postgres) Reset(ctx context.Context) error {
	_, err := p.pool.Exec(ctx, `TRUNCATE contacts, dialogs, messages, qualification, turns, accounts, campaigns, meetings, dialog_insights, projection_checkpoint`)
	return err
}

const dialogColumns = `id, n, contact_id, account_id, variant, stage, status, outcome, score, taken_over,
	inbound, outbound, last_message_at, created_at, updated_at, first_outbound_at, first_inbound_at, handoff_at, handoff_reason,
	campaign, qualified_at, coalesce(opted_out_by, ''), outcome_amount::text, outcome_currency, outcome_reason, outcome_at,
	prompt_tokens, completion_tokens, cached_prompt_tokens`

// The uuid columns are scanned into pgtype.UUID, which takes pgx's
// binary 16 bytes as they are; a uuid.UUID goes through its text form
// (database/sql's Scanner), which was about a third of the Go time of
// reading a long list's rows.

func scanDialog(row pgx.Row) (Dialog, error) {
	var d Dialog
	var last, firstOut, firstIn, handoff, qualified, outcomeAt *time.Time
	var amount, currency *string
	var id, contact, account, campaign pgtype.UUID
	err := row.Scan(&id, &d.N, &contact, &account, &d.Variant, &d.Stage, &d.Status, &d.Outcome, &d.Score,
		&d.TakenOver, &d.Inbound, &d.Outbound, &last, &d.CreatedAt, &d.UpdatedAt, &firstOut, &firstIn, &handoff, &d.HandoffReason,
		&campaign, &qualified, &d.OptedOutBy, &amount, &currency, &d.OutcomeReason, &outcomeAt, &d.PromptTokens, &d.CompletionTokens,
		&d.CachedPromptTokens)
	d.ID, d.ContactID, d.AccountID, d.Campaign = id.Bytes, contact.Bytes, account.Bytes, campaign.Bytes // NULL: zero, uuid.Nil
	d.OutcomeValue, d.OutcomeAt = money(amount, currency), utc(outcomeAt)
	d.LastMessageAt, d.FirstOutboundAt, d.FirstInboundAt, d.HandoffAt = utc(last), utc(firstOut), utc(firstIn), utc(handoff)
	d.QualifiedAt = utc(qualified)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return d, err
}

// dialogPage is the WHERE, ORDER BY and LIMIT of a list of dialogs
// (DialogFilter), with the parameters dialogPageArgs gives.
const dialogPage = `WHERE ($1 = '' OR status = $1) AND ($2 = '' OR stage = $2) AND ($5::uuid IS NULL OR account_id = $5)
			AND ($6::uuid IS NULL OR campaign = $6) AND ($7::timestamptz IS NULL OR created_at >= $7) AND ($8 <= 0 OR n < $8)
			AND ($9::bigint[] IS NULL OR n = ANY($9))
		ORDER BY n DESC LIMIT $3 OFFSET $4`

func dialogPageArgs(f DialogFilter) []any {
	limit := f.Limit
	if limit <= 0 {
		limit = 20
	}
	var numbers []int64 // NULL: any
	if f.Numbers != nil {
		numbers = append(make([]int64, 0, len(f.Numbers)), f.Numbers...) // empty: none
	}
	return []any{f.Status, f.Stage, limit, max(f.Offset, 0), nullUUID(f.Account), nullUUID(f.Campaign), nullTime(f.Since), f.Before, numbers}
}

// ListDialogs implements Sink.
func (p *Postgres) ListDialogs(ctx context.Context, f DialogFilter) ([]Dialog, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+dialogColumns+` FROM dialogs `+dialogPage, dialogPageArgs(f)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Dialog
	for rows.Next() {
		d, err := scanDialog(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DialogLeads implements Sink.
func (p *Postgres) DialogLeads(ctx context.Context, f DialogFilter) ([]DialogLead, error) {
	rows, err := p.pool.Query(ctx, `SELECT d.n, d.contact_id, coalesce(c.name, ''), coalesce(c.username, '')
		FROM (SELECT n, contact_id FROM dialogs `+dialogPage+`) d LEFT JOIN contacts c ON c.id = d.contact_id
		ORDER BY d.n DESC`, dialogPageArgs(f)...)
	if err != nil {
		return nil, fmt.Errorf("dialog leads: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DialogLead, error) {
		var l DialogLead
		var contact pgtype.UUID
		err := r.Scan(&l.N, &contact, &l.Name, &l.Username)
		l.ContactID = contact.Bytes
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("dialog leads: %w", err)
	}
	if len(out) == 0 {
		out = nil // as the memory sink: none is nil
	}
	return out, nil
}

// DialogByN implements Sink.
func (p *Postgres) DialogByN(ctx context.Context, n int64) (Dialog, error) {
	d, err := scanDialog(p.pool.QueryRow(ctx, `SELECT `+dialogColumns+` FROM dialogs WHERE n = $1`, n))
	if errors.Is(err, pgx.ErrNoRows) {
		return Dialog{}, fmt.Errorf("dialog %d: %w", n, ErrNotFound)
	}
	return d, err
}

// Messages implements Sink.
func (p *Postgres) Messages(ctx context.Context, dialog uuid.UUID) ([]Message, error) {
	rows, err := p.pool.Query(ctx, `SELECT dialog_id, position, direction, author, text, at, telegram_id, random_id, status, file_name, media, transcribed
		FROM messages WHERE dialog_id = $1 ORDER BY position`, dialog)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var pos int64
		if err := rows.Scan(&m.DialogID, &pos, &m.Direction, &m.Author, &m.Text, &m.At, &m.TelegramID, &m.RandomID, &m.Status, &m.File, &m.Media, &m.Transcribed); err != nil {
			return nil, err
		}
		m.Position, m.At = uint64(pos), m.At.UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

func capOf(l *domain.Limits) *int {
	if l == nil {
		return nil
	}
	return &l.DailyNewDialogs
}

func perMinuteOf(l *domain.Limits) *int {
	if l == nil {
		return nil
	}
	return &l.MessagesPerMinute
}

func nullUUID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// Qualification implements Sink.
func (p *Postgres) Qualification(ctx context.Context, dialog uuid.UUID) ([]Qualification, error) {
	rows, err := p.pool.Query(ctx, `SELECT dialog_id, field, value, quote, confidence, updated_at, amount::text, currency
		FROM qualification WHERE dialog_id = $1 ORDER BY field COLLATE "C"`, dialog)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Qualification, error) {
		var q Qualification
		var amount, currency *string
		err := r.Scan(&q.DialogID, &q.Field, &q.Value, &q.Quote, &q.Confidence, &q.UpdatedAt, &amount, &currency)
		q.Money = money(amount, currency)
		q.UpdatedAt = q.UpdatedAt.UTC()
		return q, err
	})
}

// Turns implements Sink.
func (p *Postgres) Turns(ctx context.Context, dialog uuid.UUID) ([]Turn, error) {
	rows, err := p.pool.Query(ctx, `SELECT dialog_id, position, at, status, kind, engine, model, scenario, scenario_version, variant,
		variant_version, language, prompt_tokens, completion_tokens, latency_ms, attempts, score, flags, guards, reason, retry_at,
		cached_prompt_tokens
		FROM turns WHERE dialog_id = $1 ORDER BY position`, dialog)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Turn, error) {
		var t Turn
		var pos int64
		var retry *time.Time
		err := r.Scan(&t.DialogID, &pos, &t.At, &t.Status, &t.Kind, &t.Engine, &t.Model, &t.Scenario, &t.ScenarioVersion, &t.Variant,
			&t.VariantVersion, &t.Language, &t.PromptTokens, &t.CompletionTokens, &t.LatencyMs, &t.Attempts, &t.Score, &t.Flags, &t.Guards,
			&t.Reason, &retry, &t.CachedPromptTokens)
		t.Position, t.At, t.RetryAt = uint64(pos), t.At.UTC(), utc(retry)
		t.Flags, t.Guards = texts(t.Flags), texts(t.Guards)
		return t, err
	})
	if len(out) == 0 {
		out = nil // as the memory sink: none is nil
	}
	return out, err
}

// Accounts implements Sink.
func (p *Postgres) Accounts(ctx context.Context) ([]Account, error) {
	rows, err := p.pool.Query(ctx, `SELECT id, label, status, paused, reason, flood_until, day, dialogs_today, messages_total, updated_at,
		daily_cap, messages_per_minute FROM accounts ORDER BY label COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Account, error) {
		var a Account
		var flood *time.Time
		err := r.Scan(&a.ID, &a.Label, &a.Status, &a.Paused, &a.Reason, &flood, &a.Day, &a.DialogsToday, &a.MessagesTotal, &a.UpdatedAt,
			&a.DailyCap, &a.MessagesPerMinute)
		a.FloodUntil, a.UpdatedAt = utc(flood), a.UpdatedAt.UTC()
		return a, err
	})
}

// Funnel implements Sink, from the funnel_by_* views; by status (for
// the metrics, not the analysts: no view) from dialog_funnel as those
// views count.
func (p *Postgres) Funnel(ctx context.Context, by string) ([]FunnelRow, error) {
	from := "funnel_by_" + by
	switch by {
	case ByStage, ByVariant, ByAccount, ByDay:
	case ByStatus:
		from = `(SELECT status AS key, count(*) AS dialogs, count(*) FILTER (WHERE replied) AS replied,
			count(*) FILTER (WHERE handed_off) AS handoffs, count(*) FILTER (WHERE opted_out) AS opted_out,
			count(*) FILTER (WHERE won) AS won
			FROM dialog_funnel GROUP BY status) f`
	default:
		return nil, fmt.Errorf("projections: funnel by %q: want stage, variant, account, day or status", by)
	}
	rows, err := p.pool.Query(ctx, `SELECT key, dialogs, replied, handoffs, opted_out, won FROM `+from+` ORDER BY key COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FunnelRow, error) {
		var f FunnelRow
		err := r.Scan(&f.Key, &f.Dialogs, &f.Replied, &f.Handoffs, &f.OptedOut, &f.Won)
		return f, err
	})
}

const contactColumns = `id, source, basis, username, name, phone, opted_out, forgotten, created_at`

func scanContact(row pgx.Row) (Contact, error) {
	var c Contact
	var id pgtype.UUID
	err := row.Scan(&id, &c.Source, &c.Basis, &c.Username, &c.Name, &c.Phone, &c.OptedOut, &c.Forgotten, &c.CreatedAt)
	c.ID, c.CreatedAt = id.Bytes, c.CreatedAt.UTC()
	return c, err
}

// ContactByID implements Sink.
func (p *Postgres) ContactByID(ctx context.Context, id uuid.UUID) (Contact, error) {
	c, err := scanContact(p.pool.QueryRow(ctx, `SELECT `+contactColumns+` FROM contacts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Contact{}, fmt.Errorf("contact %s: %w", id, ErrNotFound)
	}
	return c, err
}

// ContactsByID implements Sink.
func (p *Postgres) ContactsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]Contact, error) {
	out := make(map[uuid.UUID]Contact, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// As [16]byte, which pgx encodes as uuid directly (a uuid.UUID goes
	// through its text: most of the query's time for 2000 ids).
	raw := make([][16]byte, len(ids))
	for i, id := range ids {
		raw[i] = id
	}
	rows, err := p.pool.Query(ctx, `SELECT `+contactColumns+` FROM contacts WHERE id = ANY($1)`, raw)
	if err != nil {
		return nil, fmt.Errorf("contacts by id (%d): %w", len(ids), err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, fmt.Errorf("contacts by id (%d): %w", len(ids), err)
		}
		out[c.ID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("contacts by id (%d): %w", len(ids), err)
	}
	return out, nil
}

// jsonText is v as JSON text for a jsonb column. The values are the
// campaign's plain structs, which always marshal.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// orEmpty makes a nil list an empty one, so a jsonb list column reads []
// rather than null.
func orEmpty[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

const campaignColumns = `id, name, status, scenario, version, variants, segment, accounts, schedule, daily_cap, total_cap, targeted,
	created_by, end_reason, created_at, updated_at, optimize, bandit`

func scanCampaign(row pgx.Row) (Campaign, error) {
	var c Campaign
	var variants, segment, accounts, schedule, bandit []byte
	if err := row.Scan(&c.ID, &c.Name, &c.Status, &c.Scenario, &c.Version, &variants, &segment, &accounts, &schedule,
		&c.Caps.DailyNewDialogs, &c.Caps.TotalDialogs, &c.Targeted, &c.CreatedBy, &c.EndReason, &c.CreatedAt, &c.UpdatedAt,
		&c.Optimize, &bandit); err != nil {
		return Campaign{}, err
	}
	if bandit != nil {
		c.Bandit = &Bandit{}
		if err := json.Unmarshal(bandit, c.Bandit); err != nil {
			return Campaign{}, fmt.Errorf("campaign %s: column bandit: %w", c.ID, err)
		}
		c.Bandit.At = rowTime(c.Bandit.At)
	}
	for _, f := range []struct {
		name string
		data []byte
		into any
	}{{"variants", variants, &c.Variants}, {"segment", segment, &c.Segment}, {"accounts", accounts, &c.Accounts}, {"schedule", schedule, &c.Schedule}} {
		if err := json.Unmarshal(f.data, f.into); err != nil {
			return Campaign{}, fmt.Errorf("campaign %s: column %s: %w", c.ID, f.name, err)
		}
	}
	c.Schedule.Start, c.Schedule.End = rowTime(c.Schedule.Start), rowTime(c.Schedule.End)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return copyCampaign(c), nil // empty lists are nil, as in memory
}

// Campaigns implements Sink.
func (p *Postgres) Campaigns(ctx context.Context) ([]Campaign, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+campaignColumns+` FROM campaigns ORDER BY created_at DESC, id::text COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Campaign, error) { return scanCampaign(r) })
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, nil
}

// Campaign implements Sink.
func (p *Postgres) Campaign(ctx context.Context, id uuid.UUID) (Campaign, error) {
	c, err := scanCampaign(p.pool.QueryRow(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Campaign{}, fmt.Errorf("campaign %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Campaign{}, fmt.Errorf("campaign %s: %w", id, err)
	}
	return c, nil
}

// leadOptedOut is the condition of a dialog the lead opted out of
// themself (Dialog.LeadOptedOut), as in the dialog_funnel and
// campaign_funnel views.
const leadOptedOut = `outcome = 'opted-out' AND coalesce(opted_out_by, '') IN ('', 'lead')`

// VariantFunnel implements Sink, with the definitions of the
// campaign_funnel view.
func (p *Postgres) VariantFunnel(ctx context.Context, campaign uuid.UUID, since time.Time) ([]VariantCounts, error) {
	rows, err := p.pool.Query(ctx, `SELECT variant, count(*),
		count(*) FILTER (WHERE inbound > 0), count(*) FILTER (WHERE qualified_at IS NOT NULL),
		count(*) FILTER (WHERE handoff_at IS NOT NULL), count(*) FILTER (WHERE `+leadOptedOut+`),
		count(*) FILTER (WHERE outcome = 'lost'), count(*) FILTER (WHERE outcome = 'won')
		FROM dialogs WHERE ($1::uuid IS NULL OR campaign = $1) AND ($2::timestamptz IS NULL OR created_at >= $2)
		GROUP BY variant ORDER BY variant COLLATE "C"`, nullUUID(campaign), nullTime(since))
	if err != nil {
		return nil, fmt.Errorf("variant funnel of campaign %s: %w", campaign, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VariantCounts, error) {
		var v VariantCounts
		err := r.Scan(&v.Variant, &v.Dialogs, &v.Replied, &v.Qualified, &v.Handoffs, &v.OptedOut, &v.Lost, &v.Won)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("variant funnel of campaign %s: %w", campaign, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	// Revenue by variant and currency, in a second query: a sum over
	// several currencies means nothing.
	rows, err = p.pool.Query(ctx, `SELECT variant, outcome_currency, sum(outcome_amount)::text
		FROM dialogs WHERE ($1::uuid IS NULL OR campaign = $1) AND ($2::timestamptz IS NULL OR created_at >= $2)
			AND outcome = 'won' AND outcome_amount IS NOT NULL
		GROUP BY variant, outcome_currency ORDER BY variant COLLATE "C", outcome_currency COLLATE "C"`, nullUUID(campaign), nullTime(since))
	if err != nil {
		return nil, fmt.Errorf("revenue of campaign %s: %w", campaign, err)
	}
	type sum struct {
		variant string
		value   domain.Money
	}
	sums, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sum, error) {
		var s sum
		var amount, currency *string
		err := r.Scan(&s.variant, &currency, &amount)
		s.value = money(amount, currency)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("revenue of campaign %s: %w", campaign, err)
	}
	for _, s := range sums {
		for i := range out {
			if out[i].Variant == s.variant && !s.value.IsZero() {
				out[i].Revenue = append(out[i].Revenue, s.value)
			}
		}
	}
	return out, nil
}

// Totals implements Sink: the definitions of the dialog_funnel view's
// qualified and time_to_first_reply, the medians by percentile_cont.
func (p *Postgres) Totals(ctx context.Context) (Totals, error) {
	var t Totals
	var lead, ours *float64 // seconds; NULL with no dialogs
	err := p.pool.QueryRow(ctx, `SELECT coalesce(sum(prompt_tokens), 0)::bigint, coalesce(sum(completion_tokens), 0)::bigint,
		coalesce(sum(cached_prompt_tokens), 0)::bigint,
		count(*) FILTER (WHERE first_outbound_at < first_inbound_at),
		percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_inbound_at - first_outbound_at)::float8)
			FILTER (WHERE first_outbound_at < first_inbound_at),
		count(*) FILTER (WHERE first_inbound_at <= first_outbound_at),
		percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_outbound_at - first_inbound_at)::float8)
			FILTER (WHERE first_inbound_at <= first_outbound_at)
		FROM dialogs`).Scan(&t.PromptTokens, &t.CompletionTokens, &t.CachedPromptTokens, &t.LeadReply.Count, &lead, &t.OurReply.Count, &ours)
	if err != nil {
		return Totals{}, fmt.Errorf("dialog totals: %w", err)
	}
	if lead != nil {
		t.LeadReply.Median = fromSeconds(*lead)
	}
	if ours != nil {
		t.OurReply.Median = fromSeconds(*ours)
	}
	return t, nil
}
