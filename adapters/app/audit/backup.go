package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/salesbot/salesbot/eventstore"
)

// Backups ('salesbot backup', 'salesbot restore'): a consistent copy of
// the log taken while it is written, with a manifest that names its head
// and signs it; a restore that verifies the copy before it uses it and
// moves the anchor to the copy's head.

// BackupReport is what Backup made.
type BackupReport struct {
	Dir      string
	Manifest eventstore.BackupManifest
	Took     time.Duration
}

// ErrNoBackup: the log is not in a data dir (it is on NATS JetStream),
// so salesbot does not back it up; JetStream's own stream backups and
// replicas do.
var ErrNoBackup = errors.New("audit: the log is on NATS JetStream: back it up with JetStream (its replicas, or 'nats stream backup'); salesbot backup copies a log in a data dir")

// Backup backs the open log s up into dir (eventstore.PebbleStore.Backup):
// s may be run's log, taking appends meanwhile. A log that is not a
// PebbleStore is ErrNoBackup.
func Backup(ctx context.Context, s eventstore.Log, dir string) (BackupReport, error) {
	p, ok := s.(*eventstore.PebbleStore)
	if !ok {
		return BackupReport{}, ErrNoBackup
	}
	start := time.Now()
	m, err := p.Backup(ctx, dir)
	return BackupReport{Dir: dir, Manifest: m, Took: time.Since(start)}, err
}

// WriteText writes the report for people.
func (r BackupReport) WriteText(w io.Writer) error {
	m := r.Manifest
	_, err := fmt.Fprintf(w, "backup of log %s in %s: head position %d hash %x, signed; %d files, %s (%.2fs)\n"+
		"restore it with: salesbot restore --from %s --data-dir NEW_DIR (the master key is not in it: keep that separately)\n",
		m.LogID, r.Dir, m.Head.Position, m.Head.Hash, len(m.Files), eventstore.FormatBytes(m.Bytes), r.Took.Seconds(), r.Dir)
	return err
}

// WriteJSON writes the report as one JSON line.
func (r BackupReport) WriteJSON(w io.Writer) error {
	m := r.Manifest
	return writeJSONLine(w, map[string]any{"ok": true, "dir": r.Dir, "log_id": m.LogID.String(), "head": headJSON(m.Head),
		"files": len(m.Files), "bytes": m.Bytes, "seconds": r.Took.Seconds()})
}

// RestoreReport is what Restore did.
type RestoreReport struct {
	eventstore.RestoreReport
	From, To string
	Took     time.Duration
}

// Restore verifies the backup in from and restores it into the data dir
// to (eventstore.Restore), telling progress (if not nil) how far the
// verification is.
func Restore(ctx context.Context, from, to string, opts eventstore.RestoreOptions, progress io.Writer) (RestoreReport, error) {
	start := time.Now()
	opts.Progress = progressTo(progress)
	rep, err := eventstore.Restore(ctx, from, to, opts)
	return RestoreReport{RestoreReport: rep, From: from, To: to, Took: time.Since(start)}, err
}

// WriteText writes the report for people: what was verified, where the
// anchor is now and what it means, and what to do next.
func (r RestoreReport) WriteText(w io.Writer) error {
	var b strings.Builder
	m := r.Manifest
	fmt.Fprintf(&b, "restored %s into %s: %d events verified, head position %d hash %x (%.2fs)\n",
		r.From, r.To, r.Verify.Events, m.Head.Position, m.Head.Hash, r.Took.Seconds())
	switch r.Anchor {
	case eventstore.AnchorNone:
		b.WriteString("anchor: none (no --anchor-file and no master key file to put one next to)\n")
	case eventstore.AnchorBack:
		fmt.Fprintf(&b, "anchor %s: moved back to the backup's head; the log had %d more events, which this restore does not bring back (the old anchor is kept in %s)\n",
			r.AnchorFile, r.Lost, r.KeptAnchor)
	case eventstore.AnchorReplaced:
		fmt.Fprintf(&b, "anchor %s: replaced (it was another log's or unreadable; kept in %s)\n", r.AnchorFile, r.KeptAnchor)
	default:
		fmt.Fprintf(&b, "anchor %s: %s\n", r.AnchorFile, r.Anchor)
	}
	fmt.Fprintf(&b, "next: start salesbot with --data-dir %s; PostgreSQL read models of a later state are refused then: rebuild them with 'salesbot projections rebuild'\n", r.To)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the outcome, err included, as one JSON line.
func (r RestoreReport) WriteJSON(w io.Writer, err error) error {
	out := map[string]any{"ok": err == nil, "from": r.From, "to": r.To, "seconds": r.Took.Seconds()}
	if err != nil {
		out["error"] = err.Error()
	} else {
		out["events"] = r.Verify.Events
		out["head"] = headJSON(r.Manifest.Head)
		out["log_id"] = r.Manifest.LogID.String()
		out["anchor"] = map[string]any{"file": r.AnchorFile, "action": r.Anchor.String(), "lost": r.Lost, "kept": r.KeptAnchor}
	}
	return writeJSONLine(w, out)
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
