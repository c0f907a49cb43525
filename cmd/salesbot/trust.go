package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

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
	n, err := eventstore.ParseBytes(t.MinFreeText)
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

// storeError adds to what opening the log failed with the flag or the
// step that mends it.
func (a *app) storeError(err error) error {
	var (
		nl *eventstore.NoLogError
		km *eventstore.KeyMissingError
		aw *eventstore.AnchorWriteError
		ae *eventstore.AnchorError
		de *eventstore.DiskFullError
	)
	switch {
	case errors.As(err, &nl):
		return fmt.Errorf("%w (check --data-dir)", err)
	case errors.As(err, &km):
		return fmt.Errorf("%w (give --master-key-file)", err)
	case errors.As(err, &aw):
		return fmt.Errorf("%w (set --anchor-file to a writable place outside the data dir)", err)
	case errors.As(err, &ae):
		return fmt.Errorf("%w; restore the newest copy of %s, or, if an older backup was restored on purpose, move %s aside (keep it: it shows what was lost) and start again",
			err, a.cfg.DataDir, ae.File)
	case errors.As(err, &de):
		return fmt.Errorf("%w (or lower --min-free-space)", err)
	}
	return err
}

// checkKeyOutsideDataDir refuses a master key inside the data dir: a copy
// of the directory would carry everything needed to read it and forge
// the log.
func (c *config) checkKeyOutsideDataDir() error {
	key := c.keyFile()
	if in, err := eventstore.KeyInDataDir(c.DataDir, key); err != nil || !in {
		return err
	}
	return usagef("the master key %s is inside the data dir %s, so a copy of the directory gives away every session and all personal data: "+
		"move it out (e.g. to /etc/salesbot/master.key, mode 0600, owned by the salesbot user) and give --master-key-file (SALESBOT_MASTER_KEY_FILE), "+
		"or load it as the systemd credential %q (docs/operations.md)", key, c.DataDir, masterKeyCredential)
}
