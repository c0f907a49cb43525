package audit

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/salesbot/salesbot/eventstore"
)

// Report is what Verify found: eventstore's report, how long the walk
// took, and the anchor file the log was to match.
type Report struct {
	eventstore.VerifyReport
	Took time.Duration
	// AnchorFile is the anchor Verify was given; empty: none (an auditor
	// who gave no anchor with the public key).
	AnchorFile string
}

// VerifyOptions say what Verify checks beyond the log itself and where
// it tells how far it is.
type VerifyOptions struct {
	// Expect, if not nil, is a head the log must hold (ExpectHead).
	Expect *Head
	// Progress, if not nil, is told at most once a second how far the
	// walk is.
	Progress io.Writer
}

// Verify answers 'salesbot verify': it opens the data dir dir read-only
// for audit (eventstore.OpenDir with opts: the master key from
// opts.KeyFile or, for an auditor, opts.PublicKey alone; whatever opts
// says, nothing is created or written), walks the whole log
// (eventstore's Verify), checks that it holds o.Expect, and closes it.
//
// Errors: OpenDir's (the report is then empty); a log altered, or behind
// or apart from its anchor, matches eventstore.ErrTampered (a
// *eventstore.TamperError or *eventstore.AnchorError); a log without the
// expected head matches ErrExpectedHead.
func Verify(ctx context.Context, dir string, opts eventstore.DirOptions, o VerifyOptions) (Report, error) {
	opts.ReadOnly, opts.ForAudit, opts.Create = true, true, false
	s, err := eventstore.OpenDir(ctx, dir, opts)
	if err != nil {
		return Report{}, err
	}
	defer s.Close()
	r, err := VerifyLog(ctx, s, o)
	r.AnchorFile = opts.Anchor()
	return r, err
}

// Log is the part of an open store VerifyLog reads (eventstore.Store).
type Log interface {
	Hasher
	Verify(ctx context.Context, progress func(done, total uint64)) (eventstore.VerifyReport, error)
}

// VerifyLog verifies an open log as Verify does a data dir's: online,
// while appends go on (eventstore's Verify reads one consistent
// snapshot), then that it holds o.Expect. Its errors are Verify's but
// OpenDir's; the report's AnchorFile is empty.
func VerifyLog(ctx context.Context, s Log, o VerifyOptions) (Report, error) {
	var r Report
	start := time.Now()
	var err error
	r.VerifyReport, err = s.Verify(ctx, progressTo(o.Progress))
	if err == nil && o.Expect != nil {
		err = ExpectHead(ctx, s, *o.Expect)
	}
	r.Took = time.Since(start)
	return r, err
}

// Failed says whether err is Verify finding the log bad (altered, behind
// or apart from its anchor, or without the expected head) rather than
// failing to check it.
func Failed(err error) bool {
	return errors.Is(err, eventstore.ErrTampered) || errors.Is(err, ErrExpectedHead)
}

// WriteText writes the report of an intact log for people: the events,
// streams, head and time; the log's id and erasures; the signed head; the
// anchor (or that none was found, unless an auditor gave none); unsigned
// key records.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	how := "with the master key"
	if r.PublicKeyOnly {
		how = "with the public key"
	}
	fmt.Fprintf(&b, "ok: %d events in %d streams intact, verified %s (%.2fs); head position %d hash %x\n",
		r.Events, r.Streams, how, r.Took.Seconds(), r.Events, r.HeadHash)
	fmt.Fprintf(&b, "log %s; %d contacts' keys present or erased by signed tombstones (%d erased, %d of them before erasures were bound to their event)\n",
		r.LogID, r.Subjects, r.Erased, r.Unbound)
	if h := r.SignedHead; h != nil {
		fmt.Fprintf(&b, "signed head: %s, signed %s; %d events after it\n", h, h.Time.Format(time.RFC3339), r.Unsigned)
	} else {
		b.WriteString("signed head: none yet (the log is signed when salesbot next opens it for writing)\n")
	}
	if h := r.Anchor; h != nil {
		fmt.Fprintf(&b, "anchor: %s matches the log\n", h)
	} else if r.AnchorFile != "" {
		b.WriteString("anchor: none found, so a rollback to an older copy cannot be ruled out (see --anchor-file)\n")
	}
	if r.UnsignedKeys > 0 {
		fmt.Fprintf(&b, "note: %d key records are from before key records were signed; they are signed when salesbot next opens the log for writing\n", r.UnsignedKeys)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the outcome of Verify, err included, as one JSON line
// ('salesbot verify --json'): ok, counts and seconds; then the head, the
// log's id, the erasures, the signed head and the anchor when intact,
// else the error and the first bad position.
func (r Report) WriteJSON(w io.Writer, err error) error {
	out := map[string]any{"ok": err == nil, "events": r.Events, "streams": r.Streams, "seconds": r.Took.Seconds()}
	if err == nil {
		out["head_position"] = r.Events
		out["head_hash"] = hex.EncodeToString(r.HeadHash[:])
		out["log_id"] = r.LogID.String()
		out["subjects"], out["erased"], out["erased_unbound"] = r.Subjects, r.Erased, r.Unbound
		out["public_key_only"] = r.PublicKeyOnly
		out["unsigned_events"] = r.Unsigned
		if r.UnsignedKeys > 0 {
			out["unsigned_keys"] = r.UnsignedKeys
		}
		if h := r.SignedHead; h != nil {
			out["signed_head"] = headJSON(*h)
		}
		if h := r.Anchor; h != nil {
			out["anchor"] = headJSON(*h)
		}
	} else {
		out["error"] = err.Error()
	}
	var te *eventstore.TamperError
	if errors.As(err, &te) {
		out["bad_position"] = te.Position
	}
	b, jerr := json.Marshal(out)
	if jerr != nil {
		return jerr
	}
	_, jerr = fmt.Fprintln(w, string(b))
	return jerr
}

func headJSON(h eventstore.SignedHead) map[string]any {
	return map[string]any{"position": h.Position, "hash": hex.EncodeToString(h.Hash[:]), "time": h.Time.Format(time.RFC3339Nano)}
}

// progressTo tells w (if not nil) how far a walk of the log is, at most
// once a second.
func progressTo(w io.Writer) func(done, total uint64) {
	last := time.Now()
	return func(done, total uint64) {
		if w != nil && time.Since(last) > time.Second {
			last = time.Now()
			fmt.Fprintf(w, "verify: %d/%d events\n", done, total)
		}
	}
}
