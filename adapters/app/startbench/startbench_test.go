package startbench_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/salesbot/salesbot/adapters/app/startbench"
	"github.com/salesbot/salesbot/projections/sinktest"
)

// A small run against the test PostgreSQL with the real binary: both
// starts become ready and are measured; the cold one folds the log from
// its beginning, the warm one starts from the snapshots the cold one saved
// on its way out; the kept schema holds the rebuilt read models and the
// kept data dir the log.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds salesbot and starts it twice")
	}
	ctx := t.Context()
	bin := buildSalesbot(t)
	dsn := sinktest.PostgresDSN()
	var mu sync.Mutex
	stages := map[string][2]int{}
	res, err := startbench.Run(ctx, startbench.Config{Binary: bin, Postgres: dsn, Events: 3000, Accounts: 3, Concurrency: 8,
		Settle: time.Second, Keep: true, Progress: func(stage string, done, total int) {
			mu.Lock()
			defer mu.Unlock()
			stages[stage] = [2]int{done, total}
		}})
	if res.Schema != "" {
		t.Cleanup(func() { drop(t, dsn, res.Schema) })
	}
	if res.DataDir != "" {
		t.Cleanup(func() { os.RemoveAll(filepath.Dir(res.DataDir)) })
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.Text())

	if res.Accounts != 3 || res.Dialogs != (3000-3)/14 || res.Events < 2700 || res.Events > 3300 {
		t.Errorf("generated %d events, %d dialogs over %d accounts; want about 3000 events, 214 dialogs, 3 accounts", res.Events, res.Dialogs, res.Accounts)
	}
	if res.Generate <= 0 || res.Rebuild <= 0 {
		t.Errorf("generate %v, rebuild %v", res.Generate, res.Rebuild)
	}
	for _, s := range []startbench.Start{res.Cold, res.Warm} {
		if s.Ready <= 0 || s.RSSReady == 0 || s.RSSPeak < s.RSSReady || s.Stop <= 0 {
			t.Errorf("%s start: ready in %v, RSS %d at ready, peak %d, stopped in %v", s.Name, s.Ready, s.RSSReady, s.RSSPeak, s.Stop)
		}
		if s.HeadReady < res.Events || s.Head < s.HeadReady {
			t.Errorf("%s start: head %d at ready, %d at the end; %d generated", s.Name, s.HeadReady, s.Head, res.Events)
		}
	}
	if res.Cold.Name != "cold" || res.Warm.Name != "warm" || res.Warm.HeadReady < res.Cold.Head {
		t.Errorf("cold %q ends at %d, warm %q is ready at %d", res.Cold.Name, res.Cold.Head, res.Warm.Name, res.Warm.HeadReady)
	}
	if want := []string{"accounts", "campaigns", "engine"}; !slices.Equal(res.Cold.FromBeginning, want) {
		t.Errorf("the cold start folded %v from the log's beginning, want %v", res.Cold.FromBeginning, want)
	}
	if len(res.Warm.FromBeginning) != 0 {
		t.Errorf("the warm start folded %v from the log's beginning: it did not use the snapshots", res.Warm.FromBeginning)
	}
	for stage, want := range map[string][2]int{"generate": {res.Dialogs, res.Dialogs}, "cold": {1, 1}, "warm": {1, 1}} {
		if stages[stage] != want {
			t.Errorf("progress of %s ended at %v, want %v", stage, stages[stage], want)
		}
	}
	if p := stages["rebuild"]; p[0] != int(res.Events) || p[1] != int(res.Events) {
		t.Errorf("progress of the rebuild ended at %v, want %d of %d", p, res.Events, res.Events)
	}

	// The read models were rebuilt into the kept schema before the
	// starts: the accounts and dialogs generated are there.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var accounts, dialogs int
	if err := conn.QueryRow(ctx, "SELECT (SELECT count(*) FROM "+res.Schema+".accounts), (SELECT count(*) FROM "+res.Schema+".dialogs)").
		Scan(&accounts, &dialogs); err != nil {
		t.Fatal(err)
	}
	if accounts != 3 || dialogs != res.Dialogs {
		t.Errorf("the read models hold %d accounts and %d dialogs, want 3 and %d", accounts, dialogs, res.Dialogs)
	}

	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Events uint64 `json:"events"`
		Warm   struct {
			Ready float64 `json:"ready_seconds"`
			Peak  uint64  `json:"rss_peak_bytes"`
		} `json:"warm"`
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(b, &j); err != nil || j.Events != res.Events || j.Warm.Ready != res.Warm.Ready.Seconds() ||
		j.Warm.Peak != res.Warm.RSSPeak || j.Schema != res.Schema {
		t.Errorf("JSON %s: %+v %v", b, j, err)
	}
	if text := res.Text(); !strings.Contains(text, "cold") || !strings.Contains(text, "warm") || !strings.Contains(text, res.Schema) {
		t.Errorf("the text misses a start or the kept schema:\n%s", text)
	}
}

// A binary that exits at once fails the run with the end of its output,
// and leaves no schema behind.
func TestRunChildExits(t *testing.T) {
	if testing.Short() {
		t.Skip("talks to PostgreSQL")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dsn := sinktest.PostgresDSN()
	before := schemas(t, dsn)
	res, err := startbench.Run(t.Context(), startbench.Config{Binary: sh, Postgres: dsn, Events: 100, Accounts: 1, Concurrency: 2, Settle: time.Second})
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "run") {
		t.Fatalf("err %v, want the cold start to have exited before it was ready, with its output", err)
	}
	if res.Schema != "" || res.DataDir != "" {
		t.Errorf("kept %q and %q without Keep", res.Schema, res.DataDir)
	}
	if after := schemas(t, dsn); !slices.Equal(before, after) {
		t.Errorf("schemas before %v, after %v: the run's was not dropped", before, after)
	}
}

// A run without a binary or a DSN fails before it does anything.
func TestRunNeedsBinaryAndPostgres(t *testing.T) {
	for _, cfg := range []startbench.Config{{Postgres: "postgres://x@127.0.0.1/test"}, {Binary: "salesbot"}, {Binary: "salesbot", Postgres: "host"}} {
		if _, err := startbench.Run(t.Context(), cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

// buildSalesbot builds cmd/salesbot of this module into the test's
// temporary directory.
func buildSalesbot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("go env GOMOD: %q %v", out, err)
	}
	bin := filepath.Join(t.TempDir(), "salesbot")
	build := exec.Command("go", "build", "-o", bin, "./cmd/salesbot")
	build.Dir = filepath.Dir(strings.TrimSpace(string(out)))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func schemas(t *testing.T, dsn string) []string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	rows, err := conn.Query(t.Context(), "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'salesbot_startbench_%' ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// drop drops a kept schema (in a cleanup: t.Context has ended).
func drop(t *testing.T, dsn, schema string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		t.Error(err)
	}
}
