package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/jackc/pgx/v5"

	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/storebench"
	"github.com/salesbot/salesbot/projections/projectionsbench"
	"github.com/salesbot/salesbot/projections/sinktest"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return result{code, out.String(), errb.String()}
}

func TestVersionAndHelp(t *testing.T) {
	r := run(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "salesbot ") {
		t.Fatalf("version: %+v", r)
	}
	r = run(t, nil, "help")
	for _, cmd := range []string{"version", "verify", "bench"} {
		if !strings.Contains(r.stdout, "\n  "+cmd+" ") {
			t.Errorf("help does not list %s:\n%s", cmd, r.stdout)
		}
	}
	r = run(t, nil, "bench", "append", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--concurrency") || !strings.Contains(r.stdout, "SALESBOT_DATA_DIR") {
		t.Fatalf("bench append --help: %+v", r)
	}
	if r := run(t, nil, "help", "verify"); r.code != 0 || !strings.Contains(r.stdout, "Usage: salesbot verify") {
		t.Fatalf("help verify: %+v", r)
	}
	if r := run(t, map[string]string{"SALESBOT_LOG_LEVEL": "loud"}, "version"); r.code != 2 || !strings.Contains(r.stderr, "SALESBOT_LOG_LEVEL") {
		t.Fatalf("a bad log level: %+v", r)
	}
}

func TestBadInputExitsTwoWithOneLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, []byte("x"), 0o600)
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown command", nil, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"bad int", nil, []string{"bench", "append", "--concurrency", "many"}, "--concurrency"},
		{"out of range", nil, []string{"bench", "append", "--events", "0"}, "--events"},
		{"unknown flag", nil, []string{"verify", "--frob"}, "--frob"},
		{"data dir is a file", nil, []string{"verify", "--data-dir", file}, "--data-dir"},
		{"data dir from env is a file", map[string]string{"SALESBOT_DATA_DIR": file}, []string{"verify"}, "SALESBOT_DATA_DIR"},
		{"bad dsn", map[string]string{"SALESBOT_POSTGRES_DSN": "not a dsn"}, []string{"verify"}, "--postgres"},
		{"stray argument", nil, []string{"version", "extra"}, "no arguments"},
	}
	for _, c := range cases {
		r := run(t, c.env, c.args...)
		if r.code != 2 {
			t.Errorf("%s: exit %d, want 2 (%q)", c.name, r.code, r.stderr)
		}
		if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: stderr %q, want one line naming %q", c.name, r.stderr, c.want)
		}
	}
}

func TestBenchVerifyAndTamper(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log")
	r := run(t, nil, "bench", "append", "--concurrency", "4", "--events", "300", "--batch", "3", "--data-dir", dir, "--json")
	if r.code != 0 {
		t.Fatalf("bench append: %+v", r)
	}
	var res storebench.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("bench append output %q: %v", r.stdout, err)
	}
	if res.Store != "salesbot" || res.Events != 300 || res.Concurrency != 4 || res.Batch != 3 || res.EventsPerSec <= 0 || res.P99us < res.P50us {
		t.Fatalf("bench append result %+v", res)
	}
	key := filepath.Join(dir, "master.key")
	fi, err := os.Stat(key)
	if err != nil || fi.Mode().Perm() != 0o600 || !strings.Contains(r.stderr, key) {
		t.Fatalf("master key %s: %v %v; stderr %q", key, fi, err, r.stderr)
	}

	r = run(t, nil, "bench", "read", "--data-dir", dir, "--json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Events != 300 {
		t.Fatalf("bench read: %+v", r)
	}
	if r := run(t, nil, "bench", "append", "--events", "10", "--data-dir", dir); r.code != 2 || !strings.Contains(r.stderr, "already holds 300 events") {
		t.Fatalf("bench append into a used log: %+v", r)
	}

	r = run(t, map[string]string{"SALESBOT_DATA_DIR": dir}, "verify")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "ok: 300 events") {
		t.Fatalf("verify: %+v", r)
	}

	// Change one byte of event 123 through Pebble's own API.
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	k := binary.BigEndian.AppendUint64([]byte("e|"), 123)
	v, c, err := db.Get(k)
	if err != nil {
		t.Fatal(err)
	}
	v = bytes.Clone(v)
	c.Close()
	v[len(v)-40] ^= 0x20
	db.Set(k, v, pebble.Sync)
	db.Close()

	r = run(t, nil, "verify", "--data-dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "position 123") {
		t.Fatalf("verify of a tampered log: %+v", r)
	}
	r = run(t, nil, "verify", "--data-dir", dir, "--json")
	var out struct {
		OK  bool   `json:"ok"`
		Bad uint64 `json:"bad_position"`
	}
	if r.code != 1 || json.Unmarshal([]byte(r.stdout), &out) != nil || out.OK || out.Bad != 123 {
		t.Fatalf("verify --json of a tampered log: %+v", r)
	}
}

func TestVerifyMissingLog(t *testing.T) {
	r := run(t, nil, "verify", "--data-dir", filepath.Join(t.TempDir(), "none"))
	if r.code != 1 || !strings.Contains(r.stderr, "no event log") {
		t.Fatalf("verify of a missing log: %+v", r)
	}
}

func TestVerifyWhileInUse(t *testing.T) {
	dir := t.TempDir()
	if r := run(t, nil, "bench", "append", "--events", "10", "--concurrency", "1", "--data-dir", dir); r.code != 0 {
		t.Fatalf("bench append: %+v", r)
	}
	s := openLog(t, dir)
	defer s.Close()
	r := run(t, nil, "verify", "--data-dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "in use by another salesbot process") {
		t.Fatalf("verify of a log in use: %+v", r)
	}
}

// openLog opens (creating) the log in dir with the key the CLI uses there.
func openLog(t *testing.T, dir string) *eventstore.PebbleStore {
	t.Helper()
	key, _, err := eventstore.LoadOrCreateMasterKey(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := eventstore.Open(dir, eventstore.Options{MasterKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// makeLog writes n generated dialogs into a new log and returns its dir.
func makeLog(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	s := openLog(t, dir)
	if err := projectionsbench.GenerateDialogs(t.Context(), s, 1, n, 4, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReplayDialog(t *testing.T) {
	dir := makeLog(t, 5)
	r := run(t, nil, "replay", "dialog", "3", "--data-dir", dir)
	if r.code != 0 {
		t.Fatalf("replay: %+v", r)
	}
	for _, want := range []string{"dialog 3 (dialog-", "DialogStarted", "StageChanged", "opening → discovery",
		`lead: "We need a CRM for our sales team"`, `ai plans: "Hello! I am the AI assistant of Acme.`, "QualificationUpdated"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("replay output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = run(t, nil, "replay", "dialog", "3", "--data-dir", dir, "--json")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var first struct {
		Version uint64 `json:"version"`
		Type    string `json:"type"`
		Data    struct {
			N int64 `json:"n"`
		} `json:"data"`
	}
	if r.code != 0 || len(lines) < 10 || json.Unmarshal([]byte(lines[0]), &first) != nil || first.Type != "DialogStarted" || first.Data.N != 3 || first.Version != 1 {
		t.Fatalf("replay --json: %+v", r)
	}
	if r := run(t, nil, "replay", "dialog", "9", "--data-dir", dir); r.code != 1 || !strings.Contains(r.stderr, "no dialog 9") {
		t.Fatalf("replay of a missing dialog: %+v", r)
	}
	for _, bad := range [][]string{{"replay"}, {"replay", "dialog"}, {"replay", "dialog", "x"}, {"replay", "contact", "1"}, {"replay", "dialog", "-2"}} {
		if r := run(t, nil, append(bad, "--data-dir", dir)...); r.code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", bad, r.code, r.stderr)
		}
	}
}

func TestProjectionsRebuildAndStatus(t *testing.T) {
	dir := makeLog(t, 6)
	r := run(t, nil, "projections", "rebuild", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "rebuilt read models from") || !strings.Contains(r.stderr, "events/s") {
		t.Fatalf("rebuild into memory: %+v", r)
	}
	r = run(t, nil, "projections", "status", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "embedded in memory") {
		t.Fatalf("status: %+v", r)
	}
	dsn := sinktest.NewSchema(t)
	env := map[string]string{"SALESBOT_POSTGRES_DSN": dsn}
	if r := run(t, env, "projections", "status", "--data-dir", dir); r.code != 0 || !strings.Contains(r.stdout, "checkpoint 0") {
		t.Fatalf("status before rebuild: %+v", r)
	}
	if r := run(t, env, "projections", "rebuild", "--data-dir", dir); r.code != 0 {
		t.Fatalf("rebuild into postgres: %+v", r)
	}
	r = run(t, env, "projections", "status", "--data-dir", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "lag 0 events") || strings.Contains(r.stdout, "checkpoint 0,") {
		t.Fatalf("status after rebuild: %+v", r)
	}
	// Rebuilding again gives the same rows.
	if r := run(t, env, "projections", "rebuild", "--data-dir", dir); r.code != 0 {
		t.Fatalf("second rebuild: %+v", r)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var dialogs, messages int
	if err := conn.QueryRow(t.Context(), "SELECT (SELECT count(*) FROM dialogs), (SELECT count(*) FROM messages)").Scan(&dialogs, &messages); err != nil {
		t.Fatal(err)
	}
	if dialogs != 6 || messages != 6*4 {
		t.Fatalf("after two rebuilds: %d dialogs, %d messages; want 6 and 24", dialogs, messages)
	}
}

func TestBenchRebuild(t *testing.T) {
	r := run(t, nil, "bench", "rebuild", "--events", "600", "--concurrency", "4", "--json")
	var res storebench.Result
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Store != "memory" || res.Events < 500 || res.EventsPerSec <= 0 {
		t.Fatalf("bench rebuild: %+v", r)
	}
	env := map[string]string{"SALESBOT_POSTGRES_DSN": sinktest.NewSchema(t)}
	r = run(t, env, "bench", "rebuild", "--events", "300", "--concurrency", "4", "--batch", "100", "--json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Store != "postgres" || res.Events < 250 {
		t.Fatalf("bench rebuild into postgres: %+v", r)
	}
}
