package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A backup through the running server while contacts are written through
// the API, restored elsewhere: the restored log verifies, and its head is
// the one the backup's manifest names.
func TestBackupWhileRunningAndRestore(t *testing.T) {
	dir, addr, _ := startRun(t)
	r := run(t, nil, "tokens", "create", "--name", "load", "--scope", "manage", "--data-dir", dir)
	token := strings.TrimSpace(r.stdout)
	if r.code != 0 {
		t.Fatalf("tokens create: %+v", r)
	}
	// The load: contacts recorded through the API until the backup is done.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var written atomic.Int64
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				body := fmt.Sprintf(`{"username":"load_%d_%05d","source":"backup test","basis":"consent"}`, w, i)
				req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/contacts", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Errorf("POST /contacts: %v", err)
					return
				}
				res.Body.Close()
				if res.StatusCode == http.StatusTooManyRequests { // the token's rate limit
					time.Sleep(50 * time.Millisecond)
					continue
				}
				if res.StatusCode/100 != 2 {
					t.Errorf("POST /contacts: %s", res.Status)
					return
				}
				written.Add(1)
			}
		})
	}
	for written.Load() < 20 && !t.Failed() {
		time.Sleep(10 * time.Millisecond)
	}
	bk := filepath.Join(t.TempDir(), "backup")
	r = run(t, nil, "backup", "--data-dir", dir, "--to", bk, "--json")
	before := written.Load()
	if r.code != 0 {
		stop.Store(true)
		wg.Wait()
		t.Fatalf("backup: %+v", r)
	}
	for written.Load() < before+5 && !t.Failed() { // the log goes on past the backup
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	var b struct {
		OK   bool
		Head struct {
			Position uint64
			Hash     string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil || !b.OK || b.Head.Position == 0 {
		t.Fatalf("backup --json: %q %v", r.stdout, err)
	}
	if r := run(t, nil, "backup", "--data-dir", dir, "--to", "relative"); r.code != 2 || !strings.Contains(r.stderr, "absolute") {
		t.Errorf("a relative --to through the server: %+v", r)
	}
	if r := run(t, nil, "backup", "--data-dir", dir, "--to", bk); r.code != 1 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("a backup into a used directory: %+v", r)
	}

	// Restored on another machine: the same master key, its own anchor.
	key := filepath.Join(dir, "master.key")
	elsewhere := t.TempDir()
	restored, anchor := filepath.Join(elsewhere, "data"), filepath.Join(elsewhere, "anchor.json")
	r = run(t, nil, "restore", "--from", bk, "--data-dir", restored, "--master-key-file", key, "--anchor-file", anchor)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("head position %d hash %s", b.Head.Position, b.Head.Hash)) || !strings.Contains(r.stdout, "anchor "+anchor+": written") {
		t.Fatalf("restore: %+v", r)
	}
	r = run(t, nil, "verify", "--data-dir", restored, "--master-key-file", key, "--anchor-file", anchor, "--json")
	var v struct {
		OK           bool   `json:"ok"`
		HeadPosition uint64 `json:"head_position"`
		HeadHash     string `json:"head_hash"`
		Anchor       *struct{ Position uint64 }
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || !v.OK || v.HeadPosition != b.Head.Position || v.HeadHash != b.Head.Hash || v.Anchor == nil || v.Anchor.Position != b.Head.Position {
		t.Fatalf("verify of the restored log: %+v (%v); the backup's head %+v", r, err, b.Head)
	}
	// A second restore into it is refused; a backup dir that was damaged
	// is refused and creates nothing.
	if r := run(t, nil, "restore", "--from", bk, "--data-dir", restored, "--master-key-file", key, "--anchor-file", anchor); r.code != 1 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("restore into a used dir: %+v", r)
	}
	manifest := filepath.Join(bk, "manifest.json")
	m, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, bytes.Replace(m, []byte(b.Head.Hash), []byte(strings.Repeat("0", 64)), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(elsewhere, "other")
	if r := run(t, nil, "restore", "--from", bk, "--data-dir", other, "--master-key-file", key, "--anchor-file", filepath.Join(elsewhere, "a2.json")); r.code != 1 || !strings.Contains(r.stderr, "manifest") {
		t.Errorf("restore of a damaged backup: %+v", r)
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Errorf("restore of a damaged backup: %+v", r)
	}
}
