package projections

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestCoalesce(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s := func(v string) *string { return &v }
	in := []Change{
		PutDialog{Dialog{ID: a, N: 1}},
		UpdateDialog{ID: a, AddOutbound: 1, FirstOutboundAt: t0, LastMessageAt: t0, At: t0},
		PutMessage{Message{DialogID: b}},
		UpdateDialog{ID: b, Stage: s("offer"), At: t0},
		UpdateDialog{ID: a, AddInbound: 1, FirstInboundAt: t0.Add(time.Minute), LastMessageAt: t0.Add(time.Minute), At: t0.Add(time.Minute)},
		UpdateDialog{ID: a, Stage: s("handoff"), Status: s("handoff"), HandoffAt: t0.Add(2 * time.Minute), HandoffReason: "first", At: t0.Add(2 * time.Minute)},
		UpdateDialog{ID: a, AddOutbound: 1, FirstOutboundAt: t0.Add(3 * time.Minute), HandoffAt: t0.Add(3 * time.Minute), HandoffReason: "second", At: t0.Add(3 * time.Minute)},
	}
	want := []Change{
		PutDialog{Dialog{ID: a, N: 1}},
		UpdateDialog{ID: a, Stage: s("handoff"), Status: s("handoff"), AddInbound: 1, AddOutbound: 2,
			LastMessageAt: t0.Add(time.Minute), At: t0.Add(3 * time.Minute),
			FirstOutboundAt: t0, FirstInboundAt: t0.Add(time.Minute), HandoffAt: t0.Add(2 * time.Minute), HandoffReason: "first"},
		PutMessage{Message{DialogID: b}},
		UpdateDialog{ID: b, Stage: s("offer"), At: t0},
	}
	if got := Coalesce(in); !reflect.DeepEqual(got, want) {
		t.Fatalf("coalesced\n got %+v\nwant %+v", got, want)
	}
	// The same rows either way.
	m1, m2 := NewMemory(), NewMemory()
	if err := m1.Apply(t.Context(), in, 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := m2.Apply(t.Context(), Coalesce(in), 1, 1); err != nil {
		t.Fatal(err)
	}
	d1, _ := m1.DialogByN(t.Context(), 1)
	d2, _ := m2.DialogByN(t.Context(), 1)
	if !reflect.DeepEqual(d1, d2) {
		t.Fatalf("rows differ:\n%+v\n%+v", d1, d2)
	}
}
