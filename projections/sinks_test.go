package projections_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/salesbot/salesbot/projections"
	"github.com/salesbot/salesbot/projections/sinktest"
)

func TestMemorySink(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) projections.Sink { return projections.NewMemory() })
}

// testDSN is the PostgreSQL the tests use (each in a schema of its own).
func testDSN() string {
	if dsn := os.Getenv("SALESBOT_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// newPostgres makes a sink in a fresh schema, dropped after the test.
func newPostgres(t *testing.T) projections.Sink {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, testDSN())
	if err != nil {
		t.Fatalf("PostgreSQL at %s (set SALESBOT_TEST_POSTGRES): %v", testDSN(), err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "salesbot_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close(context.Background())
	})
	cfg, err := pgx.ParseConfig(testDSN())
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schema
	sink, err := projections.OpenPostgres(ctx, cfg.ConnString()+"&search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sink.Close)
	return sink
}

func TestPostgresSink(t *testing.T) {
	sinktest.Run(t, newPostgres)
}
