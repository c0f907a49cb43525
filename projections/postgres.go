package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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
func (p *Postgres) Apply(ctx context.Context, changes []Change, checkpoint uint64) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var cur int64
	err = tx.QueryRow(ctx, `SELECT position FROM projection_checkpoint WHERE name = $1 FOR UPDATE`, checkpointName).Scan(&cur)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	if uint64(cur) > checkpoint {
		return fmt.Errorf("projections: checkpoint %d is behind %d", checkpoint, cur)
	}
	b := &pgx.Batch{}
	for _, c := range changes {
		queue(b, c)
	}
	b.Queue(`INSERT INTO projection_checkpoint (name, position) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position`, checkpointName, int64(checkpoint))
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	return tx.Commit(ctx)
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
		b.Queue(`UPDATE messages SET text = $2 WHERE dialog_id IN (SELECT id FROM dialogs WHERE contact_id = $1)`, c.ID, Forgotten)
	case PutDialog:
		d := c.Dialog
		b.Queue(`INSERT INTO dialogs (id, n, contact_id, account_id, variant, stage, status, outcome, score, taken_over,
			inbound, outbound, last_message_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			d.ID, d.N, d.ContactID, d.AccountID, d.Variant, d.Stage, d.Status, d.Outcome, d.Score, d.TakenOver,
			d.Inbound, d.Outbound, nullTime(d.LastMessageAt), d.CreatedAt, d.UpdatedAt)
	case PutMessage:
		m := c.Message
		b.Queue(`INSERT INTO messages (dialog_id, position, direction, author, text, at, telegram_id, random_id, status)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			m.DialogID, int64(m.Position), m.Direction, m.Author, m.Text, m.At, m.TelegramID, m.RandomID, m.Status)
	case SetMessageSent:
		b.Queue(`UPDATE messages SET status = $3, telegram_id = CASE WHEN $4 <> 0 THEN $4 ELSE telegram_id END
			WHERE dialog_id = $1 AND random_id = $2 AND direction = 'out'`, c.DialogID, c.RandomID, c.Status, c.TelegramID)
	case UpdateDialog:
		b.Queue(`UPDATE dialogs SET
			stage = COALESCE($2, stage), status = COALESCE($3, status), outcome = COALESCE($4, outcome),
			score = COALESCE($5, score), taken_over = COALESCE($6, taken_over),
			inbound = inbound + $7, outbound = outbound + $8,
			last_message_at = COALESCE($9, last_message_at), updated_at = COALESCE($10, updated_at)
			WHERE id = $1`,
			c.ID, c.Stage, c.Status, c.Outcome, c.Score, c.TakenOver, c.AddInbound, c.AddOutbound, nullTime(c.LastMessageAt), nullTime(c.At))
	}
}

// Checkpoint implements Sink.
func (p *Postgres) Checkpoint(ctx context.Context) (uint64, error) {
	var pos int64
	err := p.pool.QueryRow(ctx, `SELECT position FROM projection_checkpoint WHERE name = $1`, checkpointName).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return uint64(pos), err
}

// Reset implements Sink.
func (p *Postgres) Reset(ctx context.Context) error {
	_, err := p.pool.Exec(ctx, `TRUNCATE contacts, dialogs, messages, projection_checkpoint`)
	return err
}

const dialogColumns = `id, n, contact_id, account_id, variant, stage, status, outcome, score, taken_over,
	inbound, outbound, last_message_at, created_at, updated_at`

func scanDialog(row pgx.Row) (Dialog, error) {
	var d Dialog
	var last *time.Time
	err := row.Scan(&d.ID, &d.N, &d.ContactID, &d.AccountID, &d.Variant, &d.Stage, &d.Status, &d.Outcome, &d.Score,
		&d.TakenOver, &d.Inbound, &d.Outbound, &last, &d.CreatedAt, &d.UpdatedAt)
	if last != nil {
		d.LastMessageAt = last.UTC()
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return d, err
}

// ListDialogs implements Sink.
func (p *Postgres) ListDialogs(ctx context.Context, f DialogFilter) ([]Dialog, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 20
	}
	rows, err := p.pool.Query(ctx, `SELECT `+dialogColumns+` FROM dialogs
		WHERE ($1 = '' OR status = $1) AND ($2 = '' OR stage = $2)
		ORDER BY n DESC LIMIT $3 OFFSET $4`, f.Status, f.Stage, limit, f.Offset)
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
	rows, err := p.pool.Query(ctx, `SELECT dialog_id, position, direction, author, text, at, telegram_id, random_id, status
		FROM messages WHERE dialog_id = $1 ORDER BY position`, dialog)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var pos int64
		if err := rows.Scan(&m.DialogID, &pos, &m.Direction, &m.Author, &m.Text, &m.At, &m.TelegramID, &m.RandomID, &m.Status); err != nil {
			return nil, err
		}
		m.Position, m.At = uint64(pos), m.At.UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// ContactByID implements Sink.
func (p *Postgres) ContactByID(ctx context.Context, id uuid.UUID) (Contact, error) {
	var c Contact
	err := p.pool.QueryRow(ctx, `SELECT id, source, basis, username, name, phone, opted_out, forgotten, created_at
		FROM contacts WHERE id = $1`, id).Scan(&c.ID, &c.Source, &c.Basis, &c.Username, &c.Name, &c.Phone, &c.OptedOut, &c.Forgotten, &c.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Contact{}, fmt.Errorf("contact %s: %w", id, ErrNotFound)
	}
	c.CreatedAt = c.CreatedAt.UTC()
	return c, err
}
