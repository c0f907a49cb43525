package eventstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DirOptions say how OpenDir opens the log of a data dir.
type DirOptions struct {
	// Options are Open's. OpenDir sets MasterKey (from KeyFile),
	// MustExist (unless Create) and an empty AnchorFile (Anchor); the rest
	// is passed on as given.
	Options
	// KeyFile is the master key file OpenDir loads with LoadMasterKey.
	// Empty: Options.PublicKey opens the log (an auditor's verify).
	KeyFile string
	// Create makes what is absent: the data dir (mode 0700), the master
	// key and the log. Without it each must exist.
	Create bool
	// KeyCreated, if set, is called with KeyFile when OpenDir wrote a new
	// master key there (whoever runs salesbot must keep a copy).
	KeyCreated func(path string)
}

// Anchor is the anchor file OpenDir uses: AnchorFile, else anchor.json
// next to KeyFile. Without a key file (an auditor's public key) an anchor
// is given, never guessed: empty means none.
func (o DirOptions) Anchor() string {
	if o.AnchorFile != "" || o.KeyFile == "" {
		return o.AnchorFile
	}
	return filepath.Join(filepath.Dir(o.KeyFile), "anchor.json")
}

// OpenDir opens the log of the data dir dir as salesbot's commands do, in
// this order:
//
//   - the data dir must exist (else a *NoLogError), or with Create is made
//     with mode 0700;
//   - the master key is loaded from KeyFile (LoadMasterKey: a *KeyModeError
//     or *KeyMissingError);
//   - a writable store needs its anchor file writable (an
//     *AnchorWriteError), so that the first signed head does not fail;
//   - then Open, whose wait ends with ctx: Pebble may take long to open a
//     log on a failing disk. The open is then left behind and its store
//     closed should it ever finish; the error wraps ctx.Err().
//
// Open's ErrNoLog becomes a *NoLogError, ErrLocked a *LockedError; other
// errors are Open's (an *AnchorError, a *DiskFullError, ...). The errors
// OpenDir makes itself are phrased for the operator, without a package
// prefix.
func OpenDir(ctx context.Context, dir string, opts DirOptions) (*PebbleStore, error) {
	if opts.Create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create the data dir: %w", err)
		}
	} else if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, &NoLogError{Dir: dir}
	}
	o := opts.Options
	o.MustExist, o.AnchorFile = !opts.Create, opts.Anchor()
	if opts.KeyFile != "" {
		key, created, err := LoadMasterKey(opts.KeyFile, opts.Create)
		if err != nil {
			return nil, err
		}
		if created && opts.KeyCreated != nil {
			opts.KeyCreated(opts.KeyFile)
		}
		o.MasterKey = key
	}
	if !o.ReadOnly && o.AnchorFile != "" {
		if err := checkAnchorWritable(o.AnchorFile); err != nil {
			return nil, err
		}
	}
	s, err := openContext(ctx, dir, o)
	switch {
	case errors.Is(err, ErrNoLog):
		return nil, &NoLogError{Dir: dir}
	case errors.Is(err, ErrLocked):
		return nil, &LockedError{Dir: dir, Err: err}
	}
	return s, err
}

// openContext is Open, abandoned when ctx ends first.
func openContext(ctx context.Context, dir string, opts Options) (*PebbleStore, error) {
	type opened struct {
		s   *PebbleStore
		err error
	}
	done := make(chan opened, 1)
	go func() {
		s, err := Open(dir, opts)
		done <- opened{s, err}
	}()
	select {
	case o := <-done:
		return o.s, o.err
	case <-ctx.Done():
		go func() { // close it should the open ever finish
			if o := <-done; o.s != nil {
				o.s.Close()
			}
		}()
		return nil, fmt.Errorf("open the event log in %s: %w", dir, ctx.Err())
	}
}

// NoLogError: the data dir does not exist or holds no log, and OpenDir
// was not to create one. It matches ErrNoLog.
type NoLogError struct{ Dir string }

func (e *NoLogError) Error() string { return "no event log in " + e.Dir }

// Is makes errors.Is(err, ErrNoLog) true.
func (e *NoLogError) Is(target error) bool { return target == ErrNoLog }

// LockedError: another process (or another store of this one) has the
// data dir's log open. It wraps Open's error, which matches ErrLocked.
type LockedError struct {
	Dir string
	Err error
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s is in use by another salesbot process: %v", e.Dir, e.Err)
}

func (e *LockedError) Unwrap() error { return e.Err }

// LoadMasterKey loads the master key file at path (LoadOrCreateMasterKey),
// creating it if create is true and the file is absent; else an absent
// file is a *KeyMissingError. A file its group or others may read or
// write is refused with a *KeyModeError, as ssh refuses such a private
// key.
func LoadMasterKey(path string, create bool) (key []byte, created bool, err error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !create:
		return nil, false, &KeyMissingError{Path: path, Err: err}
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, false, fmt.Errorf("master key: %w", err)
	case fi.Mode().Perm()&0o077 != 0:
		return nil, false, &KeyModeError{Path: path, Perm: fi.Mode().Perm()}
	}
	return LoadOrCreateMasterKey(path)
}

// KeyMissingError: the master key file must exist (the log is not to be
// created) and does not. It wraps the error of looking for it.
type KeyMissingError struct {
	Path string
	Err  error
}

func (e *KeyMissingError) Error() string { return fmt.Sprintf("master key %s: %v", e.Path, e.Err) }
func (e *KeyMissingError) Unwrap() error { return e.Err }

// KeyModeError: the master key file's group or others may read or write
// it (Perm).
type KeyModeError struct {
	Path string
	Perm fs.FileMode
}

func (e *KeyModeError) Error() string {
	return fmt.Sprintf("permissions %04o for master key %s are too open: it must be readable by its owner only; chmod 600 %s", e.Perm, e.Path, e.Path)
}

// KeyInDataDir says whether the master key file keyFile is the data dir
// dir or lies under it, comparing absolute paths with symlinks resolved as
// far as they exist. A key there goes with every copy of the directory:
// all that is needed to read its personal data and forge the log.
func KeyInDataDir(dir, keyFile string) (bool, error) {
	d, err := realPath(dir)
	if err != nil {
		return false, err
	}
	p, err := realPath(keyFile)
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

// AnchorWriteError: the anchor file cannot be written where it is to be
// (its directory cannot be made, or holds no new file).
type AnchorWriteError struct {
	File  string
	Err   error
	mkdir bool // the directory could not be made
}

func (e *AnchorWriteError) Error() string {
	if e.mkdir {
		return fmt.Sprintf("anchor %s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("anchor %s cannot be written: %v", e.File, e.Err)
}

func (e *AnchorWriteError) Unwrap() error { return e.Err }

// checkAnchorWritable makes sure a file can be written next to the anchor
// file path (a read-only credentials directory, say, cannot).
func checkAnchorWritable(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &AnchorWriteError{File: path, Err: err, mkdir: true}
	}
	f, err := os.CreateTemp(dir, ".anchor-check-*")
	if err != nil {
		return &AnchorWriteError{File: path, Err: err}
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}
