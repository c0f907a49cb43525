package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// checkKeyMode refuses a master key file that its group or others may
// read or write, as ssh refuses such a private key. A missing file is
// fine (it is created 0600).
func checkKeyMode(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("permissions %04o for master key %s are too open: it must be readable by its owner only; chmod 600 %s", perm, path, path)
	}
	return nil
}

// checkKeyOutsideDataDir refuses a master key inside the data dir (after
// resolving relative paths and symlinks): a copy of the directory would
// carry everything needed to read it and forge the log.
func (c *config) checkKeyOutsideDataDir() error {
	key := c.keyFile()
	in, err := within(c.DataDir, key)
	if err != nil {
		return err
	}
	if !in {
		return nil
	}
	return usagef("the master key %s is inside the data dir %s, so a copy of the directory gives away every session and all personal data: "+
		"move it out (e.g. to /etc/salesbot/master.key, mode 0600, owned by the salesbot user) and give --master-key-file (SALESBOT_MASTER_KEY_FILE), "+
		"or load it as the systemd credential %q (docs/operations.md)", key, c.DataDir, masterKeyCredential)
}

// within says whether path is dir or lies under it, comparing absolute
// paths with symlinks resolved as far as they exist.
func within(dir, path string) (bool, error) {
	d, err := realPath(dir)
	if err != nil {
		return false, err
	}
	p, err := realPath(path)
	if err != nil {
		return false, err
	}
	rel, err := filepath.Rel(d, p)
	if err != nil {
		return false, nil // different volumes
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)), nil
}

// realPath is path made absolute, with the symlinks of its longest
// existing prefix resolved (the rest may not exist yet).
func realPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rest := ""
	for cur := abs; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}
