package audit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/adapters/app/audit"
	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/eventstore"
)

func newLog(t *testing.T) (eventstore.Store, domain.Handlers) {
	t.Helper()
	s, err := eventstore.NewMemory(eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, domain.Handlers{Log: eventlog.New(s), Index: domain.NewIndexKey(s.IndexKey()), Now: time.Now}
}

func addContact(t *testing.T, h domain.Handlers, name string) domain.Contact {
	t.Helper()
	id := uuid.New()
	if _, err := h.Contact(t.Context(), id, domain.AddContact{ContactID: id, Source: domain.SourceImport, Basis: domain.BasisConsent, Username: name, Name: name}); err != nil {
		t.Fatal(err)
	}
	c, err := h.LoadContact(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Replay finds a dialog by its number through the index (or, in a log
// written before it, the numbering stream), decodes it through the event
// log, and says which numbers it does not hold.
func TestDialog(t *testing.T) {
	ctx := t.Context()
	s, h := newLog(t)
	account := uuid.New()
	start := func(c domain.Contact, text string) int64 {
		d := uuid.New()
		n, err := h.NextDialogNumber(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Dialog(ctx, d, c.ID, domain.StartDialog{DialogID: d, N: n, Contact: c, AccountID: account, By: "ai"}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Dialog(ctx, d, c.ID, domain.RecordInbound{TelegramMessageID: 1, Text: text, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	anna, boris := addContact(t, h, "anna"), addContact(t, h, "boris")
	one, two := start(anna, "hello from anna"), start(boris, "hello from boris")
	// A number allocated whose dialog never started (a crash between).
	three, err := h.NextDialogNumber(ctx, uuid.New())
	if err != nil {
		t.Fatal(err)
	}
	// A dialog of an older log: numbered, started, never indexed.
	old := uuid.New()
	four, err := h.NextDialogNumber(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Log.Append(ctx, domain.DialogStream(old), 0, anna.ID.String(), []domain.Event{
		domain.DialogStarted{DialogID: old, N: four, ContactID: anna.ID, AccountID: account, By: "ai"},
		domain.InboundReceived{TelegramMessageID: 1, Text: "an old hello", At: time.Now()},
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		n    int64
		text string
	}{{one, "hello from anna"}, {two, "hello from boris"}, {four, "an old hello"}} {
		got, err := audit.Dialog(ctx, s, c.n)
		if err != nil {
			t.Fatalf("dialog %d: %v", c.n, err)
		}
		if len(got.Entries) != 2 || got.N != c.n || !strings.HasPrefix(got.Stream, "dialog-") {
			t.Fatalf("dialog %d: %+v", c.n, got)
		}
		if in, ok := got.Entries[1].Event.(domain.InboundReceived); !ok || in.Text != c.text || got.Entries[1].Record.Version != 2 {
			t.Fatalf("dialog %d: second entry %+v, want the inbound %q (decoded)", c.n, got.Entries[1], c.text)
		}
		if d := audit.Describe(got.Entries[1].Event); d != fmt.Sprintf("lead: %q (telegram message 1)", c.text) {
			t.Errorf("described as %q", d)
		}
		var text, js strings.Builder
		if err := got.WriteText(&text); err != nil || !strings.HasPrefix(text.String(), fmt.Sprintf("dialog %d (dialog-", c.n)) ||
			strings.Count(text.String(), "\n") != 3 || !strings.Contains(text.String(), "InboundReceived") {
			t.Errorf("dialog %d as text: %q %v", c.n, text.String(), err)
		}
		if err := got.WriteJSON(&js); err != nil || strings.Count(js.String(), "\n") != 2 || !strings.Contains(js.String(), `"type":"DialogStarted"`) {
			t.Errorf("dialog %d as JSON: %q %v", c.n, js.String(), err)
		}
	}
	for _, n := range []int64{three, 9, 0} {
		_, err := audit.Dialog(ctx, s, n)
		if !errors.Is(err, audit.ErrNoDialog) || err.Error() != fmt.Sprintf("no dialog %d in the log", n) {
			t.Errorf("dialog %d: %v, want ErrNoDialog", n, err)
		}
	}
}

func TestExpectHead(t *testing.T) {
	ctx := t.Context()
	s, h := newLog(t)
	addContact(t, h, "anna")
	pebbleLike, ok := s.(audit.Hasher)
	if !ok {
		t.Fatal("the memory store has no HashAt")
	}
	hash, err := pebbleLike.HashAt(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	head, err := audit.ParseHead(fmt.Sprintf("1:%x", hash))
	if err != nil || head.Position != 1 || head.Hash != hash {
		t.Fatalf("ParseHead: %+v %v", head, err)
	}
	if err := audit.ExpectHead(ctx, pebbleLike, head); err != nil {
		t.Fatalf("the head the log holds: %v", err)
	}
	for _, want := range []audit.Head{{Position: 1, Hash: [32]byte{1}}, {Position: s.Head() + 1, Hash: hash}} {
		if err := audit.ExpectHead(ctx, pebbleLike, want); !errors.Is(err, audit.ErrExpectedHead) {
			t.Errorf("ExpectHead(%d:%x): %v, want ErrExpectedHead", want.Position, want.Hash, err)
		}
	}
	for _, bad := range []string{"", "1", "0:" + strings.Repeat("ab", 32), "x:ab", "1:abc", "1:" + strings.Repeat("zz", 32)} {
		if _, err := audit.ParseHead(bad); err == nil {
			t.Errorf("ParseHead(%q) took it", bad)
		}
	}
}

func TestVerifyJSON(t *testing.T) {
	s, h := newLog(t)
	addContact(t, h, "anna")
	rep, err := s.Verify(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	decode := func(r audit.Report, err error) map[string]any {
		t.Helper()
		var b bytes.Buffer
		if werr := r.WriteJSON(&b, err); werr != nil || strings.Count(b.String(), "\n") != 1 {
			t.Fatalf("WriteJSON: %q %v", b.String(), werr)
		}
		var out map[string]any
		if err := json.Unmarshal(b.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	ok := decode(audit.Report{VerifyReport: rep, Took: time.Second}, nil)
	if ok["ok"] != true || ok["head_position"] != float64(rep.Events) || ok["head_hash"] != fmt.Sprintf("%x", rep.HeadHash) || ok["error"] != nil || ok["seconds"] != 1.0 {
		t.Fatalf("an intact log: %v", ok)
	}
	bad := decode(audit.Report{VerifyReport: eventstore.VerifyReport{Events: 3}, Took: time.Second}, fmt.Errorf("verify: %w", &eventstore.TamperError{Position: 2, Reason: "hash"}))
	if !audit.Failed(fmt.Errorf("verify: %w", &eventstore.TamperError{})) || audit.Failed(nil) {
		t.Fatal("Failed does not tell an altered log")
	}
	if bad["ok"] != false || bad["bad_position"] != 2.0 || bad["head_hash"] != nil || !strings.Contains(bad["error"].(string), "position 2") {
		t.Fatalf("an altered log: %v", bad)
	}
}

// pebbleLog makes a data dir with a contact in its log; the DirOptions
// open it with the master key.
func pebbleLog(t *testing.T) (string, eventstore.DirOptions) {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "data")
	opts := eventstore.DirOptions{KeyFile: filepath.Join(base, "master.key"), Create: true,
		Options: eventstore.Options{AnchorFile: filepath.Join(base, "anchor.json"), MinFreeBytes: -1}}
	s, err := eventstore.OpenDir(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	addContact(t, domain.Handlers{Log: eventlog.New(s), Index: domain.NewIndexKey(s.IndexKey()), Now: time.Now}, "anna")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	opts.Create = false
	return dir, opts
}

// Verify opens the log read-only, walks it and checks the expected head;
// the report says how, and names the anchor only where one was given.
func TestVerify(t *testing.T) {
	ctx := t.Context()
	dir, opts := pebbleLog(t)
	rep, err := audit.Verify(ctx, dir, opts, audit.VerifyOptions{})
	if err != nil || rep.Events == 0 || rep.PublicKeyOnly || rep.Anchor == nil || rep.AnchorFile != opts.AnchorFile {
		t.Fatalf("with the master key: %+v %v", rep, err)
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("ok: %d events in 1 streams intact, verified with the master key", rep.Events); !strings.HasPrefix(text.String(), want) ||
		!strings.Contains(text.String(), "anchor: ") || !strings.Contains(text.String(), "matches the log") {
		t.Fatalf("report:\n%s", text.String())
	}
	head := audit.Head{Position: rep.Events, Hash: rep.HeadHash}
	if _, err := audit.Verify(ctx, dir, opts, audit.VerifyOptions{Expect: &head}); err != nil {
		t.Fatalf("the head it holds: %v", err)
	}
	head.Position++
	if _, err := audit.Verify(ctx, dir, opts, audit.VerifyOptions{Expect: &head}); !errors.Is(err, audit.ErrExpectedHead) || !audit.Failed(err) {
		t.Fatalf("a head past its end: %v", err)
	}

	key, _, err := eventstore.LoadMasterKey(opts.KeyFile, false)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := eventstore.PublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	auditor := eventstore.DirOptions{Options: eventstore.Options{PublicKey: pub}}
	rep, err = audit.Verify(ctx, dir, auditor, audit.VerifyOptions{})
	if err != nil || !rep.PublicKeyOnly || rep.Anchor != nil {
		t.Fatalf("with the public key: %+v %v", rep, err)
	}
	text.Reset()
	if err := rep.WriteText(&text); err != nil || !strings.Contains(text.String(), "verified with the public key") || strings.Contains(text.String(), "anchor:") {
		t.Fatalf("an auditor's report without an anchor:\n%s", text.String())
	}

	var nl *eventstore.NoLogError
	if rep, err := audit.Verify(ctx, filepath.Join(t.TempDir(), "none"), opts, audit.VerifyOptions{}); !errors.As(err, &nl) || rep.Events != 0 || audit.Failed(err) {
		t.Fatalf("no log: %+v %v", rep, err)
	}
}

// VerifyLog verifies a log that is open and being written: the report is
// of one moment of it, and a head it holds (or not) is checked as Verify
// checks it.
func TestVerifyLog(t *testing.T) {
	ctx := t.Context()
	s, h := newLog(t)
	anna := addContact(t, h, "anna")
	rep, err := audit.VerifyLog(ctx, s, audit.VerifyOptions{})
	if err != nil || rep.Events != s.Head() || rep.AnchorFile != "" {
		t.Fatalf("open log: %+v %v", rep, err)
	}
	head := audit.Head{Position: rep.Events, Hash: rep.HeadHash}
	addContact(t, h, "boris") // the log goes on
	if _, err := h.Contact(ctx, anna.ID, domain.OptOutContact{Reason: "stop", By: "lead"}); err != nil {
		t.Fatal(err)
	}
	rep, err = audit.VerifyLog(ctx, s, audit.VerifyOptions{Expect: &head})
	if err != nil || rep.Events != s.Head() || rep.Events <= head.Position {
		t.Fatalf("with an earlier head: %+v %v", rep, err)
	}
	head.Hash[0]++
	if _, err := audit.VerifyLog(ctx, s, audit.VerifyOptions{Expect: &head}); !errors.Is(err, audit.ErrExpectedHead) || !audit.Failed(err) {
		t.Fatalf("another hash at the head: %v", err)
	}
}
