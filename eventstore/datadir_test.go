package eventstore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// dirOpts are the DirOptions of a writable data dir with its key and
// anchor next to it, as the CLI opens it.
func dirOpts(base string, create bool) DirOptions {
	return DirOptions{
		KeyFile: filepath.Join(base, "keys", "master.key"),
		Create:  create,
		Options: Options{AnchorFile: filepath.Join(base, "keys", "anchor.json"), MinFreeBytes: -1},
	}
}

func TestOpenDirCreatesWhatIsAbsent(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "new", "data")
	var created []string
	opts := dirOpts(base, true)
	opts.KeyCreated = func(path string) { created = append(created, path) }
	s, err := OpenDir(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir: %v, %v; want mode 0700", fi.Mode(), err)
	}
	if fi, err := os.Stat(opts.KeyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master key: %v, %v; want mode 0600", fi.Mode(), err)
	}
	if len(created) != 1 || created[0] != opts.KeyFile {
		t.Fatalf("KeyCreated was told %q, want once %s", created, opts.KeyFile)
	}
	// Opened again, the key is found, not made.
	s, err = OpenDir(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if len(created) != 1 {
		t.Fatalf("KeyCreated called again: %q", created)
	}
}

func TestOpenDirWantsWhatMustExist(t *testing.T) {
	base := t.TempDir()
	missing := filepath.Join(base, "none")
	var nl *NoLogError
	_, err := OpenDir(t.Context(), missing, dirOpts(base, false))
	if !errors.As(err, &nl) || !errors.Is(err, ErrNoLog) || err.Error() != "no event log in "+missing {
		t.Fatalf("a missing data dir: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("OpenDir made a data dir it was not to create")
	}
	// The dir is there, the key is not.
	empty := filepath.Join(base, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	opts := dirOpts(base, false)
	var km *KeyMissingError
	if _, err := OpenDir(t.Context(), empty, opts); !errors.As(err, &km) || !errors.Is(err, fs.ErrNotExist) || km.Path != opts.KeyFile {
		t.Fatalf("a missing key: %v", err)
	}
	if _, err := os.Stat(opts.KeyFile); err == nil {
		t.Fatal("OpenDir made a key it was not to create")
	}
	// Key and dir are there, the log is not (Open's ErrNoLog).
	if _, _, err := LoadOrCreateMasterKey(opts.KeyFile); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDir(t.Context(), empty, opts); !errors.As(err, &nl) || nl.Dir != empty {
		t.Fatalf("a data dir without a log: %v", err)
	}
}

func TestLoadMasterKeyRefusesAnOpenMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	if _, created, err := LoadMasterKey(path, true); err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o602} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		var me *KeyModeError
		_, _, err := LoadMasterKey(path, false)
		if !errors.As(err, &me) || me.Perm != mode || !strings.Contains(err.Error(), "are too open") || !strings.HasSuffix(err.Error(), "chmod 600 "+path) {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if key, created, err := LoadMasterKey(path, false); err != nil || created || len(key) != MasterKeySize {
			t.Errorf("mode %04o: %d bytes, created %v, %v", mode, len(key), created, err)
		}
	}
}

func TestOpenDirInUse(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "data")
	s, err := OpenDir(t.Context(), dir, dirOpts(base, true))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var le *LockedError
	_, err = OpenDir(t.Context(), dir, dirOpts(base, false))
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) || le.Dir != dir || !strings.HasPrefix(err.Error(), dir+" is in use by another salesbot process: ") {
		t.Fatalf("a log in use: %v", err)
	}
}

func TestOpenDirWantsAWritableAnchor(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := dirOpts(base, true)
	opts.AnchorFile = filepath.Join(file, "anchor.json") // under a file
	var ae *AnchorWriteError
	if _, err := OpenDir(t.Context(), filepath.Join(base, "data"), opts); !errors.As(err, &ae) || ae.File != opts.AnchorFile {
		t.Fatalf("an anchor under a file: %v", err)
	}
}

// lockGate is a filesystem whose Lock waits for open to close: an open
// that hangs.
type lockGate struct {
	vfs.FS
	open chan struct{}
}

func (g lockGate) Lock(name string) (io.Closer, error) {
	<-g.open
	return g.FS.Lock(name)
}

// A hung open gives way to ctx; the store it opens later is closed, so
// the log can be opened again.
func TestOpenDirGivesWayToItsContext(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "data")
	gate := lockGate{FS: vfs.Default, open: make(chan struct{})}
	opts := dirOpts(base, true)
	opts.FS = gate
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := OpenDir(ctx, dir, opts); !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "open the event log in "+dir+": ") {
		t.Fatalf("a hung open: %v", err)
	}
	close(gate.open)
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := OpenDir(t.Context(), dir, dirOpts(base, false))
		if err == nil {
			s.Close()
			return
		}
		if !errors.Is(err, ErrLocked) || time.Now().After(deadline) {
			t.Fatalf("the abandoned open kept the log: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeyInDataDir(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	link := filepath.Join(base, "link") // a symlink to the data dir
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(data, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, dir, key string
		in             bool
	}{
		{"in it", data, filepath.Join(data, "master.key"), true},
		{"below it, not yet made", data, filepath.Join(data, "keys", "master.key"), true},
		{"the dir itself", data, data, true},
		{"through a symlink", data, filepath.Join(link, "master.key"), true},
		{"data dir via symlink", link, filepath.Join(data, "master.key"), true},
		{"a relative path", data, filepath.Join(data, "..", "data", "master.key"), true},
		{"beside it, named like it", data, data + "-master.key", false},
		{"in its parent", data, filepath.Join(base, "master.key"), false},
		{"a relative path out", data, filepath.Join(data, "..", "master.key"), false},
	} {
		if in, err := KeyInDataDir(c.dir, c.key); err != nil || in != c.in {
			t.Errorf("%s: %v, %v; want %v", c.name, in, err, c.in)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"64MiB": 64 << 20, "1GiB": 1 << 30, "512KB": 512e3, "1048576": 1 << 20, " 2 g ": 2 << 30,
		"0": 0, "1.5KiB": 1536, "10B": 10, "3TB": 3e12,
	} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "lots", "-1MiB", "1XB", "10000000TiB"} {
		if got, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", in, got)
		}
	}
}

// The anchor is kept next to the master key unless given; an auditor's
// (no key file) is never guessed.
func TestDirOptionsAnchor(t *testing.T) {
	base := t.TempDir()
	opts := DirOptions{KeyFile: filepath.Join(base, "keys", "master.key"), Create: true, Options: Options{MinFreeBytes: -1}}
	if got := opts.Anchor(); got != filepath.Join(base, "keys", "anchor.json") {
		t.Fatalf("default anchor %q", got)
	}
	s, err := OpenDir(t.Context(), filepath.Join(base, "data"), opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, found, err := LoadAnchor(opts.Anchor()); !found || err != nil {
		t.Fatalf("no anchor next to the key: %v %v", found, err)
	}
	given := DirOptions{KeyFile: opts.KeyFile, Options: Options{AnchorFile: filepath.Join(base, "elsewhere.json")}}
	if got := given.Anchor(); got != given.AnchorFile {
		t.Errorf("a given anchor: %q", got)
	}
	if got := (DirOptions{Options: Options{PublicKey: make([]byte, 32)}}).Anchor(); got != "" {
		t.Errorf("an auditor's anchor guessed: %q", got)
	}
}
