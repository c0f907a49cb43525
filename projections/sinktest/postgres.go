package sinktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PostgresDSN is the test PostgreSQL: $SALESBOT_TEST_POSTGRES, or the
// machine's local server.
func PostgresDSN() string {
	if dsn := os.Getenv("SALESBOT_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// NewSchema creates a schema of its own for one test on the test
// PostgreSQL, drops it after the test, and returns a DSN that uses it.
// Tests using it can run in parallel and leave nothing behind.
func NewSchema(t *testing.T) string {
	t.Helper()
	base := PostgresDSN()
	admin, err := pgx.Connect(context.Background(), base)
	if err != nil {
		t.Fatalf("PostgreSQL at %s (set SALESBOT_TEST_POSTGRES): %v", base, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "salesbot_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close(context.Background())
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
