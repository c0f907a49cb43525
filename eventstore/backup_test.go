package eventstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// backupOf backs up s into a new directory under base and returns it.
func backupOf(t *testing.T, s *PebbleStore, base, name string) (string, BackupManifest) {
	t.Helper()
	dir := filepath.Join(base, name)
	m, err := s.Backup(t.Context(), dir)
	if err != nil {
		t.Fatalf("backup %s: %v", name, err)
	}
	return dir, m
}

// openRestored opens a restored data dir as salesbot's commands do and
// verifies it; the store is closed at the end of the test.
func openRestored(t *testing.T, dir, anchor string) (*PebbleStore, VerifyReport) {
	t.Helper()
	s, err := OpenDir(t.Context(), dir, DirOptions{Options: Options{MasterKey: key32(), AnchorFile: anchor}})
	if err != nil {
		t.Fatalf("open the restored %s: %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	rep, err := s.Verify(t.Context(), nil)
	if err != nil {
		t.Fatalf("verify the restored %s: %v", dir, err)
	}
	return s, rep
}

func mustNotExist(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s exists (%v)", path, err)
	}
	// Nor any partial sibling.
	if left, _ := filepath.Glob(path + ".partial-*"); len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
}

// The test: a backup taken while writers append, restored into a
// new data dir, opens and verifies with its anchor, holds the head the
// manifest names, every event up to it byte for byte as the source does,
// the source's secrets and its forgotten subject; the source goes on
// growing. No file of the backup is shared with the data dir.
func TestBackupWhileAppending(t *testing.T) {
	base := t.TempDir()
	anchor := filepath.Join(base, "keys", "anchor.json")
	os.MkdirAll(filepath.Dir(anchor), 0o700)
	src, err := openAnchored(t, filepath.Join(base, "data"), anchor, func(o *Options) { o.SignInterval = time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := src.PutSecret(ctx, "telegram/session", []byte("session bytes")); err != nil {
		t.Fatal(err)
	}
	appendN(t, src, "dialog-gone", 3)
	if _, err := src.Append(ctx, "dialog-gone", Any, Event{Type: "E", Subject: "c2", Personal: map[string]string{"text": "forget me"}}); err != nil {
		t.Fatal(err)
	}
	if err := src.Forget(ctx, "c2"); err != nil {
		t.Fatal(err)
	}

	const writers = 6
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var appended atomic.Int64
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ev := Event{Type: "E", Payload: fmt.Appendf(nil, "w%d %d", w, i), Subject: "c1", Personal: map[string]string{"text": "hello"}}
				if _, err := src.Append(ctx, fmt.Sprintf("dialog-%d", w), Any, ev); err != nil {
					t.Error(err)
					return
				}
				appended.Add(1)
			}
		})
	}
	defer func() { close(stop); wg.Wait() }()
	waitHead := func(pos uint64) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		for src.Head() < pos {
			if _, err := src.WaitHead(wctx, src.Head()); err != nil {
				t.Fatalf("the source's head stays at %d, want %d: %v", src.Head(), pos, err)
			}
		}
	}
	waitHead(300)
	bdir, m := backupOf(t, src, base, "backup")
	if m.Head.Position < 300 || m.LogID != src.LogID() || !m.Head.Check(src.m.pub) {
		t.Fatalf("manifest: %+v", m)
	}
	waitHead(m.Head.Position + 200) // the source goes on
	if m2, err := ReadBackupManifest(bdir); err != nil || !reflect.DeepEqual(m2, m) {
		t.Fatalf("manifest read back: %v\n%+v\n%+v", err, m2, m)
	}

	// A copy, not hard links into the data dir; owner-only modes.
	if fi, err := os.Stat(bdir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("backup dir: %v %v", fi.Mode(), err)
	}
	for _, f := range append(m.Files, BackupFile{Path: backupManifestName}) {
		fi, err := os.Stat(filepath.Join(bdir, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 || fi.Sys().(*syscall.Stat_t).Nlink != 1 {
			t.Fatalf("%s: mode %v, %d links", f.Path, fi.Mode(), fi.Sys().(*syscall.Stat_t).Nlink)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(base, "data", backupStagePrefix+"*")); len(left) > 0 {
		t.Fatalf("staging left in the data dir: %v", left)
	}

	// Verifying reads only: not a byte (nor a LOCK file) changes.
	before := hashFiles(t, bdir)
	_, vrep, err := VerifyBackup(ctx, bdir, key32(), nil)
	if err != nil || vrep.Events != m.Head.Position || vrep.HeadHash != m.Head.Hash {
		t.Fatalf("verify backup: %+v %v", vrep, err)
	}
	if after := hashFiles(t, bdir); !reflect.DeepEqual(before, after) {
		t.Fatalf("VerifyBackup changed the backup: %d files before, %d after", len(before), len(after))
	}

	to, anchor2 := filepath.Join(base, "restored"), filepath.Join(base, "keys2", "anchor.json")
	rep, err := Restore(ctx, bdir, to, RestoreOptions{MasterKey: key32(), AnchorFile: anchor2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Anchor != AnchorWritten || rep.Manifest.Head.Position != m.Head.Position {
		t.Fatalf("restore report: %+v", rep)
	}
	if a, found, err := LoadAnchor(anchor2); err != nil || !found || a.Position != m.Head.Position || a.Hash != m.Head.Hash {
		t.Fatalf("the restored anchor: %v %v %v", a, found, err)
	}
	if after := hashFiles(t, bdir); !reflect.DeepEqual(before, after) {
		t.Fatal("Restore changed the backup")
	}
	got, grep := openRestored(t, to, anchor2)
	if got.Head() != m.Head.Position || grep.Events != m.Head.Position || grep.HeadHash != m.Head.Hash {
		t.Fatalf("restored head %d (verify %d %x), manifest %s", got.Head(), grep.Events, grep.HeadHash, m.Head)
	}
	for pos := uint64(1); pos <= m.Head.Position; pos++ {
		a, b := get(t, src.db, eventKey(pos)), get(t, got.db, eventKey(pos))
		if !bytes.Equal(a, b) {
			t.Fatalf("position %d differs", pos)
		}
	}
	want, err := src.ReadAll(ctx, 1, int(m.Head.Position))
	if err != nil {
		t.Fatal(err)
	}
	have, err := got.ReadAll(ctx, 1, int(m.Head.Position)+10)
	if err != nil || !reflect.DeepEqual(have, want) {
		t.Fatalf("ReadAll of the restored log: %d events (%v), want %d equal", len(have), err, len(want))
	}
	if v, err := got.Secret(ctx, "telegram/session"); err != nil || string(v) != "session bytes" {
		t.Fatalf("secret after restore: %q %v", v, err)
	}
	gone, err := got.ReadStream(ctx, "dialog-gone", 4)
	if err != nil || len(gone) != 1 || !gone[0].Forgotten || gone[0].Personal["text"] != ForgottenMarker {
		t.Fatalf("forgotten subject after restore: %+v %v", gone, err)
	}
	if _, err := got.Append(ctx, "dialog-new", NoStream, Event{Type: "E"}); err != nil {
		t.Fatalf("append to the restored log: %v", err)
	}
	close(stop)
	wg.Wait()
	stop = make(chan struct{})
	if src.Head() <= m.Head.Position || appended.Load() == 0 {
		t.Fatalf("the source did not grow past the backup: head %d, backup %d", src.Head(), m.Head.Position)
	}
	if _, err := src.Verify(ctx, nil); err != nil {
		t.Fatalf("the source after the backup: %v", err)
	}
}

// A read-only store (the data dir of a stopped server, opened for a
// backup) is backed up without a byte written to its data dir.
func TestBackupOfReadOnlyStore(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	fill(t, data, 25)
	before := hashFiles(t, data)
	s, err := Open(data, Options{MasterKey: key32(), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bdir, m := backupOf(t, s, base, "backup")
	if m.Head.Position != 25 {
		t.Fatalf("head %d, want 25", m.Head.Position)
	}
	s.Close()
	if after := hashFiles(t, data); !reflect.DeepEqual(before, after) {
		t.Fatal("a backup of a read-only store wrote to its data dir")
	}
	if _, _, err := VerifyBackup(t.Context(), bdir, key32(), nil); err != nil {
		t.Fatal(err)
	}
}

// smallBackup fills a log of n events, backs it up while it is open and
// returns the backup (the store is closed).
func smallBackup(t *testing.T, base string, n int) (string, BackupManifest) {
	t.Helper()
	s, err := Open(filepath.Join(base, "data"), Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendN(t, s, "dialog-1", n)
	if err := s.PutSecret(t.Context(), "s", []byte("v")); err != nil {
		t.Fatal(err)
	}
	return backupOf(t, s, base, "backup")
}

// rewriteManifest edits manifest.json as JSON.
func rewriteManifest(t *testing.T, dir string, edit func(j *manifestJSON)) {
	t.Helper()
	p := filepath.Join(dir, backupManifestName)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var j manifestJSON
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	edit(&j)
	if b, err = json.Marshal(j); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// relist makes the manifest's file list match the files again (as one
// who altered them would).
func relist(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, backupLogDir))
	if err != nil {
		t.Fatal(err)
	}
	rewriteManifest(t, dir, func(j *manifestJSON) {
		j.Files, j.Bytes = nil, 0
		for _, e := range entries {
			if e.Name() == "LOCK" {
				continue
			}
			p := filepath.Join(dir, backupLogDir, e.Name())
			sum, err := hashFile(t.Context(), p)
			fi, serr := os.Stat(p)
			if err != nil || serr != nil {
				t.Fatal(err, serr)
			}
			j.Files = append(j.Files, fileJSON{Path: backupLogDir + "/" + e.Name(), Size: uint64(fi.Size()), SHA256: fmt.Sprintf("%x", sum)})
			j.Bytes += uint64(fi.Size())
		}
	})
}

// largestFile is the backup's largest log file, relative to dir.
func largestFile(t *testing.T, m BackupManifest, prefix string) string {
	t.Helper()
	files := slices.Clone(m.Files)
	sort.Slice(files, func(i, k int) bool { return files[i].Size > files[k].Size })
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f.Path), prefix) || prefix == "" {
			return f.Path
		}
	}
	t.Fatalf("no file %s* in %v", prefix, m.Files)
	return ""
}

// A damaged backup (a file altered, truncated, missing or added; the
// manifest altered or missing; the log rewritten with valid checksums and
// the manifest made to match) is refused by VerifyBackup and by Restore,
// which then makes neither the data dir nor the anchor.
func TestDamagedBackupIsRefused(t *testing.T) {
	base := t.TempDir()
	good, m := smallBackup(t, base, 40)
	wal := largestFile(t, m, "")
	cases := []struct {
		name   string
		damage func(dir string)
		file   string // the file the error names; "" any
		is     []error
	}{
		{"byte flipped", func(dir string) {
			p := filepath.Join(dir, wal)
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0x20
			os.WriteFile(p, b, 0o600)
		}, wal, []error{ErrBackupDamaged}},
		{"truncated", func(dir string) {
			os.Truncate(filepath.Join(dir, wal), 10)
		}, wal, []error{ErrBackupDamaged}},
		{"missing", func(dir string) {
			os.Remove(filepath.Join(dir, wal))
		}, wal, []error{ErrBackupDamaged}},
		{"file added", func(dir string) {
			os.WriteFile(filepath.Join(dir, backupLogDir, "000999.log"), []byte("x"), 0o600)
		}, backupLogDir + "/000999.log", []error{ErrBackupDamaged}},
		{"manifest missing (interrupted backup)", func(dir string) {
			os.Remove(filepath.Join(dir, backupManifestName))
		}, backupManifestName, []error{ErrBackupDamaged}},
		{"manifest position edited", func(dir string) {
			rewriteManifest(t, dir, func(j *manifestJSON) { j.Position--; j.SignedHead.Position-- })
		}, backupManifestName, []error{ErrBackupDamaged}},
		{"manifest names a path outside", func(dir string) {
			rewriteManifest(t, dir, func(j *manifestJSON) { j.Files[0].Path = "log/../../x" })
		}, backupManifestName, []error{ErrBackupDamaged}},
		{"log rewritten with a matching manifest", func(dir string) {
			rawEdit(t, filepath.Join(dir, backupLogDir), func(db *pebble.DB) {
				v := get(t, db, eventKey(7))
				v[len(v)-40] ^= 1
				set(t, db, eventKey(7), v)
			})
			relist(t, dir)
		}, backupLogDir, []error{ErrBackupDamaged, ErrTampered}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(base, fmt.Sprint("bad", i))
			os.Mkdir(dir, 0o700)
			copyDir(t, good, dir)
			c.damage(dir)
			_, _, err := VerifyBackup(t.Context(), dir, key32(), nil)
			var be *BackupError
			if !errors.As(err, &be) || (c.file != "" && be.File != c.file) {
				t.Fatalf("verify: %v (want a *BackupError naming %s)", err, c.file)
			}
			for _, want := range c.is {
				if !errors.Is(err, want) {
					t.Fatalf("verify: %v does not match %v", err, want)
				}
			}
			to, anchor := filepath.Join(base, fmt.Sprint("to", i)), filepath.Join(base, fmt.Sprint("anchor", i), "anchor.json")
			if _, err := Restore(t.Context(), dir, to, RestoreOptions{MasterKey: key32(), AnchorFile: anchor}); !errors.Is(err, c.is[0]) {
				t.Fatalf("restore: %v", err)
			}
			mustNotExist(t, to)
			mustNotExist(t, anchor)
		})
	}
	if _, _, err := VerifyBackup(t.Context(), good, key32(), nil); err != nil {
		t.Fatalf("the untouched backup: %v", err)
	}
	if _, err := ReadBackupManifest(filepath.Join(base, "nothing")); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrBackupDamaged) {
		t.Fatalf("no backup at all: %v", err)
	}
}

// A backup of a log with another master key is told apart from damage.
func TestBackupOfAnotherMasterKey(t *testing.T) {
	base := t.TempDir()
	bdir, _ := smallBackup(t, base, 5)
	other := bytes.Repeat([]byte{9}, MasterKeySize)
	_, _, err := VerifyBackup(t.Context(), bdir, other, nil)
	if !errors.Is(err, ErrBackupKey) || errors.Is(err, ErrBackupDamaged) {
		t.Fatalf("verify with another key: %v", err)
	}
	to := filepath.Join(base, "to")
	if _, err := Restore(t.Context(), bdir, to, RestoreOptions{MasterKey: other}); !errors.Is(err, ErrBackupKey) {
		t.Fatalf("restore with another key: %v", err)
	}
	mustNotExist(t, to)
}

// Restore moves the anchor as the rules say: written when there is none,
// forward when it is behind the backup, back (old one kept, positions
// lost reported) when the backup is older, unchanged when equal; refused
// when the backup diverges from it or it is another log's, unless
// ReplaceAnchor for the latter.
func TestRestoreMovesTheAnchor(t *testing.T) {
	base := t.TempDir()
	ctx := t.Context()
	anchor := filepath.Join(base, "keys", "anchor.json")
	os.MkdirAll(filepath.Dir(anchor), 0o700)
	s, err := Open(filepath.Join(base, "data"), Options{MasterKey: key32(), AnchorFile: anchor})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "dialog-1", 10)
	b10, _ := backupOf(t, s, base, "b10")
	appendN(t, s, "dialog-1", 10)
	b20, m20 := backupOf(t, s, base, "b20")
	appendN(t, s, "dialog-1", 5)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if a, _, _ := LoadAnchor(anchor); a.Position != 25 {
		t.Fatalf("the live anchor is at %d, want 25", a.Position)
	}
	restore := func(from, to, anchor string, replace bool) (RestoreReport, error) {
		t.Helper()
		return Restore(ctx, from, filepath.Join(base, to), RestoreOptions{MasterKey: key32(), AnchorFile: anchor, ReplaceAnchor: replace,
			Now: func() time.Time { return time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC) }})
	}
	anchorAt := func(path string) uint64 {
		t.Helper()
		a, found, err := LoadAnchor(path)
		if err != nil || !found {
			t.Fatalf("anchor %s: %v %v", path, found, err)
		}
		return a.Position
	}

	// None, then behind: written at 10, moved forward to 20.
	fresh := filepath.Join(base, "fresh", "anchor.json")
	if rep, err := restore(b10, "r-none", fresh, false); err != nil || rep.Anchor != AnchorWritten || anchorAt(fresh) != 10 {
		t.Fatalf("no anchor: %+v %v", rep, err)
	}
	openRestored(t, filepath.Join(base, "r-none"), fresh)
	if rep, err := restore(b20, "r-behind", fresh, false); err != nil || rep.Anchor != AnchorForward || anchorAt(fresh) != 20 || rep.Before.Position != 10 {
		t.Fatalf("anchor behind: %+v %v", rep, err)
	}
	openRestored(t, filepath.Join(base, "r-behind"), fresh)

	// Ahead: the live anchor (25) moved back to 20, the old one kept.
	rep, err := restore(b20, "r-ahead", anchor, false)
	if err != nil || rep.Anchor != AnchorBack || rep.Lost != 5 || anchorAt(anchor) != 20 {
		t.Fatalf("anchor ahead: %+v %v", rep, err)
	}
	if want := anchor + ".before-restore-20261202T100000Z"; rep.KeptAnchor != want || anchorAt(want) != 25 {
		t.Fatalf("kept anchor %q (want %s at 25)", rep.KeptAnchor, want)
	}
	openRestored(t, filepath.Join(base, "r-ahead"), anchor)
	if rep, err := restore(b20, "r-same", anchor, false); err != nil || rep.Anchor != AnchorUnchanged || rep.KeptAnchor != "" {
		t.Fatalf("anchor at the backup's head: %+v %v", rep, err)
	}

	// Another log's anchor: refused, or replaced when asked.
	other := filepath.Join(base, "other", "anchor.json")
	os.MkdirAll(filepath.Dir(other), 0o700)
	o, err := Open(filepath.Join(base, "other-data"), Options{MasterKey: key32(), AnchorFile: other})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, o, "dialog-x", 3)
	o.Close()
	otherBefore, _ := os.ReadFile(other)
	if _, err := restore(b20, "r-other", other, false); !errors.Is(err, ErrRestoreAnchor) {
		t.Fatalf("another log's anchor: %v", err)
	}
	mustNotExist(t, filepath.Join(base, "r-other"))
	if now, _ := os.ReadFile(other); !bytes.Equal(now, otherBefore) {
		t.Fatal("a refused restore changed the anchor")
	}
	rep, err = restore(b20, "r-other", other, true)
	if err != nil || rep.Anchor != AnchorReplaced || anchorAt(other) != 20 {
		t.Fatalf("another log's anchor, replaced: %+v %v", rep, err)
	}
	if kept, _ := os.ReadFile(rep.KeptAnchor); !bytes.Equal(kept, otherBefore) {
		t.Fatal("the replaced anchor was not kept")
	}
	openRestored(t, filepath.Join(base, "r-other"), other)

	// Diverged: two copies of the log at 20 go on differently; the anchor
	// of one refuses a backup of the other.
	copyA, copyB := filepath.Join(base, "copy-a"), filepath.Join(base, "copy-b")
	for _, c := range []string{copyA, copyB} {
		if _, err := Restore(ctx, b20, c, RestoreOptions{MasterKey: key32()}); err != nil {
			t.Fatal(err)
		}
	}
	anchorA := filepath.Join(base, "anchor-a", "anchor.json")
	os.MkdirAll(filepath.Dir(anchorA), 0o700)
	a, err := Open(copyA, Options{MasterKey: key32(), AnchorFile: anchorA})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, a, "dialog-a", 3)
	a.Close()
	b, err := Open(copyB, Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, b, "dialog-b", 4)
	bb, _ := backupOf(t, b, base, "b-diverged")
	b.Close()
	_, err = restore(bb, "r-diverged", anchorA, false)
	var ae *RestoreAnchorError
	if !errors.As(err, &ae) || ae.Anchor.Position != 23 || ae.Backup.Position != 24 {
		t.Fatalf("a diverging backup: %v", err)
	}
	if _, err := restore(bb, "r-diverged", anchorA, true); !errors.Is(err, ErrRestoreAnchor) {
		t.Fatalf("ReplaceAnchor let a diverging backup through: %v", err)
	}
	mustNotExist(t, filepath.Join(base, "r-diverged"))
	if m20.Head.Position != 20 {
		t.Fatalf("b20's head %d", m20.Head.Position)
	}
}

// Backup and Restore make a new directory or fill an empty one (a mount
// point); they refuse one that holds anything, and touch nothing in it.
func TestBackupAndRestoreWantEmptyDirs(t *testing.T) {
	base := t.TempDir()
	s, err := Open(filepath.Join(base, "data"), Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendN(t, s, "dialog-1", 5)
	full := filepath.Join(base, "full")
	os.MkdirAll(full, 0o700)
	os.WriteFile(filepath.Join(full, "keep"), []byte("mine"), 0o600)
	if _, err := s.Backup(t.Context(), full); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("backup into a non-empty dir: %v", err)
	}
	if entries, _ := os.ReadDir(full); len(entries) != 1 {
		t.Fatalf("backup touched a non-empty dir: %v", entries)
	}
	empty := filepath.Join(base, "mnt")
	os.MkdirAll(empty, 0o755)
	m, err := s.Backup(t.Context(), empty)
	if err != nil {
		t.Fatalf("backup into an empty dir: %v", err)
	}
	entries, _ := os.ReadDir(empty)
	if len(entries) != 2 || m.Head.Position != 5 {
		t.Fatalf("backup in an empty dir holds %v", entries)
	}
	if _, _, err := VerifyBackup(t.Context(), empty, key32(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(t.Context(), empty, full, RestoreOptions{MasterKey: key32()}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("restore into a non-empty dir: %v", err)
	}
	// Restore with a key file: the anchor goes next to it, as OpenDir has it.
	keys := filepath.Join(base, "keys")
	os.MkdirAll(keys, 0o700)
	keyFile := filepath.Join(keys, "master.key")
	if err := os.WriteFile(keyFile, key32(), 0o600); err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(base, "to")
	os.MkdirAll(to, 0o755)
	rep, err := Restore(t.Context(), empty, to, RestoreOptions{KeyFile: keyFile})
	if err != nil || rep.AnchorFile != filepath.Join(keys, "anchor.json") || rep.Anchor != AnchorWritten {
		t.Fatalf("restore into an empty dir: %+v %v", rep, err)
	}
	if fi, _ := os.Stat(to); fi.Mode().Perm() != 0o700 {
		t.Fatalf("restored data dir mode %v", fi.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(to, "*.partial-*")); len(left) > 0 {
		t.Fatalf("left in the restored dir: %v", left)
	}
	r, err := OpenDir(t.Context(), to, DirOptions{KeyFile: keyFile})
	if err != nil {
		t.Fatalf("OpenDir the restored dir: %v", err)
	}
	defer r.Close()
	if rep, err := r.Verify(t.Context(), nil); err != nil || rep.Events != 5 || rep.Anchor == nil {
		t.Fatalf("verify the restored dir: %+v %v", rep, err)
	}
}

// A backup that cannot finish leaves neither the backup, nor a partial
// one, nor the checkpoint it staged in the data dir; one that cannot
// start says why.
func TestBackupFailsCleanly(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	s, err := Open(data, Options{MasterKey: key32()})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "dialog-1", 5)
	// A stale staging directory of a crashed backup is cleared too.
	stale := filepath.Join(data, backupStagePrefix+"crashed")
	os.Mkdir(stale, 0o700)
	os.WriteFile(filepath.Join(stale, "000001.sst"), []byte("x"), 0o600)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	dir := filepath.Join(base, "backup")
	if _, err := s.Backup(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Fatalf("backup with an ended context: %v", err)
	}
	mustNotExist(t, dir)
	if _, err := s.Backup(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(data, backupStagePrefix+"*")); len(left) > 0 {
		t.Fatalf("staging left in the data dir: %v", left)
	}
	s.Close()
	if _, err := s.Backup(t.Context(), filepath.Join(base, "after-close")); !errors.Is(err, ErrClosed) {
		t.Fatalf("backup of a closed store: %v", err)
	}
	mustNotExist(t, filepath.Join(base, "after-close"))
	pub, err := Open(data, Options{PublicKey: s.m.pub, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if _, err := pub.Backup(t.Context(), filepath.Join(base, "pub")); !errors.Is(err, ErrNoMasterKey) {
		t.Fatalf("backup with the public key alone: %v", err)
	}
}
