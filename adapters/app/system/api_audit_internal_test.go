package system

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/salesbot/salesbot/adapters/app/audit"
	"github.com/salesbot/salesbot/eventstore"
)

// What verify finds wrong is answered with its position, and without
// the server's paths.
func TestVerifyProblem(t *testing.T) {
	expect := &audit.Head{Position: 40}
	for _, c := range []struct {
		err  error
		pos  uint64
		want string
	}{
		{fmt.Errorf("verify: %w", &eventstore.TamperError{Position: 17, Reason: "hash chain broken"}), 17, "the log is altered: hash chain broken"},
		{&eventstore.AnchorError{File: "/srv/anchor/salesbot.json", Anchor: eventstore.SignedHead{Position: 90}, LogHead: 80,
			Reason: "is behind its anchor"}, 90, "the log is behind its anchor: its head is position 80, its anchor holds position 90"},
		{fmt.Errorf("%w: it ends at position 30", audit.ErrExpectedHead), 40, "it ends at position 30"},
	} {
		p := verifyProblem(c.err, expect)
		if p.Position == nil || *p.Position != c.pos || !strings.Contains(p.Problem, c.want) || strings.Contains(p.Problem, "/srv") {
			t.Errorf("%v: %+v", c.err, p)
		}
	}
}

// The last verification, with who asked, is kept with the log and read
// back after a restart; a failed one replaces a good one.
func TestLastVerifiedSurvivesARestart(t *testing.T) {
	dir, key := t.TempDir(), bytes.Repeat([]byte{7}, eventstore.MasterKeySize)
	open := func() *eventstore.PebbleStore {
		st, err := eventstore.Open(dir, eventstore.Options{MasterKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open()
	a := APIAudit(st).(*apiAudit)
	at := time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)
	a.now = func() time.Time { return at }
	if _, ok, err := a.LastVerified(t.Context()); ok || err != nil {
		t.Fatalf("a new log's last verification: %v %v", ok, err)
	}
	if _, err := st.Append(t.Context(), "s-1", eventstore.NoStream, eventstore.Event{Type: "Noted", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if rep, err := a.Verify(t.Context(), "", "Ada"); err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	if rep, err := a.Verify(t.Context(), "9:"+strings.Repeat("00", 32), "Grace"); err != nil || rep.OK {
		t.Fatalf("verify against a head the log lacks: %+v %v", rep, err)
	}
	st.Close()
	st = open()
	defer st.Close()
	last, ok, err := APIAudit(st).LastVerified(t.Context())
	if err != nil || !ok || last.By != "Grace" || last.Report.OK || len(last.Report.Problems) != 1 || last.Report.Events != 1 || !last.At.Equal(at) {
		t.Fatalf("after a restart the last verification is %+v (%v %v), want Grace's that failed", last, ok, err)
	}
}
