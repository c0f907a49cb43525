package projections_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/salesbot/salesbot/adapters/eventlog"
	"github.com/salesbot/salesbot/projections"
	"github.com/salesbot/salesbot/projections/projectionsbench"
)

// external is a sink ReadStatus compares with the log, as it does the
// PostgreSQL one (a *Memory is the embedded read models, not compared).
type external struct{ *projections.Memory }

// ReadStatus says where the read models stand, WriteStatus says it in one
// line: embedded ones are not compared; unbound, bound and lagging ones
// are shown with their lag; another log's are a mismatch, which Err
// returns.
func TestStatus(t *testing.T) {
	ctx := t.Context()
	s, other := generated(t, 3), generated(t, 1)
	line := func(st projections.Status) string {
		t.Helper()
		var b bytes.Buffer
		if err := projections.WriteStatus(&b, st); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	read := func(sink projections.Sink) projections.Status {
		t.Helper()
		st, err := projections.ReadStatus(ctx, s, sink)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	st := read(projections.NewMemory())
	if want := "read models: embedded in memory, rebuilt from the log at start (log " + s.LogID().String() + ", head "; !st.Embedded || st.Err() != nil || !strings.HasPrefix(line(st), want) {
		t.Fatalf("embedded: %+v %q", st, line(st))
	}

	sink := external{projections.NewMemory()}
	st = read(sink)
	if want := fmt.Sprintf("lag %d events; not bound", s.Head()) + " to a log yet (run or rebuild binds them to log " + s.LogID().String() + ")\n"; st.Embedded || st.Lag() != s.Head() || st.Err() != nil || !strings.HasSuffix(line(st), want) {
		t.Fatalf("unbound: %+v %q, want …%q", st, line(st), want)
	}

	pos, err := projections.Runner{Store: s, Decode: eventlog.New(s).Decode, Sink: sink}.CatchUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := projectionsbench.GenerateDialogs(ctx, s, 4, 1, 1, 2); err != nil {
		t.Fatal(err)
	}
	st = read(sink)
	want := fmt.Sprintf("read models: postgres, log %s, checkpoint %d, log head %d, lag %d events\n", s.LogID(), pos, s.Head(), s.Head()-pos)
	if st.Lag() == 0 || st.Lag() != s.Head()-pos || st.Err() != nil || line(st) != want {
		t.Fatalf("bound: %+v %q, want %q", st, line(st), want)
	}

	st, err = projections.ReadStatus(ctx, other, sink)
	var mismatch *projections.LogMismatchError
	if err != nil || !errors.As(st.Err(), &mismatch) || !errors.Is(st.Err(), projections.ErrOtherLog) {
		t.Fatalf("another log: %+v %v", st, err)
	}
	want = fmt.Sprintf("read models: postgres, checkpoint %d (log %s); this log: %s, head %d — they do not match:\n", pos, s.LogID(), other.LogID(), other.Head())
	if line(st) != want {
		t.Fatalf("another log: %q, want %q", line(st), want)
	}
}
