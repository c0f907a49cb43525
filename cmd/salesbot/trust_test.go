package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// importSome imports n contacts into the log in dir (created if absent).
func importSome(t *testing.T, dir string, from, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("username,name\n")
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "lead_%d,Lead %d\n", i, i)
	}
	file := csvFile(t, t.TempDir(), "leads.csv", b.String())
	if r, _ := importRun(t, dir, file); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
}

// fileHashes maps every file under dir to the SHA-256 of its content.
func fileHashes(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = sha256.Sum256(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// verify and replay open the data dir read-only: not a byte changes.
func TestVerifyAndReplayChangeNoByte(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	importSome(t, dir, 0, 20)
	before := fileHashes(t, dir)
	if r := run(t, nil, "verify", "--data-dir", dir); r.code != 0 {
		t.Fatalf("verify: %+v", r)
	}
	if r := run(t, nil, "replay", "dialog", "1", "--data-dir", dir); r.code == 0 {
		t.Fatalf("replay of a dialog that does not exist: %+v", r)
	}
	after := fileHashes(t, dir)
	if len(after) != len(before) {
		t.Fatalf("%d files before verify and replay, %d after", len(before), len(after))
	}
	for p, h := range before {
		if after[p] != h {
			t.Fatalf("verify or replay changed %s", p)
		}
	}
}

// An auditor checks the log with the public key alone, and against a
// head written down earlier.
func TestAuditorVerifiesWithThePublicKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	importSome(t, dir, 0, 10)
	r := run(t, nil, "keys", "public", "--data-dir", dir)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "ed25519:") {
		t.Fatalf("keys public: %+v", r)
	}
	pubFile := filepath.Join(t.TempDir(), "salesbot.pub")
	os.WriteFile(pubFile, []byte(r.stdout), 0o644)
	r = run(t, nil, "verify", "--json", "--data-dir", dir)
	var rep struct {
		OK           bool   `json:"ok"`
		HeadPosition uint64 `json:"head_position"`
		HeadHash     string `json:"head_hash"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || !rep.OK {
		t.Fatalf("verify --json: %+v %v", r, err)
	}
	head := fmt.Sprintf("%d:%s", rep.HeadPosition, rep.HeadHash)

	// The auditor has no master key: it is not where the auditor looks.
	auditor := map[string]string{"SALESBOT_MASTER_KEY_FILE": filepath.Join(t.TempDir(), "none.key")}
	r = run(t, auditor, "verify", "--data-dir", dir, "--public-key", pubFile, "--expect-head", head)
	if r.code != 0 || !strings.Contains(r.stdout, "with the public key") || !strings.Contains(r.stdout, "signed head: position") {
		t.Fatalf("verify --public-key: %+v", r)
	}
	if _, err := os.Stat(auditor["SALESBOT_MASTER_KEY_FILE"]); err == nil {
		t.Fatal("verify --public-key created a master key")
	}
	importSome(t, dir, 10, 5) // the log grows: the old head is still in it
	if r := run(t, auditor, "verify", "--data-dir", dir, "--public-key", pubFile, "--expect-head", head); r.code != 0 {
		t.Fatalf("verify against an older head of a grown log: %+v", r)
	}
	wrong := fmt.Sprintf("%d:%s", rep.HeadPosition, strings.Repeat("ab", 32))
	if r := run(t, auditor, "verify", "--data-dir", dir, "--public-key", pubFile, "--expect-head", wrong); r.code != 1 || !strings.Contains(r.stderr, "expected") {
		t.Fatalf("verify against a head the log does not hold: %+v", r)
	}
	if r := run(t, nil, "verify", "--data-dir", dir, "--expect-head", "12"); r.code != 2 {
		t.Fatalf("a malformed --expect-head: %+v", r)
	}
}

// A restored older copy of the data dir is refused by verify and by every
// command that opens the log, naming both heads.
func TestRollbackIsRefused(t *testing.T) {
	base := t.TempDir()
	dir, backup := filepath.Join(base, "data"), filepath.Join(base, "backup")
	env := map[string]string{"SALESBOT_MASTER_KEY_FILE": filepath.Join(base, "keys", "master.key")}
	os.MkdirAll(filepath.Join(base, "keys"), 0o700)
	file := csvFile(t, base, "a.csv", "username,name\nanna_k,Anna\n")
	if r := run(t, env, "contacts", "import", file, "--data-dir", dir, "--source", "fair", "--basis", "consent"); r.code != 0 {
		t.Fatalf("import: %+v", r)
	}
	if out, err := exec.Command("cp", "-a", dir, backup).CombinedOutput(); err != nil {
		t.Fatalf("backup: %v %s", err, out)
	}
	if r := run(t, env, "contacts", "optout", "@anna_k", "--data-dir", dir); r.code != 0 {
		t.Fatalf("optout: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(base, "keys", "anchor.json")); err != nil {
		t.Fatalf("no anchor next to the master key: %v", err)
	}
	os.RemoveAll(dir)
	os.Rename(backup, dir) // the opt-out vanishes with the restore
	r := run(t, env, "verify", "--data-dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "FAILED") || !strings.Contains(r.stderr, "behind its anchor") || !strings.Contains(r.stderr, "the anchor holds position") || !strings.Contains(r.stderr, "move") {
		t.Fatalf("verify of a restored backup: %+v", r)
	}
	r = run(t, env, "contacts", "import", file, "--data-dir", dir, "--source", "fair", "--basis", "consent")
	if r.code != 1 || !strings.Contains(r.stderr, "behind its anchor") {
		t.Fatalf("a writing command on a restored backup: %+v", r)
	}
}

// Below the free-space floor nothing starts, and the message names the
// directory and the free space.
func TestStartRefusedOnAFullDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	r := run(t, nil, "run", "--sandbox", "--data-dir", dir, "--min-free-space", "1000000TiB", "--for", "1s")
	if r.code != 1 || !strings.Contains(r.stderr, dir) || !strings.Contains(r.stderr, "free") {
		t.Fatalf("run on a disk below the floor: %+v", r)
	}
	if r := run(t, nil, "run", "--sandbox", "--data-dir", dir, "--min-free-space", "lots"); r.code != 2 {
		t.Fatalf("a malformed --min-free-space: %+v", r)
	}
}

const signalChildEnv = "SALESBOT_SIGNAL_CHILD"

// TestSignalChild is the child of TestSecondSignalExitsAtOnce: its clean
// stop never ends.
func TestSignalChild(t *testing.T) {
	if os.Getenv(signalChildEnv) == "" {
		t.Skip("only runs as the child of TestSecondSignalExitsAtOnce")
	}
	withSignals(func(ctx context.Context) int {
		fmt.Println("running")
		<-ctx.Done()
		fmt.Println("stopping")
		select {} // a stop that hangs (a disk that does not answer, say)
	})
}

// The first SIGTERM asks for a clean stop; a second one ends the process
// at once even when the clean stop hangs.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSignalChild$")
	cmd.Env = append(os.Environ(), signalChildEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	waitFor := func(want string) {
		for lines.Scan() {
			if lines.Text() == want {
				return
			}
		}
		t.Fatalf("the child never printed %q", want)
	}
	waitFor("running")
	cmd.Process.Signal(syscall.SIGTERM)
	waitFor("stopping")
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGTERM) {
			t.Fatalf("after the second signal: %v, want exit status %d", err, 128+int(syscall.SIGTERM))
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the second SIGTERM did not end the process")
	}
}
