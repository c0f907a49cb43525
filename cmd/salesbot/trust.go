package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/salesbot/salesbot/eventstore"
)

// trustConfig is where the log's anchor lives and how much disk it keeps
// free (docs/security.md, docs/operations.md).
type trustConfig struct {
	AnchorFile   string // empty: next to the master key
	MinFreeText  string
	minFreeBytes int64 // parsed from MinFreeText; -1 = no floor
}

func (t *trustConfig) fromEnv(getenv env) {
	t.AnchorFile = getenv("SALESBOT_ANCHOR_FILE")
	t.MinFreeText = getenv("SALESBOT_MIN_FREE_SPACE")
	if t.MinFreeText == "" {
		t.MinFreeText = "64MiB"
	}
}

func (t *trustConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&t.AnchorFile, "anchor-file", t.AnchorFile, "`file` outside the data dir that holds the log's latest signed head; run and verify refuse a log behind it [SALESBOT_ANCHOR_FILE] (default \"anchor.json\" next to the master key)")
	fs.StringVar(&t.MinFreeText, "min-free-space", t.MinFreeText, "free disk `size` the log keeps (e.g. 64MiB, 1GiB; 0 = none): below it salesbot refuses to start and stops writing [SALESBOT_MIN_FREE_SPACE]")
}

func (t *trustConfig) validate() error {
	n, err := parseSize(t.MinFreeText)
	if err != nil {
		return usagef("--min-free-space (SALESBOT_MIN_FREE_SPACE): %v", err)
	}
	t.minFreeBytes = n
	if n == 0 {
		t.minFreeBytes = -1
	}
	if t.AnchorFile != "" {
		if fi, err := os.Stat(t.AnchorFile); err == nil && fi.IsDir() {
			return usagef("--anchor-file (SALESBOT_ANCHOR_FILE): %s is a directory", t.AnchorFile)
		}
	}
	return nil
}

// parseSize reads a size such as 64MiB, 1GiB, 512KB or 1048576 (bytes).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || n*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q is not a size such as 64MiB or 1GiB", s)
	}
	return int64(n * float64(mult)), nil
}

// anchorFile is where the log's anchor is kept: --anchor-file, or
// anchor.json next to the master key.
func (a *app) anchorFile() string {
	if a.cfg.AnchorFile != "" {
		return a.cfg.AnchorFile
	}
	return filepath.Join(filepath.Dir(a.cfg.keyFile()), "anchor.json")
}

// checkAnchorWritable makes sure the anchor can be written before the log
// is opened for writing, with advice when it cannot (a read-only
// credentials directory, say).
func (a *app) checkAnchorWritable() error {
	path := a.anchorFile()
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("anchor %s: %w (set --anchor-file to a writable place outside the data dir)", path, err)
	}
	f, err := os.CreateTemp(dir, ".anchor-check-*")
	if err != nil {
		return fmt.Errorf("anchor %s cannot be written: %w (set --anchor-file to a writable place outside the data dir)", path, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// storeError turns what opening the log failed with into advice.
func (a *app) storeError(err error) error {
	var ae *eventstore.AnchorError
	var de *eventstore.DiskFullError
	switch {
	case errors.As(err, &ae):
		return fmt.Errorf("%w; restore the newest copy of %s, or, if an older backup was restored on purpose, move %s aside (keep it: it shows what was lost) and start again",
			err, a.cfg.DataDir, ae.File)
	case errors.As(err, &de):
		return fmt.Errorf("%w (or lower --min-free-space)", err)
	}
	return err
}
