package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/cluster"
	"github.com/salesbot/salesbot/eventstore"
	"github.com/salesbot/salesbot/eventstore/jetstreamtest"
)

// jetStreamLog returns the URL of a new log on the test NATS server,
// deleted when the test ends; it skips without a server.
func jetStreamLog(t *testing.T) string {
	return jetstreamtest.URL() + "/" + jetstreamtest.NewLog(t, jetstreamtest.URL())
}

// bench append --log measures Pebble and then the JetStream log, which
// verify --log then proves intact; a used log is refused, and a password
// in the URL never shows.
func TestBenchAndVerifyOnJetStream(t *testing.T) {
	log := jetStreamLog(t)
	key := filepath.Join(t.TempDir(), "master.key")
	r := run(t, nil, "bench", "append", "--events", "300", "--concurrency", "4", "--json", "--master-key-file", key, "--log", log)
	var stores []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var res struct {
			Store  string  `json:"store"`
			Events int     `json:"events"`
			Rate   float64 `json:"events_per_sec"`
		}
		if err := json.Unmarshal([]byte(line), &res); err != nil || res.Events != 300 || res.Rate <= 0 {
			t.Fatalf("bench line %q: %v", line, err)
		}
		stores = append(stores, res.Store)
	}
	if r.code != 0 || fmt.Sprint(stores) != "[salesbot jetstream]" {
		t.Fatalf("bench append --log: stores %v, %+v", stores, r)
	}
	r = run(t, map[string]string{"SALESBOT_LOG_URL": log}, "verify", "--master-key-file", key, "--json")
	var v struct {
		OK           bool   `json:"ok"`
		HeadPosition uint64 `json:"head_position"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || !v.OK || v.HeadPosition != 300 || r.code != 0 {
		t.Fatalf("verify --log: %+v (%v)", r, err)
	}
	if r := run(t, nil, "bench", "append", "--events", "10", "--master-key-file", key, "--log", log); r.code == 0 || !strings.Contains(r.stderr, "holds events") {
		t.Fatalf("a second bench on the same log: %+v", r)
	}
	other := filepath.Join(t.TempDir(), "other.key")
	if err := os.WriteFile(other, bytes.Repeat([]byte{5}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "verify", "--log", log, "--master-key-file", other); r.code == 0 || !strings.Contains(r.stderr, "master key") {
		t.Fatalf("verify with another master key: %+v", r)
	}
	if r := run(t, nil, "verify", "--log", "nats://ops:pa55word@127.0.0.1:1/x", "--master-key-file", key); r.code == 0 || strings.Contains(r.stderr+r.stdout, "pa55word") || !strings.Contains(r.stderr, "ops:xxxxx@") {
		t.Fatalf("verify against no server: %+v", r)
	}
}

// log migrate copies a data dir's Pebble log into a new JetStream log and
// proves it: the copy verifies with the same events; a log that holds
// events already is refused, and so are missing options.
func TestLogMigrateToJetStream(t *testing.T) {
	log := jetStreamLog(t)
	dir := filepath.Join(t.TempDir(), "data")
	key := filepath.Join(t.TempDir(), "master.key")
	if r := run(t, nil, "bench", "append", "--data-dir", dir, "--master-key-file", key, "--events", "250", "--batch", "5", "--concurrency", "4"); r.code != 0 {
		t.Fatalf("bench append: %+v", r)
	}
	r := run(t, nil, "log", "migrate", "--from", dir, "--to", log, "--master-key-file", key)
	if r.code != 0 || !strings.Contains(r.stdout, "copied 250 events in ") || !strings.Contains(r.stdout, "copy verified:   250 events") {
		t.Fatalf("log migrate: %+v", r)
	}
	src := run(t, nil, "verify", "--data-dir", dir, "--master-key-file", key, "--json")
	dst := run(t, nil, "verify", "--log", log, "--master-key-file", key, "--json")
	var a, b struct {
		OK       bool   `json:"ok"`
		HeadHash string `json:"head_hash"`
	}
	if json.Unmarshal([]byte(src.stdout), &a) != nil || json.Unmarshal([]byte(dst.stdout), &b) != nil || !a.OK || !b.OK || a.HeadHash == "" || a.HeadHash != b.HeadHash {
		t.Fatalf("verify: the source %+v, the copy %+v", src, dst)
	}
	if r := run(t, nil, "log", "migrate", "--from", dir, "--to", log, "--master-key-file", key); r.code == 0 || !strings.Contains(r.stderr, "not empty") {
		t.Fatalf("a second migration into the same log: %+v", r)
	}
	if r := run(t, nil, "log", "migrate", "--from", dir); r.code != 2 || !strings.Contains(r.stderr, "--to") {
		t.Fatalf("no --to: %+v", r)
	}
}

// cluster status lists the live nodes of a log on JetStream with their
// applied position and lag, and the account leases with their holders;
// a missing --log is a usage error.
func TestClusterStatus(t *testing.T) {
	log := jetStreamLog(t)
	ctx := t.Context()
	store, err := eventstore.OpenJetStream(ctx, log, eventstore.Options{MasterKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	mgr, err := cluster.Open(ctx, log, store, cluster.Options{TTL: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	ahead, err := cluster.Join(ctx, log, cluster.MemberOptions{NodeID: mgr.NodeID(), Label: "node-a", Applied: func() uint64 { return 12 }})
	if err != nil {
		t.Fatal(err)
	}
	defer ahead.Close()
	behind, err := cluster.Join(ctx, log, cluster.MemberOptions{Label: "node-b", Applied: func() uint64 { return 9 }})
	if err != nil {
		t.Fatal(err)
	}
	defer behind.Close()
	if _, err := mgr.Acquire(ctx, "account:sales-1"); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "cluster", "status", "--log", log, "--json")
	var st struct {
		Head  uint64 `json:"head"`
		Nodes []struct {
			Label  string `json:"label"`
			Lag    uint64 `json:"lag"`
			Leases int    `json:"leases"`
		} `json:"nodes"`
		Leases []struct {
			Key    string `json:"key"`
			Holder string `json:"holder"`
		} `json:"leases"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 0 {
		t.Fatalf("cluster status --json: %v, %+v", err, r)
	}
	lags := map[string][2]int{}
	for _, n := range st.Nodes {
		lags[n.Label] = [2]int{int(n.Lag), n.Leases}
	}
	if st.Head != 12 || lags["node-a"] != [2]int{0, 1} || lags["node-b"] != [2]int{3, 0} ||
		len(st.Leases) != 1 || st.Leases[0].Key != "account:sales-1" || st.Leases[0].Holder != mgr.NodeID() {
		t.Fatalf("cluster status: %s", r.stdout)
	}
	if r := run(t, nil, "cluster", "status", "--log", log); r.code != 0 || !strings.Contains(r.stdout, "node-b") || !strings.Contains(r.stdout, "account:sales-1") {
		t.Fatalf("cluster status as text: %+v", r)
	}
	if r := run(t, nil, "cluster", "status"); r.code != 2 || !strings.Contains(r.stderr, "--log") {
		t.Fatalf("cluster status without --log: %+v", r)
	}
}

// With $SALESBOT_LOG_URL set the log is on JetStream: a command that
// works on the data dir's log is refused, pointing to --server, instead
// of writing into a data dir no node reads.
func TestDataDirCommandsRefuseWhenTheLogIsOnJetStream(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	csv := filepath.Join(t.TempDir(), "leads.csv")
	if err := os.WriteFile(csv, []byte("username\n@lead_one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SALESBOT_LOG_URL": "nats://ops:pa55word@127.0.0.1:1/shared"}
	for _, args := range [][]string{
		{"contacts", "import", "--source", "fair", "--basis", "consent", "--data-dir", dir, csv},
		{"campaigns", "list", "--data-dir", dir},
		{"backup", "--data-dir", dir, "--to", filepath.Join(t.TempDir(), "b")},
	} {
		r := run(t, env, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "SALESBOT_LOG_URL is set") || !strings.Contains(r.stderr, "--server") || strings.Contains(r.stderr, "pa55word") {
			t.Errorf("%v: %+v", args, r)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the data dir was made: %v", err)
	}
}
