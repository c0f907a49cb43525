package migrations_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/salesbot/salesbot/migrations"
	"github.com/salesbot/salesbot/projections/sinktest"
)

func TestUpIsOrderedAndIdempotent(t *testing.T) {
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for i, m := range all {
		if m.Version != i+1 {
			t.Fatalf("migration %s has version %d, want %d (no gaps)", m.Name, m.Version, i+1)
		}
		want = append(want, m.Version)
	}
	conn, err := pgx.Connect(context.Background(), sinktest.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	applied, err := migrations.Up(t.Context(), conn)
	if err != nil || !reflect.DeepEqual(applied, want) {
		t.Fatalf("first Up applied %v (%v), want %v", applied, err, want)
	}
	applied, err = migrations.Up(t.Context(), conn)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Up applied %v (%v), want nothing", applied, err)
	}
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(want) {
		t.Fatalf("schema_migrations has %d rows (%v)", n, err)
	}
}
