package projections_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/projections"
	"github.com/salesbot/salesbot/projections/sinktest"
)

// TestPostgresCheckpointColumns: projection_checkpoint holds the log's id
// and the hash at the checkpoint; a row from before they existed (NULL
// log_id and hash, as migration 0007 leaves one) is bound on first use.
func TestPostgresCheckpointColumns(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := sinktest.NewSchema(t)
	sink, err := projections.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	store, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	log := eventlog.New(store)
	h := domain.Handlers{Log: log, Now: time.Now}
	c := domain.Contact{ID: uuid.New(), Exists: true, Source: domain.SourceManual, Basis: domain.BasisConsent, Username: "anna"}
	d := uuid.New()
	if _, err := h.Dialog(ctx, d, c.ID, domain.StartDialog{DialogID: d, N: 1, Contact: c, AccountID: uuid.New(), By: "admin:1"}); err != nil {
		t.Fatal(err)
	}
	r := projections.Runner{Store: store, Decode: log.Decode, Sink: sink}
	pos, err := r.CatchUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := store.HashAt(ctx, pos)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var (
		position int64
		logID    uuid.UUID
		hash     []byte
	)
	if err := conn.QueryRow(ctx, `SELECT position, log_id, hash FROM projection_checkpoint`).Scan(&position, &logID, &hash); err != nil {
		t.Fatal(err)
	}
	if uint64(position) != pos || logID != store.LogID() || string(hash) != string(want[:]) {
		t.Fatalf("projection_checkpoint: %d %s %x, want %d %s %x", position, logID, hash, pos, store.LogID(), want)
	}
	if _, err := conn.Exec(ctx, `UPDATE projection_checkpoint SET log_id = NULL, hash = NULL`); err != nil {
		t.Fatal(err)
	}
	if cp, err := r.Check(ctx); err != nil || cp.Bound() || cp.Position != pos {
		t.Fatalf("a checkpoint from before 0007: %+v %v", cp, err)
	}
	if _, err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT position, log_id, hash FROM projection_checkpoint`).Scan(&position, &logID, &hash); err != nil {
		t.Fatal(err)
	}
	if logID != store.LogID() || string(hash) != string(want[:]) {
		t.Fatalf("not bound on first use: %s %x", logID, hash)
	}
}

// What a refused read model tells the operator to do, per reason.
func TestLogMismatchErrorSaysWhatToDo(t *testing.T) {
	for reason, want := range map[error][]string{
		projections.ErrOtherLog:     {"another event log", "salesbot projections rebuild"},
		projections.ErrAheadOfLog:   {"ends at position 5", "older backup", "salesbot projections rebuild"},
		projections.ErrLogRewritten: {"rewritten", "salesbot verify"},
	} {
		msg := (&projections.LogMismatchError{Reason: reason, Checkpoint: projections.Checkpoint{Position: 9}, Head: 5}).Error()
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: %q does not say %q", reason, msg, w)
			}
		}
	}
}
