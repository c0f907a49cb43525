package sinktest

import (
	"testing"
	"time"

	"github.com/salesbot/salesbot/domain"
	"github.com/salesbot/salesbot/projections"
)

// totalsDialog is a dialog of testTotals: who wrote first, when the
// other side first answered, the turns the dialog engine recorded and
// the interest score it gave.
type totalsDialog struct {
	first string        // "out": we wrote first; "in": the lead did; "": no message yet
	reply time.Duration // the other side's first message this long after the first one; <0: none
	turns []domain.Event
	score int // 0: no qualification
}

func llmTurn(prompt, completion int) domain.Event {
	return domain.TurnTaken{Kind: domain.TurnReply, Engine: "llm", Model: "gpt-4o-mini", Scenario: "acme", ScenarioVersion: "3", Language: "en",
		PromptTokens: prompt, CompletionTokens: completion, CachedPromptTokens: prompt / 2, LatencyMs: 900, Attempts: 1}
}

// testTotals: the tokens summed over the turns of every dialog (answered
// and failed, on each dialogs row and in all), the qualified leads, and
// the medians of the times to the first reply, the same live and
// rebuilt.
func testTotals(t *testing.T, newSink Factory) {
	offline := domain.TurnTaken{Kind: domain.TurnOpening, Engine: "offline", Scenario: "acme", ScenarioVersion: "3", Language: "en", LatencyMs: 1}
	failed := domain.TurnFailed{Engine: "llm", Model: "gpt-4o-mini", Reason: "model output invalid", Attempts: 2, PromptTokens: 300, CompletionTokens: 10,
		CachedPromptTokens: 256, LatencyMs: 4000, RetryAt: t0.Add(time.Minute)}
	for _, c := range []struct {
		name    string
		dialogs []totalsDialog
		want    projections.Totals
		tokens  map[int64][3]int64 // dialog N: its row's prompt, completion and cached prompt tokens
	}{
		{name: "no dialogs"},
		{
			name: "odd counts",
			dialogs: []totalsDialog{
				{first: "out", reply: time.Minute, turns: []domain.Event{offline, llmTurn(900, 80), failed}, score: 85},
				{first: "out", reply: 30 * time.Second, turns: []domain.Event{llmTurn(1000, 100)}, score: 60},
				{first: "out", reply: 90*time.Second + 500*time.Millisecond, score: 40}, // not qualified
				{first: "out", reply: -1, turns: []domain.Event{offline}},               // no answer yet
				{first: "in", reply: 2 * time.Second, turns: []domain.Event{llmTurn(500, 50)}, score: 70},
			},
			want: projections.Totals{PromptTokens: 900 + 300 + 1000 + 500, CompletionTokens: 80 + 10 + 100 + 50, CachedPromptTokens: 450 + 256 + 500 + 250,
				LeadReply: projections.Delays{Count: 3, Median: time.Minute}, OurReply: projections.Delays{Count: 1, Median: 2 * time.Second}},
			tokens: map[int64][3]int64{1: {1200, 90, 706}, 2: {1000, 100, 500}, 3: {0, 0, 0}, 4: {0, 0, 0}, 5: {500, 50, 250}},
		},
		{
			name: "even counts: between the middle two",
			dialogs: []totalsDialog{
				{first: "out", reply: 10*time.Second + 2*time.Microsecond},
				{first: "out", reply: 25 * time.Second},
				{first: "in", reply: time.Second},
				{first: "in", reply: 4 * time.Second},
				{first: "in", reply: 0}, // the same instant: counts as ours, at once
				{first: "in", reply: 6 * time.Second},
				{first: "in", reply: -1}, // not answered yet
				{},                       // no message yet
			},
			want: projections.Totals{LeadReply: projections.Delays{Count: 2, Median: 17*time.Second + 500001*time.Microsecond},
				OurReply: projections.Delays{Count: 4, Median: 2500 * time.Millisecond}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			ctx := t.Context()
			for i, d := range c.dialogs {
				n := int64(i + 1)
				contact, dialog := w.addDialog(t, n, "lead"+string(rune('a'+i)))
				base := t0.Add(time.Duration(i) * time.Hour)
				send := func(at time.Time) {
					w.clock = at
					w.must(t)(w.h.Dialog(ctx, dialog, contact, domain.PlanOutbound{RandomID: n, Text: "Hello", By: domain.ActorAI, Contact: w.contact(t, contact)}))
					w.must(t)(w.h.Dialog(ctx, dialog, contact, domain.MarkSent{RandomID: n, TelegramMessageID: 100 * n}))
				}
				receive := func(at time.Time) {
					w.must(t)(w.h.Dialog(ctx, dialog, contact, domain.RecordInbound{TelegramMessageID: 100*n + 1, Text: "Hi", At: at}))
				}
				switch d.first {
				case "out":
					send(base)
					if d.reply >= 0 {
						receive(base.Add(d.reply))
					}
				case "in":
					receive(base)
					if d.reply >= 0 {
						send(base.Add(d.reply))
					}
				}
				if len(d.turns) > 0 {
					w.record(t, dialog, contact, d.turns...)
				}
				if d.score > 0 {
					w.must(t)(w.h.Dialog(ctx, dialog, contact, domain.UpdateQualification{Qual: domain.Qualification{Score: score(d.score)}}))
				}
			}
			sink := newSink(t)
			check := func(when string) {
				t.Helper()
				got, err := sink.Totals(ctx)
				if err != nil || got != c.want {
					t.Fatalf("%s: totals\n got %+v, %v\nwant %+v", when, got, err, c.want)
				}
				for n, want := range c.tokens {
					if d := dialogN(t, sink, n); d.PromptTokens != want[0] || d.CompletionTokens != want[1] || d.CachedPromptTokens != want[2] {
						t.Fatalf("%s: dialog %d has %d prompt, %d completion and %d cached tokens, want %v", when, n, d.PromptTokens, d.CompletionTokens, d.CachedPromptTokens, want)
					}
				}
			}
			r := w.runner(sink)
			r.Batch = 1 // live: one event at a time
			catchUp(t, r)
			check("live")
			if err := sink.Reset(ctx); err != nil {
				t.Fatal(err)
			}
			r.Batch = 1000 // rebuilt: one batch, each dialog's turns coalesced
			catchUp(t, r)
			check("rebuilt")
		})
	}
}
