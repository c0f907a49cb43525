package projections

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/salesbot/salesbot/domain"
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
		UpdateDialog{ID: a, AddPromptTokens: 900, AddCompletionTokens: 80},
		UpdateDialog{ID: a, AddPromptTokens: 100, AddCompletionTokens: 20, AddCachedPromptTokens: 64},
	}
	want := []Change{
		PutDialog{Dialog{ID: a, N: 1}},
		UpdateDialog{ID: a, Stage: s("handoff"), Status: s("handoff"), AddInbound: 1, AddOutbound: 2,
			LastMessageAt: t0.Add(time.Minute), At: t0.Add(3 * time.Minute),
			FirstOutboundAt: t0, FirstInboundAt: t0.Add(time.Minute), HandoffAt: t0.Add(2 * time.Minute), HandoffReason: "first",
			AddPromptTokens: 1000, AddCompletionTokens: 100, AddCachedPromptTokens: 64},
		PutMessage{Message{DialogID: b}},
		UpdateDialog{ID: b, Stage: s("offer"), At: t0},
	}
	if got := Coalesce(in); !reflect.DeepEqual(got, want) {
		t.Fatalf("coalesced\n got %+v\nwant %+v", got, want)
	}
	// The same rows either way.
	m1, m2 := NewMemory(), NewMemory()
	if err := m1.Apply(t.Context(), in, 1, Checkpoint{Position: 1}); err != nil {
		t.Fatal(err)
	}
	if err := m2.Apply(t.Context(), Coalesce(in), 1, Checkpoint{Position: 1}); err != nil {
		t.Fatal(err)
	}
	d1, _ := m1.DialogByN(t.Context(), 1)
	d2, _ := m2.DialogByN(t.Context(), 1)
	if !reflect.DeepEqual(d1, d2) {
		t.Fatalf("rows differ:\n%+v\n%+v", d1, d2)
	}
}

func TestProjectCustomQualification(t *testing.T) {
	d := uuid.New()
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	got := Project(Placed{Stream: domain.DialogStream(d), Position: 7, At: at}, domain.QualificationUpdated{Qual: domain.Qualification{
		Need: &domain.Field{Value: "CRM", Confidence: 0.9},
		Custom: []domain.CustomField{
			{Name: "team_size", Value: "12 reps", Quote: "we are 12 reps", Confidence: 0.8},
			{Name: "tool", Value: "Excel", Confidence: 0.4},
			{Name: "team_size", Value: "20", Confidence: 0.1}, // a second time: the first is what the domain reads
		},
	}})
	want := []Change{
		UpdateDialog{ID: d, At: at},
		PutQualification{Qualification{DialogID: d, Field: "need", Value: "CRM", Confidence: 0.9, UpdatedAt: at}},
		PutQualification{Qualification{DialogID: d, Field: "team_size", Value: "12 reps", Quote: "we are 12 reps", Confidence: 0.8, UpdatedAt: at}},
		PutQualification{Qualification{DialogID: d, Field: "tool", Value: "Excel", Confidence: 0.4, UpdatedAt: at}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes\n got %+v\nwant %+v", got, want)
	}
}

func TestProjectTurns(t *testing.T) {
	d := uuid.New()
	at := time.Date(2026, 11, 25, 10, 0, 0, 999, time.FixedZone("MSK", 3*3600))
	p := Placed{Stream: domain.DialogStream(d), Position: 9, At: at}
	utc := time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC) // as every sink stores it
	score := 40
	taken := domain.TurnTaken{Kind: domain.TurnReply, Engine: "llm", Model: "m", Scenario: "acme", ScenarioVersion: "3", Variant: "B", VariantVersion: "3b",
		Language: "en", Answered: 2, PromptTokens: 900, CompletionTokens: 80, CachedPromptTokens: 512, LatencyMs: 1200, Attempts: 2, Score: &score,
		Flags: []string{}, Guards: []string{"reply withheld"}}
	got := Project(p, taken)
	want := []Change{PutTurn{Turn{DialogID: d, Position: 9, At: utc, Status: TurnOK, Kind: "reply", Engine: "llm", Model: "m",
		Scenario: "acme", ScenarioVersion: "3", Variant: "B", VariantVersion: "3b", Language: "en", PromptTokens: 900, CompletionTokens: 80,
		CachedPromptTokens: 512, LatencyMs: 1200, Attempts: 2, Score: &score, Guards: []string{"reply withheld"}}},
		UpdateDialog{ID: d, AddPromptTokens: 900, AddCompletionTokens: 80, AddCachedPromptTokens: 512}} // the dialog's totals; its updated_at stays
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("TurnTaken\n got %+v\nwant %+v", got, want)
	}
	// The row shares nothing with the event.
	score, taken.Guards[0] = 1, "changed"
	if row := got[0].(PutTurn).Turn; *row.Score != 40 || row.Guards[0] != "reply withheld" {
		t.Fatalf("the row shares the event's memory: %+v", row)
	}
	got = Project(p, domain.TurnFailed{Engine: "llm", Model: "m", Reason: "timeout", Attempts: 3, LatencyMs: 30000, RetryAt: at.Add(time.Minute)})
	want = []Change{PutTurn{Turn{DialogID: d, Position: 9, At: utc, Status: TurnFailed, Engine: "llm", Model: "m",
		LatencyMs: 30000, Attempts: 3, Reason: "timeout", RetryAt: utc.Add(time.Minute)}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("TurnFailed\n got %+v\nwant %+v", got, want)
	}
	// A failed turn's calls cost tokens too (a repair that failed).
	got = Project(p, domain.TurnFailed{Engine: "llm", Model: "m", Reason: "invalid", Attempts: 2, PromptTokens: 1500, CompletionTokens: 60, RetryAt: at.Add(time.Minute)})
	want = []Change{PutTurn{Turn{DialogID: d, Position: 9, At: utc, Status: TurnFailed, Engine: "llm", Model: "m",
		PromptTokens: 1500, CompletionTokens: 60, Attempts: 2, Reason: "invalid", RetryAt: utc.Add(time.Minute)}},
		UpdateDialog{ID: d, AddPromptTokens: 1500, AddCompletionTokens: 60}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("TurnFailed with tokens\n got %+v\nwant %+v", got, want)
	}
	// The offline engine's turns spend none: the dialog's row is not touched.
	if got := Project(p, domain.TurnTaken{Kind: domain.TurnOpening, Engine: "offline", Scenario: "acme"}); len(got) != 1 {
		t.Fatalf("an offline turn: %+v", got)
	}
}

// A recorded outcome is the row's outcome whatever closes the dialog in
// the same batch, before or after it.
func TestCoalesceKeepsTheDeal(t *testing.T) {
	id := uuid.New()
	s := func(v string) *string { return &v }
	deal := &Deal{Outcome: "won", Value: domain.Money{Minor: 100, Currency: "USD"}}
	for name, changes := range map[string][]Change{
		"closed, then recorded": {UpdateDialog{ID: id, Outcome: s("stopped")}, UpdateDialog{ID: id, Deal: deal}},
		"recorded, then closed": {UpdateDialog{ID: id, Deal: deal}, UpdateDialog{ID: id, Outcome: s("opted-out")}},
	} {
		got := Coalesce(changes)
		if len(got) != 1 {
			t.Fatalf("%s: %d changes", name, len(got))
		}
		if u := got[0].(UpdateDialog); u.Deal != deal || u.Outcome != nil {
			t.Errorf("%s: %+v", name, u)
		}
	}
}
