package main

import (
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/projections/projectionsbench"
	"github.com/salesbot/salesbot/projections/sinktest"
)

// logInfo is a log's id and head, read with the log closed again.
func logInfo(t *testing.T, dir string) (uuid.UUID, uint64) {
	t.Helper()
	s := openLog(t, dir)
	defer s.Close()
	return s.LogID(), s.Head()
}

// PostgreSQL read models built from log A, pointed at log B: status says
// so and exits 1, run refuses to start (and writes nothing), rebuild binds
// them to B, and from then on A is the other log.
func TestReadModelsOfAnotherLogAreRefused(t *testing.T) {
	dirA, dirB := makeLog(t, 3), makeLog(t, 2)
	idA, _ := logInfo(t, dirA)
	idB, headB := logInfo(t, dirB)
	env := map[string]string{"SALESBOT_POSTGRES_DSN": sinktest.NewSchema(t)}
	if r := run(t, env, "projections", "rebuild", "--data-dir", dirA); r.code != 0 || !strings.Contains(r.stdout, "of log "+idA.String()) {
		t.Fatalf("rebuild from A: %+v", r)
	}
	r := run(t, env, "projections", "status", "--data-dir", dirA)
	if want := "read models: postgres, log " + idA.String() + ", checkpoint "; r.code != 0 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "lag 0 events") {
		t.Fatalf("status on A: %+v, want %q", r, want)
	}

	r = run(t, env, "projections", "status", "--data-dir", dirB)
	if r.code != 1 || !strings.Contains(r.stdout, "they do not match") {
		t.Fatalf("status on B: %+v", r)
	}
	for _, want := range []string{"built from another event log", idA.String(), idB.String(), "salesbot projections rebuild"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("status on B does not say %q: %q", want, r.stderr)
		}
	}
	r = run(t, env, "run", "--sandbox", "--data-dir", dirB, "--for", "30s")
	if r.code != 1 || !strings.Contains(r.stderr, "built from another event log") || !strings.Contains(r.stderr, "salesbot projections rebuild") {
		t.Fatalf("run on B: %+v", r)
	}
	if _, head := logInfo(t, dirB); head != headB {
		t.Fatalf("run on B wrote to its log before refusing: head %d, was %d", head, headB)
	}

	if r := run(t, env, "projections", "rebuild", "--data-dir", dirB); r.code != 0 {
		t.Fatalf("rebuild from B: %+v", r)
	}
	r = run(t, env, "projections", "status", "--data-dir", dirB)
	if want := "log " + idB.String() + ", checkpoint "; r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("status on B after its rebuild: %+v", r)
	}
	r = run(t, env, "projections", "status", "--data-dir", dirA)
	if r.code != 1 || !strings.Contains(r.stderr, "built from another event log") {
		t.Fatalf("status on A after a rebuild from B: %+v", r)
	}
}

// An older copy of the data dir restored under read models built from the
// newer one: their checkpoint is past the log's head. Status says so, run
// refuses; a rebuild from the older copy is what the message suggests.
func TestReadModelsAheadOfTheLogAreRefused(t *testing.T) {
	dir := makeLog(t, 2)
	backup := t.TempDir()
	if err := os.CopyFS(backup, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	s := openLog(t, dir)
	if err := projectionsbench.GenerateDialogs(t.Context(), s, 3, 2, 2, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	id, head := logInfo(t, dir)
	oldID, oldHead := logInfo(t, backup)
	if oldID != id || oldHead >= head {
		t.Fatalf("the backup is not an older copy of the log: %s@%d, %s@%d", oldID, oldHead, id, head)
	}
	env := map[string]string{"SALESBOT_POSTGRES_DSN": sinktest.NewSchema(t)}
	if r := run(t, env, "projections", "rebuild", "--data-dir", dir); r.code != 0 {
		t.Fatalf("rebuild: %+v", r)
	}
	r := run(t, env, "projections", "status", "--data-dir", backup)
	if r.code != 1 || !strings.Contains(r.stdout, "they do not match") {
		t.Fatalf("status on the backup: %+v", r)
	}
	for _, want := range []string{"ends at position", "older backup", "salesbot projections rebuild"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("status on the backup does not say %q: %q", want, r.stderr)
		}
	}
	r = run(t, env, "run", "--sandbox", "--data-dir", backup, "--for", "30s")
	if r.code != 1 || !strings.Contains(r.stderr, "older backup") {
		t.Fatalf("run on the backup: %+v", r)
	}
	if r := run(t, env, "projections", "rebuild", "--data-dir", backup); r.code != 0 {
		t.Fatalf("rebuild from the backup: %+v", r)
	}
	if r := run(t, env, "projections", "status", "--data-dir", backup); r.code != 0 || !strings.Contains(r.stdout, "lag 0 events") {
		t.Fatalf("status after rebuilding from the backup: %+v", r)
	}
}
