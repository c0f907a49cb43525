package projections

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The sink's sessions plan with random_page_cost 1.1 (so a filtered
// dialog list takes its (filter, n) index), unless the DSN sets it.
// (sinktest imports this package, so the schema is made here.)
func TestPostgresRandomPageCost(t *testing.T) {
	ctx := t.Context()
	base := os.Getenv("SALESBOT_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL at %s (set SALESBOT_TEST_POSTGRES): %v", base, err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) }) // after the drop below
	schema := fmt.Sprintf("salesbot_test_page_cost_%d", rand.Uint64())
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	for _, c := range []struct{ params, want string }{{"", "1.1"}, {"&random_page_cost=3", "3"}} {
		p, err := OpenPostgres(ctx, base+sep+"search_path="+schema+c.params)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		err = p.pool.QueryRow(ctx, "SHOW random_page_cost").Scan(&got)
		p.Close()
		if err != nil || got != c.want {
			t.Errorf("DSN params %q: random_page_cost %q (%v), want %s", c.params, got, err, c.want)
		}
	}
}
