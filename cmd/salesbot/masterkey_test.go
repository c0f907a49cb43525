package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// 'run' outside the sandbox wants the master key outside the data dir,
// however the path is spelled; the sandbox may keep it there.
func TestRunRefusesAKeyInTheDataDir(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	link := filepath.Join(base, "link") // a symlink to the data dir
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(data, link); err != nil {
		t.Fatal(err)
	}
	tg := []string{"--tg-app-id", "1", "--tg-app-hash", "h", "--for", "1s"}
	for name, args := range map[string][]string{
		"the default":           {"--data-dir", data},
		"named in the data dir": {"--data-dir", data, "--master-key-file", filepath.Join(data, "keys", "master.key")},
		"through a symlink":     {"--data-dir", data, "--master-key-file", filepath.Join(link, "master.key")},
		"data dir via symlink":  {"--data-dir", link, "--master-key-file", filepath.Join(data, "master.key")},
		"a relative path":       {"--data-dir", data, "--master-key-file", filepath.Join(data, "..", "data", "master.key")},
	} {
		r := run(t, nil, append(append([]string{"run"}, args...), tg...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "inside the data dir") || !strings.Contains(r.stderr, "/etc/salesbot/master.key") ||
			!strings.Contains(r.stderr, "--master-key-file") || !strings.Contains(r.stderr, `systemd credential "master-key"`) {
			t.Errorf("%s: %+v", name, r)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "master.key")); err == nil {
		t.Fatal("a refused run created the key in the data dir")
	}
	// Outside the data dir (next to it, with a name starting like it) is fine.
	r := run(t, nil, append([]string{"run", "--data-dir", data, "--master-key-file", data + "-master.key"}, tg...)...)
	if r.code != 0 {
		t.Fatalf("key outside the data dir: %+v", r)
	}
	// 'run --sandbox' keeps its key in the data dir: TestRunSandbox.
}

// A master key its group or others may read or write is refused by every
// command that loads it; the data dir the CLI creates is 0700.
func TestKeyPermissionsAndDataDirMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	if r := run(t, nil, "bench", "append", "--events", "5", "--concurrency", "1", "--data-dir", dir); r.code != 0 {
		t.Fatalf("bench append: %+v", r)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir %s: %v %v, want mode 0700", dir, fi.Mode(), err)
	}
	key := filepath.Join(dir, "master.key")
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o602} {
		if err := os.Chmod(key, mode); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"verify"}, {"replay", "dialog", "1"}, {"projections", "status"}, {"accounts", "list"}, {"chat", "--record"}} {
			r := runIn(t, nil, "/quit\n", append(args, "--data-dir", dir)...)
			want := "permissions " + octal(mode) + " for master key " + key + " are too open"
			if r.code == 0 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "chmod 600 "+key) {
				t.Errorf("%v with a %s key: %+v", args, octal(mode), r)
			}
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		if err := os.Chmod(key, mode); err != nil {
			t.Fatal(err)
		}
		if r := run(t, nil, "verify", "--data-dir", dir); r.code != 0 {
			t.Errorf("verify with a %s key: %+v", octal(mode), r)
		}
	}
}

func octal(m os.FileMode) string {
	const digits = "01234567"
	p := m.Perm()
	return string([]byte{'0', digits[p>>6&7], digits[p>>3&7], digits[p&7]})
}
